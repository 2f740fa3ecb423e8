/**
 * Scale figures: one broker with many partitions, and many concurrent connections.
 * Measured with the bench's own wire client (wire.ts); run.ts turns the results into rows.
 */
import * as fs from 'fs';
import { readMem } from './proc';
import { encodeRequest, WireClient } from './wire';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function rssMiB(pid: number): number {
  return (readMem(pid)?.rssKb ?? NaN) / 1024;
}

/** Round trips of a small request every `everyMs` until stop() — the broker's responsiveness. */
export class Pinger {
  private readonly rtts: number[] = [];
  private running = true;
  private done: Promise<void>;

  constructor(client: WireClient, everyMs: number) {
    this.done = (async () => {
      while (this.running) {
        const t0 = process.hrtime.bigint();
        try {
          await client.request(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '1' });
        } catch {
          return;
        }
        this.rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
        await sleep(everyMs);
      }
    })();
  }

  async stop(): Promise<{ count: number; p50: number; p99: number; max: number }> {
    this.running = false;
    await this.done;
    const s = [...this.rtts].sort((a, b) => a - b);
    return { count: s.length, p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] ?? NaN };
  }
}

export interface PartitionsResult {
  partitions: number;
  createMs: number;
  errors: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  /** Median time of a Metadata request for the topic (all partitions). */
  metadataMs: number;
  metadataBytes: number;
  openFds: number;
}

/** Creates one topic with `partitions` partitions and measures memory and Metadata. */
export async function manyPartitions(port: number, pid: number, topic: string, partitions: number): Promise<PartitionsResult> {
  const c = await WireClient.connect(port);
  try {
    await sleep(300);
    const rssBeforeMiB = rssMiB(pid);
    const t0 = process.hrtime.bigint();
    const res = await c.request(19, 4, {
      topics: [{ name: topic, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 600_000,
      validateOnly: false,
    });
    const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const errors = (res.topics as { errorCode: number }[]).filter((t) => t.errorCode !== 0).length;
    await sleep(1000);
    const rssAfterMiB = rssMiB(pid);
    const times: number[] = [];
    let metadataBytes = 0;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      const frame = await c.requestRaw(
        encodeRequest(3, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 1000 + i),
      );
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      metadataBytes = frame.length;
    }
    times.sort((a, b) => a - b);
    let openFds = NaN;
    try {
      openFds = fs.readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // not Linux
    }
    return { partitions, createMs, errors, rssBeforeMiB, rssAfterMiB, metadataMs: percentile(times, 0.5), metadataBytes, openFds };
  } finally {
    c.close();
  }
}

export interface ConnectionsResult {
  connections: number;
  /** Time to open every connection and get its ApiVersions answer. */
  connectMs: number;
  failed: number;
  rssBeforeMiB: number;
  rssOpenMiB: number;
  /** Every connection sends one Metadata request at the same moment. */
  roundMs: number;
  p50: number;
  p99: number;
  max: number;
}

/** Opens `n` connections (as clients do: ApiVersions first), then one Metadata each at once. */
export async function manyConnections(port: number, pid: number, n: number): Promise<ConnectionsResult> {
  await sleep(300);
  const rssBeforeMiB = rssMiB(pid);
  const clients: WireClient[] = [];
  let failed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += 100) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(100, n - i) }, async () => {
        const c = await WireClient.connect(port);
        clients.push(c);
        await c.request(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '1' });
      }),
    );
    failed += batch.filter((r) => r.status === 'rejected').length;
  }
  const connectMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await sleep(500);
  const rssOpenMiB = rssMiB(pid);
  const lat: number[] = [];
  const r0 = process.hrtime.bigint();
  await Promise.allSettled(
    clients.map(async (c) => {
      const t = process.hrtime.bigint();
      await c.request(3, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }),
  );
  const roundMs = Number(process.hrtime.bigint() - r0) / 1e6;
  failed += clients.length - lat.length;
  for (const c of clients) c.close();
  lat.sort((a, b) => a - b);
  return {
    connections: n,
    connectMs,
    failed,
    rssBeforeMiB,
    rssOpenMiB,
    roundMs,
    p50: percentile(lat, 0.5),
    p99: percentile(lat, 0.99),
    max: lat[lat.length - 1] ?? NaN,
  };
}

