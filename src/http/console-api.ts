/**
 * What the web console's JSON API answers, read straight from the broker's own objects
 * (topic manager, partition logs, producer state, group coordinator). Records are decoded
 * here only, for the message browser; Produce and Fetch never come here.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Broker } from '../broker';
import { ErrorCode, KafkaError, errorName } from '../protocol/errors';
import { BATCH_HEADER_SIZE, RECORDS_OFFSET, readBatchHeader, batchSizeAt } from '../protocol/record-batch';
import { readControlRecord, ControlType } from '../protocol/control-batch';
import { batchPayload, parseRecords } from '../storage/batch-records';
import { readFully } from '../storage/file-io';
import { TOPIC_CONFIGS } from '../cluster/topic-config';
import { topicNameError, type Topic } from '../cluster/topic-manager';
import { encodeRecordBatch } from '../coordinator/group/batch-codec';
import { CODEC_NAMES, decompressionLimit } from '../compression/codecs';

/** The group coordinator's modules load when the console first shows groups, not with the HTTP server. */
const groupCoordinatorOf = (broker: Broker) => (require('../coordinator/group') as typeof import('../coordinator/group')).groupCoordinator(broker.cluster);

/** An answer with an HTTP status and a JSON `{ error }` body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A 405 unless the request's method is one of `allowed`. */
export function allow(method: string | undefined, allowed: string[]): void {
  if (!allowed.includes(method ?? '')) throw new HttpError(405, `Method ${method} not allowed here; use ${allowed.join(' or ')}`);
}

export const VERSION: string = (() => {
  for (const p of [path.join(__dirname, '../../package.json'), path.join(__dirname, '../../../package.json')]) {
    try {
      return (JSON.parse(fs.readFileSync(p, 'utf8')) as { version: string }).version;
    } catch {
      // try the next layout (ts sources vs dist/)
    }
  }
  return 'unknown';
})();

let dirSizeCache: { at: number; dir: string; bytes: number } | null = null;

/** Bytes under the data dir; cached for a few seconds since the console polls. */
function dataDirBytes(dir: string): number {
  const now = Date.now();
  if (dirSizeCache && dirSizeCache.dir === dir && now - dirSizeCache.at < 5000) return dirSizeCache.bytes;
  let bytes = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return; // removed while walking (topic deletion)
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        try {
          bytes += fs.statSync(p).size;
        } catch {
          // gone since readdir
        }
      }
    }
  };
  walk(dir);
  dirSizeCache = { at: now, dir, bytes };
  return bytes;
}

export function overview(broker: Broker, throughput: unknown) {
  return {
    version: VERSION,
    clusterId: broker.clusterId,
    brokers: [{ nodeId: broker.node.id, host: broker.node.advertisedEndpoint(broker.boundListeners[0].name).host, port: broker.node.advertisedEndpoint(broker.boundListeners[0].name).port }],
    listeners: broker.boundListeners.map((l) => ({ name: l.name, securityProtocol: l.securityProtocol, host: l.host, port: l.boundPort })),
    http: broker.http ? { host: broker.http.host, port: broker.http.port } : null,
    uptimeMs: Date.now() - broker.startedAt,
    dataDir: path.resolve(broker.config.dataDir),
    dataDirBytes: dataDirBytes(broker.config.dataDir),
    topics: broker.cluster.topics.list().length,
    connections: broker.node.openConnections,
    throughput,
  };
}

function topicSummary(t: Topic) {
  let size = 0;
  let messages = 0;
  for (const p of t.partitions) {
    if (p.log.isClosed) continue;
    size += p.log.size;
    messages += p.log.logEndOffset - p.log.logStartOffset;
  }
  return { name: t.name, topicId: t.topicId, internal: t.isInternal, partitions: t.partitions.length, sizeBytes: size, offsets: messages };
}

export function topics(broker: Broker) {
  return broker.cluster.topics
    .list()
    .map(topicSummary)
    .sort((a, b) => a.name.localeCompare(b.name));
}

function topicOr404(broker: Broker, name: string): Topic {
  const err = topicNameError(name);
  if (err) throw new HttpError(400, err);
  const t = broker.cluster.topics.get(name);
  if (!t) throw new HttpError(404, `Topic '${name}' does not exist`);
  return t;
}

