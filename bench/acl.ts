/**
 * What the authorizer costs: kcat produce and fetch as a SASL user with the authorizer off,
 * on with 100 ACLs and on with 1000 ACLs (most of them for other principals and topics, as
 * in a real cluster), on the same data sizes and the same listener, so SASL costs the same
 * in every row. Produce of single-record requests shows the per-request check best.
 *
 *   node dist/bench/acl.js [--quick] [--size=256M] [--runs=3]
 *
 * Prints a table; the figures compare runs of this one process on this machine.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cpuDelta, killAllChildren, readCpu, runTimed } from './proc';
import { generateRecordFile } from './records';
import { BrokerProc, budgetMs, endOffset, FETCH_FLAGS, fmtBytes, KCAT, lastLines, parseSize, PRODUCE_FLAGS } from './run';
import { plainLogin } from './scram-client';
import { WireClient } from './wire';

const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
const ADMIN = ['admin', 'admin-secret'];
const ALICE = ['alice', 'alice-secret'];
// Kafka's codes: resource TOPIC 2, GROUP 3; pattern LITERAL 3, PREFIXED 4; operations READ 3,
// WRITE 4, DESCRIBE 8; permission ALLOW 3.
const TOPIC = 2;
const GROUP = 3;
const LITERAL = 3;
const PREFIXED = 4;
const READ = 3;
const WRITE = 4;
const DESCRIBE = 8;
const ALLOW = 3;

interface Options {
  size: number;
  runs: number;
  smallRecords: number;
}

function parseOptions(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const opts: Options = { size: quick ? 32 * 1024 * 1024 : 256 * 1024 * 1024, runs: quick ? 1 : 3, smallRecords: quick ? 5000 : 20000 };
  for (const a of argv) {
    const m = /^--(size|runs|small)=(.+)$/.exec(a);
    if (m?.[1] === 'size') opts.size = parseSize(m[2]);
    else if (m?.[1] === 'runs') opts.runs = Number(m[2]);
    else if (m?.[1] === 'small') opts.smallRecords = Number(m[2]);
    else if (a !== '--quick') throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function brokerArgs(aclCount: number | null): (port: number) => string[] {
  return (port) => [
    '--override', `listeners=PLAINTEXT://127.0.0.1:${port},SASL_PLAINTEXT://127.0.0.1:0`,
    '--override', 'sasl.enabled.mechanisms=PLAIN',
    '--override', `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${ADMIN[0]}="${ADMIN[1]}" user_${ALICE[0]}="${ALICE[1]}";`,
    ...(aclCount === null ? [] : ['--override', `authorizer.class.name=${STANDARD_AUTHORIZER}`, '--override', `super.users=User:${ADMIN[0]}`]),
  ];
}

/** Alice's own ACLs plus noise for other principals, topics, prefixes and groups: `count` in all. */
function aclSet(count: number): object[] {
  const acl = (principal: string, resourceType: number, resourceName: string, patternType: number, operation: number) => ({
    resourceType, resourceName, resourcePatternType: patternType, principal, host: '*', operation, permissionType: ALLOW,
  });
  // The bench checks end offsets over PLAINTEXT, as User:ANONYMOUS.
  const out = [
    acl('User:alice', TOPIC, 'bench', LITERAL, WRITE),
    acl('User:alice', TOPIC, 'bench', LITERAL, READ),
    acl('User:ANONYMOUS', TOPIC, 'bench', LITERAL, DESCRIBE),
  ];
  for (let i = 0; out.length < count; i++) {
    if (i % 5 === 0) out.push(acl(`User:user${i}`, GROUP, `group-${i}`, LITERAL, READ));
    else if (i % 3 === 0) out.push(acl(`User:user${i}`, TOPIC, `team-${i}-`, PREFIXED, WRITE));
    else out.push(acl(`User:user${i}`, TOPIC, `topic-${i}`, LITERAL, i % 2 ? READ : DESCRIBE));
  }
  return out;
}

