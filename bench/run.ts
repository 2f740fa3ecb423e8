/**
 * `npm run bench`: startup, memory, produce and fetch figures of a real Samsa broker process
 * driven by kcat (librdkafka), next to the machine's limits measured in the same run
 * (loopback TCP, page-cache write and read). See bench/README.md.
 *
 *   npm run bench                         full run (1 GiB backlog), a few minutes
 *   npm run bench -- --quick              small sizes, under a minute
 *   npm run bench -- --only=startup,fetch --size=512M
 *
 * Everything runs on 127.0.0.1 against a fresh temp data dir, removed at the end; every
 * child process (broker, kcat, loopback pair) is killed when the bench exits.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync, ChildProcess } from 'child_process';
import {
  connectLoop,
  freePort,
  killAllChildren,
  killChild,
  MemInfo,
  readCpu,
  cpuDelta,
  Cpu,
  readMem,
  runTimed,
  startChild,
  waitExit,
  fsyncTree,
} from './proc';
import { generateRecordFile } from './records';
import { summarizeProfile } from './profile';
import { manyConnections, manyPartitions, Pinger } from './scale';
import { compareTable, ComparableRow, loadRun } from './compare';
import { WireClient } from './wire';
import { summarizeStalls } from './loop-stall-probe';

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');
const LOOPBACK = path.join(__dirname, 'loopback.js');
const FETCH_CLIENT = path.join(__dirname, 'fetch-client.js');
const RAW_PRODUCE = path.join(__dirname, 'raw-produce.js');
const STALL_PROBE = path.join(__dirname, 'loop-stall-probe.js');
const LATENCY_PY = path.resolve(__dirname, '..', '..', 'bench', 'latency.py');
const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

// ---------------------------------------------------------------- options

const SECTIONS = ['limits', 'startup', 'produce', 'fetch', 'latency', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

interface Options {
  quick: boolean;
  /** Payload bytes of the 1 KiB-record backlog (and of the other 1 KiB produce runs). */
  size: number;
  /** Payload bytes of the 100 B-record produce runs. */
  smallSize: number;
  only: Set<Section>;
  startupRuns: number;
  produceRuns: number;
  fetchRuns: number;
  cpuProf: boolean;
  json: string | null;
  /** An earlier run's --json file to compare this run with. */
  compare: string | null;
  /** Latency: records per second and measured seconds. */
  latencyRate: number;
  latencySeconds: number;
  /** Latency: log bytes of the backlog the noisy phase's reader reads again and again. */
  latencyBacklog: number;
  /** Scale: partitions of the one big topic, concurrent connections. */
  partitions: number;
  connections: number;
}

const HELP = `usage: node dist/bench/run.js [options]     (npm run bench -- [options])

  --quick               small sizes: 128M backlog, 32M of 100 B records, 5 startup runs
  --size=SIZE           backlog of 1 KiB records (default 1G; K/M/G suffixes are powers of 2)
  --small-size=SIZE     total of the 100 B record runs (default size/4)
  --only=LIST           comma-separated subset of: ${SECTIONS.join(',')}
  --startup-runs=N      spawns per startup figure (default 10)
  --produce-runs=N      runs per produce figure, median reported (default 3; quick 1)
  --fetch-runs=N        runs per fetch figure, median reported (default 3; quick 1)
  --cpu-prof            run the broker under node --cpu-prof; profiles are kept and summarised
  --json=FILE           also write the figures as JSON
  --compare=FILE        compare this run's figures with an earlier run's --json FILE
  --latency-rate=N      records/s of the produce-to-consume latency run (default 10000)
  --latency-seconds=N   measured seconds of that run, after 2 s of warm-up (default 10; quick 5)
  --latency-backlog=SIZE  backlog the noisy neighbour reads during the latency run (default 256M; quick 64M)
  --partitions=N        partitions of the scale section's topic (default 10000)
  --connections=N       concurrent connections of the scale section (default 1000)

Each option can also be given as an environment variable: BENCH_QUICK=1, BENCH_SIZE=512M,
BENCH_SMALL_SIZE, BENCH_ONLY, BENCH_STARTUP_RUNS, BENCH_PRODUCE_RUNS, BENCH_FETCH_RUNS, BENCH_CPU_PROF=1, BENCH_JSON, BENCH_COMPARE,
BENCH_LATENCY_RATE, BENCH_LATENCY_SECONDS, BENCH_LATENCY_BACKLOG, BENCH_PARTITIONS, BENCH_CONNECTIONS.
Arguments win over the environment.
`;

export class OptionError extends Error {}

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)i?b?$/i.exec(s.trim());
  if (!m) throw new OptionError(`bad size: ${s}`);
  const mult = { '': 1, k: KiB, m: MiB, g: GiB }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

function parseOptions(argv: string[]): Options {
  const raw = new Map<string, string>();
  const env: [string, string][] = [
    ['BENCH_QUICK', 'quick'],
    ['BENCH_SIZE', 'size'],
    ['BENCH_SMALL_SIZE', 'small-size'],
    ['BENCH_ONLY', 'only'],
    ['BENCH_STARTUP_RUNS', 'startup-runs'],
    ['BENCH_PRODUCE_RUNS', 'produce-runs'],
    ['BENCH_FETCH_RUNS', 'fetch-runs'],
    ['BENCH_CPU_PROF', 'cpu-prof'],
    ['BENCH_JSON', 'json'],
    ['BENCH_COMPARE', 'compare'],
    ['BENCH_LATENCY_RATE', 'latency-rate'],
    ['BENCH_LATENCY_SECONDS', 'latency-seconds'],
    ['BENCH_LATENCY_BACKLOG', 'latency-backlog'],
    ['BENCH_PARTITIONS', 'partitions'],
    ['BENCH_CONNECTIONS', 'connections'],
  ];
  for (const [k, name] of env) if (process.env[k]) raw.set(name, process.env[k] as string);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new OptionError(`unknown argument ${a} (see --help)`);
    const name = m[1];
    if (name === 'quick' || name === 'cpu-prof') raw.set(name, m[2] ?? '1');
    else raw.set(name, m[2] ?? argv[++i] ?? '');
  }
  const known = new Set(env.map(([, n]) => n));
  for (const k of raw.keys()) if (!known.has(k)) throw new OptionError(`unknown option --${k} (see --help)`);
  const flag = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v !== 'false';
  const quick = flag(raw.get('quick'));
  const size = raw.has('size') ? parseSize(raw.get('size') as string) : quick ? 128 * MiB : GiB;
  const smallSize = raw.has('small-size') ? parseSize(raw.get('small-size') as string) : Math.floor(size / 4);
  const only = new Set<Section>();
  for (const s of (raw.get('only') ?? SECTIONS.join(',')).split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(SECTIONS as readonly string[]).includes(s)) throw new OptionError(`--only: unknown section ${s}; use ${SECTIONS.join(',')}`);
    only.add(s as Section);
  }
  const int = (name: string, dflt: number, max = 20) => {
    const v = raw.has(name) ? Number(raw.get(name)) : dflt;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new OptionError(`--${name} must be an integer in 1..${max}`);
    return v;
  };
  if (size < MiB || size > 64 * GiB) throw new OptionError('--size must be between 1M and 64G');
  if (smallSize < 100 * KiB || smallSize > 64 * GiB) throw new OptionError('--small-size must be between 100K and 64G');
  const latencyBacklog = raw.has('latency-backlog') ? parseSize(raw.get('latency-backlog') as string) : quick ? 64 * MiB : 256 * MiB;
  if (latencyBacklog < MiB || latencyBacklog > 64 * GiB) throw new OptionError('--latency-backlog must be between 1M and 64G');
  return {
    quick,
    size,
    smallSize,
    only,
    startupRuns: int('startup-runs', quick ? 5 : 10),
    produceRuns: int('produce-runs', quick ? 1 : 3),
    fetchRuns: int('fetch-runs', quick ? 1 : 3),
    cpuProf: flag(raw.get('cpu-prof')),
    json: raw.get('json') || null,
    compare: raw.get('compare') || null,
    latencyRate: int('latency-rate', 10_000, 1_000_000),
    latencySeconds: int('latency-seconds', quick ? 5 : 10, 600),
    latencyBacklog,
    partitions: int('partitions', 10_000, 100_000),
    connections: int('connections', 1000, 10_000),
  };
}

// ---------------------------------------------------------------- results

type LimitKey = 'tcp' | 'write' | 'read' | 'sendfile' | 'nodeStart' | 'nodeRss';
const LIMIT_NAMES: Record<LimitKey, string> = {
  tcp: 'tcp',
  sendfile: 'sendfile',
  write: 'write',
  read: 'read',
  nodeStart: 'node',
  nodeRss: 'node',
};