// ---------------------------------------------------------------- `node dist/bench/scale.js`
//
// Standalone scale figures: start time with many partitions on disk (clean and unclean
// shutdown), Metadata latency and CreateTopics time at 1k/10k/100k partitions with the
// broker's event-loop stalls, kcat -L of 100k partitions, memory per idle partition and per
// idle connection. Options: --partitions=N (startup, default 10000), --runs=N (startup runs,
// default 5), --sizes=1000,10000,100000, --connections=N (default 1000), --json=FILE,
// --compare=FILE (an earlier --json FILE), --only=startup,metadata,memory (default: all three).

interface Figure {
  name: string;
  value: number | null;
  unit: string;
  notes: string;
}

const figures: Figure[] = [];
function figure(name: string, value: number | null, unit: string, notes = ''): void {
  figures.push({ name, value, unit, notes });
  process.stderr.write(`[scale] ${name}: ${value === null ? 'FAILED' : value.toFixed(value < 10 ? 2 : 1)} ${unit} ${notes}\n`);
}

const CLI_PATH = require('path').resolve(__dirname, '../src/cli/main.js') as string;

interface Spawned {
  child: import('child_process').ChildProcess;
  port: number;
  acceptMs: number;
  /** Spawn to the answers of a client's first two requests (ApiVersions, Metadata) on a new connection after the accept. */
  answerMs: number;
  /** The broker's own startup-ms (serve command to listening) from its ready line. */
  reportedMs: Promise<number | null>;
  stderr: () => string;
}

async function spawnBroker(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<Spawned> {
  const { startChild, freePort, connectLoop } = await import('./proc');
  const port = await freePort();
  const t0 = process.hrtime.bigint();
  const child = startChild(process.execPath, [CLI_PATH, 'serve', '--host', '127.0.0.1', '--port', String(port), '--http-port', 'none', '--data-dir', dataDir], ['ignore', 'pipe', 'pipe'], {
    ...process.env,
    SAMSA_LOG_LEVEL: 'info',
    ...env,
  });
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (err += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  const reportedMs = new Promise<number | null>((resolve) => {
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => {
      out += d;
      const m = /startup-ms=([\d.]+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', () => resolve(null));
  });
  const t = await connectLoop(port, 60_000, () => !exited);
  // What a client sees next: modules that load on first use (handlers) are paid here.
  const c = await WireClient.connect(port);
  try {
    await c.request(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '1' });
    await c.request(3, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
  } finally {
    c.close();
  }
  const answered = process.hrtime.bigint();
  return { child, port, acceptMs: Number(t - t0) / 1e6, answerMs: Number(answered - t0) / 1e6, reportedMs, stderr: () => err };
}

async function stopBroker(b: Spawned, signal: NodeJS.Signals): Promise<void> {
  const { killChild, waitExit } = await import('./proc');
  killChild(b.child, signal);
  await waitExit(b.child, 120_000);
}

/** Waits for the broker's "opened in the background" log line; its ms, or null. */
async function backgroundOpenMs(b: Spawned, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /"msg":"partition logs opened in the background"[^\n]*"ms":(\d+)/.exec(b.stderr());
    if (m) return Number(m[1]);
    await sleep(50);
  }
  return null;
}

function oneRecordBatch(): Buffer {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { encodeRecordBatch } = require('../src/coordinator/group/batch-codec') as typeof import('../src/coordinator/group/batch-codec');
  return encodeRecordBatch([{ key: null, value: Buffer.from('scale bench record') }], { timestamp: Date.now() });
}

/** Kafka's controller takes at most this many partitions per CreateTopics or CreatePartitions request. */
const PARTITIONS_PER_REQUEST = 10_000;

/** CreateTopics, then CreatePartitions in steps of PARTITIONS_PER_REQUEST beyond that, as a Kafka user would; the first error code. */
async function createTopic(c: WireClient, name: string, partitions: number): Promise<number> {
  const first = Math.min(partitions, PARTITIONS_PER_REQUEST);
  const res = await c.request(19, 4, { topics: [{ name, numPartitions: first, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 600_000, validateOnly: false });
  let code = (res.topics as { errorCode: number }[])[0].errorCode;
  for (let count = first; code === 0 && count < partitions; ) {
    count = Math.min(partitions, count + PARTITIONS_PER_REQUEST);
    const more = await c.request(37, 3, { topics: [{ name, count, assignments: null }], timeoutMs: 600_000, validateOnly: false });
    code = (more.results as { errorCode: number }[])[0].errorCode;
  }
  return code;
}

/** One Produce request with one record for every partition of `topic`; returns the partitions that failed. */
async function produceToAll(c: WireClient, topic: string, partitions: number): Promise<number> {
  const batch = oneRecordBatch();
  const res = await c.request(0, 9, {
    transactionalId: null,
    acks: 1,
    timeoutMs: 60_000,
    topicData: [{ name: topic, partitionData: Array.from({ length: partitions }, (_, index) => ({ index, records: Buffer.from(batch) })) }],
  });
  let failed = 0;
  for (const t of res.responses) for (const p of t.partitionResponses) if (p.errorCode !== 0) failed++;
  return failed;
}

/** ListOffsets latest of every partition; how many differ from `expected`. */
async function endOffsetsDiffering(c: WireClient, topic: string, partitions: number, expected: number): Promise<number> {
  const res = await c.request(2, 7, {
    replicaId: -1,
    isolationLevel: 0,
    timeoutMs: 60_000,
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1 })) }],
  });
  let bad = 0;
  for (const t of res.topics) for (const p of t.partitions) if (p.errorCode !== 0 || Number(p.offset) !== expected) bad++;
  return bad;
}

