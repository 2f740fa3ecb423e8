/**
 * Log compaction in a real broker process, driven by kafkajs: many updates to few keys plus
 * tombstones end with the latest value per key at its original offset, tombstones vanish
 * after delete.retention.ms, and a broker killed with SIGKILL in the middle of a cleaning
 * restarts with an intact log. Also the Produce side of compacted topics (keys required) and
 * of compression.type (recompression) and LogAppendTime.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CompressionTypes, Kafka, logLevel, Admin, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { registerKafkajsCodecs } from '../helpers/kafkajs-codecs';
import { readPartition } from '../helpers/read-partition';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { readBatchHeader } from '../../src/protocol/record-batch';
import { ErrorCode } from '../../src/protocol/errors';

registerKafkajsCodecs();

const FAST = ['--override', 'log.cleaner.backoff.ms=100', '--override', 'log.retention.check.interval.ms=200'];

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Written {
  key: string;
  value: string | null;
}

/** Sends messages in batches and records what went to which offset. */
async function sendAll(producer: Producer, topic: string, messages: Written[], perBatch: number, written: Map<number, Written>, compression?: CompressionTypes) {
  for (let i = 0; i < messages.length; i += perBatch) {
    const chunk = messages.slice(i, i + perBatch);
    const [res] = await producer.send({ topic, compression, messages: chunk.map((m) => ({ key: m.key, value: m.value })) });
    const base = Number(res.baseOffset);
    chunk.forEach((m, j) => written.set(base + j, m));
  }
}

function latestByKey(written: Map<number, Written>): Map<string, { offset: number; value: string | null }> {
  const out = new Map<string, { offset: number; value: string | null }>();
  for (const [offset, m] of [...written.entries()].sort((a, b) => a[0] - b[0])) out.set(m.key, { offset, value: m.value });
  return out;
}

