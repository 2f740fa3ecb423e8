/**
 * Runs fuzzed frames (frame-fuzzer.ts) against a real broker process over sockets and checks
 * what a robust broker must guarantee:
 *   - every frame gets a well-formed response (right correlation id, decodes completely at
 *     its API version) or a connection close, within a timeout; a Produce with acks=0 gets
 *     nothing, which a following ApiVersions probe proves;
 *   - the process stays up and answers ApiVersions afterwards;
 *   - its RSS stays under a bound (sampled);
 *   - a canary topic written before the run reads back byte-identical, and nothing appears
 *     outside the data dir;
 *   - batches stored on a delete-policy topic (bombs included) survive that topic becoming
 *     compacted (the cleaner opens them) and timestamp lookups on every fuzz topic.
 * Broker log lines for handler exceptions ("request failed") are collected as findings.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { API_CODECS } from '../../src/protocol/generated';
import { FrameQueue } from '../../src/protocol/frame-queue';
import { isFlexible } from '../../src/protocol/headers';
import { Reader } from '../../src/protocol/reader';
import { buildBatch } from '../../test/helpers/record-batch-builder';
import { encodeRequest, WireClient } from '../wire';
import { FUZZ_T0 } from './batch-fuzzer';
import { AdvertisedApi, FrameFuzzer, FuzzFrame } from './frame-fuzzer';

export interface FuzzTarget {
  port: number;
  pid: number;
  dataDir: string;
  maxRequestBytes: number;
  /** The broker's stderr so far. */
  logs(): string;
}

export interface FuzzOptions {
  frames: number;
  seed: number;
  connections: number;
  /** A frame not answered (nor its connection closed) within this is a hang. */
  responseTimeoutMs: number;
  /** RSS bound; a sample above it is a failure. */
  maxRssBytes: number;
  /** How long to wait for the cleaner to reach the late-compacted topic (default 30 s). */
  cleanerWaitMs?: number;
  progress?: (line: string) => void;
}

export interface FuzzFailure {
  kind: 'hang' | 'bad-response' | 'unexpected-response' | 'dead' | 'rss' | 'canary' | 'stray-file' | 'late-compact';
  detail: string;
  mutation?: string;
  /** The frame, hex (first 2 KiB), to replay in a regression test. */
  frameHex?: string;
}

export interface FuzzReport {
  frames: number;
  seconds: number;
  framesPerSecond: number;
  responses: number;
  closes: number;
  silent: number;
  reconnects: number;
  rssStartBytes: number;
  rssMaxBytes: number;
  /** Frames per mutation kind (the part after the API name). */
  mutations: Record<string, number>;
  batchMutations: Record<string, number>;
  /** Distinct handler exceptions the broker logged (message -> count). */
  handlerErrors: Record<string, number>;
  /** Whether the cleaner was seen keeping unreadable batches whole on the late-compacted topic. */
  cleanerKeptUnreadable: boolean;
  failures: FuzzFailure[];
}

const CANARY = `canary-${process.pid}-${Date.now().toString(36)}`;
/** topic -> configs. Produce frames aim at these; fuzz-late-compact turns compacted after the run. */
export const FUZZ_TOPICS: Record<string, Record<string, string>> = {
  'fuzz-plain': {},
  'fuzz-recompress': { 'compression.type': 'zstd' },
  'fuzz-uncompressed': { 'compression.type': 'uncompressed' },
  'fuzz-compact': { 'cleanup.policy': 'compact', 'segment.ms': '2000', 'min.cleanable.dirty.ratio': '0.01' },
  'fuzz-timestamps': { 'message.timestamp.before.max.ms': '3600000' },
  'fuzz-log-append': { 'message.timestamp.type': 'LogAppendTime' },
  'fuzz-late-compact': { 'segment.ms': '1000' },
};

/** Broker arguments the fuzzer expects (fast cleaner passes, no initial rebalance delay). */
export function fuzzBrokerArgs(maxRequestBytes: number): string[] {
  return ['--max-request-bytes', String(maxRequestBytes), '--group-initial-rebalance-delay-ms', '0', '--override', 'log.cleaner.backoff.ms=500'];
}