interface Row {
  section: string;
  name: string;
  value: number | null;
  unit: string;
  recordsPerSec?: number;
  /** CPU time / wall time in percent, user and system. */
  brokerCpu?: Cpu;
  clientCpu?: Cpu;
  /** Throughput rows: ratio value / min(limits). Time and memory rows: value / limit ("x slower"). */
  limits?: LimitKey[];
  notes?: string;
}

const rows: Row[] = [];
const SECTION_ORDER = ['limits', 'startup', 'memory', 'produce', 'setup', 'fetch', 'latency', 'scale'];
const limits: Partial<Record<LimitKey, number>> = {};
export const brokerLogs: string[] = [];
const profiles: { label: string; file: string }[] = [];

function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function add(row: Row): void {
  rows.push(row);
  const v = row.value === null ? 'FAILED' : `${fmt(row.value)} ${row.unit}`;
  progress(`${row.name}: ${v}${row.notes ? `  (${row.notes})` : ''}`);
}

export function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

export function fmtInt(v: number): string {
  return Math.round(v)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function fmtBytes(n: number): string {
  if (n >= GiB && n % (GiB / 4) === 0) return `${n / GiB} GiB`;
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB`;
  return `${(n / KiB).toFixed(0)} KiB`;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/** The row's value divided by its binding limit, and that limit's key; null without one. */
function limitRatio(row: Row): { ratio: number; key: LimitKey } | null {
  if (!row.limits || row.value === null) return null;
  const known = row.limits.filter((k) => limits[k] !== undefined);
  if (known.length === 0) return null;
  // Throughput: the binding limit is the slowest of the resources the path uses.
  const k = row.unit === 'MB/s' ? known.reduce((a, b) => ((limits[a] as number) <= (limits[b] as number) ? a : b)) : known[0];
  return { ratio: row.value / (limits[k] as number), key: k };
}

function ratioText(row: Row): string {
  const r = limitRatio(row);
  if (!r) return '';
  return `${r.ratio.toFixed(row.unit === 'MB/s' ? 2 : 1)}x ${LIMIT_NAMES[r.key]}`;
}

export function cpuText(c: Cpu | undefined): string {
  return c ? `${c.user.toFixed(0)}+${c.sys.toFixed(0)}%` : '';
}

function renderTable(): string {
  const header = ['figure', 'value', 'unit', 'records/s', 'broker CPU usr+sys', 'kcat CPU usr+sys', 'vs limit', 'notes'];
  const body: string[][] = [];
  let section = '';
  const order = (r: Row) => {
    const i = SECTION_ORDER.indexOf(r.section);
    return i < 0 ? SECTION_ORDER.length : i;
  };
  const sorted = rows.map((r, i) => ({ r, i })).sort((a, b) => order(a.r) - order(b.r) || a.i - b.i).map((x) => x.r);
  for (const r of sorted) {
    if (r.section !== section) {
      section = r.section;
      body.push([`**${section}**`, '', '', '', '', '', '', '']);
    }
    body.push([
      r.name,
      r.value === null ? 'FAILED' : fmt(r.value),
      r.unit,
      r.recordsPerSec !== undefined ? fmtInt(r.recordsPerSec) : '',
      cpuText(r.brokerCpu),
      cpuText(r.clientCpu),
      ratioText(r),
      r.notes ?? '',
    ]);
  }
  return markdownTable(header, body, new Set([1, 3, 4, 5, 6]));
}

/** A Markdown table padded to column width; columns in `right` are right-aligned. */
export function markdownTable(header: string[], body: string[][], right: Set<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    '| ' + cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (right.has(i) ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|';
  return [line(header), sep, ...body.map(line)].join('\n');
}

// ---------------------------------------------------------------- broker process

interface BrokerStart {
  broker: BrokerProc;
  /** spawn() to the first accepted TCP connection. */
  acceptMs: number;
  /** The broker's own startup-ms from its ready line. */
  reportedMs: number | null;
}

export class BrokerProc {
  private stderr = '';
  exited = false;
  /** The broker's ready line on stdout (listeners, tls-dev-ca, startup-ms). */
  readyLine = '';

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly label: string,
  ) {
    child.once('exit', () => (this.exited = true));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (this.stderr.length < 256 * KiB) this.stderr += d;
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  /** Port of a listener by name (PLAINTEXT, SSL, SASL_SSL, ...) from the ready line. */
  listenerPort(name: string): number {
    const first = /listening on [^:\s]+:(\d+) \((\w+)\)/.exec(this.readyLine);
    if (first && first[2] === name) return Number(first[1]);
    const m = new RegExp(` ${name}=[^:\\s]+:(\\d+)`).exec(this.readyLine);
    if (!m) throw new Error(`no ${name} listener in: ${this.readyLine}`);
    return Number(m[1]);
  }

  /**
   * `extraArgs` gets the port that start() waits on, so a caller that sets `listeners` can put
   * its first listener there. `nodeArgs` go to node itself (e.g. -r of a bench probe).
   */
  static async start(
    dataDir: string,
    label: string,
    profileDir: string | null = null,
    env: NodeJS.ProcessEnv = {},
    extraArgs: (port: number) => string[] = () => [],
    extraNodeArgs: string[] = [],
  ): Promise<BrokerStart> {
    const port = await freePort();
    const nodeArgs = [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), ...extraNodeArgs];
    // --http-port 0: the HTTP server stays on (the default) without clashing with a broker on 9644.
    const args = [...nodeArgs, CLI, 'serve', '--host', '127.0.0.1', '--port', String(port), '--http-port', '0', '--data-dir', dataDir, ...extraArgs(port)];
    const t0 = process.hrtime.bigint();
    const child = startChild(process.execPath, args, undefined, { ...process.env, ...env });
    const broker = new BrokerProc(child, port, label);
    const ready = new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.setEncoding('utf8');
      child.stdout?.on('data', (d: string) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('samsa listening'));
        if (line) resolve(line);
      });
      child.once('exit', (code) => reject(new Error(`broker exited (${code}) before its ready line: ${broker.stderr.slice(0, 2000)}`)));
    });
    ready.catch(() => undefined);
    try {
      const tAccept = await connectLoop(port, 30_000, () => !broker.exited);
      const line = await withTimeout(ready, 30_000, 'broker ready line');
      broker.readyLine = line;
      const m = /startup-ms=([\d.]+)/.exec(line);
      return { broker, acceptMs: Number(tAccept - t0) / 1e6, reportedMs: m ? Number(m[1]) : null };
    } catch (err) {
      killChild(child);
      throw new Error(`${(err as Error).message}${broker.stderr ? `; stderr: ${broker.stderr.slice(0, 2000)}` : ''}`);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within the limit. Keeps its stderr for the report. */
  async stop(timeoutMs = 120_000): Promise<number> {
    const t0 = Date.now();
    killChild(this.child, 'SIGTERM');
    const r = await waitExit(this.child, timeoutMs);
    if (r.timedOut) brokerLogs.push(`${this.label}: did not exit within ${timeoutMs} ms of SIGTERM; killed`);
    else if (r.code !== 0) brokerLogs.push(`${this.label}: exit code ${r.code} signal ${r.signal}`);
    if (this.stderr.trim()) brokerLogs.push(`${this.label} stderr:\n${this.stderr.trim().split('\n').slice(0, 20).join('\n')}`);
    return Date.now() - t0;
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms))),
  ]);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Time limit for moving `bytes` (assumes at least 4 MB/s) plus fixed slack. */
export function budgetMs(bytes: number): number {
  return 30_000 + Math.ceil(bytes / 4e6) * 1000;
}

// ---------------------------------------------------------------- limits

async function loopbackTcp(bytes: number, passes = 2): Promise<void> {
  let best: { bytes: number; ms: number } | null = null;
  for (let i = 0; i < passes; i++) {
    const r = await loopbackOnce(bytes, (port) => ['source', String(port), String(bytes)]);
    if (!best || r.ms < best.ms) best = r;
  }
  const b = best as { bytes: number; ms: number };
  limits.tcp = mbps(b.bytes, b.ms);
  add({ section: 'limits', name: 'loopback TCP, node -> node', value: limits.tcp, unit: 'MB/s', notes: `${fmtBytes(bytes)} in ${(b.ms / 1000).toFixed(2)} s, 1 MiB writes, best of ${passes}` });
}

/**
 * sendfile(2) of the backlog's segment files (in the page cache) to a receiver that reads into
 * one reused 4 MiB buffer, through Samsa's addon as the broker uses it: the ceiling of a
 * zero-copy fetch on this machine (a receiver allocating per read, as with 'data' events,
 * would be the bound instead).
 */
async function sendfileLimit(files: string[], passes = 2): Promise<void> {
  const bytes = files.reduce((s, f) => s + fs.statSync(f).size, 0);
  let best: { bytes: number; ms: number } | null = null;
  try {
    for (let i = 0; i < passes; i++) {
      const r = await sendfileOnce(files, bytes);
      if (!best || r.ms < best.ms) best = r;
    }
  } catch (err) {
    add({ section: 'limits', name: 'sendfile page cache -> socket', value: null, unit: 'MB/s', notes: `${(err as Error).message} (is the addon built? npm run build)` });
    return;
  }
  const b = best as { bytes: number; ms: number };
  limits.sendfile = mbps(b.bytes, b.ms);
  add({ section: 'limits', name: 'sendfile page cache -> socket', value: limits.sendfile, unit: 'MB/s', notes: `${fmtBytes(bytes)} of backlog segments in ${(b.ms / 1000).toFixed(2)} s to a node reader with one 4 MiB buffer, best of ${passes}; fetch figures are compared with this` });
}

async function sendfileOnce(files: string[], bytes: number): Promise<{ bytes: number; ms: number }> {
  // Read the files first: the limit is from the page cache.
  const buf = Buffer.allocUnsafe(MiB);
  for (const f of files) {
    const fd = fs.openSync(f, 'r');
    try {
      for (let pos = 0, n = 0; (n = fs.readSync(fd, buf, 0, MiB, pos)) > 0; pos += n);
    } finally {
      fs.closeSync(fd);
    }
  }
  const server = startChild(process.execPath, [LOOPBACK, 'sendfile-server', ...files]);
  let sink: ChildProcess | null = null;
  try {
    const port = await withTimeout(
      new Promise<number>((resolve, reject) => {
        let out = '';
        server.stdout?.setEncoding('utf8');
        server.stdout?.on('data', (d: string) => {
          out += d;
          const m = /port (\d+)\n/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        server.once('exit', (code) => reject(new Error(`sendfile server exited (${code})`)));
      }),
      10_000,
      'sendfile server port',
    );
    sink = startChild(process.execPath, [LOOPBACK, 'sink-connect', String(port), String(bytes)]);
    const s = sink;
    const text = await withTimeout(
      new Promise<string>((resolve) => {
        let out = '';
        s.stdout?.setEncoding('utf8');
        s.stdout?.on('data', (d: string) => (out += d));
        s.once('exit', () => resolve(out));
      }),
      budgetMs(bytes),
      'sendfile transfer',
    );
    const m = /bytes (\d+) ms ([\d.]+)/.exec(text);
    if (!m) throw new Error(`sink said: ${text.trim() || '(nothing)'}`);
    return { bytes: Number(m[1]), ms: Number(m[2]) };
  } finally {
    if (sink) killChild(sink);
    killChild(server);
  }
}

async function loopbackOnce(bytes: number, sourceArgs: (port: number) => string[]): Promise<{ bytes: number; ms: number }> {
  const sink = startChild(process.execPath, [LOOPBACK, 'sink', String(bytes)]);
  let out = '';
  sink.stdout?.setEncoding('utf8');
  const got = new Promise<string>((resolve, reject) => {
    sink.stdout?.on('data', (d: string) => {
      out += d;
      if (/(bytes \d+ ms [\d.]+|short \d+)\n/.test(out)) resolve(out);
    });
    sink.once('exit', () => resolve(out));
    sink.once('error', reject);
  });
  const portLine = await withTimeout(
    new Promise<number>((resolve) => {
      const check = () => {
        const m = /port (\d+)\n/.exec(out);
        if (m) resolve(Number(m[1]));
        else setTimeout(check, 2);
      };
      check();
    }),
    10_000,
    'loopback sink port',
  );
  const source = startChild(process.execPath, [LOOPBACK, ...sourceArgs(portLine)]);
  try {
    const text = await withTimeout(got, budgetMs(bytes), 'loopback transfer');
    const m = /bytes (\d+) ms ([\d.]+)/.exec(text);
    if (!m) throw new Error(`loopback sink said: ${text.trim()}`);
    return { bytes: Number(m[1]), ms: Number(m[2]) };
  } finally {
    killChild(source);
    killChild(sink);
  }
}

/** Leaves the file behind when `keep` (for the read limit when there is no backlog). */
function pageCacheWrite(dir: string, bytes: number, keep: boolean, passes = 2): string {
  const file = path.join(dir, 'write-limit.bin');
  const buf = Buffer.alloc(MiB, 0x61);
  let best = Infinity;
  for (let pass = 0; pass < passes; pass++) {
    const fd = fs.openSync(file, 'w');
    const t0 = process.hrtime.bigint();
    try {
      for (let done = 0; done < bytes; ) {
        const n = Math.min(MiB, bytes - done);
        done += fs.writeSync(fd, buf, 0, n, done);
      }
    } finally {
      fs.closeSync(fd);
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
    if (!keep || pass < passes - 1) fs.rmSync(file, { force: true });
  }
  limits.write = mbps(bytes, best);
  add({ section: 'limits', name: 'page-cache write (fs.writeSync 1 MiB)', value: limits.write, unit: 'MB/s', notes: `${fmtBytes(bytes)} into a new file, best of ${passes}` });
  return file;
}

/**
 * Not a limit of any path by itself: how fast this machine hands out memory never touched
 * before. On some VMs it is slow (the host backs guest pages on first touch), which then
 * shows in anything that grows the page cache: record files, produce, fetch buffers.
 */
function freshMemory(bytes: number): void {
  const t0 = process.hrtime.bigint();
  const b = Buffer.allocUnsafeSlow(bytes);
  for (let i = 0; i < bytes; i += 4096) b[i] = 1;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  add({ section: 'limits', name: 'first touch of new memory (fresh buffer, 1 byte per page)', value: mbps(bytes, ms), unit: 'MB/s', notes: `${fmtBytes(bytes)}; low values mean page-cache growth is costly here` });
}

function pageCacheRead(files: string[]): void {
  const buf = Buffer.allocUnsafe(MiB);
  let best = Infinity;
  let bytes = 0;
  for (let pass = 0; pass < 2; pass++) {
    bytes = 0;
    const t0 = process.hrtime.bigint();
    for (const f of files) {
      const fd = fs.openSync(f, 'r');
      try {
        for (let pos = 0; ; ) {
          const n = fs.readSync(fd, buf, 0, MiB, pos);
          if (n === 0) break;
          pos += n;
          bytes += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  limits.read = mbps(bytes, best);
  const what = files.some((f) => f.endsWith('.log')) ? `${files.length} segment file(s) of the backlog` : 'the write-limit file';
  add({ section: 'limits', name: 'page-cache read (fs.readSync 1 MiB)', value: limits.read, unit: 'MB/s', notes: `${fmtBytes(bytes)}, ${what}, best of 2` });
}

// ---------------------------------------------------------------- kcat

export const KCAT = 'kcat';

function logFiles(dataDir: string, topic: string): string[] {
  const dir = path.join(dataDir, `${topic}-0`);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{20}\.log$/.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

export function logBytes(dataDir: string, topic: string): number {
  return logFiles(dataDir, topic).reduce((s, f) => s + fs.statSync(f).size, 0);
}

/** `extra`: kcat settings for the listener on `port` (e.g. SASL). */
export async function endOffset(port: number, topic: string, extra: string[] = []): Promise<number | null> {
  const r = await runTimed(KCAT, ['-Q', '-b', `127.0.0.1:${port}`, '-t', `${topic}:0:-1`, ...extra], 30_000);
  const m = new RegExp(`\\[0\\] offset (-?\\d+)`).exec(r.stdout);
  return m ? Number(m[1]) : null;
}

export interface ProduceSpec {
  name: string;
  /** One topic per run, in order; a topic named again is appended to (expected end offset grows). */
  topics: string[];
  file: string;
  records: number;
  recordSize: number;
  acks: '1' | 'all';
  codec: 'none' | 'lz4' | 'zstd';
}

/** One timed client run: wall time, CPU of the broker and of kcat, or why it failed. */
export interface Timed {
  ms: number;
  broker: Cpu | null;
  kcat: Cpu | null;
  error: string | null;
}

export const PRODUCE_FLAGS = ['-X', 'linger.ms=5', '-X', 'batch.size=1000000', '-X', 'queue.buffering.max.messages=1000000'];

/** `port` and `extra` select another listener; `extra` comes after PRODUCE_FLAGS, so it can override them. */
export async function produceOnce(b: BrokerProc, spec: ProduceSpec, topic: string, expectEnd: number, port = b.port, extra: string[] = []): Promise<Timed> {
  const bytes = spec.records * spec.recordSize;
  const args = ['-P', '-b', `127.0.0.1:${port}`, '-t', topic, '-p', '0', '-z', spec.codec, ...PRODUCE_FLAGS, '-X', `acks=${spec.acks}`, ...extra, '-l', spec.file];
  const cpu0 = readCpu(b.pid);
  const r = await runTimed(KCAT, args, budgetMs(bytes));
  const cpu1 = readCpu(b.pid);
  let error: string | null = null;
  if (r.timedOut) error = `timed out: ${lastLines(r.stderr)}`;
  else if (r.code !== 0) error = `kcat exit ${r.code}: ${lastLines(r.stderr)}`;
  else {
    const end = await endOffset(port, topic, extra);
    if (end !== expectEnd) error = `end offset ${end} after the run, expected ${expectEnd}: ${lastLines(r.stderr)}`;
  }
  return { ms: r.ms, broker: cpuDelta(cpu0, cpu1), kcat: r.cpu, error };
}

/** Creates the topics that do not exist yet (one partition each); an existing topic is fine. */
async function createTopics(port: number, names: string[]): Promise<void> {
  const c = await WireClient.connect(port);
  try {
    const res = await c.request(19, 4, {
      topics: names.map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 30_000,
      validateOnly: false,
    });
    for (const t of res.topics as { name: string; errorCode: number }[]) {
      if (t.errorCode !== 0 && t.errorCode !== 36 /* TOPIC_ALREADY_EXISTS */) throw new Error(`CreateTopics ${t.name}: error ${t.errorCode}`);
    }
  } finally {
    c.close();
  }
}

/** Produces spec.topics.length times; the row shows the median run. Returns the topics written completely. */
async function produce(b: BrokerProc, dataDir: string, spec: ProduceSpec, section: string): Promise<Set<string>> {
  const bytes = spec.records * spec.recordSize;
  const runs: Timed[] = [];
  const done = new Set<string>();
  const count = new Map<string, number>();
  // Created before the timed runs: a producer's first request for an unknown topic creates it
  // but (as in Kafka 4) is answered UNKNOWN_TOPIC_OR_PARTITION, and librdkafka looks again only
  // on its 1 s timer, which would add a second to the first run of every topic.
  await createTopics(b.port, [...new Set(spec.topics)]);
  for (const topic of spec.topics) {
    const n = (count.get(topic) ?? 0) + 1;
    count.set(topic, n);
    const t = await produceOnce(b, spec, topic, n * spec.records);
    runs.push(t);
    if (t.error) break;
    done.add(topic);
  }
  const failed = runs.find((t) => t.error);
  if (failed) {
    add({ section, name: spec.name, value: null, unit: 'MB/s', notes: failed.error as string });
    return done;
  }
  const med = medianRun(runs);
  const last = spec.topics[spec.topics.length - 1];
  const onDisk = logBytes(dataDir, last) / (count.get(last) as number);
  let notes = `${fmtBytes(bytes)} = ${fmtInt(spec.records)} x ${spec.recordSize} B${spread(runs)}; log ${fmtBytes(onDisk)}`;
  if (spec.codec !== 'none') {
    notes += ` (${(onDisk / bytes).toFixed(2)} of payload)`;
    if (onDisk > 0.98 * bytes) notes += `; NOT compressed: librdkafka sent plain batches (its ${spec.codec} support depends on an API the broker does not advertise)`;
  }
  add({
    section,
    name: spec.name,
    value: mbps(bytes, med.ms),
    unit: 'MB/s',
    recordsPerSec: spec.records / (med.ms / 1000),
    brokerCpu: pctOf(med.broker, med.ms),
    clientCpu: pctOf(med.kcat, med.ms),
    limits: ['tcp', 'write'],
    notes,
  });
  return done;
}

export function medianRun(runs: Timed[]): Timed {
  const sorted = [...runs].sort((x, y) => x.ms - y.ms);
  return sorted[(sorted.length - 1) >> 1];
}

function spread(runs: Timed[]): string {
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  if (ms.length === 1) return `, ${(ms[0] / 1000).toFixed(2)} s`;
  return `, median of ${ms.length}: ${(median(ms) / 1000).toFixed(2)} s (${(ms[0] / 1000).toFixed(2)}-${(ms[ms.length - 1] / 1000).toFixed(2)})`;
}

export function pctOf(cpu: Cpu | null, ms: number): Cpu | undefined {
  return cpu ? { user: (100 * cpu.user) / (ms / 1000), sys: (100 * cpu.sys) / (ms / 1000) } : undefined;
}

const FETCH_MAX_BYTES = 64 * MiB;
export const PARTITION_FETCH_BYTES = 16 * MiB;
export const FETCH_FLAGS = [
  '-X', `fetch.max.bytes=${FETCH_MAX_BYTES}`, '-X', `max.partition.fetch.bytes=${PARTITION_FETCH_BYTES}`,
  '-X', `receive.message.max.bytes=${FETCH_MAX_BYTES + MiB}`, '-X', 'queued.max.messages.kbytes=262144',
  // kcat -e sees the end only in an empty fetch response, which the broker (like Kafka)
  // holds for fetch.wait.max.ms (default 500): keep that tail short.
  '-X', 'fetch.wait.max.ms=10',
  // Default 100000: with small records one fetch exceeds it and librdkafka then re-checks
  // fetchability only once a second, so 100 B records would measure that pause.
  '-X', 'queued.min.messages=10000000',
];

/** `port` and `extra` (e.g. -X security.protocol=SSL ...) select another listener. */
export async function fetchOnce(b: BrokerProc, topic: string, records: number, bytes: number, port = b.port, extra: string[] = []): Promise<Timed> {
  const args = ['-C', '-b', `127.0.0.1:${port}`, '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-f', '', ...FETCH_FLAGS, ...extra];
  const cpu0 = readCpu(b.pid);
  const r = await runTimed(KCAT, args, budgetMs(bytes));
  const cpu1 = readCpu(b.pid);
  const m = /Reached end of topic \S+ \[0\] at offset (\d+)/.exec(r.stderr);
  let error: string | null = null;
  if (r.timedOut) error = `timed out: ${lastLines(r.stderr)}`;
  else if (r.code !== 0 || !m) error = `kcat exit ${r.code}: ${lastLines(r.stderr)}`;
  else if (Number(m[1]) !== records) error = `end at offset ${m[1]}, expected ${records}`;
  return { ms: r.ms, broker: cpuDelta(cpu0, cpu1), kcat: r.cpu, error };
}

async function fetchFigure(
  b: BrokerProc,
  dataDir: string,
  name: string,
  topic: string,
  records: number,
  recordSize: number,
  count: number,
  /** Default: the sendfile limit when it was measured (what the targets compare with). */
  rowLimits: LimitKey[] = limits.sendfile !== undefined ? ['sendfile'] : ['tcp', 'read'],
): Promise<void> {
  const bytes = records * recordSize;
  const wire = logBytes(dataDir, topic);
  const runs: Timed[] = [];
  for (let i = 0; i < count; i++) {
    const f = await fetchOnce(b, topic, records, bytes);
    runs.push(f);
    if (f.error) break;
  }
  const failed = runs.find((f) => f.error);
  if (failed) {
    add({ section: 'fetch', name, value: null, unit: 'MB/s', notes: failed.error as string });
    return;
  }
  const med = medianRun(runs);
  add({
    section: 'fetch',
    name,
    value: mbps(bytes, med.ms),
    unit: 'MB/s',
    recordsPerSec: records / (med.ms / 1000),
    brokerCpu: pctOf(med.broker, med.ms),
    clientCpu: pctOf(med.kcat, med.ms),
    limits: rowLimits,
    notes: `${fmtBytes(bytes)}${spread(runs)}; log ${fmtBytes(wire)} = ${mbps(wire, med.ms).toFixed(0)} MB/s on the wire`,
  });
}

/**
 * One run of bench/fetch-client.js over `wire` log bytes of `topic`; with `tlsCa` it speaks
 * TLS (for an SSL listener on `port`). `kcat` of the result is the client's CPU.
 */
export async function rawFetchOnce(b: BrokerProc, topic: string, wire: number, port = b.port, tlsCa: string | null = null): Promise<Timed> {
  const tls = tlsCa ? ['--tls-ca', tlsCa] : [];
  const cpu0 = readCpu(b.pid);
  const r = await runTimed(process.execPath, [FETCH_CLIENT, String(port), topic, String(PARTITION_FETCH_BYTES), ...tls], budgetMs(wire));
  const cpu1 = readCpu(b.pid);
  const m = /bytes (\d+) ms ([\d.]+) fetches (\d+)/.exec(r.stdout);
  let error: string | null = null;
  if (r.timedOut) error = 'timed out';
  else if (r.code !== 0 || !m) error = `fetch client exit ${r.code}: ${lastLines(r.stderr)}`;
  else if (Number(m[1]) !== wire) error = `read ${m[1]} bytes, the log holds ${wire}`;
  // The client's own clock: from its connect (TLS: handshake done) to the last byte.
  return { ms: m ? Number(m[2]) : r.ms, broker: cpuDelta(cpu0, cpu1), kcat: r.cpu, error };
}

/**
 * The broker's fetch path without kcat's per-record work: bench/fetch-client.ts reads the
 * topic with sequential 16 MiB fetches into one reused buffer, looking only at batch heads.
 * MB/s of log bytes (what crosses the socket), compared with the sendfile limit.
 */
async function rawFetchFigure(b: BrokerProc, dataDir: string, name: string, topic: string, count: number): Promise<void> {
  const wire = logBytes(dataDir, topic);
  const runs: Timed[] = [];
  for (let i = 0; i < count; i++) {
    const t = await rawFetchOnce(b, topic, wire);
    runs.push(t);
    if (t.error) break;
  }
  const failed = runs.find((f) => f.error);
  if (failed) {
    add({ section: 'fetch', name, value: null, unit: 'MB/s', notes: failed.error as string });
    return;
  }
  const med = medianRun(runs);
  add({
    section: 'fetch',
    name,
    value: mbps(wire, med.ms),
    unit: 'MB/s',
    brokerCpu: pctOf(med.broker, med.ms),
    limits: limits.sendfile !== undefined ? ['sendfile'] : ['tcp', 'read'],
    notes: `log bytes ${fmtBytes(wire)}${spread(runs)}; bench/fetch-client.js: sequential ${fmtBytes(PARTITION_FETCH_BYTES)} fetches, no record parsing (client CPU is node's, not kcat's)`,
  });
}

export function lastLines(s: string, n = 3): string {
  return s
    .trim()
    .split('\n')
    .filter((l) => l.trim() && !/^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()))
    .slice(-n)
    .join(' / ')
    .slice(0, 400);
}

// ---------------------------------------------------------------- startup

interface StartupRun {
  acceptMs: number;
  reportedMs: number | null;
  rssKb: number | null;
}

async function bareNodeStartup(runs: number): Promise<void> {
  const acc: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const port = await freePort();
    const t0 = process.hrtime.bigint();
    const child = startChild(process.execPath, ['-e', `require('net').createServer((s) => s.destroy()).listen(${port}, '127.0.0.1')`]);
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      const t = await connectLoop(port, 30_000, () => !exited);
      acc.push(Number(t - t0) / 1e6);
      await sleep(200);
      const m = readMem(child.pid as number);
      if (m) rss.push(m.rssKb);
    } finally {
      killChild(child, 'SIGKILL');
      await waitExit(child, 5000);
    }
  }
  limits.nodeStart = median(acc);
  add({ section: 'startup', name: 'bare node listener: spawn -> accepted connection', value: limits.nodeStart, unit: 'ms', notes: `median of ${runs}, min ${fmt(Math.min(...acc))} max ${fmt(Math.max(...acc))}; node -e net.createServer().listen()` });
  if (rss.length) {
    limits.nodeRss = median(rss) / 1024;
    add({ section: 'memory', name: 'bare node listener RSS, idle', value: limits.nodeRss, unit: 'MiB', notes: 'VmRSS 200 ms after the first connection' });
  }
}

async function brokerStartups(runs: number, dirFor: (i: number) => string, cleanup: (i: number, dir: string) => void, label: string): Promise<StartupRun[]> {
  const out: StartupRun[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = dirFor(i);
    const { broker, acceptMs, reportedMs } = await BrokerProc.start(dir, `${label} #${i + 1}`);
    try {
      await sleep(200);
      const m = readMem(broker.pid);
      out.push({ acceptMs, reportedMs, rssKb: m?.rssKb ?? null });
    } finally {
      await broker.stop(60_000);
      cleanup(i, dir);
    }
  }
  return out;
}

