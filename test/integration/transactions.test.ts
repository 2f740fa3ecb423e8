/**
 * kafkajs transactions against a real broker process: commits, aborts, sendOffsets (offsets
 * visible to the group only on commit), idempotent sends, fencing by a newer instance, a
 * transaction (data and offsets) that survives a broker restart; and through the raw client:
 * Produce's sequence and transaction checks, Fetch's last stable offset and aborted
 * transactions, ListOffsets by isolation level, and the transaction admin APIs
 * (DescribeTransactions, ListTransactions, DescribeProducers, AddPartitionsToTxn v4
 * verification, WriteTxnMarkers).
 */
import { Admin, Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';
import { TRANSACTIONAL_MASK } from '../../src/protocol/record-batch';

let broker: BrokerProcess;
let kafka: Kafka;
let admin: Admin;
const producers: Producer[] = [];

beforeAll(async () => {
  broker = await startBrokerProcess();
  kafka = new Kafka({ clientId: 'txn-test', brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  for (const p of producers) await p.disconnect().catch(() => undefined);
  await admin?.disconnect();
  await broker?.stop();
});

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions }], waitForLeaders: true });
}

async function txnProducer(transactionalId: string): Promise<Producer> {
  const p = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1, transactionTimeout: 30000 });
  producers.push(p);
  await p.connect();
  return p;
}

let groupSeq = 0;

/** Reads `topic` from the start with a fresh consumer group until `expected` messages arrived (and a little longer, to catch extras). */
async function readAll(topic: string, expected: number, readUncommitted: boolean): Promise<{ partition: number; offset: number; value: string }[]> {
  const consumer = kafka.consumer({ groupId: `txn-reader-${++groupSeq}`, readUncommitted, maxWaitTimeInMs: 100 });
  const got: { partition: number; offset: number; value: string }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        got.push({ partition, offset: Number(message.offset), value: String(message.value) });
      },
    });
    const deadline = Date.now() + 20000;
    while (got.length < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    await consumer.disconnect();
  }
  return got.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

const msgs = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ value: `${prefix}-${i}` }));

test('a committed transaction is read by read_committed consumers, in order, on every partition', async () => {
  await createTopic('kjs-txn-commit', 2);
  const p = await txnProducer('kjs-commit');
  const txn = await p.transaction();
  await txn.send({ topic: 'kjs-txn-commit', messages: msgs('a', 10).map((m, i) => ({ ...m, partition: i % 2 })) });
  await txn.send({ topic: 'kjs-txn-commit', messages: msgs('b', 10).map((m, i) => ({ ...m, partition: i % 2 })) });
  await txn.commit();
  const got = await readAll('kjs-txn-commit', 20, false);
  expect(got.filter((m) => m.partition === 0).map((m) => m.value)).toEqual([...msgs('a', 10), ...msgs('b', 10)].filter((_, i) => i % 2 === 0).map((m) => m.value));
  expect(got).toHaveLength(20);
});

test('an aborted transaction is invisible to read_committed consumers and visible to read_uncommitted ones', async () => {
  await createTopic('kjs-txn-abort');
  const p = await txnProducer('kjs-abort');
  const t1 = await p.transaction();
  await t1.send({ topic: 'kjs-txn-abort', messages: msgs('aborted', 5) });
  await t1.abort();
  const t2 = await p.transaction();
  await t2.send({ topic: 'kjs-txn-abort', messages: msgs('committed', 5) });
  await t2.commit();
  const committed = await readAll('kjs-txn-abort', 5, false);
  expect(committed.map((m) => m.value)).toEqual(msgs('committed', 5).map((m) => m.value));
  const all = await readAll('kjs-txn-abort', 10, true);
  expect(all.map((m) => m.value)).toEqual([...msgs('aborted', 5), ...msgs('committed', 5)].map((m) => m.value));
  // Offsets 5 and 11 are the two markers: the client skips them.
  expect(all.map((m) => m.offset)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9, 10]);
  const [{ high, offset }] = await admin.fetchTopicOffsets('kjs-txn-abort');
  expect([high, offset]).toEqual(['12', '12']);
});