type Outcome = { kind: 'response'; frame: Buffer } | { kind: 'closed' } | { kind: 'timeout' };

/** One raw connection sending one frame at a time. */
class FuzzConnection {
  private readonly queue = new FrameQueue();
  private readonly received: Buffer[] = [];
  private waiter: (() => void) | null = null;
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      try {
        this.queue.push(d, (f) => this.received.push(f));
      } catch {
        socket.destroy();
      }
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<FuzzConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(new FuzzConnection(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  /** The next response frame, or closed / timeout. */
  async next(deadline: number): Promise<Outcome> {
    for (;;) {
      const f = this.received.shift();
      if (f) return { kind: 'response', frame: f };
      if (this.closed) return { kind: 'closed' };
      const left = deadline - Date.now();
      if (left <= 0) return { kind: 'timeout' };
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, Math.min(left, 1000)).unref();
      });
    }
  }

  write(b: Buffer): void {
    if (!this.closed) this.socket.write(b);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

const PROBE_ID = 0x7ffffff0;
const PROBE = encodeRequest(18, 0, {}, PROBE_ID);

/** Checks one response frame against the request; null when well-formed. */
function checkResponse(f: FuzzFrame, frame: Buffer, advertised: Map<number, AdvertisedApi>): string | null {
  if (frame.length < 4) return `response of ${frame.length} bytes`;
  const id = frame.readInt32BE(0);
  if (id !== f.correlationId) return `correlation id ${id}, expected ${f.correlationId}`;
  const adv = advertised.get(f.apiKey);
  const supported = adv !== undefined && f.version >= adv.minVersion && f.version <= adv.maxVersion;
  // Only ApiVersions answers a version it does not serve (in its v0 form).
  if (!supported && f.apiKey !== 18) return `answered ${f.apiKey} v${f.version}, which is not advertised`;
  const version = supported ? f.version : 0;
  const codec = API_CODECS[f.apiKey]!;
  try {
    const r = new Reader(frame, 4);
    if (isFlexible(codec, version) && f.apiKey !== 18) r.skipTaggedFields();
    codec.decodeResponse[version]!(r);
    if (r.pos !== frame.length) return `response has ${frame.length - r.pos} bytes left over after decoding`;
  } catch (err) {
    return `response does not decode: ${(err as Error).message}`;
  }
  return null;
}

export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

async function answersApiVersions(port: number): Promise<string | null> {
  try {
    const c = await withTimeout(WireClient.connect(port), 10_000, 'connect');
    try {
      const r = await withTimeout(c.request<{ errorCode: number }>(18, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }), 10_000, 'ApiVersions');
      return r.errorCode === 0 ? null : `ApiVersions error ${r.errorCode}`;
    } finally {
      c.close();
    }
  } catch (err) {
    return (err as Error).message;
  }
}

interface FetchedPartition {
  errorCode: number;
  records: Buffer | null;
}

/** Every stored byte of a topic's partition 0, as Fetch returns it. */
async function readTopic(c: WireClient, topic: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let offset = 0;
  for (let round = 0; round < 1000; round++) {
    const r = await c.request<{ responses: { partitions: FetchedPartition[] }[] }>(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 64 * 1024 * 1024,
      isolationLevel: 0,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 64 * 1024 * 1024 }] }],
    });
    const p = r.responses[0].partitions[0];
    if (p.errorCode !== 0) throw new Error(`fetch ${topic}@${offset}: error ${p.errorCode}`);
    const records = p.records ?? Buffer.alloc(0);
    if (records.length < 61) break;
    let pos = 0;
    let last = -1;
    while (pos + 61 <= records.length) {
      const size = 12 + records.readInt32BE(pos + 8);
      if (pos + size > records.length) break;
      last = Number(records.readBigInt64BE(pos)) + records.readInt32BE(pos + 23);
      pos += size;
    }
    parts.push(records.subarray(0, pos));
    if (last < offset) break;
    offset = last + 1;
  }
  return Buffer.concat(parts);
}

