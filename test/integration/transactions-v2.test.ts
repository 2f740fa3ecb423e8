/**
 * Transactions V2 (KIP-890 part 2) end to end with a raw client, since no installed client
 * speaks it: with transaction.version 2 finalized, Produce v12 adds its partition to the
 * transaction, EndTxn v5 bumps the epoch and returns it, retries get the same answer, and a
 * zombie with the old epoch is fenced. Older request versions keep transactions V1, and so
 * does every client once transaction.version is downgraded below 2.
 */
import * as fs from 'fs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch, decodeBatchValues } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';

const TRANSACTIONAL = 0x10;
const CONTROL = 0x20;

describe('transactions V2 through a real broker (raw client)', () => {
  let broker: BrokerProcess;
  let c: RawClient;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    c = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    c?.close();
    await broker?.stop();
    if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  });

  const createTopic = async (name: string) => {
    const r = await c.request(19, 4, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(r.body.topics[0].errorCode).toBe(0);
  };
  const init = async (transactionalId: string) => {
    const r = await c.request(22, 5, { transactionalId, transactionTimeoutMs: 60000, producerId: -1, producerEpoch: -1 });
    expect(r.body.errorCode).toBe(0);
    return { producerId: r.body.producerId as number, epoch: r.body.producerEpoch as number };
  };
  const produce = async (version: number, topic: string, transactionalId: string, pid: number, epoch: number, seq: number, values: string[]) => {
    const records = buildBatch(values.map((value) => ({ value })), { producerId: pid, producerEpoch: epoch, baseSequence: seq, attributes: TRANSACTIONAL });
    const r = await c.request(0, version, { transactionalId, acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    return r.body.responses[0].partitionResponses[0].errorCode as number;
  };
  const endTxn = async (version: number, transactionalId: string, pid: number, epoch: number, committed: boolean) =>
    (await c.request(26, version, { transactionalId, producerId: pid, producerEpoch: epoch, committed })).body as { errorCode: number; producerId: number; producerEpoch: number };
  /** The data values a fetch at the isolation level returns (aborted ones left out under read_committed). */
  const read = async (topic: string, isolationLevel: number) => {
    const values: string[] = [];
    let fetchOffset = 0;
    for (;;) {
      const r = await c.request(1, 11, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset, logStartOffset: -1, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1 }] }],
        forgottenTopicsData: [], rackId: '',
      });
      const p = r.body.responses[0].partitions[0];
      const aborted: { producerId: number; firstOffset: number }[] = p.abortedTransactions ?? [];
      const buf: Buffer = p.records ?? Buffer.alloc(0);
      if (buf.length < 12) return { values, lastStableOffset: p.lastStableOffset as number, highWatermark: p.highWatermark as number };
      for (let pos = 0; pos + 12 <= buf.length; pos += 12 + buf.readInt32BE(pos + 8)) {
        const base = Number(buf.readBigInt64BE(pos));
        fetchOffset = base + buf.readInt32BE(pos + 23) + 1;
        if (buf.readInt16BE(pos + 21) & CONTROL) continue;
        const pid = Number(buf.readBigInt64BE(pos + 43));
        if (isolationLevel === 1 && aborted.some((a) => a.producerId === pid && a.firstOffset <= base)) continue;
        for (const v of decodeBatchValues(buf, pos)) values.push(v.value ?? '');
      }
    }
  };
  const transactionVersion = async () => {
    const r = await c.request(18, 4, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' });
    return r.body.finalizedFeatures.find((f: { name: string }) => f.name === 'transaction.version')?.maxVersionLevel ?? 0;
  };

  test('Produce v12 adds the partition, EndTxn v5 bumps the epoch, read_committed sees commits only, zombies are fenced', async () => {
    expect(await transactionVersion()).toBe(2);
    await createTopic('tv2');
    const { producerId: pid, epoch: e0 } = await init('tv2-txn');

    // No AddPartitionsToTxn: the broker adds the partition itself.
    expect(await produce(12, 'tv2', 'tv2-txn', pid, e0, 0, ['a', 'b'])).toBe(ErrorCode.NONE);
    let view = await read('tv2', 1);
    expect(view.values).toEqual([]);
    expect(view.lastStableOffset).toBe(0);
    expect((await read('tv2', 0)).values).toEqual(['a', 'b']);

    const commit = await endTxn(5, 'tv2-txn', pid, e0, true);
    expect(commit).toEqual({ throttleTimeMs: 0, errorCode: 0, producerId: pid, producerEpoch: e0 + 1 });
    view = await read('tv2', 1);
    expect(view.values).toEqual(['a', 'b']);
    expect(view.lastStableOffset).toBe(view.highWatermark);
    // A retry with the epoch it was sent with gets the same answer.
    expect(await endTxn(5, 'tv2-txn', pid, e0, true)).toMatchObject({ errorCode: 0, producerId: pid, producerEpoch: e0 + 1 });
    // The old epoch is fenced on the partition (the commit marker carried the new one).
    expect(await produce(12, 'tv2', 'tv2-txn', pid, e0, 2, ['zombie'])).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);

    // The next transaction runs at the new epoch, sequences from 0; abort bumps again.
    expect(await produce(12, 'tv2', 'tv2-txn', pid, e0 + 1, 0, ['c'])).toBe(ErrorCode.NONE);
    const abort = await endTxn(5, 'tv2-txn', pid, e0 + 1, false);
    expect(abort).toMatchObject({ errorCode: 0, producerId: pid, producerEpoch: e0 + 2 });
    expect((await read('tv2', 1)).values).toEqual(['a', 'b']);
    expect((await read('tv2', 0)).values).toEqual(['a', 'b', 'c']);
    // A zombie two epochs back is fenced at EndTxn, and a commit after an abort is refused.
    expect((await endTxn(5, 'tv2-txn', pid, e0, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await endTxn(5, 'tv2-txn', pid, e0 + 2, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    // Aborting with nothing open still bumps the epoch (V2 lets a producer always abort).
    expect(await endTxn(5, 'tv2-txn', pid, e0 + 2, false)).toMatchObject({ errorCode: 0, producerEpoch: e0 + 3 });

    // InitProducerId in the middle of a V2 transaction fences it and aborts its records.
    expect(await produce(12, 'tv2', 'tv2-txn', pid, e0 + 3, 0, ['open'])).toBe(ErrorCode.NONE);
    const fresh = await init('tv2-txn');
    expect(fresh.epoch).toBeGreaterThan(e0 + 3);
    expect(await produce(12, 'tv2', 'tv2-txn', pid, e0 + 3, 1, ['late'])).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    expect((await endTxn(5, 'tv2-txn', pid, e0 + 3, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect((await read('tv2', 1)).values).toEqual(['a', 'b']);
  });

  test('TxnOffsetCommit v5 adds the group offsets partition itself; the offsets show once the transaction commits', async () => {
    await createTopic('tv2-offsets');
    const { producerId: pid, epoch } = await init('tv2-offsets-txn');
    const commitOffsets = (version: number, e: number) =>
      c.request(28, version, {
        transactionalId: 'tv2-offsets-txn', groupId: 'tv2-group', producerId: pid, producerEpoch: e, generationId: -1, memberId: '', groupInstanceId: null,
        topics: [{ name: 'tv2-offsets', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
    // v4 (V1) needs AddOffsetsToTxn first.
    expect((await commitOffsets(4, epoch)).body.topics[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
    expect((await commitOffsets(5, epoch)).body.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    const fetched = async () =>
      (await c.request(9, 1, { groupId: 'tv2-group', topics: [{ name: 'tv2-offsets', partitionIndexes: [0] }] })).body.topics[0].partitions[0].committedOffset as number;
    expect(await fetched()).toBe(-1);
    expect(await endTxn(5, 'tv2-offsets-txn', pid, epoch, true)).toMatchObject({ errorCode: 0, producerEpoch: epoch + 1 });
    expect(await fetched()).toBe(42);
    // A zombie's offsets are refused.
    expect((await commitOffsets(5, epoch)).body.topics[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  });

  test('older versions keep transactions V1: Produce v11 needs AddPartitionsToTxn, EndTxn v4 keeps the epoch', async () => {
    await createTopic('tv1');
    const { producerId: pid, epoch } = await init('tv1-txn');
    expect(await produce(11, 'tv1', 'tv1-txn', pid, epoch, 0, ['x'])).toBe(ErrorCode.INVALID_TXN_STATE);
    const add = await c.request(24, 3, { v3AndBelowTransactionalId: 'tv1-txn', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: 'tv1', partitions: [0] }] });
    expect(add.body.resultsByTopicV3AndBelow[0].resultsByPartition[0].partitionErrorCode).toBe(0);
    expect(await produce(11, 'tv1', 'tv1-txn', pid, epoch, 0, ['x'])).toBe(ErrorCode.NONE);
    expect((await endTxn(4, 'tv1-txn', pid, epoch, true)).errorCode).toBe(0);
    // Same epoch for the next transaction, as in V1.
    await c.request(24, 3, { v3AndBelowTransactionalId: 'tv1-txn', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: 'tv1', partitions: [0] }] });
    expect(await produce(11, 'tv1', 'tv1-txn', pid, epoch, 1, ['y'])).toBe(ErrorCode.NONE);
    expect((await endTxn(4, 'tv1-txn', pid, epoch, true)).errorCode).toBe(0);
    expect((await read('tv1', 1)).values).toEqual(['x', 'y']);
  });

  test('with transaction.version downgraded to 1, new versions get V1 too', async () => {
    const down = await c.request(57, 1, { timeoutMs: 5000, featureUpdates: [{ feature: 'transaction.version', maxVersionLevel: 1, upgradeType: 2 }], validateOnly: false });
    expect(down.body.errorCode).toBe(0);
    expect(await transactionVersion()).toBe(1);
    await createTopic('tv-down');
    const { producerId: pid, epoch } = await init('tv-down-txn');
    expect(await produce(12, 'tv-down', 'tv-down-txn', pid, epoch, 0, ['x'])).toBe(ErrorCode.INVALID_TXN_STATE);
    await c.request(24, 3, { v3AndBelowTransactionalId: 'tv-down-txn', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: 'tv-down', partitions: [0] }] });
    expect(await produce(12, 'tv-down', 'tv-down-txn', pid, epoch, 0, ['x'])).toBe(ErrorCode.NONE);
    // V1 at EndTxn v5: no epoch bump, and no producer id or epoch in the answer (-1), as Kafka answers.
    expect(await endTxn(5, 'tv-down-txn', pid, epoch, true)).toMatchObject({ errorCode: 0, producerId: -1, producerEpoch: -1 });
    await c.request(24, 3, { v3AndBelowTransactionalId: 'tv-down-txn', v3AndBelowProducerId: pid, v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: 'tv-down', partitions: [0] }] });
    expect(await produce(12, 'tv-down', 'tv-down-txn', pid, epoch, 1, ['y'])).toBe(ErrorCode.NONE);
    expect((await endTxn(5, 'tv-down-txn', pid, epoch, true)).errorCode).toBe(0);
    const up = await c.request(57, 1, { timeoutMs: 5000, featureUpdates: [{ feature: 'transaction.version', maxVersionLevel: 2, upgradeType: 1 }], validateOnly: false });
    expect(up.body.errorCode).toBe(0);
    expect(await transactionVersion()).toBe(2);
  });
});