test('sendOffsets: the group sees the offsets only when the transaction commits', async () => {
  await createTopic('kjs-txn-offsets-in');
  await createTopic('kjs-txn-offsets-out');
  const p = await txnProducer('kjs-offsets');
  const committedOffset = async () => {
    const [t] = await admin.fetchOffsets({ groupId: 'kjs-offsets-group', topics: ['kjs-txn-offsets-in'] });
    return t.partitions[0].offset;
  };
  const aborted = await p.transaction();
  await aborted.send({ topic: 'kjs-txn-offsets-out', messages: msgs('x', 3) });
  await aborted.sendOffsets({ consumerGroupId: 'kjs-offsets-group', topics: [{ topic: 'kjs-txn-offsets-in', partitions: [{ partition: 0, offset: '3' }] }] });
  expect(await committedOffset()).toBe('-1');
  await aborted.abort();
  expect(await committedOffset()).toBe('-1');
  const txn = await p.transaction();
  await txn.send({ topic: 'kjs-txn-offsets-out', messages: msgs('y', 3) });
  await txn.sendOffsets({ consumerGroupId: 'kjs-offsets-group', topics: [{ topic: 'kjs-txn-offsets-in', partitions: [{ partition: 0, offset: '7' }] }] });
  expect(await committedOffset()).toBe('-1');
  await txn.commit();
  expect(await committedOffset()).toBe('7');
  expect((await readAll('kjs-txn-offsets-out', 3, false)).map((m) => m.value)).toEqual(msgs('y', 3).map((m) => m.value));
});

test('an idempotent producer writes each message once', async () => {
  await createTopic('kjs-idempotent');
  const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  producers.push(p);
  await p.connect();
  for (let i = 0; i < 5; i++) await p.send({ topic: 'kjs-idempotent', messages: msgs(`i${i}`, 4) });
  const [{ high }] = await admin.fetchTopicOffsets('kjs-idempotent');
  expect(high).toBe('20');
});

test('a producer fenced by a newer instance with the same transactional id cannot commit', async () => {
  await createTopic('kjs-txn-fenced');
  const zombie = await txnProducer('kjs-fenced');
  const old = await zombie.transaction();
  await old.send({ topic: 'kjs-txn-fenced', messages: msgs('zombie', 2) });
  const fresh = await txnProducer('kjs-fenced'); // InitProducerId: bumps the epoch, aborts the zombie's transaction
  const txn = await fresh.transaction();
  await txn.send({ topic: 'kjs-txn-fenced', messages: msgs('fresh', 2) });
  await txn.commit();
  await expect(old.commit()).rejects.toMatchObject({ type: expect.stringMatching(/INVALID_PRODUCER_EPOCH|PRODUCER_FENCED/) });
  expect((await readAll('kjs-txn-fenced', 2, false)).map((m) => m.value)).toEqual(msgs('fresh', 2).map((m) => m.value));
});