export function topic(broker: Broker, name: string) {
  const t = topicOr404(broker, name);
  return {
    ...topicSummary(t),
    partitionDetails: t.partitions.map((p) => ({
      partition: p.index,
      leader: broker.node.id,
      leaderEpoch: p.leaderEpoch,
      logStartOffset: p.log.logStartOffset,
      logEndOffset: p.log.logEndOffset,
      lastStableOffset: broker.cluster.producerStates.of(p.log).lastStableOffset,
      sizeBytes: p.log.size,
      segments: p.log.segmentCount,
    })),
    configs: TOPIC_CONFIGS.map((c) => ({ name: c.name, value: broker.cluster.topics.config(t, c.name), overridden: c.name in t.configs })),
  };
}

export function createTopic(broker: Broker, body: unknown) {
  const b = (body ?? {}) as { name?: unknown; partitions?: unknown; configs?: unknown };
  if (typeof b.name !== 'string') throw new HttpError(400, 'name (a string) is required');
  const partitions = b.partitions === undefined ? broker.config.numPartitions : Number(b.partitions);
  const configs: Record<string, string> = {};
  if (b.configs !== undefined) {
    if (typeof b.configs !== 'object' || b.configs === null || Array.isArray(b.configs)) throw new HttpError(400, 'configs must be an object of strings');
    for (const [k, v] of Object.entries(b.configs)) configs[k] = String(v);
  }
  try {
    const t = broker.cluster.topics.create(b.name, partitions, configs);
    return topicSummary(t as Topic);
  } catch (err) {
    if (err instanceof KafkaError) throw new HttpError(err.code === ErrorCode.TOPIC_ALREADY_EXISTS ? 409 : 400, `${errorName(err.code)}: ${err.message}`);
    throw err;
  }
}

export function deleteTopic(broker: Broker, name: string) {
  const t = topicOr404(broker, name);
  if (t.isInternal) throw new HttpError(400, `Topic '${name}' is internal and cannot be deleted here`);
  broker.cluster.topics.delete(t);
  return { deleted: name };
}

/** Appends one record (the console's "produce a test message" form) as an uncompressed batch. */
export function produce(broker: Broker, name: string, body: unknown) {
  const t = topicOr404(broker, name);
  if (t.isInternal) throw new HttpError(400, `Cannot append to internal topic ${name}`);
  const b = (body ?? {}) as { partition?: unknown; key?: unknown; value?: unknown };
  const index = b.partition === undefined || b.partition === '' ? 0 : Number(b.partition);
  const partition = Number.isInteger(index) ? t.partitions[index] : undefined;
  if (!partition) throw new HttpError(400, `Partition ${String(b.partition)} does not exist in ${name} (0-${t.partitions.length - 1})`);
  const key = b.key === undefined || b.key === null || b.key === '' ? null : Buffer.from(String(b.key));
  const value = b.value === undefined || b.value === null ? null : Buffer.from(String(b.value));
  if (key === null && broker.cluster.topics.config(t, 'cleanup.policy').includes('compact')) throw new HttpError(400, 'Compacted topics need a key on every record');
  const batch = encodeRecordBatch([{ key, value }], { timestamp: Date.now() });
  const r = partition.log.append(batch, partition.leaderEpoch);
  broker.cluster.waiters.notify(name, index);
  broker.cluster.metrics?.produced(name, 1, batch.length);
  return { topic: name, partition: index, offset: r.baseOffset };
}

export interface BrowseParams {
  offset?: string;
  timestamp?: string;
  newest?: string;
  limit?: string;
}

interface DecodedRecord {
  offset: number;
  timestamp: number;
  timestampType: 'CreateTime' | 'LogAppendTime';
  key: string | null;
  keyEncoding: 'text' | 'hex';
  value: string | null;
  valueEncoding: 'text' | 'json' | 'hex';
  headers: { key: string; value: string | null; valueEncoding: 'text' | 'hex' }[];
  compression: string;
  producerId: number;
  transactional: boolean;
  aborted: boolean;
  control: 'COMMIT' | 'ABORT' | 'UNKNOWN' | null;
  sizeBytes: number;
}

