/**
 * How the broker scales from one core to two: the same produce and fetch runs with the broker
 * pinned to one CPU (`taskset -c 0`) and allowed two (`taskset -c 0,1`), the clients pinned
 * to the second CPU in both cases (on a 2-core machine the client always shares a core).
 *
 *   npm run build && node dist/bench/cores.js [--requests=512] [--runs=3] [--partitions=1,4]
 *
 * Runs, for each broker affinity:
 *   - produce: dist/bench/raw-produce.js (prebuilt ~1 MB Produce requests, 8 in flight, one
 *     connection) to a topic with 1 and with 4 partitions (requests go round the partitions);
 *   - fetch: dist/bench/fetch-client.js reading the 1-partition topic from the start (one
 *     16 MiB Fetch at a time, sendfile path).
 * Prints the median MB/s of `--runs` runs with the broker's CPU split into its event-loop
 * thread and its other threads (thread pool: background writes, fsync; V8's GC helpers), and
 * the 2-core / 1-core ratio. Needs taskset (util-linux) and at least 2 CPUs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ChildProcess, spawn, spawnSync } from 'child_process';

const CLI = path.resolve(__dirname, '../src/cli/main.js');
const RAW_PRODUCE = path.resolve(__dirname, 'raw-produce.js');
const FETCH_CLIENT = path.resolve(__dirname, 'fetch-client.js');

function arg(name: string, dflt: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a command to its end; stdout, or an error with its stderr. */
function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** utime + stime (seconds) of the process and of its main thread. */
function cpuSeconds(pid: number): { total: number; loop: number } {
  const ticks = (file: string) => {
    const f = fs.readFileSync(file, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  return { total: ticks(`/proc/${pid}/stat`), loop: ticks(`/proc/${pid}/task/${pid}/stat`) };
}

interface Broker {
  child: ChildProcess;
  port: number;
}

async function startBroker(cpus: string, dataDir: string): Promise<Broker> {
  const child = spawn('taskset', ['-c', cpus, process.execPath, CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--http-port', 'none'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 200; i++) {
    const m = /listening on [^:\s]+:(\d+)/.exec(out);
    if (m) return { child, port: Number(m[1]) };
    await sleep(25);
  }
  child.kill('SIGKILL');
  throw new Error(`broker did not start: ${out}`);
}

async function stopBroker(b: Broker): Promise<void> {
  const exited = new Promise((r) => b.child.once('exit', r));
  b.child.kill('SIGTERM');
  await exited;
}

interface Figure {
  mbps: number;
  loopPct: number;
  otherPct: number;
}

/** One measured client run against the broker: MB/s from the client, CPU shares from /proc. */
function measure(pid: number, client: () => { bytes: number; seconds: number }): Figure {
  const c0 = cpuSeconds(pid);
  const { bytes, seconds } = client();
  const c1 = cpuSeconds(pid);
  const loop = c1.loop - c0.loop;
  const total = c1.total - c0.total;
  return { mbps: bytes / seconds / 1e6, loopPct: (100 * loop) / seconds, otherPct: (100 * Math.max(0, total - loop)) / seconds };
}

function produceClient(port: number, topic: string, partitions: number, requests: number): () => { bytes: number; seconds: number } {
  return () => {
    const out = run('taskset', ['-c', '1', process.execPath, RAW_PRODUCE, `--port=${port}`, `--requests=${requests}`, `--partitions=${partitions}`, `--topic=${topic}`]);
    const m = /in ([\d.]+) s: (\d+) MB\/s payload/.exec(out);
    if (!m) throw new Error(`raw-produce said: ${out}`);
    return { bytes: Number(m[2]) * 1e6 * Number(m[1]), seconds: Number(m[1]) };
  };
}

function fetchClient(port: number, topic: string): () => { bytes: number; seconds: number } {
  return () => {
    const out = run('taskset', ['-c', '1', process.execPath, FETCH_CLIENT, String(port), topic]);
    const m = /bytes (\d+) ms ([\d.]+)/.exec(out);
    if (!m) throw new Error(`fetch-client said: ${out}`);
    return { bytes: Number(m[1]), seconds: Number(m[2]) / 1000 };
  };
}

/** The run with the median MB/s. */
const middle = (figures: Figure[]) => [...figures].sort((a, b) => a.mbps - b.mbps)[Math.floor(figures.length / 2)];
const fmt = (f: Figure) => `${f.mbps.toFixed(0).padStart(5)} MB/s  (event loop ${f.loopPct.toFixed(0)}%, other threads ${f.otherPct.toFixed(0)}%)`;

async function main(): Promise<void> {
  if (os.cpus().length < 2) throw new Error('needs at least 2 CPUs');
  const requests = Number(arg('requests', '512'));
  const runs = Number(arg('runs', '3'));
  const partitionCounts = arg('partitions', '1,4').split(',').map(Number);
  const rows: { name: string; one: Figure; two: Figure }[] = [];
  const results = new Map<string, Figure>();
  for (const cpus of ['0', '0,1']) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cores-'));
    const broker = await startBroker(cpus, dataDir);
    const pid = broker.child.pid!;
    try {
      for (const partitions of partitionCounts) {
        const figures: Figure[] = [];
        for (let r = 0; r < runs; r++) figures.push(measure(pid, produceClient(broker.port, `produce-${partitions}-${r}`, partitions, requests)));
        results.set(`${cpus}|produce ${partitions}`, middle(figures));
      }
      const figures: Figure[] = [];
      for (let r = 0; r < runs; r++) figures.push(measure(pid, fetchClient(broker.port, `produce-${partitionCounts[0]}-0`)));
      results.set(`${cpus}|fetch`, middle(figures));
    } finally {
      await stopBroker(broker);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const names = [...partitionCounts.map((p) => `produce ${p}`), 'fetch'];
  for (const name of names) rows.push({ name, one: results.get(`0|${name}`)!, two: results.get(`0,1|${name}`)! });
  console.log(`broker on 1 core (taskset -c 0) vs 2 cores (taskset -c 0,1); clients on CPU 1; median of ${runs}`);
  for (const r of rows) {
    const label = r.name.startsWith('produce') ? `${r.name} partition(s), 1 MB requests` : 'fetch of the 1-partition topic, 16 MiB fetches';
    console.log(`${label}\n  1 core : ${fmt(r.one)}\n  2 cores: ${fmt(r.two)}\n  scaling: ${(r.two.mbps / r.one.mbps).toFixed(2)}x`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