describe('log compaction through a real broker', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: FAST });
    kafka = new Kafka({ clientId: 'compaction-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  async function readAll(topic: string) {
    const [o] = await admin.fetchTopicOffsets(topic);
    const r = await readPartition(kafka, topic, 0, Number(o.low), Number(o.high));
    expect(r.errorCode).toBe(0);
    return r.messages.map((m) => ({ offset: Number(m.offset), key: m.key?.toString() ?? null, value: m.value === null ? null : m.value.toString() }));
  }

  test('many updates to few keys end with the latest value per key, original offsets, and tombstones removed after delete.retention.ms', async () => {
    const topic = 'compacted';
    await admin.createTopics({
      topics: [
        {
          topic,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: '4096' },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
            { name: 'delete.retention.ms', value: '1500' },
          ],
        },
      ],
    });
    const written = new Map<number, Written>();
    const updates: Written[] = [];
    for (let i = 0; i < 3000; i++) updates.push({ key: `key-${i % 20}`, value: `value-${i}-${'z'.repeat(i % 40)}` });
    await sendAll(producer, topic, updates, 25, written, CompressionTypes.GZIP);
    await sendAll(producer, topic, [{ key: 'key-3', value: null }, { key: 'key-7', value: null }], 2, written);
    // Enough other keys to push the tombstones out of the active segment.
    await sendAll(producer, topic, Array.from({ length: 100 }, (_, i) => ({ key: `filler-${i}`, value: 'f'.repeat(100) })), 10, written);
    const latest = latestByKey(written);

    // First the cleaner compacts the updates, keeping the tombstones (with a horizon).
    const compacted = await until(
      'compaction',
      () => readAll(topic),
      (records) => records.filter((r) => r.key?.startsWith('key-')).length <= 20,
    );
    for (const r of compacted) expect(written.get(r.offset)).toEqual({ key: r.key, value: r.value });
    for (const [key, want] of latest) {
      if (want.value === null) continue;
      expect(compacted).toContainEqual({ offset: want.offset, key, value: want.value });
    }
    // Then, once delete.retention.ms has passed, the tombstones go too.
    const final = await until(
      'tombstones to expire',
      () => readAll(topic),
      (records) => !records.some((r) => r.key === 'key-3' || r.key === 'key-7'),
    );
    const keys = final.map((r) => r.key);
    expect(keys.filter((k) => k?.startsWith('key-')).sort()).toEqual([...latest.keys()].filter((k) => k.startsWith('key-') && latest.get(k)!.value !== null).sort());
    for (const r of final) expect(written.get(r.offset)).toEqual({ key: r.key, value: r.value });
    const [o] = await admin.fetchTopicOffsets(topic);
    expect(Number(o.low)).toBe(0);
    expect(Number(o.high)).toBe(written.size);
  });

  test('compacted topics refuse records without a key (INVALID_RECORD)', async () => {
    await admin.createTopics({ topics: [{ topic: 'compacted-keys', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await expect(producer.send({ topic: 'compacted-keys', messages: [{ key: 'a', value: '1' }, { value: 'no key' }] })).rejects.toMatchObject({
      type: 'INVALID_RECORD',
    });
    await producer.send({ topic: 'compacted-keys', messages: [{ key: 'a', value: '1' }] });
  });

  test('compression.type recompresses batches to the topic codec; producer keeps them as sent', async () => {
    await admin.createTopics({
      topics: [
        { topic: 'to-zstd', configEntries: [{ name: 'compression.type', value: 'zstd' }] },
        { topic: 'to-plain', configEntries: [{ name: 'compression.type', value: 'uncompressed' }] },
        { topic: 'as-sent' },
      ],
    });
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `value ${i} ${'abc'.repeat(20)}`, headers: { h: `${i}` } }));
    for (const topic of ['to-zstd', 'to-plain', 'as-sent']) await producer.send({ topic, compression: CompressionTypes.GZIP, messages });
    const raw = await RawClient.connect(broker.port);
    try {
      const meta = await raw.request(3, 12, { topics: [{ name: 'to-zstd' }, { name: 'to-plain' }, { name: 'as-sent' }], allowAutoTopicCreation: false });
      const codecOf = async (name: string) => {
        const topicId = meta.body.topics.find((t: { name: string }) => t.name === name).topicId;
        const res = await raw.request(1, 13, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 1 << 20,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
        return readBatchHeader(res.body.responses[0].partitions[0].records, 0).compression;
      };
      expect(await codecOf('to-zstd')).toBe(4);
      expect(await codecOf('to-plain')).toBe(0);
      expect(await codecOf('as-sent')).toBe(1);
    } finally {
      raw.close();
    }
    for (const topic of ['to-zstd', 'to-plain', 'as-sent']) {
      const r = await readPartition(kafka, topic, 0, 0, 50);
      expect(r.messages.map((m) => [m.key?.toString(), m.value?.toString(), m.headers.h?.toString()])).toEqual(messages.map((m) => [m.key, m.value, m.headers.h]));
    }
  });

  test('LogAppendTime stamps the broker time; timestamp bounds apply to CreateTime topics only', async () => {
    await admin.createTopics({
      topics: [
        { topic: 'append-time', configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }, { name: 'message.timestamp.before.max.ms', value: '1000' }] },
        { topic: 'create-time-bounded', configEntries: [{ name: 'message.timestamp.before.max.ms', value: '1000' }] },
      ],
    });
    const old = String(Date.now() - 3_600_000);
    const before = Date.now();
    await producer.send({ topic: 'append-time', messages: [{ key: 'a', value: 'x', timestamp: old }] });
    const r = await readPartition(kafka, 'append-time', 0, 0, 1);
    expect(Number(r.messages[0].timestamp)).toBeGreaterThanOrEqual(before);
    await expect(producer.send({ topic: 'create-time-bounded', messages: [{ key: 'a', value: 'x', timestamp: old }] })).rejects.toMatchObject({ type: 'INVALID_TIMESTAMP' });
  });

  test('raw Produce with keyless records on a compacted topic: INVALID_RECORD naming exactly those records', async () => {
    const raw = await RawClient.connect(broker.port);
    try {
      const records = [{ key: 'k0', value: 'v' }, { key: null, value: 'v' }, { key: 'k2', value: 'v' }, { key: null, value: 'v' }];
      const res = await raw.request(0, 9, {
        transactionalId: null,
        acks: -1,
        timeoutMs: 5000,
        topicData: [{ name: 'compacted-keys', partitionData: [{ index: 0, records: buildBatch(records) }] }],
      });
      const why = 'Compacted topic cannot accept message without key in topic partition compacted-keys-0';
      expect(res.body.responses[0].partitionResponses[0]).toMatchObject({
        errorCode: ErrorCode.INVALID_RECORD,
        baseOffset: -1,
        recordErrors: [
          { batchIndex: 1, batchIndexErrorMessage: why },
          { batchIndex: 3, batchIndexErrorMessage: why },
        ],
        errorMessage:
          'One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: ' +
          `[RecordError(batchIndex=1, message='${why}'), RecordError(batchIndex=3, message='${why}')]`,
      });
    } finally {
      raw.close();
    }
  });

  test('raw Produce with records outside the timestamp bounds: INVALID_TIMESTAMP naming exactly those records', async () => {
    await admin.createTopics({ topics: [{ topic: 'ts-bounded', configEntries: [{ name: 'message.timestamp.before.max.ms', value: '60000' }, { name: 'message.timestamp.after.max.ms', value: '60000' }] }] });
    const raw = await RawClient.connect(broker.port);
    try {
      const now = Date.now();
      const produce = async (records: { key: string; value: string; timestamp: number }[]) =>
        (
          await raw.request(0, 9, {
            transactionalId: null,
            acks: -1,
            timeoutMs: 5000,
            topicData: [{ name: 'ts-bounded', partitionData: [{ index: 0, records: buildBatch(records) }] }],
          })
        ).body.responses[0].partitionResponses[0];
      // The header's baseTimestamp and maxTimestamp are both in bounds: only the records tell.
      const stale = now - 3_600_000;
      const p = await produce([
        { key: 'a', value: 'x', timestamp: now },
        { key: 'b', value: 'x', timestamp: stale },
        { key: 'c', value: 'x', timestamp: now },
      ]);
      expect(p).toMatchObject({ errorCode: ErrorCode.INVALID_TIMESTAMP, errorMessage: 'One or more records have been rejected due to invalid timestamp' });
      expect(p.recordErrors).toHaveLength(1);
      expect(p.recordErrors[0].batchIndex).toBe(1);
      expect(p.recordErrors[0].batchIndexErrorMessage).toMatch(new RegExp(String.raw`^Timestamp ${stale} of message with offset 1 is out of range\. The timestamp should be within \[\d+, \d+\]$`));
      // A future record and a stale one, through the header's maxTimestamp check.
      const q = await produce([
        { key: 'a', value: 'x', timestamp: now + 3_600_000 },
        { key: 'b', value: 'x', timestamp: now },
        { key: 'c', value: 'x', timestamp: stale },
      ]);
      expect(q.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
      expect(q.recordErrors.map((e: { batchIndex: number }) => e.batchIndex)).toEqual([0, 2]);
      const ok = await produce([{ key: 'a', value: 'x', timestamp: now }]);
      expect(ok).toMatchObject({ errorCode: ErrorCode.NONE, recordErrors: [], errorMessage: null });
    } finally {
      raw.close();
    }
  });
});

