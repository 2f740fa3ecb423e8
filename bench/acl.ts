/**
 * What the authorizer costs: produce and fetch throughput with ACLs off, on with 100 ACLs and
 * on with 1000 ACLs, the same kcat client (SASL_PLAINTEXT, PLAIN, user alice) every time.
 * See bench/README.md ("ACL bench").
 *
 *   node dist/bench/acl.js [--quick] [--size=256M] [--runs=N] [--small-records=N]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AclOperation, PatternType, PermissionType, ResourceType } from '../src/security/acl/acl-types';
import { Cpu, killAllChildren } from './proc';
import { generateRecordFile } from './records';
import {
  BrokerProc,
  brokerLogs,
  cpuText,
  fetchOnce,
  fmt,
  fmtBytes,
  fmtInt,
  logBytes,
  markdownTable,
  median,
  medianRun,
  OptionError,
  parseSize,
  pctOf,
  produceOnce,
  ProduceSpec,
  Timed,
  toolVersion,
} from './run';
import { plainLogin } from './scram-client';
import { WireClient } from './wire';

const MiB = 1024 * 1024;
const TOPIC = 'acl-bench';
const ALICE = { user: 'alice', password: 'alice-secret' };
const ADMIN = { user: 'admin', password: 'admin-secret' };
const SASL_KCAT = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${ALICE.user}`, '-X', `sasl.password=${ALICE.password}`];
// One record per Produce request: librdkafka puts one partition's batch in each request.
const SMALL_FLAGS = ['-X', 'linger.ms=0', '-X', 'batch.num.messages=1'];
const SMALL_SIZE = 100;

const HELP = `usage: node dist/bench/acl.js [options]

  --quick              64M per produce run, 1 run per figure, 20000 small records
  --size=SIZE          payload of each 1 KiB-record produce run (default 256M; K/M/G are powers of 2)
  --runs=N             runs per figure, median shown (default 3; quick 1)
  --small-records=N    records of each one-record-per-request produce run (default 100000; quick 20000)
`;

interface Options {
  size: number;
  runs: number;
  smallRecords: number;
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
  for (const k of raw.keys()) if (!['quick', 'size', 'runs', 'small-records'].includes(k)) throw new OptionError(`unknown option --${k} (see --help)`);
  const quick = raw.has('quick');
  const int = (name: string, dflt: number, max: number) => {
    const v = raw.has(name) ? Number(raw.get(name)) : dflt;
    if (!Number.isInteger(v) || v < 1 || v > max) throw new OptionError(`--${name} must be an integer in 1..${max}`);
    return v;
  };
  const size = raw.has('size') ? parseSize(raw.get('size') as string) : quick ? 64 * MiB : 256 * MiB;
  if (size < MiB || size > 16 * 1024 * MiB) throw new OptionError('--size must be between 1M and 16G');
  return { quick, size, runs: int('runs', quick ? 1 : 3, 20), smallRecords: int('small-records', quick ? 20_000 : 100_000, 10_000_000) };
}

// ---------------------------------------------------------------- configurations

interface Config {
  name: string;
  /** Total ACLs on the broker, alice's included; null: authorizer off. */
  acls: number | null;
  broker?: BrokerProc;
  dataDir?: string;
}

const CONFIGS: Config[] = [
  { name: 'off', acls: null },
  { name: 'on, 100 ACLs', acls: 100 },
  { name: 'on, 1000 ACLs', acls: 1000 },
];