async function setup(port: number): Promise<{ advertised: AdvertisedApi[]; topicIds: string[]; canary: Buffer }> {
  const c = await WireClient.connect(port);
  try {
    const versions = await c.request<{ apiKeys: AdvertisedApi[] }>(18, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' });
    const all = { ...FUZZ_TOPICS, [CANARY]: {} };
    const created = await c.request<{ topics: { name: string; errorCode: number; errorMessage: string | null }[] }>(19, 5, {
      topics: Object.entries(all).map(([name, configs]) => ({
        name,
        numPartitions: 2,
        replicationFactor: 1,
        assignments: [],
        configs: Object.entries(configs).map(([n, value]) => ({ name: n, value })),
      })),
      timeoutMs: 10_000,
      validateOnly: false,
    });
    for (const t of created.topics) if (t.errorCode !== 0 && t.errorCode !== 36) throw new Error(`create ${t.name}: ${t.errorCode} ${t.errorMessage}`);
    const md = await c.request<{ topics: { name: string; topicId: string }[] }>(3, 12, {
      topics: Object.keys(FUZZ_TOPICS).map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })),
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    });
    const topicIds = Object.keys(FUZZ_TOPICS).map((n) => md.topics.find((t) => t.name === n)?.topicId ?? 'AAAAAAAAAAAAAAAAAAAAAA');
    for (let b = 0; b < 20; b++) {
      const records = Array.from({ length: 50 }, (_, i) => ({ key: `k${b}-${i}`, value: `canary-${b}-${i}-${'c'.repeat(i)}`, timestamp: FUZZ_T0 + b * 50 + i }));
      const r = await c.request<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: CANARY, partitionData: [{ index: 0, records: buildBatch(records) }] }],
      });
      const code = r.responses[0].partitionResponses[0].errorCode;
      if (code !== 0) throw new Error(`canary produce: error ${code}`);
    }
    return { advertised: versions.apiKeys, topicIds, canary: await readTopic(c, CANARY) };
  } finally {
    c.close();
  }
}

/** fuzz-late-compact becomes compacted: the cleaner must open whatever the fuzzer stored there. */
async function lateCompaction(port: number): Promise<string | null> {
  const c = await WireClient.connect(port);
  try {
    const r = await c.request<{ responses: { errorCode: number; errorMessage: string | null }[] }>(33, 2, {
      resources: [
        {
          resourceType: 2,
          resourceName: 'fuzz-late-compact',
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.ms', value: '100' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        },
      ],
      validateOnly: false,
    });
    if (r.responses[0].errorCode !== 0) return `AlterConfigs: ${r.responses[0].errorCode} ${r.responses[0].errorMessage}`;
    // One keyed record after segment.ms rolls the segment that holds the fuzzed batches.
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const partition of [0, 1]) {
      await c.request(0, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 10_000,
        topicData: [{ name: 'fuzz-late-compact', partitionData: [{ index: partition, records: buildBatch([{ key: 'roll', value: 'x', timestamp: Date.now() }]) }] }],
      });
    }
    return null;
  } finally {
    c.close();
  }
}

/** ListOffsets by timestamp (and the special times) on every fuzz topic and partition. */
async function timestampLookups(port: number): Promise<void> {
  const c = await WireClient.connect(port);
  try {
    const times = [-1, -2, -3, 0, FUZZ_T0, FUZZ_T0 + 30_000, FUZZ_T0 + 60_000, FUZZ_T0 + 119_000];
    for (const timestamp of times) {
      await withTimeout(
        c.request(2, 7, {
          replicaId: -1,
          isolationLevel: 0,
          topics: Object.keys(FUZZ_TOPICS).map((name) => ({ name, partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp })) })),
        }),
        30_000,
        'ListOffsets',
      );
    }
  } finally {
    c.close();
  }
}