describe('Produce, Fetch and ListOffsets with producer ids (raw client)', () => {
  let c: RawClient;
  beforeAll(async () => {
    c = await RawClient.connect(broker.port);
  });
  afterAll(() => c.close());

  const batch = (producerId: number, epoch: number, seq: number, values: string[], txn = false) =>
    buildBatch(values.map((v) => ({ value: v })), { producerId, producerEpoch: epoch, baseSequence: seq, attributes: txn ? TRANSACTIONAL_MASK : 0 });
  const produce = async (topic: string, records: Buffer, transactionalId: string | null = null) => {
    const r = await c.request(0, 8, { transactionalId, acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    const p = r.body.responses[0].partitionResponses[0];
    return { errorCode: p.errorCode as number, baseOffset: p.baseOffset as number };
  };
  const fetch = async (topic: string, isolationLevel: number, fetchOffset = 0) => {
    const r = await c.request(1, 11, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset, logStartOffset: -1, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    return r.body.responses[0].partitions[0];
  };
  const latest = async (topic: string, isolationLevel: number) => {
    const r = await c.request(2, 5, { replicaId: -1, isolationLevel, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
    return r.body.topics[0].partitions[0].offset as number;
  };

  test('sequence checks: a retried batch gets its first offset back and is not stored twice; gaps and old epochs are refused', async () => {
    await createTopic('raw-idem');
    const init = await c.request(22, 1, { transactionalId: null, transactionTimeoutMs: 0 });
    const pid = init.body.producerId;
    expect(await produce('raw-idem', batch(pid, 0, 0, ['a', 'b']))).toEqual({ errorCode: 0, baseOffset: 0 });
    expect(await produce('raw-idem', batch(pid, 0, 2, ['c']))).toEqual({ errorCode: 0, baseOffset: 2 });
    expect(await produce('raw-idem', batch(pid, 0, 0, ['a', 'b']))).toEqual({ errorCode: 0, baseOffset: 0 });
    expect((await produce('raw-idem', batch(pid, 0, 5, ['x']))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    expect(await produce('raw-idem', batch(pid, 1, 0, ['d']))).toEqual({ errorCode: 0, baseOffset: 3 });
    expect((await produce('raw-idem', batch(pid, 0, 3, ['y']))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect(await latest('raw-idem', 0)).toBe(4);
  });

  test('transactional batches need the partition in an ongoing transaction (KIP-890); read_committed stops at the LSO and lists aborted transactions', async () => {
    await createTopic('raw-lso');
    const init = await c.request(22, 1, { transactionalId: 'raw-lso-txn', transactionTimeoutMs: 60000 });
    const { producerId: pid, producerEpoch: epoch } = init.body;
    // Not added to the transaction yet: refused, nothing stored.
    expect((await produce('raw-lso', batch(pid, epoch, 0, ['early'], true), 'raw-lso-txn')).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const add = () =>
      c.request(24, 1, { v3AndBelowTransactionalId: 'raw-lso-txn', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: 'raw-lso', partitions: [0] }] });
    const end = (committed: boolean) => c.request(26, 1, { transactionalId: 'raw-lso-txn', producerId: pid, producerEpoch: epoch, committed });
    await produce('raw-lso', batch(-1, -1, -1, ['plain-0']));
    await add();
    expect(await produce('raw-lso', batch(pid, epoch, 0, ['t1-a', 't1-b'], true), 'raw-lso-txn')).toEqual({ errorCode: 0, baseOffset: 1 });
    await produce('raw-lso', batch(-1, -1, -1, ['plain-3']));
    let p = await fetch('raw-lso', 1);
    expect([p.highWatermark, p.lastStableOffset]).toEqual([4, 1]);
    expect(await latest('raw-lso', 1)).toBe(1);
    expect(await latest('raw-lso', 0)).toBe(4);
    expect((await fetch('raw-lso', 1, 1)).records.length).toBe(0);
    expect((await fetch('raw-lso', 0, 1)).records.length).toBeGreaterThan(0);
    expect((await end(false)).body.errorCode).toBe(0); // abort marker at 4
    await add();
    expect(await produce('raw-lso', batch(pid, epoch, 2, ['t2'], true), 'raw-lso-txn')).toEqual({ errorCode: 0, baseOffset: 5 });
    expect((await end(true)).body.errorCode).toBe(0); // commit marker at 6
    p = await fetch('raw-lso', 1);
    expect([p.highWatermark, p.lastStableOffset]).toEqual([7, 7]);
    expect(p.abortedTransactions).toEqual([{ producerId: pid, firstOffset: 1 }]);
    expect((await fetch('raw-lso', 1, 5)).abortedTransactions).toEqual([]);
    expect((await fetch('raw-lso', 0)).abortedTransactions).toBeNull();
    // After the transaction ended, a late transactional batch cannot reopen it.
    expect((await produce('raw-lso', batch(pid, epoch, 3, ['late'], true), 'raw-lso-txn')).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });
});

test('a transaction left open across a broker restart still commits its records and its offsets', async () => {
  const own = await startBrokerProcess();
  const client = new Kafka({ clientId: 'txn-restart', brokers: [own.address], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
  const ownAdmin = client.admin();
  let restarted: BrokerProcess | null = null;
  const p = client.producer({ transactionalId: 'kjs-restart', idempotent: true, maxInFlightRequests: 1 });
  try {
    await ownAdmin.connect();
    await ownAdmin.createTopics({ topics: [{ topic: 'kjs-restart' }], waitForLeaders: true });
    await p.connect();
    const txn = await p.transaction();
    await txn.send({ topic: 'kjs-restart', messages: msgs('before', 3) });
    await txn.sendOffsets({ consumerGroupId: 'kjs-restart-group', topics: [{ topic: 'kjs-restart', partitions: [{ partition: 0, offset: '42' }] }] });
    await own.kill(); // a crash: no snapshot written, state rebuilt from the logs
    restarted = await startBrokerProcess({ dataDir: own.dataDir, port: own.port });
    await txn.send({ topic: 'kjs-restart', messages: msgs('after', 2) });
    const [before] = await ownAdmin.fetchOffsets({ groupId: 'kjs-restart-group', topics: ['kjs-restart'] });
    expect(before.partitions[0].offset).toBe('-1');
    await txn.commit();
    const [after] = await ownAdmin.fetchOffsets({ groupId: 'kjs-restart-group', topics: ['kjs-restart'] });
    expect(after.partitions[0].offset).toBe('42');
    const [{ high }] = await ownAdmin.fetchTopicOffsets('kjs-restart');
    expect(high).toBe('6'); // 5 records and the commit marker
  } finally {
    await p.disconnect().catch(() => undefined);
    await ownAdmin.disconnect().catch(() => undefined);
    await restarted?.stop();
    await own.stop();
  }
});

describe('transaction admin APIs (raw client)', () => {
  let c: RawClient;
  beforeAll(async () => {
    c = await RawClient.connect(broker.port);
  });
  afterAll(() => c.close());

  test('DescribeTransactions, ListTransactions and DescribeProducers show an open transaction; EndTxn ends it; WriteTxnMarkers checks epochs', async () => {
    await createTopic('raw-txn');
    const init = await c.request(22, 4, { transactionalId: 'raw-txn-id', transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(init.body.errorCode).toBe(ErrorCode.NONE);
    const { producerId, producerEpoch } = init.body;
    const add = await c.request(24, 3, {
      v3AndBelowTransactionalId: 'raw-txn-id',
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: 'raw-txn', partitions: [0] }, { name: 'no-such-topic', partitions: [0] }],
    });
    expect(add.body.resultsByTopicV3AndBelow).toEqual([
      { name: 'raw-txn', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: ErrorCode.OPERATION_NOT_ATTEMPTED }] },
      { name: 'no-such-topic', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
    const verifyBefore = await c.request(24, 4, {
      transactions: [{ transactionalId: 'raw-txn-id', producerId, producerEpoch, verifyOnly: true, topics: [{ name: 'raw-txn', partitions: [0] }] }],
    });
    expect(verifyBefore.body.resultsByTransaction[0].topicResults[0].resultsByPartition[0].partitionErrorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const added = await c.request(24, 3, {
      v3AndBelowTransactionalId: 'raw-txn-id',
      v3AndBelowProducerId: producerId,
      v3AndBelowProducerEpoch: producerEpoch,
      v3AndBelowTopics: [{ name: 'raw-txn', partitions: [0] }],
    });
    expect(added.body.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(ErrorCode.NONE);
    const verify = await c.request(24, 5, {
      transactions: [{ transactionalId: 'raw-txn-id', producerId, producerEpoch, verifyOnly: true, topics: [{ name: 'raw-txn', partitions: [0, 1] }] }],
    });
    expect(verify.body.resultsByTransaction[0].topicResults[0].resultsByPartition).toEqual([
      { partitionIndex: 0, partitionErrorCode: ErrorCode.NONE },
      { partitionIndex: 1, partitionErrorCode: ErrorCode.INVALID_TXN_STATE },
    ]);

    const described = await c.request(65, 0, { transactionalIds: ['raw-txn-id', 'unknown-id'] });
    expect(described.body.transactionStates[0]).toMatchObject({
      errorCode: 0,
      transactionalId: 'raw-txn-id',
      transactionState: 'Ongoing',
      transactionTimeoutMs: 60000,
      producerId,
      producerEpoch,
      topics: [{ topic: 'raw-txn', partitions: [0] }],
    });
    expect(described.body.transactionStates[1].errorCode).toBe(ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
    const listed = await c.request(66, 2, { stateFilters: ['Ongoing', 'Bogus'], producerIdFilters: [], durationFilter: -1, transactionalIdPattern: 'raw-txn-.*' });
    expect(listed.body.unknownStateFilters).toEqual(['Bogus']);
    expect(listed.body.transactionStates).toEqual([{ transactionalId: 'raw-txn-id', producerId, transactionState: 'Ongoing' }]);

    // An EndTxn from an older epoch is fenced; the right one commits (no data: only markers).
    const stale = await c.request(26, 3, { transactionalId: 'raw-txn-id', producerId, producerEpoch: producerEpoch - 1, committed: true });
    expect(stale.body.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    const staleV1 = await c.request(26, 1, { transactionalId: 'raw-txn-id', producerId, producerEpoch: producerEpoch - 1, committed: true });
    expect(staleV1.body.errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    const end = await c.request(26, 3, { transactionalId: 'raw-txn-id', producerId, producerEpoch, committed: false });
    expect(end.body.errorCode).toBe(ErrorCode.NONE);
    const retry = await c.request(26, 3, { transactionalId: 'raw-txn-id', producerId, producerEpoch, committed: false });
    expect(retry.body.errorCode).toBe(ErrorCode.NONE);
    const wrong = await c.request(26, 3, { transactionalId: 'raw-txn-id', producerId, producerEpoch, committed: true });
    expect(wrong.body.errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    const after = await c.request(65, 0, { transactionalIds: ['raw-txn-id'] });
    expect(after.body.transactionStates[0]).toMatchObject({ transactionState: 'CompleteAbort', topics: [] });

    const producers = await c.request(61, 0, { topics: [{ name: 'raw-txn', partitionIndexes: [0, 7] }] });
    expect(producers.body.topics[0].partitions[0]).toMatchObject({
      partitionIndex: 0,
      errorCode: 0,
      activeProducers: [{ producerId, producerEpoch, currentTxnStartOffset: -1 }],
    });
    expect(producers.body.topics[0].partitions[1].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    // WriteTxnMarkers with an epoch older than the partition has seen is refused there.
    const markers = await c.request(27, 1, {
      markers: [{ producerId, producerEpoch: producerEpoch - 1, transactionResult: false, coordinatorEpoch: 0, topics: [{ name: 'raw-txn', partitionIndexes: [0] }, { name: 'nope', partitionIndexes: [0] }] }],
    });
    expect(markers.body.markers[0].topics).toEqual([
      { name: 'raw-txn', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.INVALID_PRODUCER_EPOCH }] },
      { name: 'nope', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
    ]);
  });

  test('InitProducerId: a new id without a transactional id; bad timeouts and stale epochs are refused', async () => {
    const a = await c.request(22, 2, { transactionalId: null, transactionTimeoutMs: 0 });
    const b = await c.request(22, 2, { transactionalId: null, transactionTimeoutMs: 0 });
    expect([a.body.errorCode, b.body.errorCode, a.body.producerEpoch]).toEqual([0, 0, 0]);
    expect(b.body.producerId).not.toBe(a.body.producerId);
    const tooLong = await c.request(22, 2, { transactionalId: 'raw-timeout', transactionTimeoutMs: 3_600_000 });
    expect(tooLong.body.errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const first = await c.request(22, 4, { transactionalId: 'raw-bump', transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 });
    const second = await c.request(22, 4, { transactionalId: 'raw-bump', transactionTimeoutMs: 1000, producerId: -1, producerEpoch: -1 });
    expect([second.body.producerId, second.body.producerEpoch]).toEqual([first.body.producerId, first.body.producerEpoch + 1]);
    // KIP-360: the current instance may bump its own epoch; a stale one is fenced.
    const resumed = await c.request(22, 4, { transactionalId: 'raw-bump', transactionTimeoutMs: 1000, producerId: second.body.producerId, producerEpoch: second.body.producerEpoch });
    expect(resumed.body.producerEpoch).toBe(second.body.producerEpoch + 1);
    const stale = await c.request(22, 4, { transactionalId: 'raw-bump', transactionTimeoutMs: 1000, producerId: first.body.producerId, producerEpoch: first.body.producerEpoch });
    expect(stale.body.errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  });
});
