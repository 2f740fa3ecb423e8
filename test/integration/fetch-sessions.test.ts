/**
 * Fetch sessions (KIP-227) and the long poll with unknown partitions, on a real broker with a
 * raw client (kafkajs and librdkafka 2.0 always fetch without a session): session epoch 0
 * opens a session, incremental fetches carry only what changed and are answered with only
 * the partitions that have news, forgotten topics leave the session, and the session errors
 * are Kafka's. Records are produced with kafkajs.
 */
import { Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

const FETCH = 1;
const FETCH_SESSION_ID_NOT_FOUND = 70;
const INVALID_FETCH_SESSION_EPOCH = 71;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

interface PartitionFetch {
  partition: number;
  fetchOffset: number;
}

function fetchBody(opts: {
  sessionId: number;
  sessionEpoch: number;
  topics: { topic: string; partitions: PartitionFetch[] }[];
  forgotten?: { topic: string; partitions: number[] }[];
  maxWaitMs?: number;
  minBytes?: number;
}) {
  return {
    clusterId: null,
    replicaId: -1,
    replicaState: null,
    maxWaitMs: opts.maxWaitMs ?? 0,
    minBytes: opts.minBytes ?? 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: opts.sessionId,
    sessionEpoch: opts.sessionEpoch,
    topics: opts.topics.map((t) => ({
      topic: t.topic,
      topicId: '00000000-0000-0000-0000-000000000000',
      partitions: t.partitions.map((p) => ({
        partition: p.partition,
        currentLeaderEpoch: -1,
        fetchOffset: p.fetchOffset,
        lastFetchedEpoch: -1,
        logStartOffset: -1,
        partitionMaxBytes: 1 << 20,
        replicaDirectoryId: '00000000-0000-0000-0000-000000000000',
        highWatermark: -1,
      })),
    })),
    forgottenTopicsData: (opts.forgotten ?? []).map((t) => ({ topic: t.topic, topicId: '00000000-0000-0000-0000-000000000000', partitions: t.partitions })),
    rackId: '',
  };
}

/** topic:partition -> whether the response carried records, for the partitions it lists. */
function listed(body: any): Record<string, { records: boolean; highWatermark: number; errorCode: number }> {
  const out: Record<string, { records: boolean; highWatermark: number; errorCode: number }> = {};
  for (const t of body.responses) {
    for (const p of t.partitions) out[`${t.topic}:${p.partitionIndex}`] = { records: (p.records?.length ?? 0) > 0, highWatermark: Number(p.highWatermark), errorCode: p.errorCode };
  }
  return out;
}

describe('fetch sessions (KIP-227)', () => {
  let broker: BrokerProcess;
  let producer: Producer;
  let kafka: Kafka;
  const topic = 'sessions-a';
  const other = 'sessions-b';

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--override', 'max.incremental.fetch.session.cache.slots=2'] });
    kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }, { topic: other, numPartitions: 1 }] });
    await admin.disconnect();
    producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'a0', partition: 0 }, { value: 'a1', partition: 1 }] });
    await producer.send({ topic: other, messages: [{ value: 'b0', partition: 0 }] });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
  });

  test('a full fetch opens a session; incremental fetches answer only partitions with news', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const full = await c.request(FETCH, 12, fetchBody({
        sessionId: 0,
        sessionEpoch: 0,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0 }, { partition: 1, fetchOffset: 0 }] }, { topic: other, partitions: [{ partition: 0, fetchOffset: 0 }] }],
      }));
      const sessionId = full.body.sessionId;
      expect(sessionId).toBeGreaterThan(0);
      expect(Object.keys(listed(full.body)).sort()).toEqual([`${topic}:0`, `${topic}:1`, `${other}:0`]);

      // Epoch 1: the client moved its offsets past what it read; nothing new has arrived, so
      // after the long poll the answer lists no partition at all.
      const started = Date.now();
      const quiet = await c.request(FETCH, 12, fetchBody({
        sessionId,
        sessionEpoch: 1,
        maxWaitMs: 300,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 1 }, { partition: 1, fetchOffset: 1 }] }, { topic: other, partitions: [{ partition: 0, fetchOffset: 1 }] }],
      }));
      expect(quiet.body.errorCode).toBe(0);
      expect(quiet.body.sessionId).toBe(sessionId);
      expect(listed(quiet.body)).toEqual({});
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);

      // Epoch 2 sends no partitions (the session remembers the offsets); a produce to one
      // partition wakes the poll and only that partition comes back.
      const pending = c.request(FETCH, 12, fetchBody({ sessionId, sessionEpoch: 2, maxWaitMs: 5000, topics: [] }));
      await new Promise((r) => setTimeout(r, 100));
      await producer.send({ topic, messages: [{ value: 'a1-second', partition: 1 }] });
      const woken = await pending;
      expect(listed(woken.body)).toEqual({ [`${topic}:1`]: { records: true, highWatermark: 2, errorCode: 0 } });

      // Epoch 3 forgets the other topic and advances partition 1; a produce to the forgotten
      // topic is not reported, one to a session partition is.
      await producer.send({ topic: other, messages: [{ value: 'b1', partition: 0 }] });
      const afterForget = await c.request(FETCH, 12, fetchBody({
        sessionId,
        sessionEpoch: 3,
        maxWaitMs: 200,
        topics: [{ topic, partitions: [{ partition: 1, fetchOffset: 2 }] }],
        forgotten: [{ topic: other, partitions: [0] }],
      }));
      expect(listed(afterForget.body)).toEqual({});

      // A repeated epoch is refused; the session survives for the right one.
      const stale = await c.request(FETCH, 12, fetchBody({ sessionId, sessionEpoch: 3, topics: [] }));
      expect(stale.body.errorCode).toBe(INVALID_FETCH_SESSION_EPOCH);
      expect(stale.body.sessionId).toBe(0);
      const next = await c.request(FETCH, 12, fetchBody({ sessionId, sessionEpoch: 4, maxWaitMs: 0, topics: [] }));
      expect(next.body.errorCode).toBe(0);

      // Epoch -1 closes the session: the next incremental fetch does not find it.
      const closing = await c.request(FETCH, 12, fetchBody({ sessionId, sessionEpoch: -1, topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0 }] }] }));
      expect(closing.body.sessionId).toBe(0);
      expect(Object.keys(listed(closing.body))).toEqual([`${topic}:0`]);
      const gone = await c.request(FETCH, 12, fetchBody({ sessionId, sessionEpoch: 5, topics: [] }));
      expect(gone.body.errorCode).toBe(FETCH_SESSION_ID_NOT_FOUND);
    } finally {
      c.close();
    }
  });

  test('an unknown session id is FETCH_SESSION_ID_NOT_FOUND; sessionless full fetches get id 0', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const unknown = await c.request(FETCH, 12, fetchBody({ sessionId: 12345, sessionEpoch: 1, topics: [] }));
      expect(unknown.body.errorCode).toBe(FETCH_SESSION_ID_NOT_FOUND);
      const sessionless = await c.request(FETCH, 12, fetchBody({ sessionId: 0, sessionEpoch: -1, topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0 }] }] }));
      expect(sessionless.body.sessionId).toBe(0);
      expect(listed(sessionless.body)[`${topic}:0`].records).toBe(true);
    } finally {
      c.close();
    }
  });

  test('with the cache full, a larger session takes a smaller one\'s slot and a smaller one goes without', async () => {
    const c = await RawClient.connect(broker.port);
    try {
      const open = async (partitions: number) =>
        (await c.request(FETCH, 12, fetchBody({ sessionId: 0, sessionEpoch: 0, topics: [{ topic, partitions: Array.from({ length: partitions }, (_, i) => ({ partition: i, fetchOffset: 0 })) }] }))).body.sessionId as number;
      // Two slots (the broker's override). Sessions of earlier tests were closed.
      const one = await open(1);
      const two = await open(1);
      expect(one).toBeGreaterThan(0);
      expect(two).toBeGreaterThan(0);
      // Same size as the smallest: no slot, answered without a session.
      expect(await open(1)).toBe(0);
      // Larger: evicts one of the one-partition sessions.
      const big = await open(2);
      expect(big).toBeGreaterThan(0);
      const survivors = await Promise.all(
        [one, two].map(async (id) => (await c.request(FETCH, 12, fetchBody({ sessionId: id, sessionEpoch: 1, topics: [] }))).body.errorCode),
      );
      expect(survivors.sort()).toEqual([0, FETCH_SESSION_ID_NOT_FOUND]);
    } finally {
      c.close();
    }
  });
});

