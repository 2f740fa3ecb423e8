/**
 * Crash soak: real clients write and consume while the broker process is killed with SIGKILL
 * at random moments and restarted on the same data dir and port (a fifth of the restarts are
 * killed again within 500 ms of spawning, while recovering); afterwards what the clients
 * were told is compared with what the broker kept.
 *
 * Clients (each its own process, recording what the broker acknowledged to a JSON-lines file):
 *   librdkafka (confluent-kafka-python) and kafkajs: an idempotent producer (topic soak-idem),
 *   a transactional producer (soak-txn, ~80% of transactions committed, the rest aborted) and
 *   a group consumer of soak-idem committing offsets (one member per group).
 * Checks once the clients have stopped:
 *   - every acknowledged record is in the log exactly once, at the offset it was acknowledged
 *     with (so in order per partition): lost / duplicated / misplaced counts per client;
 *   - transactions are all-or-nothing: a committed one entirely visible to read_committed, an
 *     aborted one invisible, one whose outcome the client could not learn either; checked on
 *     the log (markers) and with a librdkafka read_committed consumer; no transaction left open;
 *   - committed offsets never move backwards: not in the commits a consumer had acknowledged,
 *     not in the __consumer_offsets log, and OffsetFetch at the end is at or past the last one;
 *   - the data dir passes the offline checker (check-data-dir.ts) after a clean shutdown.
 * In power-loss mode (fsync on every append, files cut to their fsynced length after each
 * kill) the same must hold.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { checkDataDir, CheckedRecord, PartitionCheck } from './check-data-dir';
import { simulatePowerLoss } from './power-loss';

/** The repository root, from bench/soak (ts-jest) or dist/bench/soak (compiled). */
function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}
const ROOT = repoRoot();
const CLI = path.join(ROOT, 'dist/src/cli/main.js');
const JS_CLIENT = path.join(ROOT, 'dist/bench/soak/kafkajs-client.js');
const PY_CLIENT = path.join(ROOT, 'bench/soak/librdkafka_client.py');
const PYTHON = process.env.SAMSA_PYTHON ?? '/usr/bin/python3';

export interface SoakOptions {
  kills: number;
  /** Broker uptime before each kill, uniformly random in [min, max] ms. */
  minUpMs: number;
  maxUpMs: number;
  /** Share of restarts that are first killed again 0-500 ms after spawning, during recovery (0.2). */
  earlyKillRate?: number;
  /**
   * Power-loss mode: the broker runs with log.flush.interval.messages=1 and an fsync journal,
   * and after each kill every file is cut to its fsynced length (plus a random part of the
   * unsynced tail) before the restart, as if the machine had lost power (power-loss.ts).
   */
  powerLoss?: boolean;
  /** Run the librdkafka clients (needs python3 with confluent_kafka). */
  librdkafka: boolean;
  /** Where to keep the data dir and client files; a temp dir by default (removed when all checks pass). */
  workDir?: string;
  log?: (line: string) => void;
}

export interface ProducerFigures {
  client: string;
  acknowledged: number;
  lost: number;
  duplicated: number;
  misplaced: number;
  /** Records in the log that were sent but never acknowledged (allowed). */
  unacknowledgedPresent: number;
}

export interface TxnFigures {
  client: string;
  committed: number;
  aborted: number;
  unknown: number;
  /** Of the unknown ones, how many turned out committed. */
  unknownCommitted: number;
  violations: number;
}

export interface ConsumerFigures {
  client: string;
  commits: number;
  backwardsAcknowledged: number;
  backwardsInLog: number;
  finalBelowLastAcknowledged: number;
}

export interface SoakReport {
  rounds: number;
  /** Extra kills of a broker that was still starting (recovering). */
  startupKills: number;
  seconds: number;
  producers: ProducerFigures[];
  transactions: TxnFigures[];
  consumers: ConsumerFigures[];
  readCommittedRecords: number;
  openTransactionRecords: number;
  checkerErrors: string[];
  failures: string[];
  workDir: string;
}

interface ClientSpec {
  lib: 'kafkajs' | 'librdkafka';
  role: 'idempotent' | 'transactional' | 'consumer';
  topic: string;
  name: string;
  out: string;
}

