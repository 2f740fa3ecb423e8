/**
 * Producer state of one partition: what idempotent and transactional producers have written,
 * as Kafka's ProducerStateManager keeps it.
 *
 * Per producer id: the epoch, the last five batches (first/last sequence, first/last offset,
 * timestamp) for duplicate detection, the coordinator epoch of the last marker, and the first
 * offset of its open transaction. From the open transactions follows the first unstable offset
 * and so the last stable offset (LSO) that read_committed fetches stop at. Aborted
 * transactions are kept in memory sorted by marker offset and persisted in the segments'
 * transaction indexes (txn-index.ts).
 *
 * Rules for a produced batch with a producer id (checkData), in Kafka's order:
 *   - epoch below the producer's current epoch -> INVALID_PRODUCER_EPOCH
 *   - same epoch and the same sequence range as one of the last five batches -> duplicate:
 *     answered with the original offsets, not appended again
 *   - same epoch: the first sequence must follow the last one (wrapping at 2^31-1), else
 *     OUT_OF_ORDER_SEQUENCE_NUMBER; a higher epoch must start at sequence 0
 *   - a producer unknown to the partition may start at any sequence (as Kafka since KIP-360)
 *   - a non-transactional batch while the producer has an open transaction -> INVALID_TXN_STATE
 * A marker (control batch) closes the producer's open transaction; an ABORT marker adds an
 * entry {producerId, firstOffset, markerOffset, LSO after it} to the transaction index.
 *
 * Files (next to the segments, see partition-log.ts):
 *   <offset>.snapshot   the state as of an offset (producer-state-snapshot.ts); written when
 *                       the log rolls a segment under an idempotent append, on close, and after
 *                       a recovery that had to read the log; the two newest are kept
 *   <base>.txnindex     aborted transactions whose marker lies in segment <base>
 * Recovery (load): the newest snapshot at or below the log end offset, then every batch header
 * from there to the end (control batches: also their one record) is replayed. Snapshots past
 * the log end and index entries past it (the log was cut by its own recovery) are deleted.
 *
 * Concurrency: one manager per partition log, used on the JS thread only; a check and the
 * update after the append happen in the same synchronous section as the append itself.
 */
import * as fs from 'fs';
import { ErrorCode } from '../protocol/errors';
import {
  BATCH_HEADER_SIZE,
  BatchHeader,
  LOG_OVERHEAD,
  readBatchHeader,
} from '../protocol/record-batch';
import { ControlType, readControlRecord } from '../protocol/control-batch';
import type { Logger } from '../logging';
import { fsyncFile, readFully } from './file-io';
import type { PartitionLog } from './partition-log';
import { AbortedTxn, appendTxnIndex, parseTxnIndexFileName, readTxnIndex, rewriteTxnIndex, txnIndexPath } from './txn-index';
import { deleteSnapshot, listSnapshots, readSnapshot, SnapshotEntry, writeSnapshot } from './producer-state-snapshot';

/** Batches remembered per producer for duplicate detection (Kafka's NUM_BATCHES_TO_RETAIN). */
export const BATCHES_TO_RETAIN = 5;
const INT32_MAX = 0x7fffffff;
const SNAPSHOTS_TO_KEEP = 2;
const SCAN_CHUNK_BYTES = 1024 * 1024;

interface BatchMetadata {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  readonly producerId: number;
  epoch: number;
  /** Oldest first, at most BATCHES_TO_RETAIN, all of the current epoch. */
  batches: BatchMetadata[];
  coordinatorEpoch: number;
  /** First offset of the open transaction, -1 when none. */
  currentTxnFirstOffset: number;
  /** Max timestamp of the last batch or marker. */
  lastTimestamp: number;
}

export type ProduceCheck =
  | { kind: 'ok' }
  | { kind: 'duplicate'; firstOffset: number; lastOffset: number; timestamp: number }
  | { kind: 'error'; errorCode: number; message: string };

const OK: ProduceCheck = Object.freeze({ kind: 'ok' });

/** Sequence after `delta` more records, wrapping past 2^31-1 to 0 as Kafka does. */
export function incrementSequence(seq: number, delta: number): number {
  return seq > INT32_MAX - delta ? delta - (INT32_MAX - seq) - 1 : seq + delta;
}