function handlerErrors(logs: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of logs.split('\n')) {
    if (!line.includes('request failed')) continue;
    let msg = line;
    try {
      const j = JSON.parse(line) as { error?: string };
      msg = (j.error ?? line).split('\n').slice(0, 2).join(' | ');
    } catch {
      // not JSON: keep the line
    }
    out[msg] = (out[msg] ?? 0) + 1;
  }
  return out;
}

export async function runFuzz(target: FuzzTarget, opts: FuzzOptions): Promise<FuzzReport> {
  const progress = opts.progress ?? (() => undefined);
  const failures: FuzzFailure[] = [];
  const fail = (x: FuzzFailure) => {
    if (failures.length < 100) failures.push(x);
  };
  const { advertised, topicIds, canary } = await setup(target.port);
  const advertisedBy = new Map(advertised.map((a) => [a.apiKey, a]));
  const fuzzer = new FrameFuzzer({ seed: opts.seed, advertised, targets: Object.keys(FUZZ_TOPICS), targetIds: topicIds, maxRequestBytes: target.maxRequestBytes });
  const parentBefore = fs.readdirSync(path.dirname(target.dataDir)).sort();
  const report: FuzzReport = {
    frames: 0,
    seconds: 0,
    framesPerSecond: 0,
    responses: 0,
    closes: 0,
    silent: 0,
    reconnects: 0,
    rssStartBytes: rssOf(target.pid),
    rssMaxBytes: 0,
    mutations: {},
    batchMutations: {},
    handlerErrors: {},
    cleanerKeptUnreadable: false,
    failures,
  };
  const sampler = setInterval(() => {
    const rss = rssOf(target.pid);
    if (rss > report.rssMaxBytes) report.rssMaxBytes = rss;
  }, 250);

  // Frames are generated one at a time, in order, so a seed always gives the same sequence.
  let generated = 0;
  let chain: Promise<unknown> = Promise.resolve();
  const nextFrame = (): Promise<FuzzFrame | null> => {
    const p = chain.then(() => (generated < opts.frames && failures.length < 100 ? (generated++, fuzzer.next()) : null));
    chain = p.catch(() => undefined);
    return p;
  };

  const started = Date.now();
  let lastProgress = started;
  const worker = async () => {
    let conn: FuzzConnection | null = null;
    try {
      for (let f = await nextFrame(); f; f = await nextFrame()) {
        if (!conn || conn.closed) {
          if (conn) report.reconnects++;
          conn = await FuzzConnection.connect(target.port);
        }
        const kind = f.mutation.slice(f.mutation.lastIndexOf(' ') + 1);
        report.mutations[kind] = (report.mutations[kind] ?? 0) + 1;
        if (f.batchMutation) report.batchMutations[f.batchMutation] = (report.batchMutations[f.batchMutation] ?? 0) + 1;
        conn.write(f.bytes);
        if (f.silent) conn.write(PROBE);
        const outcome = await conn.next(Date.now() + opts.responseTimeoutMs);
        report.frames++;
        if (outcome.kind === 'closed') report.closes++;
        else if (outcome.kind === 'timeout') {
          fail({ kind: 'hang', detail: `no answer and no close within ${opts.responseTimeoutMs} ms`, mutation: f.mutation, frameHex: f.bytes.subarray(0, 2048).toString('hex') });
          conn.destroy();
        } else if (f.silent) {
          report.silent++;
          if (outcome.frame.readInt32BE(0) !== PROBE_ID) {
            fail({ kind: 'unexpected-response', detail: 'a Produce with acks=0 was answered', mutation: f.mutation, frameHex: f.bytes.subarray(0, 2048).toString('hex') });
            conn.destroy();
          }
        } else {
          report.responses++;
          const problem = checkResponse(f, outcome.frame, advertisedBy);
          if (problem) {
            fail({ kind: 'bad-response', detail: problem, mutation: f.mutation, frameHex: f.bytes.subarray(0, 2048).toString('hex') });
            conn.destroy();
          }
        }
        if (Date.now() - lastProgress > 5000) {
          lastProgress = Date.now();
          const s = (lastProgress - started) / 1000;
          progress(`${report.frames} frames, ${Math.round(report.frames / s)}/s, ${report.closes} closes, rss ${Math.round(report.rssMaxBytes / 2 ** 20)} MiB max, ${failures.length} failures`);
        }
        if (!alive(target.pid)) {
          fail({ kind: 'dead', detail: 'broker process exited', mutation: f.mutation, frameHex: f.bytes.subarray(0, 2048).toString('hex') });
          break;
        }
      }
    } finally {
      conn?.destroy();
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  report.seconds = (Date.now() - started) / 1000;
  report.framesPerSecond = Math.round(report.frames / report.seconds);

  if (alive(target.pid)) {
    const late = await lateCompaction(target.port).catch((err: Error) => err.message);
    if (late) fail({ kind: 'late-compact', detail: late });
    await timestampLookups(target.port).catch((err: Error) => fail({ kind: 'hang', detail: `timestamp lookups: ${err.message}` }));
    // Give the cleaner (backoff 500 ms) passes over the newly compacted topic.
    const until = Date.now() + (opts.cleanerWaitMs ?? 30_000);
    while (Date.now() < until && !/batches kept whole[^\n]*fuzz-late-compact/.test(target.logs())) await new Promise((r) => setTimeout(r, 500));
    report.cleanerKeptUnreadable = /batches kept whole[^\n]*fuzz-late-compact/.test(target.logs());
  }
  clearInterval(sampler);
  report.rssMaxBytes = Math.max(report.rssMaxBytes, rssOf(target.pid));
  if (!alive(target.pid)) fail({ kind: 'dead', detail: 'broker process exited' });
  else {
    const problem = await answersApiVersions(target.port);
    if (problem) fail({ kind: 'dead', detail: `no ApiVersions answer after the run: ${problem}` });
    else {
      const c = await WireClient.connect(target.port);
      try {
        const after = await readTopic(c, CANARY);
        if (!after.equals(canary)) fail({ kind: 'canary', detail: `canary topic changed: ${canary.length} bytes before, ${after.length} after` });
      } finally {
        c.close();
      }
    }
  }
  if (report.rssMaxBytes > opts.maxRssBytes) fail({ kind: 'rss', detail: `RSS reached ${report.rssMaxBytes} bytes (bound ${opts.maxRssBytes})` });
  const parentAfter = fs.readdirSync(path.dirname(target.dataDir)).sort();
  const stray = parentAfter.filter((n) => !parentBefore.includes(n));
  if (stray.length > 0) fail({ kind: 'stray-file', detail: `created outside the data dir: ${stray.join(', ')}` });
  report.handlerErrors = handlerErrors(target.logs());
  return report;
}

export function formatReport(r: FuzzReport): string {
  const lines = [
    `frames: ${r.frames} in ${r.seconds.toFixed(1)} s (${r.framesPerSecond}/s): ${r.responses} answered, ${r.closes} closed, ${r.silent} acks=0; ${r.reconnects} reconnects`,
    `broker RSS: ${Math.round(r.rssStartBytes / 2 ** 20)} MiB at start, ${Math.round(r.rssMaxBytes / 2 ** 20)} MiB max`,
    `mutations: ${Object.entries(r.mutations).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `batch mutations: ${Object.entries(r.batchMutations).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `cleaner kept unreadable batches of the late-compacted topic whole: ${r.cleanerKeptUnreadable ? 'yes' : 'not seen'}`,
    `handler exceptions logged: ${Object.keys(r.handlerErrors).length === 0 ? 'none' : ''}`,
    ...Object.entries(r.handlerErrors).map(([k, v]) => `  ${v}x ${k.slice(0, 300)}`),
    `failures: ${r.failures.length === 0 ? 'none' : ''}`,
    ...r.failures.map((f) => `  ${f.kind}: ${f.detail}${f.mutation ? ` [${f.mutation}]` : ''}${f.frameHex ? `\n    frame ${f.frameHex.slice(0, 400)}` : ''}`),
  ];
  return lines.join('\n');
}