async function startupFigures(tmp: string, partitions: number, runs: number): Promise<void> {
  const dir = `${tmp}/startup`;
  const n = partitions.toLocaleString('en');
  let b = await spawnBroker(dir);
  let c = await WireClient.connect(b.port);
  const code = await createTopic(c, 'scale', partitions);
  const failed = code === 0 ? await produceToAll(c, 'scale', partitions) : partitions;
  c.close();
  await stopBroker(b, 'SIGTERM');
  if (code !== 0 || failed) {
    figure(`start with ${n} partitions, clean shutdown`, null, 'ms', `setup failed: CreateTopics ${code}, ${failed} partitions not produced`);
    return;
  }
  const base: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { startChild, freePort, connectLoop, killChild, waitExit } = await import('./proc');
    const port = await freePort();
    const t0 = process.hrtime.bigint();
    const child = startChild(process.execPath, ['-e', `require('net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1')`]);
    base.push(Number((await connectLoop(port, 30_000, () => child.exitCode === null)) - t0) / 1e6);
    killChild(child);
    await waitExit(child, 5000);
  }
  base.sort((x, y) => x - y);
  figure('bare node listener: spawn -> accepted connection (the floor)', percentile(base, 0.5), 'ms', `median of ${runs}`);
  // Runs alternate between an empty data dir and the one with many partitions, so that both
  // see the same load.
  const acc: number[] = [];
  const answer: number[] = [];
  const rep: number[] = [];
  const emptyAcc: number[] = [];
  const emptyRep: number[] = [];
  const bg: number[] = [];
  for (let i = 0; i < runs; i++) {
    b = await spawnBroker(`${tmp}/empty-${i}`);
    emptyAcc.push(b.acceptMs);
    emptyRep.push((await b.reportedMs) ?? NaN);
    await stopBroker(b, 'SIGTERM');
    b = await spawnBroker(dir);
    acc.push(b.acceptMs);
    answer.push(b.answerMs);
    rep.push((await b.reportedMs) ?? NaN);
    const ms = await backgroundOpenMs(b, 120_000);
    if (ms !== null) bg.push(ms);
    await stopBroker(b, 'SIGTERM');
  }
  const med = (xs: number[]) => percentile([...xs].sort((x, y) => x - y), 0.5);
  const range = (xs: number[]) => `min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)}`;
  figure('start with an empty data dir: spawn -> accepted connection', med(emptyAcc), 'ms', `median of ${runs} (${range(emptyAcc)}); broker's own startup-ms (serve -> listening) ${med(emptyRep).toFixed(1)}`);
  figure(
    `start with ${n} partitions, clean shutdown: spawn -> accepted connection`,
    med(acc),
    'ms',
    `median of ${runs} (${range(acc)}); broker's own startup-ms ${med(rep).toFixed(1)}; the logs then opened in the background in ${bg.length ? med(bg) : '?'} ms; target < 300 ms`,
  );
  figure(
    `start with ${n} partitions, clean shutdown: spawn -> first ApiVersions and Metadata answers`,
    med(answer),
    'ms',
    `median of ${runs} (${range(answer)}); a new connection after the accept, as a client's first requests`,
  );

  // Unclean: write to every partition (each drops its clean-shutdown marker), then SIGKILL.
  b = await spawnBroker(dir);
  c = await WireClient.connect(b.port);
  const failed2 = await produceToAll(c, 'scale', partitions);
  c.close();
  await stopBroker(b, 'SIGKILL');
  b = await spawnBroker(dir);
  const uncleanAccept = b.acceptMs;
  const uncleanRep = await b.reportedMs;
  const bgUnclean = await backgroundOpenMs(b, 120_000);
  c = await WireClient.connect(b.port);
  const wrong = await endOffsetsDiffering(c, 'scale', partitions, 2);
  c.close();
  await stopBroker(b, 'SIGTERM');
  figure(
    `start with ${n} partitions, unclean shutdown (SIGKILL): spawn -> accepted connection`,
    failed2 || wrong ? null : uncleanAccept,
    'ms',
    `broker's own startup-ms ${uncleanRep}; every partition recovered (CRC check of its active segment) in the background in ${bgUnclean ?? '?'} ms after listening, end offsets checked${wrong ? `; ${wrong} partitions with a WRONG end offset` : ''}${failed2 ? `; ${failed2} produce errors` : ''}`,
  );
}

