/**
 * Producer state of a real file partition log: sequence and epoch rules, duplicates among the
 * last five batches, transactions and the last stable offset, aborted transactions in the
 * .txnindex, snapshots and recovery by re-reading the log, and read() bounded by the LSO.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PartitionLog } from '../../src/storage/partition-log';
import { ProducerStateManager, incrementSequence } from '../../src/storage/producer-state';
import { listSnapshots } from '../../src/storage/producer-state-snapshot';
import { readTxnIndex, txnIndexPath, TXN_INDEX_ENTRY_SIZE } from '../../src/storage/txn-index';
import { encodeMarkerBatch, readControlRecord } from '../../src/protocol/control-batch';
import { ErrorCode } from '../../src/protocol/errors';
import { BatchHeader, checkBatchCrc, readBatchHeader, TRANSACTIONAL_MASK } from '../../src/protocol/record-batch';
import { createLogger } from '../../src/logging';
import { simpleBatch } from '../helpers/record-batch-builder';

const quiet = createLogger('silent');
const CONFIG = { segmentBytes: 64 * 1024, fileDeleteDelayMs: 0 };

let tmp: string;
let log: PartitionLog;
let state: ProducerStateManager;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-pstate-'));
  log = PartitionLog.open(tmp, CONFIG, quiet);
  state = ProducerStateManager.load(log, quiet);
});

afterEach(() => {
  log.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function reopen(): void {
  state.snapshot();
  log.close();
  log = PartitionLog.open(tmp, CONFIG, quiet);
  state = ProducerStateManager.load(log, quiet);
}

interface Produced {
  producerId: number;
  epoch: number;
  seq: number;
  count?: number;
  txn?: boolean;
}

function batchOf(p: Produced): { buf: Buffer; header: BatchHeader } {
  const buf = simpleBatch(p.count ?? 3, {
    producerId: p.producerId,
    producerEpoch: p.epoch,
    baseSequence: p.seq,
    attributes: p.txn ? TRANSACTIONAL_MASK : 0,
  });
  return { buf, header: readBatchHeader(buf, 0) };
}

/** What the Produce handler does: check, then append and record. */
function produce(p: Produced): { kind: string; baseOffset?: number; errorCode?: number } {
  const { buf, header } = batchOf(p);
  const seen = state.checkData(header);
  if (seen.kind === 'error') return { kind: 'error', errorCode: seen.errorCode };
  if (seen.kind === 'duplicate') return { kind: 'duplicate', baseOffset: seen.firstOffset };
  const r = log.append(buf, 0);
  state.onDataAppended(header, r.baseOffset, r.lastOffset);
  return { kind: 'ok', baseOffset: r.baseOffset };
}

function marker(producerId: number, epoch: number, commit: boolean): number {
  expect(state.checkMarker(producerId, epoch, 0)).toBe(ErrorCode.NONE);
  const r = log.append(encodeMarkerBatch({ producerId, producerEpoch: epoch, commit, coordinatorEpoch: 0, timestamp: 1 }), 0);
  state.onMarkerAppended(producerId, epoch, 0, commit, r.baseOffset, 1);
  return r.baseOffset;
}