async function setUp(saslPort: number, acls: number | null): Promise<void> {
  const c = await WireClient.connect(saslPort);
  try {
    await plainLogin(c, ADMIN[0], ADMIN[1]);
    const created = await c.request(19, 5, {
      topics: [{ name: 'bench', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 10000, validateOnly: false,
    });
    if (created.topics[0].errorCode !== 0) throw new Error(`CreateTopics: error ${created.topics[0].errorCode}`);
    if (acls === null) return;
    const all = aclSet(acls);
    for (let i = 0; i < all.length; i += 200) {
      const r = await c.request(30, 3, { creations: all.slice(i, i + 200) });
      const bad = r.results.find((x: { errorCode: number }) => x.errorCode !== 0);
      if (bad) throw new Error(`CreateAcls: error ${bad.errorCode} ${bad.errorMessage}`);
    }
  } finally {
    c.close();
  }
}

const saslFlags = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${ALICE[0]}`, '-X', `sasl.password=${ALICE[1]}`];

interface Figure {
  value: number;
  brokerCpu: number;
}

async function timed(b: BrokerProc, args: string[], bytes: number, check: (stderr: string) => string | null): Promise<{ ms: number; brokerCpu: number }> {
  const c0 = readCpu(b.pid);
  const r = await runTimed(KCAT, args, budgetMs(bytes));
  const c1 = readCpu(b.pid);
  if (r.timedOut || r.code !== 0) throw new Error(`kcat exit ${r.code}${r.timedOut ? ' (timed out)' : ''}: ${lastLines(r.stderr)}`);
  const problem = check(r.stderr);
  if (problem) throw new Error(problem);
  const cpu = cpuDelta(c0, c1);
  return { ms: r.ms, brokerCpu: cpu ? (100 * (cpu.user + cpu.sys)) / (r.ms / 1000) : NaN };
}

function medianFigure(xs: Figure[]): Figure {
  const sorted = [...xs].sort((a, b) => a.value - b.value);
  return sorted[(sorted.length - 1) >> 1];
}

async function measure(label: string, acls: number | null, opts: Options, bigFile: string, smallFile: string, root: string): Promise<Record<string, Figure>> {
  const dataDir = fs.mkdtempSync(path.join(root, 'data-'));
  const { broker } = await BrokerProc.start(dataDir, label, null, {}, brokerArgs(acls));
  const out: Record<string, Figure> = {};
  try {
    const sasl = broker.listenerPort('SASL_PLAINTEXT');
    await setUp(sasl, acls);
    const bigRecords = Math.floor(opts.size / 1024);
    const produce: Figure[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const args = ['-P', '-b', `127.0.0.1:${sasl}`, '-t', 'bench', '-p', '0', ...saslFlags, ...PRODUCE_FLAGS, '-X', 'acks=1', '-l', bigFile];
      const t = await timed(broker, args, opts.size, () => null);
      produce.push({ value: opts.size / 1e6 / (t.ms / 1000), brokerCpu: t.brokerCpu });
    }
    const end = await endOffset(broker.port, 'bench');
    if (end !== bigRecords * opts.runs) throw new Error(`end offset ${end}, expected ${bigRecords * opts.runs}`);
    out.produce = medianFigure(produce);
    const small: Figure[] = [];
    for (let i = 0; i < opts.runs; i++) {
      // One record per request: the authorization check is paid per request.
      const args = ['-P', '-b', `127.0.0.1:${sasl}`, '-t', 'bench', '-p', '0', ...saslFlags, '-X', 'linger.ms=0', '-X', 'batch.num.messages=1', '-X', 'max.in.flight=1', '-X', 'acks=1', '-l', smallFile];
      const t = await timed(broker, args, opts.smallRecords * 100, () => null);
      small.push({ value: opts.smallRecords / (t.ms / 1000), brokerCpu: t.brokerCpu });
    }
    out.small = medianFigure(small);
    const total = bigRecords * opts.runs;
    const fetch: Figure[] = [];
    for (let i = 0; i < opts.runs; i++) {
      const args = ['-C', '-b', `127.0.0.1:${sasl}`, '-t', 'bench', '-p', '0', '-o', 'beginning', '-c', String(total), '-f', '', ...saslFlags, ...FETCH_FLAGS];
      const t = await timed(broker, args, opts.size * opts.runs, () => null);
      fetch.push({ value: (opts.size * opts.runs) / 1e6 / (t.ms / 1000), brokerCpu: t.brokerCpu });
    }
    out.fetch = medianFigure(fetch);
  } finally {
    await broker.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-acl-'));
  process.on('exit', () => {
    killAllChildren();
    fs.rmSync(root, { recursive: true, force: true });
  });
  const bigFile = path.join(root, 'records-1k.txt');
  const smallFile = path.join(root, 'records-100.txt');
  generateRecordFile(bigFile, Math.floor(opts.size / 1024), 1024);
  generateRecordFile(smallFile, opts.smallRecords, 100);
  const configs: [string, number | null][] = [
    ['authorizer off', null],
    ['on, 100 ACLs', 100],
    ['on, 1000 ACLs', 1000],
  ];
  const results: [string, Record<string, Figure>][] = [];
  for (const [label, acls] of configs) {
    process.stderr.write(`[acl bench] ${label}\n`);
    results.push([label, await measure(label, acls, opts, bigFile, smallFile, root)]);
  }
  const base = results[0][1];
  const cell = (f: Figure, b: Figure, unit: string) => `${f.value.toFixed(unit === 'req/s' ? 0 : 0)} ${unit} (${(f.value / b.value).toFixed(2)}x, broker ${f.brokerCpu.toFixed(0)}% CPU)`;
  const lines = [
    '',
    `Samsa authorizer bench: ${os.cpus().length} cores, node ${process.version}; kcat as a SASL/PLAIN user on SASL_PLAINTEXT; ${fmtBytes(opts.size)} of 1 KiB records per produce run, ${opts.smallRecords} single-record produce requests, median of ${opts.runs}; load average ${os.loadavg()[0].toFixed(2)}`,
    '',
    '| configuration | produce 1 KiB records | produce, one record per request | fetch |',
    '|---|---|---|---|',
    ...results.map(([label, r]) => `| ${label} | ${cell(r.produce, base.produce, 'MB/s')} | ${cell(r.small, base.small, 'req/s')} | ${cell(r.fetch, base.fetch, 'MB/s')} |`),
    '',
    'Ratios are to "authorizer off". Client and broker share the machine; runs of the same row differ by 10-20% here.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`acl bench failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