/** In-process broker: CreateTopics and Metadata at `size` partitions, with the event loop's worst stall. */
async function metadataFigures(tmp: string, size: number, kcat: boolean): Promise<void> {
  const { startBroker } = await import('../src/broker');
  const { createLogger } = await import('../src/logging');
  const { monitorEventLoopDelay } = await import('perf_hooks');
  const n = size.toLocaleString('en');
  const broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: `${tmp}/metadata-${size}`, httpPort: null, logger: createLogger('warn') });
  const lag = monitorEventLoopDelay({ resolution: 10 });
  try {
    const c = await WireClient.connect(broker.port);
    lag.enable();
    const t0 = process.hrtime.bigint();
    const code = await createTopic(c, `scale-${size}`, size);
    const createMs = Number(process.hrtime.bigint() - t0) / 1e6;
    // The sampler's timer records a stall when it fires after it: give it the chance.
    await sleep(30);
    const createLag = lag.max / 1e6;
    lag.reset();
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 20; i++) {
      const t = process.hrtime.bigint();
      const frame = await c.requestRaw(encodeRequest(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, 100 + i));
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
      bytes = frame.length;
    }
    await sleep(30);
    const metaLag = lag.max / 1e6;
    times.sort((a, b) => a - b);
    const requests = size > PARTITIONS_PER_REQUEST ? ` (CreateTopics of ${PARTITIONS_PER_REQUEST.toLocaleString('en')}, then ${Math.ceil(size / PARTITIONS_PER_REQUEST) - 1} CreatePartitions: Kafka takes at most ${PARTITIONS_PER_REQUEST.toLocaleString('en')} per request)` : '';
    figure(`CreateTopics of one topic with ${n} partitions`, code === 0 ? createMs : null, 'ms', `event loop's longest stall meanwhile ${createLag.toFixed(0)} ms${requests}`);
    figure(`Metadata (all topics) with ${n} partitions, median round trip`, percentile(times, 0.5), 'ms', `p90 ${percentile(times, 0.9).toFixed(1)} ms of 20, response ${(bytes / 1024).toFixed(0)} KiB; longest event-loop stall ${metaLag.toFixed(0)} ms${size === 10000 ? '; target < 10 ms' : ''}`);
    if (kcat) {
      const { execFile } = await import('child_process');
      lag.reset();
      const t = process.hrtime.bigint();
      const r = await new Promise<{ ok: boolean; out: string }>((resolve) =>
        execFile('kcat', ['-L', '-b', `127.0.0.1:${broker.port}`], { maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (err, out) => resolve({ ok: !err, out: String(out) })),
      );
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      await sleep(30);
      const lines = r.out.split('\n').filter((l) => /partition \d+, leader/.test(l)).length;
      figure(`kcat -L with ${n} partitions`, r.ok && lines === size ? ms : null, 'ms', `${lines} partitions listed (kcat's own time included); longest event-loop stall ${(lag.max / 1e6).toFixed(0)} ms`);
    }
    c.close();
  } finally {
    lag.disable();
    await broker.close();
  }
}

