/**
 * What TLS and SASL cost the broker: fetch throughput of one cached backlog over PLAINTEXT
 * (zero-copy and copy path), SSL and SASL_SSL, and logins per second per listener type.
 * See bench/README.md ("Security bench").
 *
 *   node dist/bench/security.js [--quick] [--size=256M] [--runs=N] [--login-seconds=N] [--concurrency=N]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Cpu, cpuDelta, killAllChildren, readCpu, runTimed } from './proc';
import { generateRecordFile } from './records';
import {
  BrokerProc,
  brokerLogs,
  budgetMs,
  cpuText,
  endOffset,
  fetchOnce,
  fmt,
  fmtBytes,
  fmtInt,
  KCAT,
  lastLines,
  logBytes,
  markdownTable,
  median,
  medianRun,
  OptionError,
  parseSize,
  pctOf,
  PRODUCE_FLAGS,
  rawFetchOnce,
  Timed,
  toolVersion,
} from './run';
import { plainLogin, scramSha512Login } from './scram-client';
import { WireClient } from './wire';

const MiB = 1024 * 1024;
const USER = 'alice';
const PASSWORD = 'alice-secret';

const HELP = `usage: node dist/bench/security.js [options]

  --quick              64M backlog, 1 run per fetch figure, 3 s per login figure
  --size=SIZE          backlog of 1 KiB records (default 256M; K/M/G are powers of 2)
  --runs=N             runs per fetch figure, median shown (default 3; quick 1)
  --login-seconds=N    seconds per login figure (default 5; quick 3)
  --concurrency=N      logins in flight at a time (default 8)
`;

interface Options {
  size: number;
  runs: number;
  loginSeconds: number;
  concurrency: number;
  quick: boolean;
}

function parseOptions(argv: string[]): Options {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      process.stdout.write(HELP);
      process.exit(0);
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new OptionError(`unknown argument ${a} (see --help)`);
    if (m[1] === 'quick') raw.set('quick', '1');
    else raw.set(m[1], m[2] ?? argv[++i] ?? '');
  }
  for (const k of raw.keys()) if (!['quick', 'size', 'runs', 'login-seconds', 'concurrency'].includes(k)) throw new OptionError(`unknown option --${k} (see --help)`);
  const quick = raw.has('quick');
  const int = (name: string, dflt: number, max: number) => {
    const v = raw.has(name) ? Number(raw.get(name)) : dflt;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new OptionError(`--${name} must be an integer in 1..${max}`);
    return v;
  };
  const size = raw.has('size') ? parseSize(raw.get('size') as string) : quick ? 64 * MiB : 256 * MiB;
  if (size < MiB || size > 16 * 1024 * MiB) throw new OptionError('--size must be between 1M and 16G');
  return { quick, size, runs: int('runs', quick ? 1 : 3, 20), loginSeconds: int('login-seconds', quick ? 3 : 5, 600), concurrency: int('concurrency', 8, 1000) };
}

// ---------------------------------------------------------------- rows

interface Row {
  section: 'fetch' | 'logins';
  name: string;
  value: number | null;
  unit: string;
  perSec?: number;
  brokerCpu?: Cpu;
  clientCpu?: Cpu;
  /** The row this one is compared with (same client over PLAINTEXT, zero-copy). */
  baseline?: string;
  notes: string;
}

const rows: Row[] = [];

function progress(msg: string): void {
  process.stderr.write(`[security] ${msg}\n`);
}

function add(row: Row): void {
  rows.push(row);
  progress(`${row.name}: ${row.value === null ? 'FAILED' : `${fmt(row.value)} ${row.unit}`}  (${row.notes})`);
}