function brokerArgs(c: Config): (port: number) => string[] {
  return (port) => [
    '--override', `listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:0`,
    '--override', 'sasl.enabled.mechanisms=PLAIN',
    '--override', `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${ADMIN.user}="${ADMIN.password}" user_${ALICE.user}="${ALICE.password}";`,
    ...(c.acls === null ? [] : ['--override', 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--override', `super.users=User:${ADMIN.user}`]),
  ];
}

interface Binding {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** What alice needs for the bench: kcat -C without a group, so no group ACL. */
function aliceAcls(): Binding[] {
  const b = (operation: number): Binding => ({
    resourceType: ResourceType.TOPIC, resourceName: TOPIC, resourcePatternType: PatternType.LITERAL,
    principal: `User:${ALICE.user}`, host: '*', operation, permissionType: PermissionType.ALLOW,
  });
  return [b(AclOperation.WRITE), b(AclOperation.READ)];
}

/**
 * `n` ACLs that do not apply to the bench's requests, a mix a shared cluster might carry:
 * literal and prefixed topic ACLs of many service principals, group ACLs, some DENYs and
 * host-bound entries, and a few of alice's own on other topics (so her principal's index is
 * not trivially small). No prefix is a prefix of the bench topic.
 */
function noiseAcls(n: number): Binding[] {
  const out: Binding[] = [];
  const { TOPIC: T, GROUP: G } = ResourceType;
  const { LITERAL: L, PREFIXED: P } = PatternType;
  const { READ, WRITE, DESCRIBE, ALL } = AclOperation;
  const { ALLOW, DENY } = PermissionType;
  const acl = (resourceType: number, resourceName: string, resourcePatternType: number, principal: string, operation: number, permissionType: number = ALLOW, host = '*'): Binding =>
    ({ resourceType, resourceName, resourcePatternType, principal, host, operation, permissionType });
  for (let i = 0; out.length < n; i++) {
    const svc = `User:svc-${i % 40}`;
    const kinds = [
      () => acl(T, `orders-${i}`, L, svc, READ),
      () => acl(T, `orders-${i}`, L, svc, WRITE),
      () => acl(T, `team-${i}.`, P, `User:team-${i % 97}`, ALL),
      () => acl(G, `consumer-${i}`, L, svc, READ),
      () => acl(G, `cg-${i}-`, P, svc, READ),
      () => acl(T, `payments-${i}`, L, 'User:intern', READ, DENY),
      () => acl(T, `metrics-${i}`, L, 'User:*', DESCRIBE, ALLOW, `10.0.${i % 256}.${(i * 7) % 256}`),
      () => acl(T, `logs-${i}-`, P, svc, WRITE, ALLOW, `10.1.${i % 256}.1`),
      () => acl(T, `alice-private-${i}`, L, `User:${ALICE.user}`, READ),
    ];
    out.push(kinds[i % kinds.length]());
  }
  return out;
}

async function adminClient(b: BrokerProc): Promise<WireClient> {
  const c = await WireClient.connect(b.listenerPort('SASL_PLAINTEXT'));
  await plainLogin(c, ADMIN.user, ADMIN.password);
  return c;
}

/** Creates the topic (and, with the authorizer on, the ACLs) as the super user, over the wire. */
async function setUp(c: Config): Promise<void> {
  const b = c.broker as BrokerProc;
  const admin = await adminClient(b);
  try {
    const t = await admin.request<{ topics: { name: string; errorCode: number; errorMessage: string | null }[] }>(19, 4, {
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const te = t.topics.find((x) => x.errorCode !== 0);
    if (te) throw new Error(`${c.name}: CreateTopics ${te.name}: error ${te.errorCode} ${te.errorMessage ?? ''}`);
    if (c.acls === null) return;
    const creations = [...aliceAcls()];
    creations.push(...noiseAcls(c.acls - creations.length));
    const r = await admin.request<{ results: { errorCode: number; errorMessage: string | null }[] }>(30, 1, { creations });
    const bad = r.results.find((x) => x.errorCode !== 0);
    if (bad) throw new Error(`${c.name}: CreateAcls: error ${bad.errorCode} ${bad.errorMessage ?? ''}`);
    // Read them back: the figure is only meaningful if the broker holds exactly that many.
    const d = await admin.request<{ errorCode: number; resources: { acls: unknown[] }[] }>(29, 1, {
      resourceTypeFilter: ResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY,
      principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: PermissionType.ANY,
    });
    const held = d.resources.reduce((s, x) => s + x.acls.length, 0);
    if (d.errorCode !== 0 || held !== c.acls) throw new Error(`${c.name}: DescribeAcls: error ${d.errorCode}, ${held} ACLs, expected ${c.acls}`);
  } finally {
    admin.close();
  }
  // The authorizer must actually judge alice: she may not list ACLs (no cluster DESCRIBE).
  const alice = await WireClient.connect(b.listenerPort('SASL_PLAINTEXT'));
  try {
    await plainLogin(alice, ALICE.user, ALICE.password);
    const d = await alice.request<{ errorCode: number }>(29, 1, {
      resourceTypeFilter: ResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY,
      principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: PermissionType.ANY,
    });
    if (d.errorCode !== 31) throw new Error(`${c.name}: DescribeAcls as alice: error ${d.errorCode}, expected 31 (CLUSTER_AUTHORIZATION_FAILED)`);
  } finally {
    alice.close();
  }
}

// ---------------------------------------------------------------- rows

interface Row {
  figure: string;
  config: string;
  value: number | null;
  unit: string;
  brokerCpu?: Cpu;
  clientCpu?: Cpu;
  notes: string;
}

const rows: Row[] = [];

function progress(msg: string): void {
  process.stderr.write(`[acl] ${msg}\n`);
}

function spreadText(runs: Timed[]): string {
  const ms = runs.map((t) => t.ms);
  if (ms.length === 1) return `${(ms[0] / 1000).toFixed(2)} s`;
  return `median of ${ms.length}: ${(median(ms) / 1000).toFixed(2)} s (${(Math.min(...ms) / 1000).toFixed(2)}-${(Math.max(...ms) / 1000).toFixed(2)})`;
}

/**
 * A row from a configuration's runs of one figure: `amount` (MB or requests) per second of
 * the median run; `per` names one unit of work for the broker CPU per unit in the notes.
 */
function addRow(figure: string, c: Config, runs: Timed[], amount: number, unit: string, work: number, per: string, notes: string): void {
  const failed = runs.find((t) => t.error);
  let row: Row;
  if (failed || runs.length === 0) {
    row = { figure, config: c.name, value: null, unit, notes: failed?.error ?? 'no run' };
  } else {
    const med = medianRun(runs);
    const cpu = med.broker ? `broker ${fmt((1e6 * (med.broker.user + med.broker.sys)) / work)} µs CPU per ${per}; ` : '';
    row = {
      figure,
      config: c.name,
      value: amount / (med.ms / 1000),
      unit,
      brokerCpu: pctOf(med.broker, med.ms),
      clientCpu: pctOf(med.kcat, med.ms),
      notes: `${cpu}${spreadText(runs)}; ${notes}`,
    };
  }
  rows.push(row);
  progress(`${figure}, ${c.name}: ${row.value === null ? 'FAILED' : `${fmt(row.value)} ${unit}`}  (${row.notes})`);
}

function render(): string {
  const header = ['figure', 'authorizer', 'value', 'unit', 'broker CPU usr+sys', 'kcat CPU usr+sys', 'vs off', 'notes'];
  const body: string[][] = [];
  for (const r of rows) {
    const base = rows.find((x) => x.figure === r.figure && x.config === CONFIGS[0].name);
    const ratio = base && base !== r && base.value && r.value !== null ? `${(r.value / base.value).toFixed(2)}x` : '';
    body.push([r.figure, r.config, r.value === null ? 'FAILED' : fmt(r.value), r.unit, cpuText(r.brokerCpu), cpuText(r.clientCpu), ratio, r.notes]);
  }
  return markdownTable(header, body, new Set([2, 4, 5, 6]));
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

/** Round r visits the configurations rotated by r, so drift on a shared machine hits each alike. */
function rotated(r: number): Config[] {
  return CONFIGS.map((_, i) => CONFIGS[(i + r) % CONFIGS.length]);
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const client = toolVersion();
  const t0 = Date.now();
  const loadStart = os.loadavg()[0];
  const cpus = os.cpus();
  const machine = `${cpus.length} x ${cpus[0]?.model.trim() ?? '?'}, node ${process.version}, ${client}`;
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-acl-'));
  const records = Math.floor(opts.size / 1024);
  progress(`${machine}; ${fmtBytes(opts.size)} of 1 KiB records per produce run, ${opts.runs} run(s) per figure; temp ${tmpRoot}`);

  const bigFile = path.join(tmpRoot, 'records-1k.txt');
  generateRecordFile(bigFile, records, 1024);
  const smallFile = path.join(tmpRoot, `records-${SMALL_SIZE}.txt`);
  generateRecordFile(smallFile, opts.smallRecords, SMALL_SIZE);

  // All three brokers run side by side (idle ones cost nothing) so that runs can interleave.
  for (const c of CONFIGS) {
    c.dataDir = path.join(tmpRoot, `data-${c.acls ?? 'off'}`);
    c.broker = (await BrokerProc.start(c.dataDir, `broker (authorizer ${c.name})`, null, {}, brokerArgs(c))).broker;
    await setUp(c);
    progress(`broker, authorizer ${c.name}: pid ${c.broker.pid}, SASL_PLAINTEXT port ${c.broker.listenerPort('SASL_PLAINTEXT')}`);
  }
  const runsOf = new Map<string, Timed[]>();
  const record = (figure: string, c: Config, t: Timed) => {
    const k = `${figure}\u0000${c.name}`;
    runsOf.set(k, [...(runsOf.get(k) ?? []), t]);
  };
  const get = (figure: string, c: Config) => runsOf.get(`${figure}\u0000${c.name}`) ?? [];
  const failed = (figure: string, c: Config) => get(figure, c).some((t) => t.error);

  try {
    // 1 KiB records, batched: every run appends to the bench topic, which the fetch reads back.
    const big: ProduceSpec = { name: 'produce 1 KiB', topics: [TOPIC], file: bigFile, records, recordSize: 1024, acks: '1', codec: 'none' };
    const P = 'produce 1 KiB records, batched';
    for (let r = 0; r < opts.runs; r++) {
      for (const c of rotated(r)) {
        if (failed(P, c)) continue;
        const b = c.broker as BrokerProc;
        record(P, c, await produceOnce(b, big, TOPIC, (r + 1) * records, b.listenerPort('SASL_PLAINTEXT'), SASL_KCAT));
      }
    }
    const produced = (c: Config) => get(P, c).filter((t) => !t.error).length * records;

    const F = 'fetch the backlog (kcat -C)';
    for (let r = 0; r < opts.runs; r++) {
      for (const c of rotated(r)) {
        if (failed(F, c) || failed(P, c)) continue;
        const b = c.broker as BrokerProc;
        const n = produced(c);
        record(F, c, await fetchOnce(b, TOPIC, n, n * 1024, b.listenerPort('SASL_PLAINTEXT'), SASL_KCAT));
      }
    }

    // One record per request: the per-request authorization check is most of what differs.
    const small: ProduceSpec = { name: 'produce small', topics: [TOPIC], file: smallFile, records: opts.smallRecords, recordSize: SMALL_SIZE, acks: '1', codec: 'none' };
    const S = `produce ${SMALL_SIZE} B records, 1 per request`;
    for (let r = 0; r < opts.runs; r++) {
      for (const c of rotated(r)) {
        if (failed(S, c) || failed(P, c)) continue;
        const b = c.broker as BrokerProc;
        record(S, c, await produceOnce(b, small, TOPIC, produced(c) + (r + 1) * opts.smallRecords, b.listenerPort('SASL_PLAINTEXT'), [...SASL_KCAT, ...SMALL_FLAGS]));
      }
    }

    for (const c of CONFIGS) {
      addRow(P, c, get(P, c), opts.size / 1e6, 'MB/s', records, 'record', `${fmtBytes(opts.size)} = ${fmtInt(records)} x 1 KiB, linger.ms=5 batch.size=1000000 acks=1`);
    }
    for (const c of CONFIGS) {
      const n = produced(c);
      const wire = c.dataDir ? logBytes(c.dataDir, TOPIC) : 0;
      addRow(F, c, get(F, c), (n * 1024) / 1e6, 'MB/s', n, 'record', `${fmtBytes(n * 1024)} payload (the ${get(P, c).length} produce runs; log ${fmtBytes(wire)} incl. the small records), 16 MiB partition fetches, no group`);
    }
    for (const c of CONFIGS) {
      addRow(S, c, get(S, c), opts.smallRecords, 'requests/s', opts.smallRecords, 'request', `${fmtInt(opts.smallRecords)} records, linger.ms=0 batch.num.messages=1 acks=1`);
    }
  } finally {
    for (const c of CONFIGS) await c.broker?.stop();
  }

  const out: string[] = [''];
  out.push(`Samsa ACL bench: ${machine}`);
  out.push(
    `${opts.runs} run(s) per figure, interleaved across the three brokers; ${((Date.now() - t0) / 1000).toFixed(0)} s; load average (1 min) ${loadStart.toFixed(2)} at start, ${os.loadavg()[0].toFixed(2)} at end`,
  );
  out.push(`Every client is kcat over SASL_PLAINTEXT (PLAIN, User:${ALICE.user}); the authorizer is StandardAuthorizer with super.users=User:${ADMIN.user}, and the N ACLs include alice's WRITE and READ on ${TOPIC}.`);
  out.push('MB/s = 10^6 bytes of record payload per second; CPU = CPU time / wall time (100% = one core); kcat and broker share the machine\'s cores.');
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
    process.stderr.write(err instanceof OptionError ? `acl bench: ${err.message}\n` : `acl bench failed: ${(err as Error).stack ?? err}\n`);
    cleanupSync();
    process.exit(1);
  },
);