describe('long poll next to unknown partitions', () => {
  let broker: BrokerProcess;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  test('an unknown topic or partition answers its error but the known partition still waits for data', async () => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'known', numPartitions: 1 }] });
    await admin.disconnect();
    const c = await RawClient.connect(broker.port);
    try {
      const body = fetchBody({
        sessionId: 0,
        sessionEpoch: -1,
        maxWaitMs: 600,
        topics: [
          { topic: 'known', partitions: [{ partition: 0, fetchOffset: 0 }, { partition: 7, fetchOffset: 0 }] },
          { topic: 'no-such-topic', partitions: [{ partition: 0, fetchOffset: 0 }] },
        ],
      });
      const started = Date.now();
      const r = await c.request(FETCH, 12, body);
      expect(Date.now() - started).toBeGreaterThanOrEqual(500);
      const parts = listed(r.body);
      expect(parts['known:7'].errorCode).toBe(UNKNOWN_TOPIC_OR_PARTITION);
      expect(parts['no-such-topic:0'].errorCode).toBe(UNKNOWN_TOPIC_OR_PARTITION);
      expect(parts['known:0']).toEqual({ records: false, highWatermark: 0, errorCode: 0 });

      // Data arriving during the wait still answers it at once.
      const producer = kafka.producer();
      await producer.connect();
      const pending = c.request(FETCH, 12, { ...body, maxWaitMs: 10000 });
      await new Promise((res) => setTimeout(res, 100));
      const sent = Date.now();
      await producer.send({ topic: 'known', messages: [{ value: 'x' }] });
      const woken = await pending;
      expect(Date.now() - sent).toBeLessThan(5000);
      expect(listed(woken.body)['known:0'].records).toBe(true);
      await producer.disconnect();

      // Only unknown partitions: nothing to wait for, answered at once.
      const onlyUnknown = Date.now();
      await c.request(FETCH, 12, fetchBody({ sessionId: 0, sessionEpoch: -1, maxWaitMs: 5000, topics: [{ topic: 'no-such-topic', partitions: [{ partition: 0, fetchOffset: 0 }] }] }));
      expect(Date.now() - onlyUnknown).toBeLessThan(2500);
    } finally {
      c.close();
    }
  });
});