function decrementSequence(seq: number, delta: number): number {
  return seq - delta < 0 ? INT32_MAX - (delta - seq) + 1 : seq - delta;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === INT32_MAX);
}

function lastSeqOf(e: ProducerEntry): number {
  return e.batches.length > 0 ? e.batches[e.batches.length - 1].lastSeq : -1;
}

export class ProducerStateManager {
  private readonly producers = new Map<number, ProducerEntry>();
  /** producerId -> first offset of its open transaction. */
  private readonly ongoing = new Map<number, number>();
  private firstUnstable = -1;
  /** Aborted transactions sorted by marker offset (lastOffset). */
  private readonly aborted: AbortedTxn[] = [];
  /** Transaction index files appended to since the last snapshot: fsynced before the next one. */
  private readonly unsyncedTxnIndexes = new Set<string>();
  private segmentCount: number;
  private replaying = false;

  private constructor(
    readonly log: PartitionLog,
    private readonly logger: Logger,
  ) {
    this.segmentCount = log.segmentCount;
  }

  /** Builds the state of `log` from its snapshot, transaction indexes and log tail (see the module comment). */
  static load(log: PartitionLog, logger: Logger): ProducerStateManager {
    const m = new ProducerStateManager(log, logger);
    m.loadTxnIndexes();
    const end = log.logEndOffset;
    let from = log.logStartOffset;
    for (const offset of listSnapshots(log.dir).reverse()) {
      if (offset > end) {
        deleteSnapshot(log.dir, offset);
        continue;
      }
      const entries = readSnapshot(log.dir, offset);
      if (!entries) {
        logger.warn('ignoring a damaged producer state snapshot', { dir: log.dir, offset });
        deleteSnapshot(log.dir, offset);
        continue;
      }
      for (const e of entries) m.restore(e);
      from = Math.max(from, offset);
      break;
    }
    if (from < end) {
      const batches = m.replay(from);
      logger.debug('producer state rebuilt from the log', { dir: log.dir, from, to: end, batches });
      if (batches > 0) m.snapshot();
    }
    return m;
  }

  private restore(s: SnapshotEntry): void {
    const e: ProducerEntry = {
      producerId: s.producerId,
      epoch: s.producerEpoch,
      batches: [],
      coordinatorEpoch: s.coordinatorEpoch,
      currentTxnFirstOffset: s.currentTxnFirstOffset,
      lastTimestamp: s.timestamp,
    };
    if (s.lastOffset >= 0 && s.lastSequence >= 0) {
      e.batches.push({
        firstSeq: decrementSequence(s.lastSequence, s.offsetDelta),
        lastSeq: s.lastSequence,
        firstOffset: s.lastOffset - s.offsetDelta,
        lastOffset: s.lastOffset,
        timestamp: s.timestamp,
      });
    }
    this.producers.set(e.producerId, e);
    if (e.currentTxnFirstOffset >= 0) this.ongoing.set(e.producerId, e.currentTxnFirstOffset);
    this.recomputeFirstUnstable();
  }