function render(): string {
  const header = ['figure', 'value', 'unit', 'records/s', 'broker CPU usr+sys', 'client CPU usr+sys', 'vs PLAINTEXT', 'notes'];
  const body: string[][] = [];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      body.push([`**${section}**`, '', '', '', '', '', '', '']);
    }
    const base = r.baseline ? rows.find((x) => x.name === r.baseline) : undefined;
    const ratio = base && base.value && r.value !== null ? `${(r.value / base.value).toFixed(2)}x` : '';
    body.push([
      r.name,
      r.value === null ? 'FAILED' : fmt(r.value),
      r.unit,
      r.perSec !== undefined && r.section === 'fetch' ? fmtInt(r.perSec) : '',
      cpuText(r.brokerCpu),
      cpuText(r.clientCpu),
      ratio,
      r.notes,
    ]);
  }
  return markdownTable(header, body, new Set([1, 3, 4, 5, 6]));
}

// ---------------------------------------------------------------- broker

/** Every listener type on its own port, a development CA, SCRAM-SHA-512 and PLAIN users. */
function securityArgs(port: number): string[] {
  return [
    '--tls-dev',
    '--override', `listeners=PLAINTEXT://127.0.0.1:${port},SSL://127.0.0.1:0,SASL_SSL://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0`,
    '--override', 'sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN',
    '--override', `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${USER}="${PASSWORD}";`,
    '--add-scram', `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`,
  ];
}

function caFile(b: BrokerProc): string {
  const m = /tls-dev-ca=(\S+)/.exec(b.readyLine);
  if (!m) throw new Error(`no tls-dev-ca in the ready line: ${b.readyLine}`);
  return m[1];
}

// ---------------------------------------------------------------- fetch

interface FetchPath {
  name: string;
  listener: 'PLAINTEXT' | 'SSL' | 'SASL_SSL';
  /** kcat settings for the listener. */
  kcat: (ca: string) => string[];
}

const PATHS: Record<string, FetchPath> = {
  plaintext: { name: 'PLAINTEXT', listener: 'PLAINTEXT', kcat: () => [] },
  ssl: { name: 'SSL', listener: 'SSL', kcat: (ca) => ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${ca}`] },
  saslSsl: {
    name: 'SASL_SSL, SCRAM-SHA-512',
    listener: 'SASL_SSL',
    kcat: (ca) => [
      '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${ca}`,
      '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', `sasl.username=${USER}`, '-X', `sasl.password=${PASSWORD}`,
    ],
  },
};

/** Runs `once` `runs` times; adds the median run as a row (MB/s of log bytes). */
async function fetchRow(
  name: string,
  runs: number,
  wire: number,
  records: number,
  baseline: string | undefined,
  notes: string,
  once: () => Promise<Timed & { wallMs?: number }>,
): Promise<void> {
  const done: (Timed & { wallMs?: number })[] = [];
  for (let i = 0; i < runs; i++) {
    const t = await once();
    done.push(t);
    if (t.error) break;
  }
  const failed = done.find((t) => t.error);
  if (failed) {
    add({ section: 'fetch', name, value: null, unit: 'MB/s', notes: failed.error as string });
    return;
  }
  const med = medianRun(done) as Timed & { wallMs?: number };
  const ms = done.map((t) => t.ms);
  const spread = ms.length > 1 ? `median of ${ms.length}: ${(median(ms) / 1000).toFixed(2)} s (${(Math.min(...ms) / 1000).toFixed(2)}-${(Math.max(...ms) / 1000).toFixed(2)})` : `${(ms[0] / 1000).toFixed(2)} s`;
  // CPU was measured over the client process's whole life, so divide by that.
  const cpuMs = med.wallMs ?? med.ms;
  add({
    section: 'fetch',
    name,
    value: wire / 1e6 / (med.ms / 1000),
    unit: 'MB/s',
    perSec: records / (med.ms / 1000),
    brokerCpu: pctOf(med.broker, cpuMs),
    clientCpu: pctOf(med.kcat, cpuMs),
    baseline,
    notes: `${spread}; ${notes}`,
  });
}