function addStartupRow(name: string, runs: StartupRun[], extra: string): void {
  const acc = runs.map((r) => r.acceptMs);
  const rep = runs.map((r) => r.reportedMs).filter((x): x is number => x !== null);
  add({
    section: 'startup',
    name,
    value: median(acc),
    unit: 'ms',
    limits: ['nodeStart'],
    notes: `median of ${runs.length}, min ${fmt(Math.min(...acc))} max ${fmt(Math.max(...acc))}; broker's own startup-ms ${rep.length ? fmt(median(rep)) : '?'}${extra}`,
  });
}

// ---------------------------------------------------------------- latency

const PYTHON = process.env.SAMSA_COMPAT_PYTHON || '/usr/bin/python3';
/** The backlog the noisy phase's reader reads again and again. */
const NOISE_BACKLOG = 'noise-backlog';
/** The full-speed producer's topic: -1, -2, one per run. */
const NOISE_PRODUCE = 'noise-produce';
/** Records per raw Produce request (1000 x 1 KiB: about 1 MB, as a batching client sends at full speed). */
const NOISE_BATCH_RECORDS = 1000;

interface LatencyResult {
  count: number;
  expected: number;
  missing: number;
  rate: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  from_ns: number;
  to_ns: number;
  /** [first receive ns, last receive ns, max ms, records] */
  episodes: [number, number, number, number][];
  episode_count: number;
}

