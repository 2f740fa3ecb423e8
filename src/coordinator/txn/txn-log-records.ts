/**
 * The records of __transaction_state, in Kafka's key/value schemas (TransactionLogKey and
 * TransactionLogValue), so tools that read the topic understand Samsa's copy.
 *
 * Key, version 0:  version int16 = 0, transactionalId string (int16 length)
 *
 * Value (written: v0; read: v0 and v1), after its int16 version:
 *   producerId                 int64
 *   producerEpoch              int16
 *   transactionTimeoutMs       int32
 *   transactionStatus          int8    0 Empty, 1 Ongoing, 2 PrepareCommit, 3 PrepareAbort,
 *                                      4 CompleteCommit, 5 CompleteAbort, 6 Dead, 7 PrepareEpochFence
 *   transactionPartitions      nullable array of { topic string, partitionIds [int32] }
 *   transactionLastUpdateTimestampMs int64
 *   transactionStartTimestampMs      int64
 * v1 is the flexible encoding of the same (compact strings/arrays, tagged fields at the end of
 * each struct and of the value: 0 previousProducerId int64, 1 nextProducerId int64,
 * 2 clientTransactionVersion int16).
 * Transactions V1 are written as v0, so their records stay as before; a transaction of
 * transactions V2 (KIP-890 part 2) is written as v1 with clientTransactionVersion 2 and its
 * previous producer id, which V2 needs to recognise a retried EndTxn across an id rotation.
 * A null value (tombstone) means the transactional id expired.
 */
import { Reader } from '../../protocol/reader';
import { Writer } from '../../protocol/writer';

export const TXN_STATE_TOPIC = '__transaction_state';

export const TxnStatus = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnStatusValue = (typeof TxnStatus)[keyof typeof TxnStatus];

/** Kafka's state names, as DescribeTransactions and ListTransactions report them. */
export const TXN_STATUS_NAMES: Record<number, string> = {
  0: 'Empty',
  1: 'Ongoing',
  2: 'PrepareCommit',
  3: 'PrepareAbort',
  4: 'CompleteCommit',
  5: 'CompleteAbort',
  6: 'Dead',
  7: 'PrepareEpochFence',
};

export interface TxnLogValue {
  producerId: number;
  prevProducerId: number;
  producerEpoch: number;
  timeoutMs: number;
  status: number;
  partitions: { topic: string; partitionIds: number[] }[];
  lastUpdateTimestamp: number;
  startTimestamp: number;
  /** 0 for transactions V1 (value v0); 2 for V2 (value v1). */
  clientTransactionVersion?: number;
}

export function encodeTxnLogKey(transactionalId: string): Buffer {
  const w = new Writer(64);
  w.int16(0);
  w.string(transactionalId, false);
  return w.toBuffer();
}

/** The transactional id of a key, or null for a key version this broker does not know. */
export function decodeTxnLogKey(buf: Buffer): string | null {
  const r = new Reader(buf);
  if (r.int16() !== 0) return null;
  return r.string();
}

export function encodeTxnLogValue(v: TxnLogValue): Buffer {
  // V2 transactions need the flexible form's tagged fields (0 previousProducerId, 2 clientTransactionVersion).
  const flexible = (v.clientTransactionVersion ?? 0) >= 2;
  const w = new Writer(128);
  w.int16(flexible ? 1 : 0);
  w.int64(v.producerId);
  w.int16(v.producerEpoch);
  w.int32(v.timeoutMs);
  w.int8(v.status);
  w.arrayLength(v.partitions.length, flexible);
  for (const p of v.partitions) {
    w.string(p.topic, flexible);
    w.arrayLength(p.partitionIds.length, flexible);
    for (const id of p.partitionIds) w.int32(id);
    if (flexible) w.uvarint(0);
  }
  w.int64(v.lastUpdateTimestamp);
  w.int64(v.startTimestamp);
  if (flexible) {
    const hasPrev = v.prevProducerId >= 0;
    w.uvarint(hasPrev ? 2 : 1);
    if (hasPrev) {
      w.uvarint(0);
      w.uvarint(8);
      w.int64(v.prevProducerId);
    }
    w.uvarint(2);
    w.uvarint(2);
    w.int16(v.clientTransactionVersion ?? 0);
  }
  return w.toBuffer();
}

export function decodeTxnLogValue(buf: Buffer): TxnLogValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version !== 0 && version !== 1) throw new Error(`unknown TransactionLogValue version ${version}`);
  const flexible = version === 1;
  const producerId = r.int64();
  const producerEpoch = r.int16();
  const timeoutMs = r.int32();
  const status = r.int8();
  const n = r.arrayLength(flexible);
  const partitions: { topic: string; partitionIds: number[] }[] = [];
  for (let i = 0; i < n; i++) {
    const topic = flexible ? r.compactString() : r.string();
    const m = r.arrayLength(flexible);
    const partitionIds: number[] = [];
    for (let j = 0; j < m; j++) partitionIds.push(r.int32());
    if (flexible) r.skipTaggedFields();
    partitions.push({ topic, partitionIds });
  }
  const lastUpdateTimestamp = r.int64();
  const startTimestamp = r.int64();
  let prevProducerId = -1;
  let clientTransactionVersion = 0;
  if (flexible) {
    const tags = r.uvarint();
    for (let i = 0; i < tags; i++) {
      const tag = r.uvarint();
      const size = r.uvarint();
      if (tag === 0 && size === 8) prevProducerId = r.int64();
      else if (tag === 2 && size === 2) clientTransactionVersion = r.int16();
      else r.skip(size);
    }
  }
  return { producerId, prevProducerId, producerEpoch, timeoutMs, status, partitions, lastUpdateTimestamp, startTimestamp, clientTransactionVersion };
}