const IDEM_TOPIC = 'soak-idem';
const TXN_TOPIC = 'soak-txn';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Child processes of a run still alive: killed if the run fails half-way, so none is left behind. */
type Children = Set<ChildProcess>;

function track(children: Children, child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

class Broker {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  constructor(
    private readonly port: number,
    private readonly dataDir: string,
    private readonly logFile: string,
    private readonly children: Children,
  ) {}

  /** With `journal`, the broker records its fsyncs there and fsyncs every append (power-loss mode). */
  journal: string | null = null;

  private args(): string[] {
    const flush = this.journal ? ['--override', 'log.flush.interval.messages=1'] : [];
    return [CLI, 'serve', '--host', '127.0.0.1', '--port', String(this.port), '--data-dir', this.dataDir, '--http-port', 'none', '--log-level', 'warn', ...flush];
  }

  private env(): NodeJS.ProcessEnv {
    return this.journal ? { ...process.env, SAMSA_FSYNC_JOURNAL: this.journal } : process.env;
  }

  /** Starts the broker and kills it `ms` later whether or not it is serving yet (a crash during recovery). */
  async startAndKill(ms: number): Promise<void> {
    const child = track(this.children, spawn(process.execPath, this.args(), { stdio: ['ignore', 'ignore', 'ignore'], env: this.env() }));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await sleep(ms);
    child.kill('SIGKILL');
    await exited;
  }

  async start(): Promise<void> {
    const args = this.args();
    // The port may still be held for a moment by the killed process's sockets: retry briefly.
    for (let attempt = 0; ; attempt++) {
      const child = track(this.children, spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: this.env() }));
      const log = fs.openSync(this.logFile, 'a');
      child.stderr!.on('data', (d: Buffer) => fs.writeSync(log, d));
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
      this.exited.then(() => fs.closeSync(log)).catch(() => undefined);
      const ok = await new Promise<boolean>((resolve) => {
        let out = '';
        const timer = setTimeout(() => resolve(false), 30_000);
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('listening on')) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (ok) {
        this.child = child;
        return;
      }
      child.kill('SIGKILL');
      await this.exited;
      if (attempt >= 10) throw new Error(`broker did not start; see ${this.logFile}`);
      await sleep(500);
    }
  }

  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }

  async stop(): Promise<void> {
    this.child?.kill('SIGTERM');
    await this.exited;
    this.child = null;
  }
}