/** One run of bench/latency.py against `broker`; the result, the broker's CPU, or why it failed. */
async function latencyRun(opts: Options, broker: BrokerProc, topic: string): Promise<{ res: LatencyResult; brokerCpu: Cpu | undefined } | { error: string }> {
  const args = [LATENCY_PY, '--bootstrap', `127.0.0.1:${broker.port}`, '--topic', topic, '--rate', String(opts.latencyRate), '--seconds', String(opts.latencySeconds), '--warmup', '2', '--size', '100'];
  const cpu0 = readCpu(broker.pid);
  const r = await runTimed(PYTHON, args, (opts.latencySeconds + 60) * 1000);
  const cpu1 = readCpu(broker.pid);
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (r.code !== 0 || !line) return { error: `${PYTHON} bench/latency.py exit ${r.code}: ${lastLines(r.stderr)} (needs python3-confluent-kafka)` };
  return { res: JSON.parse(line) as LatencyResult, brokerCpu: pctOf(cpuDelta(cpu0, cpu1), r.ms) };
}

/** A neighbour process of the noisy phase and its output. */
interface Neighbour {
  name: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
}

function startNeighbour(name: string, args: string[], niced: boolean): Neighbour {
  const cmd = niced ? ['nice', '-n', '19', process.execPath, ...args] : [process.execPath, ...args];
  const child = startChild(cmd[0], cmd.slice(1));
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (err = (err + d).slice(-4096)));
  return { name, child, stdout: () => out, stderr: () => err };
}