const MAX_LIMIT = 500;
const READ_CHUNK = 1024 * 1024;

function intParam(v: string, name: string): number {
  if (!/^-?\d+$/.test(v)) throw new HttpError(400, `${name} must be an integer, got '${v}'`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new HttpError(400, `${name} is out of range: ${v}`);
  return n;
}

/** Text when the bytes are valid UTF-8 without control characters, else hex; JSON is recognised and pretty-printed. */
function render(buf: Buffer, json: boolean): { text: string; encoding: 'text' | 'json' | 'hex' } {
  const s = buf.toString('utf8');
  const printable = Buffer.from(s, 'utf8').equals(buf) && !/[\u0000-\u0008\u000e-\u001f\u007f]/.test(s);
  if (!printable) return { text: buf.toString('hex'), encoding: 'hex' };
  if (json && /^\s*[[{"]/.test(s)) {
    try {
      return { text: JSON.stringify(JSON.parse(s), null, 2), encoding: 'json' };
    } catch {
      // not JSON after all
    }
  }
  return { text: s, encoding: 'text' };
}

function zigzagAt(buf: Buffer, pos: number): [number, number] {
  let raw = 0;
  let mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++];
    raw += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
}

function readHeaders(payload: Buffer, pos: number, end: number): DecodedRecord['headers'] {
  const out: DecodedRecord['headers'] = [];
  let count: number;
  [count, pos] = zigzagAt(payload, pos);
  for (let i = 0; i < count && pos < end; i++) {
    let kl: number;
    [kl, pos] = zigzagAt(payload, pos);
    const key = payload.toString('utf8', pos, pos + kl);
    pos += kl;
    let vl: number;
    [vl, pos] = zigzagAt(payload, pos);
    if (vl < 0) out.push({ key, value: null, valueEncoding: 'text' });
    else {
      const v = render(payload.subarray(pos, pos + vl), false);
      out.push({ key, value: v.text, valueEncoding: v.encoding === 'hex' ? 'hex' : 'text' });
      pos += vl;
    }
  }
  return out;
}

/**
 * Up to `limit` records of one partition from an offset, a timestamp or the newest ones, read
 * through PartitionLog.read (the file ranges Fetch would send) and decoded here.
 */
export async function browse(broker: Broker, name: string, partitionParam: string, q: BrowseParams) {
  const t = topicOr404(broker, name);
  const index = intParam(partitionParam, 'partition');
  const partition = t.partitions[index];
  if (!partition) throw new HttpError(404, `Partition ${index} does not exist in ${name} (it has ${t.partitions.length})`);
  const log = partition.log;
  const limit = q.limit === undefined ? 50 : intParam(q.limit, 'limit');
  if (limit < 1 || limit > MAX_LIMIT) throw new HttpError(400, `limit must be 1-${MAX_LIMIT}`);
  const start = log.logStartOffset;
  const end = log.logEndOffset;
  let from: number;
  const given = [q.offset, q.timestamp, q.newest].filter((x) => x !== undefined).length;
  if (given > 1) throw new HttpError(400, 'Give one of offset, timestamp or newest');
  if (q.timestamp !== undefined) {
    const found = log.offsetForTimestamp(intParam(q.timestamp, 'timestamp'));
    from = found ? found.offset : end;
  } else if (q.offset !== undefined) {
    from = intParam(q.offset, 'offset');
    if (from < start || from > end) throw new HttpError(416, `Offset ${from} is out of range: the partition holds ${start}-${end} (end exclusive)`);
  } else {
    from = Math.max(start, end - limit);
  }
  const producers = broker.cluster.producerStates.of(log);
  const records: DecodedRecord[] = [];
  let next = from;
  const timestampFilter = q.timestamp !== undefined ? Number(q.timestamp) : null;
  while (records.length < limit && next < end) {
    const r = log.read(next, READ_CHUNK, true);
    if (r.errorCode !== 0 || r.length === 0) break;
    const region = r.regions[0];
    const buf = Buffer.allocUnsafe(region.length);
    const got = readFully(region.fd, buf, 0, region.length, region.position);
    let pos = 0;
    let progressed = false;
    while (pos + BATCH_HEADER_SIZE <= got && records.length < limit) {
      const size = batchSizeAt(buf, pos);
      if (pos + size > got) break;
      const h = readBatchHeader(buf, pos);
      const batch = buf.subarray(pos, pos + size);
      pos += size;
      const lastOffset = h.baseOffset + h.lastOffsetDelta;
      if (lastOffset < next) continue;
      progressed = true;
      next = lastOffset + 1;
      const base = { producerId: h.producerId, transactional: h.isTransactional, compression: CODEC_NAMES[h.compression] ?? String(h.compression) };
      if (h.isControl) {
        const c = readControlRecord(batch, RECORDS_OFFSET);
        const control = c === null ? 'UNKNOWN' : c.type === ControlType.COMMIT ? 'COMMIT' : c.type === ControlType.ABORT ? 'ABORT' : 'UNKNOWN';
        records.push({ ...base, offset: h.baseOffset, timestamp: h.maxTimestamp, timestampType: h.timestampType ? 'LogAppendTime' : 'CreateTime', key: null, keyEncoding: 'text', value: null, valueEncoding: 'text', headers: [], aborted: false, control, sizeBytes: size });
        continue;
      }
      // A producer has one transaction at a time: an aborted one overlapping this batch is its own.
      const aborted = h.isTransactional && (producers.abortedTransactions(h.baseOffset, lastOffset + 1) ?? []).some((a) => a.producerId === h.producerId && a.firstOffset <= h.baseOffset);
      const payload = await batchPayload(batch, h, decompressionLimit(log.currentConfig.maxMessageBytes));
      for (const rec of parseRecords(payload, h.recordCount)) {
        const offset = h.baseOffset + rec.offsetDelta;
        const timestamp = h.timestampType ? h.maxTimestamp : h.baseTimestamp + rec.timestampDelta;
        if (offset < from || offset < start) continue;
        if (timestampFilter !== null && timestamp < timestampFilter) continue;
        if (records.length >= limit) break;
        const key = rec.keyStart < 0 ? null : render(payload.subarray(rec.keyStart, rec.keyStart + rec.keyLength), false);
        const value = rec.valueStart < 0 ? null : render(payload.subarray(rec.valueStart, rec.valueStart + rec.valueLength), true);
        const headers = readHeaders(payload, rec.valueStart < 0 ? valueNullEnd(payload, rec) : rec.valueStart + rec.valueLength, rec.end);
        records.push({
          ...base,
          offset,
          timestamp,
          timestampType: h.timestampType ? 'LogAppendTime' : 'CreateTime',
          key: key?.text ?? null,
          keyEncoding: key?.encoding === 'hex' ? 'hex' : 'text',
          value: value?.text ?? null,
          valueEncoding: value?.encoding ?? 'text',
          headers,
          aborted,
          control: null,
          sizeBytes: rec.end - rec.start,
        });
      }
    }
    if (!progressed) break;
  }
  return { topic: name, partition: index, from, logStartOffset: start, logEndOffset: end, next, records };
}

/** Where the headers start when the value is null: right after the value length varint (-1, one byte). */
function valueNullEnd(payload: Buffer, rec: { keyStart: number; keyLength: number; afterTimestamp: number }): number {
  let pos = rec.afterTimestamp;
  pos = zigzagAt(payload, pos)[1]; // offsetDelta
  pos = zigzagAt(payload, pos)[1]; // key length
  if (rec.keyStart >= 0) pos += rec.keyLength;
  return zigzagAt(payload, pos)[1]; // value length (-1)
}

// ---------------------------------------------------------------- consumer groups

/** A classic "consumer" protocol assignment: version int16, [topic string, [partition int32]], userData. */
function decodeAssignment(buf: Buffer): { topic: string; partitions: number[] }[] | null {
  try {
    let pos = 2;
    const n = buf.readInt32BE(pos);
    pos += 4;
    if (n < 0 || n > buf.length) return null;
    const out: { topic: string; partitions: number[] }[] = [];
    for (let i = 0; i < n; i++) {
      const len = buf.readInt16BE(pos);
      pos += 2;
      const topic = buf.toString('utf8', pos, pos + len);
      pos += len;
      const m = buf.readInt32BE(pos);
      pos += 4;
      if (m < 0 || m * 4 > buf.length - pos) return null;
      const partitions: number[] = [];
      for (let j = 0; j < m; j++, pos += 4) partitions.push(buf.readInt32BE(pos));
      out.push({ topic, partitions });
    }
    return out;
  } catch {
    return null;
  }
}

export function groups(broker: Broker) {
  const gc = groupCoordinatorOf(broker);
  return gc
    .listGroups([], [])
    .map((g) => {
      const group = gc.anyGroup(g.groupId);
      let lag = 0;
      for (const [t, byPartition] of group?.offsets ?? []) {
        for (const [p, o] of byPartition) {
          const log = broker.cluster.topics.partition(t, p)?.log;
          if (log && !log.isClosed) lag += Math.max(0, log.logEndOffset - o.offset);
        }
      }
      return { groupId: g.groupId, type: g.type, state: g.state, protocolType: g.protocolType, members: group?.members.size ?? 0, lag };
    })
    .sort((a, b) => a.groupId.localeCompare(b.groupId));
}

export function group(broker: Broker, groupId: string) {
  const gc = groupCoordinatorOf(broker);
  const g = gc.anyGroup(groupId);
  if (!g || (g.kind === 'classic' && g.is('Dead'))) throw new HttpError(404, `Group '${groupId}' does not exist`);
  const owner = new Map<string, string>();
  let members: { memberId: string; instanceId: string | null; clientId: string; clientHost: string; assignment: { topic: string; partitions: number[] }[] | null }[];
  if (g.kind === 'classic') {
    members = [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      instanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: g.protocolType === 'consumer' ? decodeAssignment(m.assignment) : null,
    }));
  } else if (g.kind === 'streams') {
    // Streams members hold tasks; the console shows the input partitions behind their active tasks.
    members = [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      assignment: [...m.assigned.active].flatMap(([s, ps]) => (g.configured?.inputTopics.get(s) ?? []).map((topic) => ({ topic, partitions: [...ps].sort((a, b) => a - b) }))),
    }));
  } else {
    members = [...g.members.values()].map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      // KIP-848 assignments are keyed by topic id.
      assignment: [...m.assigned].map(([id, ps]) => ({ topic: broker.cluster.topics.getById(id)?.name ?? id, partitions: [...ps].sort((a, b) => a - b) })),
    }));
  }
  for (const m of members) for (const a of m.assignment ?? []) for (const p of a.partitions) owner.set(`${a.topic}\u0000${p}`, m.memberId);
  const partitions: { topic: string; partition: number; committed: number | null; logEndOffset: number | null; lag: number | null; member: string | null }[] = [];
  const seen = new Set<string>();
  for (const [t, byPartition] of g.offsets) {
    for (const [p, o] of byPartition) {
      const log = broker.cluster.topics.partition(t, p)?.log;
      const endOffset = log && !log.isClosed ? log.logEndOffset : null;
      seen.add(`${t}\u0000${p}`);
      partitions.push({ topic: t, partition: p, committed: o.offset, logEndOffset: endOffset, lag: endOffset === null ? null : Math.max(0, endOffset - o.offset), member: owner.get(`${t}\u0000${p}`) ?? null });
    }
  }
  // Assigned partitions without a commit yet.
  for (const [k, member] of owner) {
    if (seen.has(k)) continue;
    const [t, p] = k.split('\u0000');
    const log = broker.cluster.topics.partition(t, Number(p))?.log;
    partitions.push({ topic: t, partition: Number(p), committed: null, logEndOffset: log && !log.isClosed ? log.logEndOffset : null, lag: null, member });
  }
  partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return {
    groupId,
    type: g.kind,
    state: g.state,
    protocolType: g.kind === 'classic' ? g.protocolType : 'consumer',
    protocol: g.kind === 'classic' ? g.protocolName : null,
    generation: g.kind === 'classic' ? g.generationId : null,
    members,
    partitions,
  };
}