describe('idempotent producers', () => {
  test('in-sequence batches are appended; a retry of any of the last five is a duplicate with its original offset', () => {
    const offsets: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = produce({ producerId: 7, epoch: 0, seq: i * 3 });
      expect(r.kind).toBe('ok');
      offsets.push(r.baseOffset!);
    }
    for (let i = 1; i < 6; i++) expect(produce({ producerId: 7, epoch: 0, seq: i * 3 })).toEqual({ kind: 'duplicate', baseOffset: offsets[i] });
    // The first batch is no longer remembered: its retry is out of order, never stored twice.
    expect(produce({ producerId: 7, epoch: 0, seq: 0 })).toEqual({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(log.logEndOffset).toBe(18);
  });

  test('a gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch INVALID_PRODUCER_EPOCH; a new epoch restarts at 0', () => {
    expect(produce({ producerId: 1, epoch: 3, seq: 10 }).kind).toBe('ok'); // unknown producer: any sequence
    expect(produce({ producerId: 1, epoch: 3, seq: 14 })).toEqual({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(produce({ producerId: 1, epoch: 2, seq: 13 })).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(produce({ producerId: 1, epoch: 4, seq: 5 })).toEqual({ kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(produce({ producerId: 1, epoch: 4, seq: 0 }).kind).toBe('ok');
    expect(produce({ producerId: 1, epoch: 3, seq: 13 })).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(log.logEndOffset).toBe(6);
  });

  test('sequences wrap from 2^31-1 to 0', () => {
    expect(incrementSequence(0x7ffffffe, 2)).toBe(0);
    expect(produce({ producerId: 2, epoch: 0, seq: 0x7ffffffd, count: 3 }).kind).toBe('ok');
    expect(produce({ producerId: 2, epoch: 0, seq: 0, count: 3 }).kind).toBe('ok');
  });
});

describe('transactions', () => {
  test('the LSO stays at the first offset of the oldest open transaction until its marker', () => {
    produce({ producerId: 1, epoch: 0, seq: 0 }); // 0-2, not transactional
    expect(state.lastStableOffset).toBe(3);
    produce({ producerId: 2, epoch: 0, seq: 0, txn: true }); // 3-5
    produce({ producerId: 3, epoch: 0, seq: 0, txn: true }); // 6-8
    expect(state.lastStableOffset).toBe(3);
    expect(state.firstUnstableOffset).toBe(3);
    marker(2, 0, true); // 9
    expect(state.lastStableOffset).toBe(6);
    marker(3, 0, false); // 10
    expect(state.lastStableOffset).toBe(11);
    expect(state.firstUnstableOffset).toBeNull();
  });

  test('aborted transactions are listed for the ranges they overlap and written to the .txnindex', () => {
    produce({ producerId: 2, epoch: 0, seq: 0, txn: true }); // 0-2
    produce({ producerId: 3, epoch: 0, seq: 0, txn: true }); // 3-5
    const abort2 = marker(2, 0, false); // 6
    produce({ producerId: 3, epoch: 0, seq: 3, txn: true }); // 7-9
    marker(3, 0, true); // 10
    produce({ producerId: 4, epoch: 0, seq: 0, txn: true }); // 11-13
    marker(4, 0, false); // 14
    expect(state.abortedTransactions(0, 15)).toEqual([
      { producerId: 2, firstOffset: 0 },
      { producerId: 4, firstOffset: 11 },
    ]);
    expect(state.abortedTransactions(7, 15)).toEqual([{ producerId: 4, firstOffset: 11 }]);
    expect(state.abortedTransactions(0, 11)).toEqual([{ producerId: 2, firstOffset: 0 }]);
    expect(state.abortedTransactions(15, 15)).toBeNull();
    const entries = readTxnIndex(txnIndexPath(tmp, 0));
    expect(entries).toEqual([
      { producerId: 2, firstOffset: 0, lastOffset: abort2, lastStableOffset: 3 },
      { producerId: 4, firstOffset: 11, lastOffset: 14, lastStableOffset: 15 },
    ]);
    expect(fs.statSync(txnIndexPath(tmp, 0)).size).toBe(2 * TXN_INDEX_ENTRY_SIZE);
    expect(state.isAbortedBatch(readBatchHeader(batchOf({ producerId: 2, epoch: 0, seq: 0, txn: true }).buf, 0))).toBe(true);
  });

  test('a non-transactional batch while the producer has a transaction open is INVALID_TXN_STATE', () => {
    produce({ producerId: 5, epoch: 0, seq: 0, txn: true });
    expect(produce({ producerId: 5, epoch: 0, seq: 3 })).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_TXN_STATE });
  });

  test('a marker with an older epoch than the producer has is refused; a fencing marker bumps the epoch', () => {
    produce({ producerId: 6, epoch: 2, seq: 0, txn: true });
    expect(state.checkMarker(6, 1, 0)).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
    marker(6, 3, false);
    expect(produce({ producerId: 6, epoch: 2, seq: 3, txn: true })).toEqual({ kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
  });

  test('marker batches carry a valid CRC and parse back', () => {
    const m = encodeMarkerBatch({ producerId: 9, producerEpoch: 4, commit: false, coordinatorEpoch: 12, timestamp: 5 });
    expect(checkBatchCrc(m, 0)).toBe(true);
    const h = readBatchHeader(m, 0);
    expect([h.isControl, h.isTransactional, h.producerId, h.producerEpoch, h.baseSequence, h.recordCount]).toEqual([true, true, 9, 4, -1, 1]);
    expect(readControlRecord(m, 61)).toEqual({ type: 0, coordinatorEpoch: 12 });
  });
});

describe('recovery', () => {
  function scenario(): void {
    for (let i = 0; i < 3; i++) produce({ producerId: 1, epoch: 0, seq: i * 3 }); // 0-8
    produce({ producerId: 2, epoch: 1, seq: 0, txn: true }); // 9-11
    marker(2, 1, false); // 12
    produce({ producerId: 3, epoch: 0, seq: 0, txn: true }); // 13-15, stays open
  }

  function expectRecovered(lastBatchesRemembered: number): void {
    expect(state.lastStableOffset).toBe(13);
    expect(state.abortedTransactions(0, 13)).toEqual([{ producerId: 2, firstOffset: 9 }]);
    expect(produce({ producerId: 1, epoch: 0, seq: 6 })).toEqual({ kind: 'duplicate', baseOffset: 6 });
    const older = produce({ producerId: 1, epoch: 0, seq: 3 });
    expect(older.kind).toBe(lastBatchesRemembered > 1 ? 'duplicate' : 'error');
    expect(produce({ producerId: 3, epoch: 0, seq: 0, txn: true })).toEqual({ kind: 'duplicate', baseOffset: 13 });
    expect(state.activeProducers().map((e) => e.producerId).sort()).toEqual([1, 2, 3]);
  }

  test('from a snapshot at close: the last batch of each producer, open transactions, aborted list', () => {
    scenario();
    reopen();
    expect(listSnapshots(tmp)).toEqual([16]);
    expectRecovered(1);
  });

  test('without a snapshot: the whole log is re-read (five batches per producer remembered again)', () => {
    scenario();
    log.close();
    for (const f of fs.readdirSync(tmp)) if (f.endsWith('.snapshot') || f.endsWith('.txnindex')) fs.rmSync(path.join(tmp, f));
    log = PartitionLog.open(tmp, CONFIG, quiet);
    state = ProducerStateManager.load(log, quiet);
    expectRecovered(5);
    // The rebuilt index holds the aborted transaction exactly once.
    expect(readTxnIndex(txnIndexPath(tmp, 0))).toHaveLength(1);
    expect(listSnapshots(tmp)).toEqual([16]);
  });

  test('index entries and snapshots past the log end (the log lost its tail) are dropped', () => {
    scenario();
    state.snapshot(); // at 16
    log.close();
    // Cut the log after the committed data (offset 9): the abort at 12 and the open txn vanish.
    const seg = path.join(tmp, '00000000000000000000.log');
    let pos = 0;
    const buf = fs.readFileSync(seg);
    while (pos < buf.length && readBatchHeader(buf, pos).baseOffset < 9) pos += 12 + buf.readInt32BE(pos + 8);
    fs.truncateSync(seg, pos);
    fs.rmSync(path.join(tmp, '.clean-shutdown'), { force: true });
    log = PartitionLog.open(tmp, CONFIG, quiet);
    expect(log.logEndOffset).toBe(9);
    state = ProducerStateManager.load(log, quiet);
    expect(state.lastStableOffset).toBe(9);
    expect(state.abortedTransactions(0, 9)).toBeNull();
    expect(fs.existsSync(txnIndexPath(tmp, 0))).toBe(false);
    expect(listSnapshots(tmp).every((o) => o <= 9)).toBe(true);
  });

  test('a segment roll under an idempotent append writes a snapshot', () => {
    for (let i = 0; i < 400 && log.segmentCount === 1; i++) produce({ producerId: 1, epoch: 0, seq: i * 100, count: 100 });
    expect(log.segmentCount).toBe(2);
    expect(listSnapshots(tmp)).toEqual([log.logEndOffset]);
  });
});

describe('read_committed reads', () => {
  test('read() with maxOffset stops before the batch holding it', () => {
    produce({ producerId: 1, epoch: 0, seq: 0 }); // 0-2
    produce({ producerId: 2, epoch: 0, seq: 0, txn: true }); // 3-5
    produce({ producerId: 1, epoch: 0, seq: 3 }); // 6-8
    const all = log.read(0, 1 << 20);
    const committed = log.read(0, 1 << 20, true, state.lastStableOffset);
    expect(state.lastStableOffset).toBe(3);
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(all.length);
    const bytes = Buffer.alloc(committed.length);
    fs.readSync(committed.regions[0].fd, bytes, 0, committed.length, committed.regions[0].position);
    expect(readBatchHeader(bytes, 0).baseOffset).toBe(0);
    expect(12 + bytes.readInt32BE(8)).toBe(committed.length); // exactly the first batch
    expect(log.read(3, 1 << 20, true, 3).length).toBe(0);
  });
});