async function kcatFetchRow(b: BrokerProc, label: string, p: FetchPath, opts: Options, records: number, wire: number, baseline?: string): Promise<void> {
  const extra = p.kcat(caFile(b));
  const shown = p.kcat('CA').filter((x) => x !== '-X' && !x.startsWith('sasl.password'));
  await fetchRow(label, opts.runs, wire, records, baseline, `kcat -C -e -f '' (librdkafka parses every record)${shown.length ? ` ${shown.join(' ')}` : ''}`, () =>
    fetchOnce(b, 'backlog', records, records * 1024, b.listenerPort(p.listener), extra),
  );
}

async function rawFetchRow(b: BrokerProc, label: string, tls: boolean, opts: Options, records: number, wire: number, baseline?: string): Promise<void> {
  const port = b.listenerPort(tls ? 'SSL' : 'PLAINTEXT');
  await fetchRow(label, opts.runs, wire, records, baseline, `bench/fetch-client.js${tls ? ' --tls-ca' : ''}: sequential 16 MiB fetches, batch heads only; time from its connect${tls ? ' (after the handshake)' : ''}`, async () => {
    const t0 = Date.now();
    const t = await rawFetchOnce(b, 'backlog', wire, port, tls ? caFile(b) : null);
    return { ...t, wallMs: Date.now() - t0 };
  });
}

// ---------------------------------------------------------------- logins

interface LoginSpec {
  name: string;
  listener: string;
  tls: boolean;
  /** Runs on a new connection; the connection is closed afterwards. */
  login: (c: WireClient) => Promise<void>;
  baseline?: string;
  notes: string;
}

async function apiVersions(c: WireClient): Promise<void> {
  const r = await c.request<{ errorCode: number }>(18, 3, { clientSoftwareName: 'samsa-bench', clientSoftwareVersion: '0' });
  if (r.errorCode !== 0) throw new Error(`ApiVersions: error ${r.errorCode}`);
}