/** SIGTERM (they print their totals on it), then the totals line, or why there is none. */
async function stopNeighbour(n: Neighbour): Promise<{ line: string | null; error: string | null }> {
  const early = n.child.exitCode !== null || n.child.signalCode !== null;
  killChild(n.child, 'SIGTERM');
  const r = await waitExit(n.child, 15_000);
  const line = n.stdout().trim().split('\n').pop() || null;
  if (early) return { line, error: `${n.name} exited before the end of the run (${n.child.exitCode}): ${lastLines(n.stderr())}` };
  if (r.timedOut || !line) return { line, error: `${n.name} gave no totals${r.timedOut ? ' (killed)' : ''}: ${lastLines(n.stderr())}` };
  return { line, error: null };
}

/** The broker's event-loop stalls during [from, to] and how many slow episodes of the client overlap one. */
function stallNotes(stallLog: string, res: LatencyResult): string {
  let text = '';
  try {
    text = fs.readFileSync(stallLog, 'utf8');
  } catch {
    return 'no stall log';
  }
  const from = BigInt(res.from_ns);
  const to = BigInt(res.to_ns);
  const s = summarizeStalls(text, from, to);
  // An episode [first receive - its max latency, last receive] overlapping a stall [end - late - 2 ms, end].
  const stalls = text
    .split('\n')
    .filter((l) => l.startsWith('stall '))
    .map((l) => l.split(' '))
    .map((f) => ({ end: Number(f[1]) / 1e6, late: Number(f[2]) }))
    .filter((x) => x.end >= Number(from) / 1e6 && x.end < Number(to) / 1e6);
  const overlapping = res.episodes.filter(([first, last, max]) => {
    const a = first / 1e6 - max;
    const b = last / 1e6;
    return stalls.some((x) => x.end >= a && x.end - x.late - 2 <= b);
  }).length;
  const episodes = res.episode_count > res.episodes.length ? `${overlapping} of the ${res.episodes.length} largest` : `${overlapping}`;
  return (
    `client: ${res.episode_count} episodes of records >= 5 ms late, ${episodes} overlap a broker stall; ` +
    `broker event loop (bench/loop-stall-probe.js): ${s.over5} stalls >= 5 ms (${s.over5Waiting} mostly waiting for a CPU), max ${fmt(s.maxMs)} ms (${fmt(s.maxRunMs)} on CPU, ${fmt(s.maxWaitMs)} waiting); ${s.run5} stalls with >= 5 ms on CPU, the most ${fmt(s.maxRunOnlyMs)} ms; ` +
    `all stalls >= 3 ms: ${s.stalls}, ${fmt(s.lateMs)} ms late = ${fmt(s.runMs)} ms on CPU + ${fmt(s.waitMs)} ms waiting for a CPU + ${fmt(s.blockedMs)} ms blocked; ` +
    `GC >= 1 ms: ${s.gcCount}, ${fmt(s.gcMs)} ms, max ${fmt(s.gcMaxMs)} ms`
  );
}