  private loadTxnIndexes(): void {
    const dir = this.log.dir;
    const bases = new Set(this.log.segmentBaseOffsets());
    const end = this.log.logEndOffset;
    for (const name of fs.readdirSync(dir)) {
      const base = parseTxnIndexFileName(name);
      if (base === null) continue;
      const file = txnIndexPath(dir, base);
      if (!bases.has(base)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      const entries = readTxnIndex(file);
      const kept = entries.filter((e) => e.lastOffset < end && e.lastOffset >= base);
      const onDisk = fs.statSync(file).size;
      if (kept.length !== entries.length || onDisk !== kept.length * 34) rewriteTxnIndex(file, kept);
      this.aborted.push(...kept);
    }
    this.aborted.sort((a, b) => a.lastOffset - b.lastOffset);
  }

  /** Replays the batches from `from` to the log end; returns how many were read. */
  private replay(from: number): number {
    this.replaying = true;
    let count = 0;
    try {
      scanBatches(this.log, from, (h, control) => {
        count++;
        if (h.producerId < 0) return;
        const lastOffset = h.baseOffset + h.lastOffsetDelta;
        if (h.isControl) {
          if (control && (control.type === ControlType.ABORT || control.type === ControlType.COMMIT)) {
            this.onMarkerAppended(h.producerId, h.producerEpoch, control.coordinatorEpoch, control.type === ControlType.COMMIT, lastOffset, h.maxTimestamp);
          }
          return;
        }
        this.onDataAppended(h, h.baseOffset, lastOffset);
      });
    } finally {
      this.replaying = false;
    }
    return count;
  }

  // ---------------------------------------------------------------- produce path

  /** Checks a produced batch with producerId >= 0 against the producer's state (rules in the module comment). */
  checkData(h: BatchHeader): ProduceCheck {
    const e = this.producers.get(h.producerId);
    if (!e) return OK;
    if (h.producerEpoch < e.epoch) {
      return error(
        ErrorCode.INVALID_PRODUCER_EPOCH,
        `Epoch of producer ${h.producerId} is ${h.producerEpoch}, which is smaller than the last seen epoch ${e.epoch}`,
      );
    }
    const lastSeq = incrementSequence(h.baseSequence, h.lastOffsetDelta);
    if (h.producerEpoch === e.epoch) {
      for (const b of e.batches) {
        if (b.firstSeq === h.baseSequence && b.lastSeq === lastSeq) {
          return { kind: 'duplicate', firstOffset: b.firstOffset, lastOffset: b.lastOffset, timestamp: b.timestamp };
        }
      }
      const current = lastSeqOf(e);
      if (!inSequence(current, h.baseSequence)) {
        return error(
          ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          `Out of order sequence number for producer ${h.producerId} at epoch ${h.producerEpoch}: ${h.baseSequence} (incoming seq. number), ${current} (current end sequence number)`,
        );
      }
    } else if (h.baseSequence !== 0) {
      return error(
        ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `Invalid sequence number for new epoch of producer ${h.producerId}: ${h.producerEpoch} (request epoch), ${h.baseSequence} (seq. number), ${e.epoch} (current producer epoch)`,
      );
    }
    if (!h.isTransactional && e.currentTxnFirstOffset >= 0) {
      return error(ErrorCode.INVALID_TXN_STATE, `Expected transactional write from producer ${h.producerId}`);
    }
    return OK;
  }

  /** Records a batch with producerId >= 0 just appended at [firstOffset, lastOffset]. */
  onDataAppended(h: BatchHeader, firstOffset: number, lastOffset: number): void {
    const e = this.entry(h.producerId, h.producerEpoch);
    e.batches.push({
      firstSeq: h.baseSequence,
      lastSeq: incrementSequence(h.baseSequence, h.lastOffsetDelta),
      firstOffset,
      lastOffset,
      timestamp: h.maxTimestamp,
    });
    if (e.batches.length > BATCHES_TO_RETAIN) e.batches.shift();
    e.lastTimestamp = h.maxTimestamp;
    if (h.isTransactional && e.currentTxnFirstOffset < 0) {
      e.currentTxnFirstOffset = firstOffset;
      this.ongoing.set(h.producerId, firstOffset);
      this.recomputeFirstUnstable();
    }
    this.afterAppend();
  }

  /** Checks a marker before it is written: ErrorCode.NONE or why it must not be. */
  checkMarker(producerId: number, producerEpoch: number, coordinatorEpoch: number): number {
    const e = this.producers.get(producerId);
    if (!e) return ErrorCode.NONE;
    if (producerEpoch < e.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
    if (coordinatorEpoch < e.coordinatorEpoch) return ErrorCode.TRANSACTION_COORDINATOR_FENCED;
    return ErrorCode.NONE;
  }

  /** Records a COMMIT/ABORT marker just appended at `offset`: closes the producer's open transaction. */
  onMarkerAppended(producerId: number, producerEpoch: number, coordinatorEpoch: number, commit: boolean, offset: number, timestamp: number): void {
    const e = this.entry(producerId, producerEpoch);
    e.coordinatorEpoch = coordinatorEpoch;
    e.lastTimestamp = timestamp;
    const firstOffset = e.currentTxnFirstOffset >= 0 ? e.currentTxnFirstOffset : offset;
    e.currentTxnFirstOffset = -1;
    if (this.ongoing.delete(producerId)) this.recomputeFirstUnstable();
    if (!commit) {
      const last = this.aborted.length > 0 ? this.aborted[this.aborted.length - 1].lastOffset : -1;
      // During replay the entry may already be in the index file (written before a restart).
      if (offset > last) {
        const entry: AbortedTxn = {
          producerId,
          firstOffset,
          lastOffset: offset,
          lastStableOffset: this.firstUnstable >= 0 ? this.firstUnstable : offset + 1,
        };
        this.aborted.push(entry);
        const file = txnIndexPath(this.log.dir, this.segmentBaseFor(offset));
        appendTxnIndex(file, entry);
        this.unsyncedTxnIndexes.add(file);
      }
    }
    this.afterAppend();
  }

  /** The producer's entry at `epoch`: created if unknown; a new epoch forgets the old epoch's batches. */
  private entry(producerId: number, epoch: number): ProducerEntry {
    let e = this.producers.get(producerId);
    if (!e) {
      e = { producerId, epoch, batches: [], coordinatorEpoch: -1, currentTxnFirstOffset: -1, lastTimestamp: -1 };
      this.producers.set(producerId, e);
    } else if (e.epoch !== epoch) {
      e.epoch = epoch;
      e.batches = [];
    }
    return e;
  }

  private segmentBaseFor(offset: number): number {
    const bases = this.log.segmentBaseOffsets();
    let base = bases[0];
    for (const b of bases) if (b <= offset) base = b;
    return base;
  }

  private recomputeFirstUnstable(): void {
    let min = -1;
    for (const first of this.ongoing.values()) if (min < 0 || first < min) min = first;
    this.firstUnstable = min;
  }

  /** A roll since the last look: snapshot, so a restart reads at most the active segment. */
  private afterAppend(): void {
    if (this.replaying) return;
    const count = this.log.segmentCount;
    if (count !== this.segmentCount) {
      this.segmentCount = count;
      this.snapshot();
    }
  }

  // ---------------------------------------------------------------- read side

  /** Offset below which every transaction is decided: read_committed fetches stop here. */
  get lastStableOffset(): number {
    const end = this.log.logEndOffset;
    return this.firstUnstable >= 0 && this.firstUnstable < end ? this.firstUnstable : end;
  }

  /** First offset of the oldest open transaction, or null when none is open. */
  get firstUnstableOffset(): number | null {
    return this.firstUnstable >= 0 ? this.firstUnstable : null;
  }

  /**
   * The data batch at h.baseOffset belongs to a transaction that was aborted (the log cleaner
   * drops such batches): the producer's first ABORT marker after the batch covers it.
   */
  isAbortedBatch(h: Pick<BatchHeader, 'isTransactional' | 'isControl' | 'producerId' | 'baseOffset'>): boolean {
    if (!h.isTransactional || h.isControl || h.producerId < 0) return false;
    const list = this.aborted;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].lastOffset < h.baseOffset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < list.length; i++) {
      if (list[i].producerId === h.producerId) return list[i].firstOffset <= h.baseOffset;
    }
    return false;
  }