describe('a broker killed during a cleaning', () => {
  test('restarts with an intact log, and the cleaning completes afterwards', async () => {
    const dataDir = tempDataDir();
    // A slow cleaner (throttled I/O) so the kill lands in the middle of a cleaning.
    let broker = await startBrokerProcess({ dataDir, args: [...FAST, '--override', 'log.cleaner.io.max.bytes.per.second=2000000'] });
    let kafka = new Kafka({ clientId: 'crash-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = 'crashy';
    await admin.createTopics({
      topics: [
        {
          topic,
          configEntries: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'segment.bytes', value: String(256 * 1024) },
            { name: 'min.cleanable.dirty.ratio', value: '0.01' },
          ],
        },
      ],
    });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const written = new Map<number, Written>();
    const updates: Written[] = [];
    // Incompressible values, so that cleaning takes a while (about 4.5 MB to read twice).
    for (let i = 0; i < 30_000; i++) updates.push({ key: `key-${i % 500}`, value: `value-${i}-${crypto.randomBytes(75).toString('hex')}` });
    await sendAll(producer, topic, updates, 500, written, CompressionTypes.LZ4);
    await producer.disconnect();
    await admin.disconnect();
    const partitionDir = path.join(dataDir, `${topic}-0`);
    const cleaning = () => fs.readdirSync(partitionDir).some((f) => f.endsWith('.cleaned') || f === 'cleaner.swap');
    const deadline = Date.now() + 60_000;
    while (!cleaning()) {
      if (Date.now() > deadline) throw new Error('no cleaning started');
      await new Promise((r) => setTimeout(r, 5));
    }
    await broker.kill();
    // The kill interrupted a cleaning: its files are still there for recovery to deal with.
    expect(cleaning()).toBe(true);

    broker = await startBrokerProcess({ dataDir, args: FAST });
    kafka = new Kafka({ clientId: 'crash-test-2', brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin2 = kafka.admin();
    await admin2.connect();
    try {
      const check = async () => {
        const [o] = await admin2.fetchTopicOffsets(topic);
        expect(Number(o.high)).toBe(written.size);
        const r = await readPartition(kafka, topic, 0, Number(o.low), Number(o.high));
        expect(r.errorCode).toBe(0);
        const seen = new Map<string, { offset: number; value: string | null }>();
        let prev = -1;
        for (const m of r.messages) {
          const offset = Number(m.offset);
          expect(offset).toBeGreaterThan(prev);
          prev = offset;
          const w = written.get(offset);
          expect({ key: m.key?.toString(), value: m.value?.toString() }).toEqual(w);
          seen.set(w!.key, { offset, value: w!.value });
        }
        // Every key's latest value survives, at its offset.
        expect(seen).toEqual(latestByKey(written));
        // Records below the active segment: how many, and how many distinct keys.
        const activeBase = Math.max(...fs.readdirSync(partitionDir).filter((f) => f.endsWith('.log')).map((f) => Number(f.slice(0, 20))));
        const closed = r.messages.filter((m) => Number(m.offset) < activeBase);
        return { closed: closed.length, keys: new Set(closed.map((m) => m.key?.toString())).size };
      };
      await check();
      // The cleaner finishes its work after the restart: one record per key in closed segments.
      const done = await until('the cleaner to finish', () => check(), (c) => c.closed === c.keys, 60_000);
      expect(done.keys).toBeLessThanOrEqual(500);
      await until('no leftover cleaning files', async () => cleaning(), (v) => !v);
    } finally {
      await admin2.disconnect();
      await broker.stop();
    }
  });
});