/**
 * Produce-to-consume latency with librdkafka (confluent-kafka-python, bench/latency.py): a
 * producer process at a fixed rate, a consumer process, CLOCK_MONOTONIC stamps in the values.
 * Three runs on one broker: quiet; with noisy neighbours (a raw client reading a backlog from
 * the start again and again with 16 MiB fetches, and a raw producer sending ~1 MB requests
 * with 8 in flight, both bench/ node processes); and the same neighbours under nice 19, so
 * that what is left is the broker's share rather than the clients' fight for the 2 cores.
 * The broker runs with bench/loop-stall-probe.js preloaded: its event-loop stalls go in the notes.
 */
async function latencySection(opts: Options, dataDir: string, profDir: string | null): Promise<void> {
  const rate = fmtInt(opts.latencyRate);
  const before = new Set(profDir ? fs.readdirSync(profDir) : []);
  // Kept next to the profiles with --cpu-prof (both use CLOCK_MONOTONIC, so they line up).
  const stallLog = profDir ? path.join(profDir, 'latency-session-stalls.log') : `${dataDir}-stalls.log`;
  const { broker } = await BrokerProc.start(dataDir, 'latency session', profDir, { SAMSA_BENCH_STALL_LOG: stallLog }, () => [], ['-r', STALL_PROBE]);
  const common = `confluent-kafka-python (librdkafka) producer and consumer processes, 100 B records, linger.ms=0, acks=1, fetch.wait.max.ms=100`;
  const report = (label: string, run: Awaited<ReturnType<typeof latencyRun>>, neighbours: string, failed: string | null) => {
    const name = (q: string) => `produce -> consume at ${rate} msg/s${label}, ${q}`;
    if ('error' in run || failed) {
      add({ section: 'latency', name: name('p99'), value: null, unit: 'ms', notes: 'error' in run ? run.error : (failed as string) });
      return;
    }
    const { res, brokerCpu } = run;
    const missing = res.missing > 0 ? `; ${res.missing} records MISSING` : '';
    add({ section: 'latency', name: name('p50'), value: res.p50, unit: 'ms', brokerCpu, notes: `${common}; ${fmtInt(res.count)} records over ${opts.latencySeconds} s after 2 s warm-up${missing}${neighbours}` });
    add({ section: 'latency', name: name('p99'), value: res.p99, unit: 'ms', notes: `target < 5 ms; ${stallNotes(stallLog, res)}` });
    add({ section: 'latency', name: name('p99.9'), value: res.p999, unit: 'ms', notes: `max ${fmt(res.max)} ms` });
  };
  try {
    const c = await WireClient.connect(broker.port);
    await c.request(19, 4, { topics: [{ name: 'latency', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 30_000, validateOnly: false });
    c.close();
    progress('latency: quiet run');
    report('', await latencyRun(opts, broker, 'latency'), '', null);

    // The backlog for the reading neighbour, written by the raw producer and flushed to disk.
    const perRequest = NOISE_BATCH_RECORDS * 1024;
    const requests = Math.max(1, Math.ceil(opts.latencyBacklog / perRequest));
    progress(`latency: writing the ${fmtBytes(requests * perRequest)} backlog for the noisy runs`);
    const w = await runTimed(process.execPath, [RAW_PRODUCE, `--port=${broker.port}`, `--topic=${NOISE_BACKLOG}`, `--requests=${requests}`, `--records=${NOISE_BATCH_RECORDS}`, '--size=1024'], budgetMs(requests * perRequest));
    if (w.code !== 0) {
      add({ section: 'latency', name: `produce -> consume at ${rate} msg/s, noisy neighbours, p99`, value: null, unit: 'ms', notes: `writing the backlog failed: ${lastLines(w.stderr)}` });
      return;
    }
    fsyncTree(dataDir);

    for (const niced of [false, true]) {
      const label = niced ? ', niced noisy neighbours' : ', noisy neighbours';
      const nice = niced ? ' under nice 19' : '';
      progress(`latency: run with noisy neighbours${nice}`);
      const reader = startNeighbour('backlog reader', [FETCH_CLIENT, String(broker.port), NOISE_BACKLOG, String(PARTITION_FETCH_BYTES), '--repeat'], niced);
      const producer = startNeighbour('full-speed producer', [RAW_PRODUCE, `--port=${broker.port}`, `--topic=${NOISE_PRODUCE}-${niced ? 2 : 1}`, '--requests=0', `--records=${NOISE_BATCH_RECORDS}`, '--size=1024', '--inflight=8'], niced);
      let run: Awaited<ReturnType<typeof latencyRun>>;
      let r: { line: string | null; error: string | null };
      let p: { line: string | null; error: string | null };
      try {
        await sleep(1000);
        run = await latencyRun(opts, broker, 'latency');
      } finally {
        r = await stopNeighbour(reader);
        p = await stopNeighbour(producer);
      }
      const rm = r.line ? /bytes (\d+) ms ([\d.]+) fetches (\d+) wire \d+ passes (\d+)/.exec(r.line) : null;
      const pm = p.line ? /^(\d+) x (\d+) B in ([\d.]+) s: (\d+) MB\/s payload/.exec(p.line) : null;
      const readerText = rm ? `backlog reader${nice} ${fmt(mbps(Number(rm[1]), Number(rm[2])))} MB/s (${fmtBytes(requests * perRequest)} backlog, ${fmtBytes(PARTITION_FETCH_BYTES)} fetches, ${rm[4]} passes)` : 'backlog reader: ?';
      const producerText = pm ? `full-speed producer${nice} ${pm[4]} MB/s (${pm[1]} x ${fmtBytes(Number(pm[2]))} requests, 8 in flight)` : 'full-speed producer: ?';
      const failed = r.error ?? p.error ?? (!rm || !pm ? `neighbour output not understood: ${r.line} / ${p.line}` : null);
      report(label, run, `; meanwhile, from 1 s before to the end: ${readerText}, ${producerText}`, failed);
      // The producer's topic grows by GBs per run: deleted, it leaves the page cache to the next run.
      const d = await WireClient.connect(broker.port);
      await d.request(20, 4, { topicNames: [`${NOISE_PRODUCE}-${niced ? 2 : 1}`], timeoutMs: 30_000 });
      d.close();
    }
  } finally {
    await broker.stop();
    newProfile(profDir, 'latency-session', before);
  }
}

// ---------------------------------------------------------------- scale

async function scaleSection(opts: Options, dataDir: string, tmp: string): Promise<void> {
  const { broker } = await BrokerProc.start(dataDir, 'scale session');
  const n = opts.connections;
  const p = opts.partitions;
  try {
    const conns = await manyConnections(broker.port, broker.pid, n);
    const per = ((conns.rssOpenMiB - conns.rssBeforeMiB) * 1024) / n;
    add({ section: 'scale', name: `${fmtInt(n)} connections: open + ApiVersions each`, value: conns.connectMs, unit: 'ms', notes: `${conns.failed ? `${conns.failed} FAILED; ` : ''}RSS ${fmt(conns.rssBeforeMiB)} -> ${fmt(conns.rssOpenMiB)} MiB = ${fmt(per)} KiB per connection` });
    add({ section: 'scale', name: `${fmtInt(n)} connections: one Metadata each at once, p99`, value: conns.p99, unit: 'ms', notes: `p50 ${fmt(conns.p50)} ms, max ${fmt(conns.max)} ms, all answered in ${fmt(conns.roundMs)} ms` });

    const part = await manyPartitions(broker.port, broker.pid, 'scale', p);
    const perPart = ((part.rssAfterMiB - part.rssBeforeMiB) * 1024) / p;
    add({ section: 'scale', name: `topic with ${fmtInt(p)} partitions: CreateTopics`, value: part.errors ? null : part.createMs, unit: 'ms', notes: `${part.errors ? 'CreateTopics returned an error; ' : ''}RSS ${fmt(part.rssBeforeMiB)} -> ${fmt(part.rssAfterMiB)} MiB = ${fmt(perPart)} KiB per idle partition; ${part.openFds} open fds` });
    add({ section: 'scale', name: `Metadata of the ${fmtInt(p)}-partition topic`, value: part.metadataMs, unit: 'ms', notes: `median of 5; response ${fmtBytes(part.metadataBytes)}` });

    // Produce spread over every partition (librdkafka's random partitioner), while a second
    // client measures the broker's round-trip time for a trivial request.
    const records = Math.max(p * 50, 500_000);
    const file = path.join(tmp, 'records-scale.txt');
    generateRecordFile(file, records, 100, 4242);
    const pingClient = await WireClient.connect(broker.port);
    const pinger = new Pinger(pingClient, 5);
    const args = ['-P', '-b', `127.0.0.1:${broker.port}`, '-t', 'scale', '-z', 'none', ...PRODUCE_FLAGS, '-X', 'acks=1', '-l', file];
    const cpu0 = readCpu(broker.pid);
    const r = await runTimed(KCAT, args, budgetMs(records * 100) + 60_000);
    const cpu1 = readCpu(broker.pid);
    const ping = await pinger.stop();
    pingClient.close();
    fs.rmSync(file, { force: true });
    const ok = !r.timedOut && r.code === 0;
    add({
      section: 'scale',
      name: `produce 100 B records over all ${fmtInt(p)} partitions`,
      value: ok ? mbps(records * 100, r.ms) : null,
      unit: 'MB/s',
      recordsPerSec: ok ? records / (r.ms / 1000) : undefined,
      brokerCpu: pctOf(cpuDelta(cpu0, cpu1), r.ms),
      clientCpu: pctOf(r.cpu, r.ms),
      notes: ok
        ? `${fmtInt(records)} records, kcat random partitioner, ${(r.ms / 1000).toFixed(2)} s; ApiVersions round trip meanwhile p50 ${fmt(ping.p50)} ms, p99 ${fmt(ping.p99)} ms, max ${fmt(ping.max)} ms (${ping.count} pings)`
        : `kcat exit ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${lastLines(r.stderr)}`,
    });
    memRow(`broker with ${fmtInt(p)} partitions after producing to all`, readMem(broker.pid), '');
  } finally {
    await broker.stop();
  }
  // Restart on that data dir: startup with every partition to open.
  const runs = await brokerStartups(1, () => dataDir, () => undefined, 'scale restart');
  const r0 = runs[0];
  add({ section: 'scale', name: `broker restart with ${fmtInt(p)} partitions: spawn -> accepted connection`, value: r0.acceptMs, unit: 'ms', limits: ['nodeStart'], notes: `broker's own startup-ms ${r0.reportedMs === null ? '?' : fmt(r0.reportedMs)}; idle RSS ${r0.rssKb === null ? '?' : fmt(r0.rssKb / 1024)} MiB` });
}

// ---------------------------------------------------------------- main

let tmpRoot: string | null = null;

function cleanupSync(): void {
  killAllChildren();
  if (tmpRoot) {
    try {
      fs.rmSync(tmpRoot, { recursive: true, force: true });
    } catch {
      // best effort
    }
    tmpRoot = null;
  }
}

function memRow(name: string, m: MemInfo | null, notes: string): void {
  if (!m) return;
  add({ section: 'memory', name: `${name}: VmRSS`, value: m.rssKb / 1024, unit: 'MiB', limits: ['nodeRss'], notes });
  add({ section: 'memory', name: `${name}: VmHWM (peak)`, value: m.hwmKb / 1024, unit: 'MiB', limits: ['nodeRss'] });
}

export function toolVersion(): string {
  try {
    const v = execFileSync(KCAT, ['-V'], { encoding: 'utf8' });
    const m = /Version (\S+) .*librdkafka (\S+)/.exec(v.replace(/\n/g, ' '));
    return m ? `kcat ${m[1]} (librdkafka ${m[2]})` : 'kcat ?';
  } catch {
    throw new Error('kcat not found on PATH (apt-get install kcat)');
  }
}

function newProfile(dir: string | null, label: string, before: Set<string>): void {
  if (!dir) return;
  for (const f of fs.readdirSync(dir)) {
    if (!before.has(f) && f.endsWith('.cpuprofile')) {
      const target = path.join(dir, `${label}.cpuprofile`);
      fs.renameSync(path.join(dir, f), target);
      profiles.push({ label, file: target });
    }
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  // Read the earlier run first: a wrong path should not cost a whole bench run.
  let earlier: ComparableRow[] | null = null;
  try {
    earlier = opts.compare ? loadRun(opts.compare) : null;
  } catch (err) {
    throw new OptionError((err as Error).message);
  }
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} not found: run npm run build first`);
  const client = toolVersion();
  const t0 = Date.now();
  const loadStart = os.loadavg()[0];
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-'));
  const profDir = opts.cpuProf ? fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-prof-')) : null;
  const want = (s: Section) => opts.only.has(s);
  const cpus = os.cpus();
  const machine = `${cpus.length} x ${cpus[0]?.model.trim() ?? '?'}, ${(os.totalmem() / GiB).toFixed(0)} GiB RAM, node ${process.version}, ${client}`;
  const sizes = `backlog ${fmtBytes(opts.size)} of 1 KiB records, ${fmtBytes(opts.smallSize)} of 100 B records`;
  progress(`${machine}; ${sizes}; sections ${[...opts.only].join(',')}${opts.quick ? ' (quick)' : ''}; temp ${tmpRoot}`);

  const dataDir = path.join(tmpRoot, 'data');
  const bigRecords = Math.floor(opts.size / 1024);
  const smallRecords = Math.floor(opts.smallSize / 100);
  const needBacklog = want('produce') || want('fetch') || want('startup');

  if (want('limits')) {
    await loopbackTcp(Math.max(opts.size, GiB));
    const file = pageCacheWrite(tmpRoot, opts.size, !needBacklog);
    if (!needBacklog) {
      pageCacheRead([file]);
      fs.rmSync(file, { force: true });
    }
    freshMemory(256 * MiB);
  }

  const produced = new Map<string, { records: number; size: number }>();
  if (needBacklog) {
    const bigFile = path.join(tmpRoot, 'records-1k.txt');
    const smallFile = path.join(tmpRoot, 'records-100.txt');
    const g = Date.now();
    generateRecordFile(bigFile, bigRecords, 1024);
    if (want('produce')) generateRecordFile(smallFile, smallRecords, 100, 777);
    progress(`record files written in ${Date.now() - g} ms`);

    // Session 1: produce into a fresh data dir.
    const before = new Set(profDir ? fs.readdirSync(profDir) : []);
    const { broker } = await BrokerProc.start(dataDir, 'produce session', profDir);
    try {
      await sleep(200);
      if (!want('startup')) memRow('broker idle after start, empty data dir', readMem(broker.pid), '200 ms after the first accepted connection');
      const section = want('produce') ? 'produce' : 'setup';
      const n = opts.produceRuns;
      const repeat = (topic: string) => Array.from({ length: n }, () => topic);
      // The first run of the 1 KiB / none / acks=1 figure writes the backlog; its other runs
      // append to another topic so that the backlog holds exactly --size.
      const specs: ProduceSpec[] = [
        {
          name: `1 KiB records, none, acks=1${want('produce') ? '' : ' (backlog)'}`,
          topics: want('produce') ? ['backlog', ...repeat('p1k-1').slice(1)] : ['backlog'],
          file: bigFile, records: bigRecords, recordSize: 1024, acks: '1', codec: 'none',
        },
      ];
      if (want('produce')) {
        specs.push(
          { name: '1 KiB records, none, acks=all', topics: repeat('p1k-all'), file: bigFile, records: bigRecords, recordSize: 1024, acks: 'all', codec: 'none' },
          { name: '1 KiB records, lz4, acks=1', topics: repeat('p1k-lz4'), file: bigFile, records: bigRecords, recordSize: 1024, acks: '1', codec: 'lz4' },
          { name: '1 KiB records, zstd, acks=1', topics: repeat('p1k-zstd'), file: bigFile, records: bigRecords, recordSize: 1024, acks: '1', codec: 'zstd' },
          { name: '100 B records, none, acks=1', topics: repeat('p100-1'), file: smallFile, records: smallRecords, recordSize: 100, acks: '1', codec: 'none' },
          { name: '100 B records, none, acks=all', topics: repeat('p100-all'), file: smallFile, records: smallRecords, recordSize: 100, acks: 'all', codec: 'none' },
        );
      }
      let runs = 0;
      for (const spec of specs) {
        const done = await produce(broker, dataDir, spec, section);
        runs += spec.topics.length;
        for (const t of done) produced.set(t, { records: spec.records * spec.topics.filter((x) => x === t).length, size: spec.recordSize });
      }
      memRow('broker after the produce runs', readMem(broker.pid), `${runs} kcat produce runs`);
    } finally {
      const ms = await broker.stop();
      progress(`produce session stopped in ${ms} ms (close fsyncs the segments)`);
      newProfile(profDir, 'produce-session', before);
    }
    fs.rmSync(bigFile, { force: true });
    fs.rmSync(smallFile, { force: true });

    if ((want('limits') || want('fetch')) && produced.has('backlog')) await sendfileLimit(logFiles(dataDir, 'backlog'));

    // Session 2: fetch from a restarted broker (data still in the page cache).
    if (want('fetch')) {
      const before2 = new Set(profDir ? fs.readdirSync(profDir) : []);
      const { broker: b2 } = await BrokerProc.start(dataDir, 'fetch session', profDir, { SAMSA_ZERO_COPY: '1' });
      try {
        const fetchTopic = async (name: string, topic: string, count: number) => {
          const p = produced.get(topic);
          if (p) await fetchFigure(b2, dataDir, name, topic, p.records, p.size, count);
          else if (topic === 'backlog') add({ section: 'fetch', name, value: null, unit: 'MB/s', notes: 'the backlog was not produced' });
        };
        await fetchTopic('backlog, 1 KiB records', 'backlog', opts.fetchRuns);
        if (produced.has('backlog')) await rawFetchFigure(b2, dataDir, 'backlog, raw fetch client (log MB/s)', 'backlog', opts.fetchRuns);
        const lz4 = produced.get('p1k-lz4');
        if (lz4 && logBytes(dataDir, 'p1k-lz4') < 0.98 * lz4.records * lz4.size) await fetchTopic('1 KiB records, lz4 batches', 'p1k-lz4', 1);
        await fetchTopic('1 KiB records, zstd batches', 'p1k-zstd', 1);
        await fetchTopic('100 B records', 'p100-1', opts.fetchRuns);
        memRow('broker after the fetch runs', readMem(b2.pid), 'restarted broker, after its fetches only');
      } finally {
        await b2.stop();
        newProfile(profDir, 'fetch-session', before2);
      }
      // Session 3: the same backlog over the copy path (no addon, or TLS): the fallback's figure.
      const backlog = produced.get('backlog');
      if (backlog) {
        const before3 = new Set(profDir ? fs.readdirSync(profDir) : []);
        const { broker: b3 } = await BrokerProc.start(dataDir, 'fetch session, copy path', profDir, { SAMSA_ZERO_COPY: '0' });
        try {
          await fetchFigure(b3, dataDir, 'backlog, 1 KiB records, copy path (SAMSA_ZERO_COPY=0)', 'backlog', backlog.records, backlog.size, opts.fetchRuns);
          await rawFetchFigure(b3, dataDir, 'backlog, raw fetch client, copy path (log MB/s)', 'backlog', opts.fetchRuns);
          const small = produced.get('p100-1');
          if (small) await fetchFigure(b3, dataDir, '100 B records, copy path (SAMSA_ZERO_COPY=0)', 'p100-1', small.records, small.size, 1);
          memRow('broker after the copy-path fetch runs', readMem(b3.pid), 'restarted broker, SAMSA_ZERO_COPY=0');
        } finally {
          await b3.stop();
          newProfile(profDir, 'fetch-session-copy-path', before3);
        }
      }
    }
    if (want('limits') && produced.has('backlog')) pageCacheRead(logFiles(dataDir, 'backlog'));
  }

  if (want('startup')) {
    const runs = opts.startupRuns;
    await bareNodeStartup(runs);
    const empty = await brokerStartups(
      runs,
      (i) => path.join(tmpRoot as string, `empty-${i}`),
      (_i, dir) => fs.rmSync(dir, { recursive: true, force: true }),
      'startup empty',
    );
    addStartupRow('broker, empty data dir: spawn -> accepted connection', empty, '');
    const rss = empty.map((r) => r.rssKb).filter((x): x is number => x !== null);
    if (rss.length) add({ section: 'memory', name: 'broker idle after start, empty data dir (startup runs)', value: median(rss) / 1024, unit: 'MiB', limits: ['nodeRss'], notes: `median VmRSS of ${rss.length}, 200 ms after start` });
    if (fs.existsSync(dataDir)) {
      const topics = fs.readdirSync(dataDir).filter((d) => fs.statSync(path.join(dataDir, d)).isDirectory());
      const total = topics.reduce((s, t) => s + fs.readdirSync(path.join(dataDir, t)).reduce((a, f) => a + fs.statSync(path.join(dataDir, t, f)).size, 0), 0);
      const desc = `; ${topics.length} partition(s), ${fmtBytes(total)}`;
      const backlog = await brokerStartups(runs, () => dataDir, () => undefined, 'startup backlog');
      addStartupRow('broker, backlog data dir (clean shutdown)', backlog, desc);
      const rssB = backlog.map((r) => r.rssKb).filter((x): x is number => x !== null);
      if (rssB.length) add({ section: 'memory', name: 'broker idle after start, backlog data dir', value: median(rssB) / 1024, unit: 'MiB', limits: ['nodeRss'], notes: `median VmRSS of ${rssB.length}, 200 ms after start` });
      // Unclean: without the .clean-shutdown marker every active segment is CRC-checked.
      const activeBytes = topics.reduce((s, t) => {
        const logs = fs.readdirSync(path.join(dataDir, t)).filter((f) => f.endsWith('.log')).sort();
        return s + (logs.length ? fs.statSync(path.join(dataDir, t, logs[logs.length - 1])).size : 0);
      }, 0);
      const unclean = await brokerStartups(
        Math.min(3, runs),
        () => {
          for (const t of topics) fs.rmSync(path.join(dataDir, t, '.clean-shutdown'), { force: true });
          return dataDir;
        },
        () => undefined,
        'startup unclean',
      );
      addStartupRow('broker, backlog data dir, no clean-shutdown marker', unclean, `${desc}, ${fmtBytes(activeBytes)} in active segments to check`);
    }
  }

  if (want('latency')) await latencySection(opts, path.join(tmpRoot, 'latency-data'), profDir);
  if (want('scale')) await scaleSection(opts, path.join(tmpRoot, 'scale-data'), tmpRoot);

  // ------------------------------------------------------------ report
  const elapsed = ((Date.now() - t0) / 1000).toFixed(0);
  const out: string[] = [];
  out.push('');
  out.push(`Samsa bench: ${machine}`);
  // Other work on the machine skews every figure; the load average shows whether there was any.
  const load = `load average (1 min) ${loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`;
  out.push(`${sizes}; ${opts.quick ? 'quick, ' : ''}sections ${[...opts.only].join(',')}; ${elapsed} s; ${load}`);
  out.push('MB = 10^6 bytes of record payload; CPU = CPU time / wall time (100% = one core); vs limit = figure / slowest limit on its path (time, memory: x the bare node process)');
  out.push('');
  out.push(renderTable());
  if (brokerLogs.length) {
    out.push('');
    out.push('Broker notes:');
    for (const l of brokerLogs) out.push(`  ${l.replace(/\n/g, '\n    ')}`);
  }
  for (const p of profiles) {
    out.push('');
    out.push(`${p.label}: ${summarizeProfile(p.file)}`);
  }
  if (earlier) {
    out.push('');
    out.push(`Compared with ${opts.compare} (change: now vs before; under 10% reads as noise on a loaded machine):`);
    out.push(compareTable(earlier, rows.map((r) => ({ ...r, vsLimit: limitRatio(r)?.ratio ?? null }))));
  }
  process.stdout.write(out.join('\n') + '\n');
  if (opts.json) {
    const saved = rows.map((r) => ({ ...r, vsLimit: limitRatio(r)?.ratio ?? null }));
    fs.writeFileSync(opts.json, JSON.stringify({ machine, options: { ...opts, only: [...opts.only] }, limits, rows: saved, brokerLogs, profiles }, null, 2));
  }
}

// Only when run as the bench itself: bench/security.ts imports the helpers above.
if (require.main === module) {
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      progress(`${sig}: stopping`);
      process.exit(130);
    });
  }

  main().then(
    () => {
      cleanupSync();
      process.exit(rows.some((r) => r.value === null) ? 1 : 0);
    },
    (err) => {
      process.stderr.write(err instanceof OptionError ? `bench: ${err.message}\n` : `bench failed: ${(err as Error).stack ?? err}\n`);
      cleanupSync();
      process.exit(1);
    },
  );
}