  /** True when the producer has a transaction open in this partition. */
  hasOpenTransaction(producerId: number): boolean {
    return this.ongoing.has(producerId);
  }

  /**
   * Aborted transactions overlapping [fetchOffset, upperBound): what a read_committed fetch
   * returning that range must list. Null when there are none (Kafka sends null then too).
   */
  abortedTransactions(fetchOffset: number, upperBound: number): { producerId: number; firstOffset: number }[] | null {
    const list = this.aborted;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].lastOffset < fetchOffset) lo = mid + 1;
      else hi = mid;
    }
    let out: { producerId: number; firstOffset: number }[] | null = null;
    for (let i = lo; i < list.length; i++) {
      const a = list[i];
      if (a.firstOffset < upperBound) (out ??= []).push({ producerId: a.producerId, firstOffset: a.firstOffset });
      // Every later transaction started at or after this LSO: none can overlap the range.
      if (a.lastStableOffset >= upperBound) break;
    }
    return out;
  }

  /** Producers with state in this partition (DescribeProducers). */
  activeProducers(): ProducerEntry[] {
    return [...this.producers.values()];
  }

  // ---------------------------------------------------------------- maintenance

  /** Forgets producers idle for producer.id.expiration.ms that have no open transaction. */
  expireProducers(now: number, expirationMs: number): void {
    for (const [id, e] of this.producers) {
      if (e.currentTxnFirstOffset < 0 && now - e.lastTimestamp >= expirationMs) this.producers.delete(id);
    }
  }

  /** Writes a snapshot at the log end offset and keeps the newest SNAPSHOTS_TO_KEEP. */
  snapshot(): void {
    const dir = this.log.dir;
    if (!fs.existsSync(dir)) return; // the topic was deleted
    const entries: SnapshotEntry[] = [];
    for (const e of this.producers.values()) {
      const last = e.batches[e.batches.length - 1];
      entries.push({
        producerId: e.producerId,
        producerEpoch: e.epoch,
        lastSequence: last ? last.lastSeq : -1,
        lastOffset: last ? last.lastOffset : -1,
        offsetDelta: last ? last.lastOffset - last.firstOffset : 0,
        timestamp: e.lastTimestamp,
        coordinatorEpoch: e.coordinatorEpoch,
        currentTxnFirstOffset: e.currentTxnFirstOffset,
      });
    }
    try {
      // Recovery replays only the log after the snapshot: the aborted transactions below it
      // must be on disk before the snapshot can be (else read_committed would show them).
      for (const file of this.unsyncedTxnIndexes) fsyncFile(file);
      this.unsyncedTxnIndexes.clear();
      writeSnapshot(dir, this.log.logEndOffset, entries);
      const all = listSnapshots(dir);
      for (const offset of all.slice(0, Math.max(0, all.length - SNAPSHOTS_TO_KEEP))) deleteSnapshot(dir, offset);
    } catch (err) {
      this.logger.warn('could not write a producer state snapshot', { dir, error: (err as Error).message });
    }
  }
}

