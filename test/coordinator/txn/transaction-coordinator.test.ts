/**
 * The transaction coordinator inside an in-process broker: the state machine of
 * InitProducerId / AddPartitionsToTxn / EndTxn, fencing, transaction timeouts, transactional
 * id expiration, and its durability in __transaction_state across restarts (including a
 * decision logged before its markers were written).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Broker, startBroker } from '../../../src/broker';
import { createLogger } from '../../../src/logging';
import { ErrorCode } from '../../../src/protocol/errors';
import { encodeRecordBatch } from '../../../src/coordinator/group/batch-codec';
import {
  decodeTxnLogKey,
  decodeTxnLogValue,
  encodeTxnLogKey,
  encodeTxnLogValue,
  TXN_STATE_TOPIC,
  TxnStatus,
} from '../../../src/coordinator/txn/txn-log-records';

const quiet = createLogger('silent');
let dir: string;
let broker: Broker;

async function start(): Promise<Broker> {
  broker = await startBroker({ port: 0, host: '127.0.0.1', dataDir: dir, logger: quiet });
  return broker;
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-txn-'));
  await start();
  broker.cluster.topics.create('t', 2, {});
});

afterEach(async () => {
  await broker.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function init(id = 'tx', expected: { producerId: number; producerEpoch: number } | null = null) {
  return broker.cluster.txn.initProducerId(id, 60000, expected);
}

function add(id: string, producerId: number, epoch: number, partitions = [0, 1]): number[] {
  const r = broker.cluster.txn.addPartitions(id, producerId, epoch, [{ name: 't', partitions }]);
  return [...r.get('t')!.values()];
}

test('TransactionLogValue v0 round trip; v1 (flexible, tagged fields) decodes', () => {
  const v = { producerId: 7, prevProducerId: -1, producerEpoch: 3, timeoutMs: 1000, status: TxnStatus.Ongoing, partitions: [{ topic: 'a', partitionIds: [0, 2] }], lastUpdateTimestamp: 5, startTimestamp: 4 };
  expect(decodeTxnLogValue(encodeTxnLogValue(v))).toEqual({ ...v, clientTransactionVersion: 0 });
  // A transactions V2 value is written as v1 with its client transaction version and previous producer id.
  const v2 = { ...v, prevProducerId: 6, clientTransactionVersion: 2 };
  const encoded = encodeTxnLogValue(v2);
  expect(encoded.readInt16BE(0)).toBe(1);
  expect(decodeTxnLogValue(encoded)).toEqual(v2);
  expect(decodeTxnLogKey(encodeTxnLogKey('my-id'))).toBe('my-id');
  // v1: compact array/strings, per-struct tags, then tag 0 (previousProducerId) at the end.
  const v1 = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 3, 0, 0, 3, 232, 1, 2, 2, 0x61, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 4, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 6]);
  expect(decodeTxnLogValue(v1)).toEqual({ ...v, prevProducerId: 6, partitions: [{ topic: 'a', partitionIds: [1] }], clientTransactionVersion: 0 });
});

test('epochs: a new transactional id starts at 0, every InitProducerId bumps and fences the previous instance', () => {
  const a = init();
  expect(a).toMatchObject({ errorCode: 0, producerEpoch: 0 });
  const b = init();
  expect(b).toEqual({ errorCode: 0, producerId: a.producerId, producerEpoch: 1 });
  expect(add('tx', a.producerId, 0)).toEqual([ErrorCode.PRODUCER_FENCED, ErrorCode.PRODUCER_FENCED]);
  expect(add('tx', a.producerId + 1000, 1)).toEqual([ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.INVALID_PRODUCER_ID_MAPPING]);
  expect(broker.cluster.txn.endTxn('tx', a.producerId, 1, true)).toBe(ErrorCode.INVALID_TXN_STATE); // Empty: nothing to end
  expect(broker.cluster.txn.initProducerId('', 1000, null).errorCode).toBe(ErrorCode.INVALID_REQUEST);
});

test('an InitProducerId while a transaction is open aborts it under a bumped epoch (markers written) and answers epoch + 2', () => {
  const a = init();
  expect(add('tx', a.producerId, 0)).toEqual([0, 0]);
  const b = init();
  expect(b.producerEpoch).toBe(2);
  const p0 = broker.cluster.topics.partition('t', 0)!;
  expect(p0.log.logEndOffset).toBe(1); // the abort marker
  const [producer] = broker.cluster.producerStates.of(p0.log).activeProducers();
  expect([producer.producerId, producer.epoch]).toEqual([a.producerId, 1]);
  expect(broker.cluster.txn.describe('tx')).toMatchObject({ state: TxnStatus.Empty, producerEpoch: 2 });
});

test('a transaction older than its timeout is aborted and its producer fenced', () => {
  const a = broker.cluster.txn.initProducerId('slow', 1000, null);
  add('slow', a.producerId, 0);
  broker.cluster.txn.abortTimedOutTransactions(Date.now() + 500);
  expect(broker.cluster.txn.describe('slow')!.state).toBe(TxnStatus.Ongoing);
  broker.cluster.txn.abortTimedOutTransactions(Date.now() + 1500);
  expect(broker.cluster.txn.describe('slow')).toMatchObject({ state: TxnStatus.CompleteAbort, producerEpoch: 1 });
  expect(broker.cluster.txn.endTxn('slow', a.producerId, 0, true)).toBe(ErrorCode.PRODUCER_FENCED);
});

test('idle transactional ids expire after transactional.id.expiration.ms (a tombstone in the log)', async () => {
  const a = init('old');
  broker.cluster.txn.removeExpiredTransactionalIds(Date.now() + broker.cluster.txn.config.transactionalIdExpirationMs + 1);
  expect(broker.cluster.txn.describe('old')).toBeNull();
  await broker.close();
  await start();
  expect(broker.cluster.txn.describe('old')).toBeNull();
  expect(init('old').producerId).not.toBe(a.producerId);
});

test('state survives a restart: an open transaction can still commit; producer ids are never reused', async () => {
  const a = init();
  add('tx', a.producerId, 0, [1]);
  await broker.close();
  await start();
  expect(broker.cluster.txn.describe('tx')).toMatchObject({ state: TxnStatus.Ongoing, producerId: a.producerId, producerEpoch: 0 });
  expect(broker.cluster.txn.endTxn('tx', a.producerId, 0, true)).toBe(ErrorCode.NONE);
  expect(broker.cluster.topics.partition('t', 1)!.log.logEndOffset).toBe(1);
  expect(broker.cluster.txn.initProducerId(null, 0, null).producerId).toBeGreaterThan(a.producerId);
});

test('a commit decided but not carried out before a stop is completed at start', async () => {
  const a = init();
  add('tx', a.producerId, 0, [0]);
  // Log PrepareCommit by hand, as if the broker stopped before writing the markers.
  const state = broker.cluster.topics.get(TXN_STATE_TOPIC)!.partitions[0];
  const value = encodeTxnLogValue({
    producerId: a.producerId,
    prevProducerId: -1,
    producerEpoch: 0,
    timeoutMs: 60000,
    status: TxnStatus.PrepareCommit,
    partitions: [{ topic: 't', partitionIds: [0] }],
    lastUpdateTimestamp: Date.now(),
    startTimestamp: Date.now(),
  });
  state.log.append(encodeRecordBatch([{ key: encodeTxnLogKey('tx'), value }], { timestamp: Date.now() }), 0);
  await broker.close();
  await start();
  expect(broker.cluster.txn.describe('tx')!.state).toBe(TxnStatus.CompleteCommit);
  expect(broker.cluster.topics.partition('t', 0)!.log.logEndOffset).toBe(1); // the commit marker
  expect(broker.cluster.txn.endTxn('tx', a.producerId, 0, true)).toBe(ErrorCode.NONE); // a retry of the commit
});