function startClient(spec: ClientSpec, bootstrap: string, logFile: string, children: Children): { child: ChildProcess; exited: Promise<number | null> } {
  const args = [spec.role, bootstrap, spec.topic, spec.out, spec.name];
  const [cmd, argv] = spec.lib === 'kafkajs' ? [process.execPath, [JS_CLIENT, ...args]] : [PYTHON, [PY_CLIENT, ...args]];
  const child = track(children, spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const log = fs.openSync(logFile, 'a');
  child.stderr!.on('data', (d: Buffer) => fs.writeSync(log, d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  exited.then(() => fs.closeSync(log)).catch(() => undefined);
  return { child, exited };
}

function readLines(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs the soak and checks its outcome; `failures` is empty when every guarantee held. */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const children: Children = new Set();
  try {
    return await soak(opts, children);
  } catch (err) {
    for (const c of children) c.kill('SIGKILL');
    throw err;
  }
}

async function soak(opts: SoakOptions, children: Children): Promise<SoakReport> {
  const say = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const started = Date.now();
  const workDir = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-soak-'));
  fs.mkdirSync(workDir, { recursive: true });
  const dataDir = path.join(workDir, 'data');
  const port = await freePort();
  const bootstrap = `127.0.0.1:${port}`;
  const broker = new Broker(port, dataDir, path.join(workDir, 'broker.log'), children);
  if (opts.powerLoss) broker.journal = path.join(workDir, 'fsync-journal');
  const cut = (): void => {
    if (broker.journal) simulatePowerLoss(dataDir, broker.journal, { tornTail: true });
  };
  await broker.start();

  const kafka = new Kafka({ clientId: 'soak-runner', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 200, maxRetryTime: 1000 } });
  const admin = kafka.admin();
  await admin.connect();
  // Small segments so that rolls, indexes and producer snapshots are exercised.
  const configEntries = [{ name: 'segment.bytes', value: String(256 * 1024) }];
  await admin.createTopics({ topics: [IDEM_TOPIC, TXN_TOPIC].map((topic) => ({ topic, numPartitions: 4, configEntries })) });
  await admin.disconnect();

  const libs: ClientSpec['lib'][] = opts.librdkafka ? ['kafkajs', 'librdkafka'] : ['kafkajs'];
  const specs: ClientSpec[] = [];
  for (const lib of libs) {
    const short = lib === 'kafkajs' ? 'js' : 'rd';
    specs.push({ lib, role: 'idempotent', topic: IDEM_TOPIC, name: `${short}-idem`, out: path.join(workDir, `${short}-idem.jsonl`) });
    specs.push({ lib, role: 'transactional', topic: TXN_TOPIC, name: `${short}-txn`, out: path.join(workDir, `${short}-txn.jsonl`) });
    specs.push({ lib, role: 'consumer', topic: IDEM_TOPIC, name: `${short}-group`, out: path.join(workDir, `${short}-group.jsonl`) });
  }
  const clients = specs.map((s) => ({ spec: s, ...startClient(s, bootstrap, path.join(workDir, `${s.name}.log`), children) }));

  let rounds = 0;
  let startupKills = 0;
  for (let i = 0; i < opts.kills; i++) {
    await sleep(opts.minUpMs + Math.random() * (opts.maxUpMs - opts.minUpMs));
    await broker.kill();
    cut();
    rounds++;
    await sleep(Math.random() * 300);
    if (Math.random() < (opts.earlyKillRate ?? 0.2)) {
      await broker.startAndKill(Math.random() * 500);
      cut();
      startupKills++;
    }
    await broker.start();
    say(`soak: kill ${rounds}/${opts.kills} done, broker restarted`);
  }
  // Let the clients get through their retries against the last broker, then stop them.
  await sleep(Math.max(opts.minUpMs, 3000));
  for (const c of clients) c.child.kill('SIGTERM');
  const failures: string[] = [];
  for (const c of clients) {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([c.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 150_000)))]);
    clearTimeout(timer);
    if (code === 'timeout') {
      c.child.kill('SIGKILL');
      failures.push(`${c.spec.name}: did not stop within 150 s`);
    } else if (code !== 0) {
      failures.push(`${c.spec.name}: exited with ${code} (see ${c.spec.name}.log)`);
    }
  }

  // Online checks: read_committed view of the transactional topic, and OffsetFetch per group.
  const readFile = path.join(workDir, 'read-committed.jsonl');
  if (opts.librdkafka) {
    const child = track(children, spawn(PYTHON, [PY_CLIENT, 'read', bootstrap, TXN_TOPIC, readFile, 'reader'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    await new Promise((r) => child.once('exit', r));
  }
  const fetched = new Map<string, Map<number, number>>();
  const admin2 = kafka.admin();
  await admin2.connect();
  for (const s of specs.filter((x) => x.role === 'consumer')) {
    const res = await admin2.fetchOffsets({ groupId: s.name, topics: [IDEM_TOPIC] });
    fetched.set(s.name, new Map(res[0].partitions.map((p) => [p.partition, Number(p.offset)])));
  }
  await admin2.disconnect();
  await broker.stop();

  const check = await checkDataDir(dataDir, { cleanShutdown: true });
  const topicRecords = (topic: string): CheckedRecord[] => check.partitions.filter((p) => p.topic === topic).flatMap((p) => p.records.map((r) => ({ ...r, partition: p.partition }) as CheckedRecord & { partition: number }));
  const idem = topicRecords(IDEM_TOPIC) as (CheckedRecord & { partition: number })[];
  const txnRecords = topicRecords(TXN_TOPIC);

  const producers = specs.filter((s) => s.role === 'idempotent').map((s) => checkProducer(s, idem, failures));
  const readCommitted = opts.librdkafka ? readLines(readFile).filter((l) => typeof l.v === 'string').map((l) => l.v as string) : null;
  const transactions = specs.filter((s) => s.role === 'transactional').map((s) => checkTransactions(s, txnRecords, readCommitted, failures));
  const openTransactionRecords = txnRecords.filter((r) => r.txn === 'open').length;
  if (openTransactionRecords > 0) failures.push(`${openTransactionRecords} records of transactions left open (no marker) in ${TXN_TOPIC}`);
  if (readCommitted) {
    const visible = new Set(txnRecords.filter((r) => r.txn === 'committed').map((r) => r.value ?? ''));
    const readSet = new Set(readCommitted);
    const notRead = [...visible].filter((v) => !readSet.has(v)).length;
    const wronglyRead = [...readSet].filter((v) => !visible.has(v)).length;
    if (notRead || wronglyRead || readSet.size !== readCommitted.length) {
      failures.push(`read_committed consumer: ${notRead} committed records not read, ${wronglyRead} records read that are not committed, ${readCommitted.length - readSet.size} read twice`);
    }
  }
  const offsetsLog = check.partitions.filter((p) => p.topic === '__consumer_offsets');
  const consumers = specs.filter((s) => s.role === 'consumer').map((s) => checkConsumer(s, offsetsLog, fetched.get(s.name)!, failures));
  for (const e of check.errors) failures.push(`checker: ${e}`);

  const report: SoakReport = {
    rounds,
    startupKills,
    seconds: Math.round((Date.now() - started) / 1000),
    producers,
    transactions,
    consumers,
    readCommittedRecords: readCommitted?.length ?? -1,
    openTransactionRecords,
    checkerErrors: check.errors,
    failures,
    workDir,
  };
  if (failures.length === 0 && !opts.workDir) fs.rmSync(workDir, { recursive: true, force: true });
  return report;
}

function checkProducer(s: ClientSpec, records: (CheckedRecord & { partition: number })[], failures: string[]): ProducerFigures {
  const prefix = `${s.name}/`;
  const where = new Map<string, { partition: number; offset: number }[]>();
  for (const r of records) {
    if (r.value === null || !r.value.startsWith(prefix)) continue;
    const list = where.get(r.value) ?? [];
    list.push({ partition: r.partition, offset: r.offset });
    where.set(r.value, list);
  }
  const fig: ProducerFigures = { client: s.name, acknowledged: 0, lost: 0, duplicated: 0, misplaced: 0, unacknowledgedPresent: 0 };
  const acked = new Set<string>();
  for (const line of readLines(s.out)) {
    if (typeof line.v !== 'string') continue;
    fig.acknowledged++;
    acked.add(line.v);
    const found = where.get(line.v) ?? [];
    if (found.length === 0) fig.lost++;
    else if (found.length > 1) fig.duplicated++;
    else if (found[0].partition !== line.p || found[0].offset !== line.o) fig.misplaced++;
  }
  for (const [v, list] of where) {
    if (acked.has(v)) continue;
    fig.unacknowledgedPresent++;
    // Sent but never acknowledged: may be there or not, but once at most.
    if (list.length > 1) fig.duplicated++;
  }
  if (fig.acknowledged === 0) failures.push(`${s.name}: nothing was acknowledged`);
  if (fig.lost || fig.duplicated || fig.misplaced) failures.push(`${s.name}: ${fig.lost} lost, ${fig.duplicated} duplicated, ${fig.misplaced} at another offset than acknowledged`);
  return fig;
}

function checkTransactions(s: ClientSpec, records: CheckedRecord[], readCommitted: string[] | null, failures: string[]): TxnFigures {
  const fates = new Map<string, CheckedRecord['txn'][]>();
  for (const r of records) {
    if (r.value === null || !r.value.startsWith(`${s.name}/`)) continue;
    const list = fates.get(r.value) ?? [];
    list.push(r.txn);
    fates.set(r.value, list);
  }
  const readCount = new Map<string, number>();
  for (const v of readCommitted ?? []) readCount.set(v, (readCount.get(v) ?? 0) + 1);
  const fig: TxnFigures = { client: s.name, committed: 0, aborted: 0, unknown: 0, unknownCommitted: 0, violations: 0 };
  const bad = (why: string): void => {
    fig.violations++;
    if (fig.violations <= 5) failures.push(`${s.name}: ${why}`);
  };
  for (const line of readLines(s.out)) {
    if (typeof line.txn !== 'number') continue;
    const values = line.values as string[];
    const visible = values.map((v) => (fates.get(v) ?? []).filter((f) => f === 'committed').length);
    const seen = values.map((v) => readCount.get(v) ?? 0);
    const allOnce = visible.every((n) => n === 1);
    const none = visible.every((n) => n === 0);
    if (line.status === 'committed') {
      fig.committed++;
      if (!allOnce) bad(`committed transaction ${line.txn}: visible counts ${visible.join(',')}`);
    } else if (line.status === 'aborted') {
      fig.aborted++;
      if (!none) bad(`aborted transaction ${line.txn}: visible counts ${visible.join(',')}`);
    } else {
      fig.unknown++;
      if (allOnce && values.length > 0) fig.unknownCommitted++;
      if (!allOnce && !none) bad(`transaction ${line.txn} of unknown outcome is partly visible: ${visible.join(',')}`);
    }
    if (readCommitted && seen.join() !== visible.join()) bad(`transaction ${line.txn}: read_committed consumer saw ${seen.join(',')}, log markers say ${visible.join(',')}`);
  }
  if (fig.committed === 0) failures.push(`${s.name}: no transaction was committed`);
  return fig;
}

/** (group, topic, partition) -> offsets committed, in log order, from the __consumer_offsets partitions. */
function committedInLog(partitions: PartitionCheck[], group: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const p of partitions) {
    for (const r of p.records) {
      if (r.keyBytes === null || r.valueBytes === null) continue;
      const key = r.keyBytes;
      const version = key.readInt16BE(0);
      if (version > 1) continue;
      let at = 2;
      const g = key.toString('utf8', at + 2, at + 2 + key.readInt16BE(at));
      at += 2 + key.readInt16BE(at);
      const topic = key.toString('utf8', at + 2, at + 2 + key.readInt16BE(at));
      at += 2 + key.readInt16BE(at);
      const partition = key.readInt32BE(at);
      if (g !== group || topic !== IDEM_TOPIC) continue;
      const value = r.valueBytes;
      const offset = value.readInt32BE(2) * 4294967296 + value.readUInt32BE(6);
      const list = out.get(partition) ?? [];
      list.push(offset);
      out.set(partition, list);
    }
  }
  return out;
}

function checkConsumer(s: ClientSpec, offsetsLog: PartitionCheck[], fetched: Map<number, number>, failures: string[]): ConsumerFigures {
  const fig: ConsumerFigures = { client: s.name, commits: 0, backwardsAcknowledged: 0, backwardsInLog: 0, finalBelowLastAcknowledged: 0 };
  const last = new Map<number, number>();
  for (const line of readLines(s.out)) {
    if (typeof line.g !== 'string') continue;
    fig.commits++;
    const p = line.p as number;
    const o = line.o as number;
    if (o < (last.get(p) ?? -1)) fig.backwardsAcknowledged++;
    last.set(p, Math.max(o, last.get(p) ?? -1));
  }
  for (const list of committedInLog(offsetsLog, s.name).values()) {
    for (let i = 1; i < list.length; i++) if (list[i] < list[i - 1]) fig.backwardsInLog++;
  }
  for (const [p, o] of last) if ((fetched.get(p) ?? -1) < o) fig.finalBelowLastAcknowledged++;
  if (fig.commits === 0) failures.push(`${s.name}: no commit was acknowledged`);
  if (fig.backwardsAcknowledged || fig.backwardsInLog || fig.finalBelowLastAcknowledged) {
    failures.push(`${s.name}: committed offsets moved backwards (${fig.backwardsAcknowledged} in acknowledged commits, ${fig.backwardsInLog} in __consumer_offsets, ${fig.finalBelowLastAcknowledged} partitions fetched below the last acknowledged commit)`);
  }
  return fig;
}
