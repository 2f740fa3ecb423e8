/**
 * `samsa serve` runs libuv's thread pool (bulk segment writes and sendfiles) at a lower CPU
 * priority than the event loop (src/server/pool-priority.ts): every pool thread, and only
 * those, get the nice value; SAMSA_POOL_NICE changes it or (0) leaves the pool alone.
 */
import * as fs from 'fs';
import { startBrokerProcess, BrokerProcess } from '../helpers/broker-process';

/** Nice value of every thread of `pid` (field 19 of /proc/PID/task/TID/stat). */
function threadNices(pid: number): number[] {
  return fs.readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

async function nicedThreads(b: BrokerProcess, nice: number, want: number): Promise<number> {
  const deadline = Date.now() + 5000;
  let n = 0;
  while (Date.now() < deadline) {
    n = threadNices(b.pid).filter((v) => v === nice).length;
    if (n >= want) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return n;
}

/** The nice value brokers start with: this test process's (they inherit it). */
const base = Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[16]);

const cases: [string, NodeJS.ProcessEnv, number, number][] = [
  ['default: the 4 pool threads at nice 10', {}, 10, 4],
  ['UV_THREADPOOL_SIZE=6, SAMSA_POOL_NICE=5', { UV_THREADPOOL_SIZE: '6', SAMSA_POOL_NICE: '5' }, 5, 6],
];

test.each(cases)('%s, the event loop and the other threads unchanged', async (_name, env, nice, threads) => {
  const b = await startBrokerProcess({ env });
  try {
    expect(await nicedThreads(b, nice, threads)).toBe(threads);
    // Settled: no more threads change, and the main thread (tid = pid) is untouched.
    await new Promise((r) => setTimeout(r, 200));
    const nices = threadNices(b.pid);
    expect(nices.filter((v) => v === nice)).toHaveLength(threads);
    // Every other thread, the event loop's (tid = pid) among them, keeps the nice value it started with.
    expect(nices.filter((v) => v !== nice).every((v) => v === base)).toBe(true);
    const main = fs.readFileSync(`/proc/${b.pid}/stat`, 'utf8');
    expect(Number(main.slice(main.lastIndexOf(')') + 2).split(' ')[16])).toBe(base);
  } finally {
    await b.stop();
  }
});

test('SAMSA_POOL_NICE=0 leaves every thread as it was', async () => {
  const b = await startBrokerProcess({ env: { SAMSA_POOL_NICE: '0' } });
  try {
    await new Promise((r) => setTimeout(r, 500));
    expect(threadNices(b.pid).every((v) => v === base)).toBe(true);
  } finally {
    await b.stop();
  }
});