async function memoryFigures(tmp: string, partitions: number, connections: number): Promise<void> {
  const b = await spawnBroker(`${tmp}/memory`);
  const pid = b.child.pid as number;
  // Unopened partitions cost little: take ten times as many so that the growth beats the noise.
  const unopened = partitions * 10;
  try {
    const c = await WireClient.connect(b.port);
    await sleep(500);
    const before = rssMiB(pid);
    await createTopic(c, 'unopened', unopened);
    await sleep(1000);
    const created = rssMiB(pid);
    await createTopic(c, 'opened', partitions);
    await sleep(500);
    const beforeOpen = rssMiB(pid);
    // DescribeLogDirs reads the size of every log it names: it opens them.
    await c.request(35, 4, { topics: [{ topic: 'opened', partitions: Array.from({ length: partitions }, (_, i) => i) }] });
    await sleep(1000);
    const opened = rssMiB(pid);
    c.close();
    figure('memory per idle partition, log not opened', ((created - before) * 1024) / unopened, 'KiB', `RSS ${before.toFixed(1)} -> ${created.toFixed(1)} MiB after creating ${unopened.toLocaleString('en')} partitions`);
    figure('memory per idle partition, log opened', ((opened - beforeOpen) * 1024) / partitions, 'KiB', `RSS ${beforeOpen.toFixed(1)} -> ${opened.toFixed(1)} MiB once ${partitions.toLocaleString('en')} logs were opened by DescribeLogDirs (an empty segment: its descriptor and index buffers)`);
    const conns = await manyConnections(b.port, pid, connections);
    figure('memory per idle connection', ((conns.rssOpenMiB - conns.rssBeforeMiB) * 1024) / connections, 'KiB', `RSS ${conns.rssBeforeMiB.toFixed(1)} -> ${conns.rssOpenMiB.toFixed(1)} MiB with ${connections} connections after ApiVersions${conns.failed ? `; ${conns.failed} FAILED` : ''}`);
  } finally {
    await stopBroker(b, 'SIGTERM');
  }
}

async function scaleMain(): Promise<void> {
  const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
  const partitions = Number(arg('partitions', '10000'));
  const sizes = arg('sizes', '1000,10000,100000').split(',').map(Number);
  const connections = Number(arg('connections', '1000'));
  const json = arg('json', '');
  const compare = arg('compare', '');
  const only = new Set(arg('only', 'startup,metadata,memory').split(','));
  const { compareTable, loadRun } = await import('./compare');
  const earlier = compare ? loadRun(compare) : null;
  const os = await import('os');
  const tmp = fs.mkdtempSync(`${os.tmpdir()}/samsa-scale-`);
  const load0 = os.loadavg()[0];
  try {
    if (only.has('startup')) await startupFigures(tmp, partitions, Number(arg('runs', '5')));
    if (only.has('metadata')) for (const s of sizes) await metadataFigures(tmp, s, s === Math.max(...sizes));
    if (only.has('memory')) await memoryFigures(tmp, partitions, connections);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const header = `Samsa scale figures, measured on a loaded machine (load average ${load0.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end; ${os.cpus().length} cores)`;
  const w = Math.max(...figures.map((f) => f.name.length));
  const lines = figures.map((f) => `${f.name.padEnd(w)}  ${(f.value === null ? 'FAILED' : f.value.toFixed(f.value < 10 ? 2 : 1)).padStart(9)} ${f.unit.padEnd(3)}  ${f.notes}`);
  process.stdout.write(`${header}\n${lines.join('\n')}\n`);
  if (earlier) process.stdout.write(`\nCompared with ${compare} (under 10% reads as noise on a loaded machine):\n${compareTable(earlier, figures)}\n`);
  if (json) fs.writeFileSync(json, JSON.stringify({ header, figures }, null, 2));
  process.exitCode = figures.some((f) => f.value === null) ? 1 : 0;
}

if (require.main === module) {
  scaleMain().catch(async (err) => {
    process.stderr.write(`scale bench failed: ${(err as Error).stack ?? err}\n`);
    (await import('./proc')).killAllChildren();
    process.exit(1);
  });
}