function error(errorCode: number, message: string): ProduceCheck {
  return { kind: 'error', errorCode, message };
}

/**
 * Calls `visit` for every batch from the one containing `from` to the log end, reading only
 * batch headers (and the one record of control batches), a chunk at a time.
 */
export function scanBatches(
  log: PartitionLog,
  from: number,
  visit: (h: BatchHeader, control: { type: number; coordinatorEpoch: number } | null) => void,
): void {
  let next = from;
  const chunk = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
  while (next < log.logEndOffset) {
    const r = log.read(next, INT32_MAX, true);
    const region = r.regions[0];
    if (r.errorCode !== ErrorCode.NONE || !region) return;
    const end = region.position + region.length;
    let pos = region.position;
    let chunkStart = 0;
    let chunkLength = 0;
    let progressed = false;
    while (pos + BATCH_HEADER_SIZE <= end) {
      // Header plus a little: enough for a control batch's single record.
      const want = Math.min(BATCH_HEADER_SIZE + 64, end - pos);
      if (pos < chunkStart || pos + want > chunkStart + chunkLength) {
        chunkStart = pos;
        chunkLength = readFully(region.fd, chunk, 0, Math.min(chunk.length, end - pos), pos);
        if (chunkLength < BATCH_HEADER_SIZE) return;
      }
      const at = pos - chunkStart;
      const h = readBatchHeader(chunk, at);
      const size = LOG_OVERHEAD + h.batchLength;
      if (h.batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD || pos + size > end) break;
      const lastOffset = h.baseOffset + h.lastOffsetDelta;
      if (lastOffset >= next) {
        const control = h.isControl ? readControlRecord(chunk.subarray(0, Math.min(chunkLength, at + size)), at + BATCH_HEADER_SIZE) : null;
        visit(h, control);
        next = lastOffset + 1;
        progressed = true;
      }
      pos += size;
    }
    if (!progressed) return;
  }
}
