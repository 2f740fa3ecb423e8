/**
 * Figures of the simulated cluster (`samsa serve --brokers N`):
 *  - start time (spawn to ready line, and the broker's own startup-ms) and RSS after start,
 *    for 1, 3 and 9 brokers, median of --runs spawns;
 *  - failover: a kafkajs idempotent producer sends one record at a time (acks=all) to a
 *    partition led by broker 2; broker 2 is stopped through POST /admin/brokers/2/stop; the
 *    figure is the time from that request to the first record acknowledged after it (the
 *    client sees the dropped connection, refreshes metadata, finds the new leader). Then
 *    broker 2 is started and the leader moved back; repeated --runs times.
 *
 *   npm run build && node dist/bench/cluster.js [--runs=5] [--brokers=1,3,9]
 *
 * Prints one line per figure. The machine may be shared: say so with the figures.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';

const CLI = path.resolve(__dirname, '../src/cli/main.js');
const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const RUNS = Number(arg('runs', '5'));
const SIZES = arg('brokers', '1,3,9').split(',').map(Number);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-cluster-'));
const children = new Set<ChildProcess>();

interface Started {
  child: ChildProcess;
  wallMs: number;
  startupMs: number;
  brokers: { id: number; port: number }[];
  http: number | null;
}

function serve(brokers: number, httpOn: boolean): Promise<Started> {
  const dataDir = fs.mkdtempSync(path.join(work, 'data-'));
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--brokers', String(brokers), '--http-port', httpOn ? '0' : 'none'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.includes('listening on') && out.includes('\n'));
      if (!line) return;
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const first = Number(/listening on [^:]+:(\d+)/.exec(line)![1]);
      const listed = / brokers=(\S+)/.exec(line)?.[1].split(',').map((b) => ({ id: Number(b.split('@')[0]), port: Number(b.split(':').pop()) }));
      resolve({
        child,
        wallMs,
        startupMs: Number(/startup-ms=([\d.]+)/.exec(line)![1]),
        brokers: listed ?? [{ id: 1, port: first }],
        http: / http=\S*:(\d+)/.test(line) ? Number(/ http=\S*:(\d+)/.exec(line)![1]) : null,
      });
    });
    child.once('exit', (code) => reject(new Error(`broker exited with ${code}`)));
  });
}

async function stop(s: Started): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
  children.delete(s.child);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))!;
  return Number(m[1]) / 1024;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startupFigures(): Promise<void> {
  for (const n of SIZES) {
    const wall: number[] = [];
    const own: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const s = await serve(n, false);
      await new Promise((r) => setTimeout(r, 500));
      wall.push(s.wallMs);
      own.push(s.startupMs);
      rss.push(rssMb(s.child.pid!));
      await stop(s);
    }
    console.log(`brokers=${n}  start (spawn to ready line) median ${median(wall).toFixed(0)} ms  startup-ms median ${median(own).toFixed(1)}  RSS after start median ${median(rss).toFixed(1)} MB  (${RUNS} runs)`);
  }
}

async function admin(http: number, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${http}${p}`, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function failoverFigures(): Promise<void> {
  const s = await serve(3, true);
  const http = s.http!;
  const kafka = new Kafka({ clientId: 'bench', brokers: s.brokers.map((b) => `127.0.0.1:${b.port}`), logLevel: logLevel.NOTHING });
  const a = kafka.admin();
  await a.connect();
  await a.createTopics({ topics: [{ topic: 'failover', replicaAssignment: [{ partition: 0, replicas: [2, 1, 3] }] }], waitForLeaders: true });
  await a.disconnect();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let stoppedAt = 0;
    let stopDone = 0;
    let recovered = 0;
    let n = 0;
    const sending = (async () => {
      while (recovered === 0) {
        const started = performance.now();
        await producer.send({ topic: 'failover', acks: -1, messages: [{ partition: 0, value: `r${run}-${n++}` }] });
        // Only a record sent once the broker was down proves the producer found the new leader.
        if (stopDone > 0 && started >= stopDone) recovered = performance.now();
      }
    })();
    await new Promise((r) => setTimeout(r, 300));
    stoppedAt = performance.now();
    await admin(http, 'POST', '/admin/brokers/2/stop');
    stopDone = performance.now();
    await sending;
    times.push(recovered - stoppedAt);
    await admin(http, 'POST', '/admin/brokers/2/start');
    await admin(http, 'POST', '/admin/partitions/failover/0/leader', { leader: 2 });
    await new Promise((r) => setTimeout(r, 300));
  }
  await producer.disconnect();
  await stop(s);
  console.log(
    `failover  stop broker 2 -> first record acknowledged again (kafkajs idempotent producer, default retry settings): median ${median(times).toFixed(0)} ms, min ${Math.min(...times).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms  (${RUNS} runs)`,
  );
}

(async () => {
  try {
    await startupFigures();
    await failoverFigures();
  } finally {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