/** `concurrency` loops, each opening a connection, logging in, closing, until the time is up. */
async function loginRow(b: BrokerProc, spec: LoginSpec, seconds: number, concurrency: number, ca: Buffer): Promise<void> {
  const port = b.listenerPort(spec.listener);
  let ok = 0;
  let failed = 0;
  let lastError = '';
  let tlsInfo = '';
  const latencies: number[] = [];
  const cpu0 = readCpu(b.pid);
  const own0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + seconds * 1000;
  const worker = async () => {
    while (Date.now() < deadline && failed < 50) {
      const s = process.hrtime.bigint();
      let c: WireClient | null = null;
      try {
        c = await WireClient.connect(port, 10_000, spec.tls ? ca : null);
        if (spec.tls && !tlsInfo) {
          const sock = c.socket as import('tls').TLSSocket;
          tlsInfo = `${sock.getProtocol()} ${sock.getCipher().name}`;
        }
        await spec.login(c);
        ok++;
        latencies.push(Number(process.hrtime.bigint() - s) / 1e6);
      } catch (err) {
        failed++;
        lastError = (err as Error).message;
      } finally {
        c?.close();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const own = process.cpuUsage(own0);
  const cpu1 = readCpu(b.pid);
  const fail = failed ? `; ${failed} FAILED (${lastError})` : '';
  // Broker CPU per login does not depend on how fast the client (same machine) could go.
  const brokerCpu = cpuDelta(cpu0, cpu1);
  const perLogin = brokerCpu && ok ? `broker ${fmt((1000 * (brokerCpu.user + brokerCpu.sys)) / ok)} ms CPU per login; ` : '';
  add({
    section: 'logins',
    name: spec.name,
    value: failed >= 50 && ok === 0 ? null : ok / (ms / 1000),
    unit: 'logins/s',
    brokerCpu: pctOf(brokerCpu, ms),
    clientCpu: pctOf({ user: own.user / 1e6, sys: own.system / 1e6 }, ms),
    baseline: spec.baseline,
    notes: `${perLogin}${fmtInt(ok)} in ${(ms / 1000).toFixed(1)} s, ${concurrency} at a time, each p50 ${fmt(median(latencies.length ? latencies : [0]))} ms; ${spec.notes}${tlsInfo ? `; ${tlsInfo}` : ''}${fail}`,
  });
}

function loginSpecs(): LoginSpec[] {
  const scram = 'SaslHandshake + 2 SaslAuthenticate (SCRAM-SHA-512, 4096 iterations)';
  return [
    { name: 'PLAINTEXT: connect + ApiVersions', listener: 'PLAINTEXT', tls: false, login: apiVersions, notes: 'no security: the connection cost alone' },
    { name: 'SSL: TLS handshake + ApiVersions', listener: 'SSL', tls: true, login: apiVersions, baseline: 'PLAINTEXT: connect + ApiVersions', notes: 'full handshake each time (no session resumption)' },
    { name: 'SASL_SSL: TLS + SCRAM-SHA-512', listener: 'SASL_SSL', tls: true, login: (c) => scramSha512Login(c, USER, PASSWORD), baseline: 'PLAINTEXT: connect + ApiVersions', notes: `${scram}; client runs PBKDF2 per login` },
    { name: 'SASL_PLAINTEXT: SCRAM-SHA-512', listener: 'SASL_PLAINTEXT', tls: false, login: (c) => scramSha512Login(c, USER, PASSWORD), baseline: 'PLAINTEXT: connect + ApiVersions', notes: `${scram}; client runs PBKDF2 per login` },
    {
      name: 'SASL_PLAINTEXT: SCRAM-SHA-512, client caches SaltedPassword',
      listener: 'SASL_PLAINTEXT',
      tls: false,
      login: (c) => scramSha512Login(c, USER, PASSWORD, true),
      baseline: 'PLAINTEXT: connect + ApiVersions',
      notes: 'the same exchange without the client PBKDF2 (RFC 5802 allows caching): the broker side',
    },
    { name: 'SASL_PLAINTEXT: PLAIN', listener: 'SASL_PLAINTEXT', tls: false, login: (c) => plainLogin(c, USER, PASSWORD), baseline: 'PLAINTEXT: connect + ApiVersions', notes: 'SaslHandshake + 1 SaslAuthenticate' },
  ];
}

// ---------------------------------------------------------------- main

let tmpRoot: string | null = null;

function cleanupSync(): void {
  killAllChildren();
  if (tmpRoot) {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
    tmpRoot = null;
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const client = toolVersion();
  const t0 = Date.now();
  const loadStart = os.loadavg()[0];
  const cpus = os.cpus();
  const machine = `${cpus.length} x ${cpus[0]?.model.trim() ?? '?'}, node ${process.version}, ${client}`;
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-security-'));
  const dataDir = path.join(tmpRoot, 'data');
  const records = Math.floor(opts.size / 1024);
  progress(`${machine}; backlog ${fmtBytes(opts.size)} of 1 KiB records; temp ${tmpRoot}`);

  const file = path.join(tmpRoot, 'records-1k.txt');
  generateRecordFile(file, records, 1024);

  // Session 1: zero-copy on (PLAINTEXT uses sendfile; TLS listeners always copy).
  const { broker: b1 } = await BrokerProc.start(dataDir, 'security session', null, { SAMSA_ZERO_COPY: '1' }, securityArgs);
  let wire = 0;
  try {
    const plain = b1.listenerPort('PLAINTEXT');
    const args = ['-P', '-b', `127.0.0.1:${plain}`, '-t', 'backlog', '-p', '0', '-z', 'none', ...PRODUCE_FLAGS, '-X', 'acks=1', '-l', file];
    const r = await runTimed(KCAT, args, budgetMs(opts.size));
    const end = await endOffset(plain, 'backlog');
    if (r.code !== 0 || end !== records) throw new Error(`producing the backlog failed (kcat exit ${r.code}, end offset ${end}, expected ${records}): ${lastLines(r.stderr)}`);
    fs.rmSync(file, { force: true });
    wire = logBytes(dataDir, 'backlog');
    progress(`backlog produced over PLAINTEXT in ${(r.ms / 1000).toFixed(1)} s: ${fmtInt(records)} records, log ${fmtBytes(wire)}`);

    const k0 = 'kcat, PLAINTEXT (zero-copy sendfile)';
    await kcatFetchRow(b1, k0, PATHS.plaintext, opts, records, wire);
    await kcatFetchRow(b1, 'kcat, SSL', PATHS.ssl, opts, records, wire, k0);
    await kcatFetchRow(b1, 'kcat, SASL_SSL SCRAM-SHA-512', PATHS.saslSsl, opts, records, wire, k0);
    const f0 = 'fetch-client, PLAINTEXT (zero-copy sendfile)';
    await rawFetchRow(b1, f0, false, opts, records, wire);
    await rawFetchRow(b1, 'fetch-client, SSL', true, opts, records, wire, f0);

    const ca = fs.readFileSync(caFile(b1));
    for (const spec of loginSpecs()) await loginRow(b1, spec, opts.loginSeconds, opts.concurrency, ca);
  } finally {
    await b1.stop();
  }

  // Session 2: the same data with the broker forced onto the copy path, as TLS always is.
  const { broker: b2 } = await BrokerProc.start(dataDir, 'security session, copy path', null, { SAMSA_ZERO_COPY: '0' }, securityArgs);
  try {
    await kcatFetchRow(b2, 'kcat, PLAINTEXT, copy path (SAMSA_ZERO_COPY=0)', PATHS.plaintext, opts, records, wire, 'kcat, PLAINTEXT (zero-copy sendfile)');
    await rawFetchRow(b2, 'fetch-client, PLAINTEXT, copy path (SAMSA_ZERO_COPY=0)', false, opts, records, wire, 'fetch-client, PLAINTEXT (zero-copy sendfile)');
  } finally {
    await b2.stop();
  }
  // Fetch rows together in the table: kcat rows first, then fetch-client rows.
  const order = (r: Row) => (r.section === 'logins' ? 2 : r.name.startsWith('kcat') ? 0 : 1);
  rows.sort((a, b) => order(a) - order(b));

  const out: string[] = [''];
  out.push(`Samsa security bench: ${machine}`);
  out.push(
    `backlog ${fmtBytes(opts.size)} = ${fmtInt(records)} x 1 KiB records (log ${fmtBytes(wire)}), ${opts.runs} run(s) per fetch figure, ${opts.loginSeconds} s per login figure; ${((Date.now() - t0) / 1000).toFixed(0)} s; load average (1 min) ${loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`,
  );
  out.push('fetch MB/s = 10^6 log bytes (what crosses the socket) per second; CPU = CPU time / wall time (100% = one core).');
  out.push(`Client and broker share this machine's ${cpus.length} cores: the clients' CPU (kcat, fetch-client, and the login loops, which run in this process) is taken from the broker's.`);
  out.push('SCRAM: the client derives SaltedPassword with PBKDF2 (4096 x HMAC-SHA-512) on every login; the broker keeps StoredKey/ServerKey and computes a few HMACs, so the client is the bound unless it caches SaltedPassword.');
  out.push('vs PLAINTEXT: the figure / the same client over PLAINTEXT with zero-copy (fetch) or / plain connect + ApiVersions (logins).');
  out.push('');
  out.push(render());
  if (brokerLogs.length) {
    out.push('');
    out.push('Broker notes:');
    for (const l of brokerLogs) out.push(`  ${l.replace(/\n/g, '\n    ')}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));

main().then(
  () => {
    cleanupSync();
    process.exit(rows.some((r) => r.value === null) ? 1 : 0);
  },
  (err) => {
    process.stderr.write(err instanceof OptionError ? `security bench: ${err.message}\n` : `security bench failed: ${(err as Error).stack ?? err}\n`);
    cleanupSync();
    process.exit(1);
  },
);
