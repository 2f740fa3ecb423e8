/**
 * Log cleaner: compaction of closed segments (cleanup.policy=compact), keeping the latest
 * record of every key with its original offset. No on-disk format of its own: it writes
 * ordinary segments (segment.ts, offset-index.ts, time-index.ts) under `.cleaned` names and
 * commits them through segment-swap.ts; its progress lives in partition.state (log-state.ts).
 *
 * One cleaning of a partition (clean()):
 *   1. Range. Cleanable segments are the closed ones below the first uncleanable offset: the
 *      active segment's base, the first segment holding records younger than
 *      min.compaction.lag.ms, and the first unstable offset of an open transaction (hook).
 *      The dirty part starts at the checkpoint's first dirty offset.
 *   2. Offset map. The dirty segments are read and every key mapped to its last offset
 *      (records of aborted transactions and control batches are skipped). The map is bounded
 *      (log.cleaner.dedupe.buffer.size); when full, the range ends at the current segment.
 *   3. Rewrite. From the first segment to the end of the range, segments are grouped (input
 *      bytes <= segment.bytes, offsets within 32 bits) and each group is rewritten into one
 *      segment keeping a record only if its key has no later offset in the map. Tombstones
 *      (null values) are kept until their batch's delete horizon has passed: the first
 *      cleaning that keeps a tombstone stamps its batch with horizon = now +
 *      delete.retention.ms (KIP-534), a later cleaning after the horizon drops it. Records
 *      without a key are dropped (Produce refuses them on compacted topics). A batch whose
 *      records all survive is copied byte for byte; otherwise it is rebuilt with the same
 *      base offset, last offset delta, producer fields and codec. A batch of an idempotent or
 *      transactional producer that loses every record stays as an empty batch when it may be
 *      that producer's last one, so the producer's sequence state survives (as in Kafka).
 *      Each group is committed on its own (PartitionLog.replaceSegments). A batch that cannot
 *      be opened (corrupt, or decompressing past decompressionLimit(max.message.bytes): it was
 *      stored before the topic became compacted) is kept whole and its keys left out of the
 *      map, so it never causes a newer record to be dropped.
 *   4. Checkpoint: first dirty offset = end of the range; next horizon = the earliest horizon
 *      of a kept tombstone or marker, so the cleaner comes back when it passes.
 *
 * Transactions: control batches (markers) are kept as they are, and no data batch counts as
 * aborted, unless TransactionCleaningRules are installed (setTransactionCleaningRules) by the
 * transaction coordinator, which knows producer state and aborted transactions.
 *
 * Never blocks produce or fetch: all reads and writes are asynchronous through its own file
 * descriptors, work is cut at batch boundaries with event-loop turns in between, and the only
 * synchronous steps are each group's commit (unlinks and renames, no fsync: segment-swap.ts
 * makes the swap record durable beforehand) and, once per cleaning, the checkpoint write. Measured with bench/cleaner.ts on a 2-core VM: about
 * 700 MiB/s read (map pass plus rewrite) and a worst event-loop stall near 10 ms. Throttled by
 * log.cleaner.io.max.bytes.per.second. A crash at any point is recovered by segment-swap.ts.
 */
import * as fs from 'fs';
import { BatchHeader, BATCH_HEADER_SIZE, BATCH_LENGTH_OFFSET, LOG_OVERHEAD, MIN_BATCH_LENGTH, readBatchHeader } from '../protocol/record-batch';
import type { Logger } from '../logging';
import { OffsetIndex, OFFSET_INDEX_ENTRY_SIZE } from './offset-index';
import { TimeIndex, TIME_INDEX_ENTRY_SIZE } from './time-index';
import { segmentFileName, type LogSegment } from './segment';
import { abandonSwap, cleanedPath, completeSwap, prepareSwap, SEGMENT_FILE_SUFFIXES } from './segment-swap';
import {
  batchPayload,
  buildBatch,
  DELETE_HORIZON_MASK,
  deleteHorizonOf,
  isLogAppendTime,
  parseRecords,
  RecordSlice,
  recordWithTimestampDelta,
} from './batch-records';
import { decompressionLimit } from '../compression/codecs';
import type { PartitionLog } from './partition-log';
import * as path from 'path';

const INT32_MAX = 0x7fffffff;
const READ_CHUNK_BYTES = 1024 * 1024;
const WRITE_CHUNK_BYTES = 1024 * 1024;
/** Rough memory cost of one offset-map entry besides its key bytes (Map slot, string header, number). */
const MAP_ENTRY_OVERHEAD = 64;
/** Hand the event loop back after this much synchronous work. */
const SLICE_MS = 4;

/**
 * How the cleaner treats transactional data; installed by the transaction coordinator. Every
 * method is optional: without it the cleaner keeps markers, treats no batch as aborted, and
 * keeps an emptied producer batch when it may be the producer's last.
 */
export interface TransactionCleaningRules {
  /** Offsets from here on are not cleaned (the first offset of an open transaction), or null. */
  firstUnstableOffset?(log: PartitionLog): number | null;
  /** This data batch belongs to an aborted transaction: drop it whole. */
  isAborted?(log: PartitionLog, batch: BatchHeader): boolean;
  /** This marker's delete horizon has passed; may it go (no data of its transaction is left)? */
  canDiscardMarker?(log: PartitionLog, batch: BatchHeader): boolean;
  /** A producer batch lost all its records: keep it as an empty batch (sequence state)? */
  retainEmptyBatch?(log: PartitionLog, batch: BatchHeader): boolean;
}

let txnRules: TransactionCleaningRules = {};

export function setTransactionCleaningRules(rules: TransactionCleaningRules): void {
  txnRules = rules;
}

export interface CleanerOptions {
  /** log.cleaner.dedupe.buffer.size: memory for the offset map (default 128 MiB). */
  dedupeBufferBytes?: number;
  /** log.cleaner.io.max.bytes.per.second: read+write throttle (default unlimited). */
  ioMaxBytesPerSecond?: number;
}

export interface CleaningNeed {
  /** Dirty share of the cleanable bytes. */
  dirtyRatio: number;
  /** Why now: the ratio, max.compaction.lag.ms, or a tombstone horizon that passed. */
  reason: 'dirty-ratio' | 'max-compaction-lag' | 'delete-horizon';
  firstDirtyOffset: number;
  /** Cleaning covers offsets below this (a segment boundary). */
  endOffset: number;
  cleanableBytes: number;
}

export interface CleaningStats {
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  groups: number;
  mapEntries: number;
  durationMs: number;
  endOffset: number;
  aborted: boolean;
}

class CleaningAborted extends Error {}

/**
 * Whether a partition needs cleaning now, and over which range; null when not (not
 * compacted, nothing cleanable, or too little dirt).
 */
export function cleaningNeed(log: PartitionLog, now: number = log.now()): CleaningNeed | null {
  const cfg = log.currentConfig;
  if (!cfg.compactEnabled || log.isClosed) return null;
  const segs = log.allSegments();
  const active = segs[segs.length - 1];
  let uncleanable = active.baseOffset;
  const unstable = txnRules.firstUnstableOffset?.(log);
  if (unstable !== undefined && unstable !== null) uncleanable = Math.min(uncleanable, unstable);
  if (cfg.minCompactionLagMs > 0) {
    for (const s of segs) {
      if (s === active || s.baseOffset >= uncleanable) break;
      if (segmentLargestTimestamp(s) > now - cfg.minCompactionLagMs) {
        uncleanable = Math.min(uncleanable, s.baseOffset);
        break;
      }
    }
  }
  const checkpoint = log.cleanerCheckpoint;
  let firstDirty = Math.max(checkpoint.firstDirtyOffset, log.logStartOffset);
  if (firstDirty > active.nextOffset) firstDirty = log.logStartOffset; // stale checkpoint
  let endOffset = -1;
  let clean = 0;
  let dirty = 0;
  let firstDirtySegment: LogSegment | null = null;
  for (const s of segs) {
    if (s === active || s.nextOffset > uncleanable) {
      endOffset = s.baseOffset;
      break;
    }
    if (s.nextOffset > firstDirty && s.size > 0) {
      dirty += s.size;
      firstDirtySegment ??= s;
    } else {
      clean += s.size;
    }
  }
  if (endOffset <= segs[0].baseOffset) return null;
  const total = clean + dirty;
  const ratio = total > 0 ? dirty / total : 0;
  const base = { dirtyRatio: ratio, firstDirtyOffset: firstDirty, endOffset, cleanableBytes: total };
  if (dirty > 0 && ratio > cfg.minCleanableDirtyRatio) return { ...base, reason: 'dirty-ratio' };
  if (dirty > 0 && firstDirtySegment) {
    const first = firstDirtySegment.rollingBaseTimestamp >= 0 ? firstDirtySegment.rollingBaseTimestamp : firstDirtySegment.createdMs;
    if (now - first > cfg.maxCompactionLagMs) return { ...base, reason: 'max-compaction-lag' };
  }
  if (checkpoint.nextHorizonMs >= 0 && now >= checkpoint.nextHorizonMs && total > 0) return { ...base, reason: 'delete-horizon' };
  return null;
}

/** A segment's newest timestamp, or its file's modification time when batches carry none (Kafka's rule). */
export function segmentLargestTimestamp(s: LogSegment): number {
  if (s.maxTimestamp >= 0) return s.maxTimestamp;
  try {
    return fs.fstatSync(s.fd).mtimeMs;
  } catch {
    return -1;
  }
}

/** Reads a closed segment's batches in order through its own descriptor, a chunk at a time. */
class BatchReader {
  private buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  private bufStart = 0;
  private bufLength = 0;
  private pos = 0;

  private constructor(
    private readonly fh: fs.promises.FileHandle,
    private readonly size: number,
    private readonly onRead: (bytes: number) => Promise<void>,
  ) {}

  static async open(file: string, size: number, onRead: (bytes: number) => Promise<void>): Promise<BatchReader> {
    try {
      return new BatchReader(await fs.promises.open(file, 'r'), size, onRead);
    } catch (err) {
      // Retention or DeleteRecords deleted the segment meanwhile: this cleaning is moot.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CleaningAborted();
      throw err;
    }
  }

  /** The next whole batch (valid until the following call), or null at the end. */
  async next(): Promise<{ batch: Buffer; header: BatchHeader } | null> {
    if (this.pos >= this.size) return null;
    if (this.size - this.pos < BATCH_HEADER_SIZE) throw new Error(`torn batch header at ${this.pos}`);
    await this.ensure(this.pos, BATCH_HEADER_SIZE);
    let at = this.pos - this.bufStart;
    const batchLength = this.buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
    const size = LOG_OVERHEAD + batchLength;
    if (batchLength < MIN_BATCH_LENGTH || this.pos + size > this.size) throw new Error(`invalid batch length ${batchLength} at ${this.pos}`);
    await this.ensure(this.pos, size);
    at = this.pos - this.bufStart;
    const batch = this.buf.subarray(at, at + size);
    this.pos += size;
    return { batch, header: readBatchHeader(batch, 0) };
  }

  private async ensure(pos: number, n: number): Promise<void> {
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.bufLength) return;
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    const want = Math.min(this.buf.length, this.size - pos);
    let filled = 0;
    while (filled < want) {
      const { bytesRead } = await this.fh.read(this.buf, filled, want - filled, pos + filled);
      if (bytesRead === 0) throw new Error(`segment shorter than expected at ${pos + filled}`);
      filled += bytesRead;
    }
    this.bufStart = pos;
    this.bufLength = filled;
    await this.onRead(filled);
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** Appends batches to a `.cleaned` segment file and builds its indexes with the same rule as LogSegment. */
class CleanedSegmentWriter {
  private out = Buffer.allocUnsafe(WRITE_CHUNK_BYTES);
  private outLength = 0;
  size = 0;
  private bytesSinceIndexEntry = 0;
  private maxTimestamp = -1;
  private offsetOfMaxTimestamp = -1;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;

  private constructor(
    private readonly fh: fs.promises.FileHandle,
    readonly dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
    segmentIndexBytes: number,
    private readonly onWrite: (bytes: number) => Promise<void>,
  ) {
    this.offsetIndex = new OffsetIndex(cleanedPath(dir, baseOffset, '.index'), baseOffset, Math.max(1, Math.floor(segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE)));
    this.timeIndex = new TimeIndex(cleanedPath(dir, baseOffset, '.timeindex'), baseOffset, Math.max(1, Math.floor(segmentIndexBytes / TIME_INDEX_ENTRY_SIZE)));
    this.offsetIndex.reset();
    this.timeIndex.reset();
  }

  static async create(dir: string, baseOffset: number, cfg: { indexIntervalBytes: number; segmentIndexBytes: number }, onWrite: (bytes: number) => Promise<void>) {
    const fh = await fs.promises.open(cleanedPath(dir, baseOffset, '.log'), 'w', 0o644);
    return new CleanedSegmentWriter(fh, dir, baseOffset, cfg.indexIntervalBytes, cfg.segmentIndexBytes, onWrite);
  }

  async append(batch: Buffer, lastOffset: number, maxTimestamp: number): Promise<void> {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceIndexEntry > this.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, this.size);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceIndexEntry = 0;
    }
    this.bytesSinceIndexEntry += batch.length;
    if (this.outLength + batch.length > this.out.length) await this.flushBuffer();
    if (batch.length > this.out.length) {
      await this.write(batch);
    } else {
      batch.copy(this.out, this.outLength);
      this.outLength += batch.length;
    }
    this.size += batch.length;
  }

  private async flushBuffer(): Promise<void> {
    if (this.outLength === 0) return;
    await this.write(this.out.subarray(0, this.outLength));
    this.outLength = 0;
  }

  private async write(buf: Buffer): Promise<void> {
    let done = 0;
    while (done < buf.length) {
      const { bytesWritten } = await this.fh.write(buf, done, buf.length - done);
      done += bytesWritten;
    }
    await this.onWrite(buf.length);
  }

  /** Flushes, fsyncs and closes the .log; writes and fsyncs both indexes (the time index ends with the max timestamp, as a sealed segment's does). */
  async finish(): Promise<void> {
    await this.flushBuffer();
    await this.fh.sync();
    await this.fh.close();
    if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    // Written without fsync (a small buffered write), then fsynced off the JS thread.
    this.offsetIndex.persist(false);
    this.timeIndex.persist(false);
    await fsyncFile(this.offsetIndex.path);
    await fsyncFile(this.timeIndex.path);
  }

  async discard(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    for (const suffix of SEGMENT_FILE_SUFFIXES) fs.rmSync(cleanedPath(this.dir, this.baseOffset, suffix), { force: true });
  }
}

interface CleaningContext {
  log: PartitionLog;
  map: Map<string, number>;
  now: number;
  deleteRetentionMs: number;
  /** Last batch offset of each producer seen in the dirty range (default empty-batch rule). */
  lastBatchOfProducer: Map<number, number>;
  /** Earliest horizon of a kept tombstone or marker, -1 if none. */
  nextHorizon: number;
  recordsRead: number;
  recordsKept: number;
  /** decompressionLimit of the topic's max.message.bytes. */
  maxPayloadBytes: number;
  /** Batches kept whole because they could not be opened. */
  unreadable: number;
}

export class LogCleaner {
  private abortRequested = false;
  private readonly dedupeBufferBytes: number;
  private readonly ioMaxBytesPerSecond: number;
  private ioBytes = 0;
  private ioStart = 0;
  private sliceStart = 0;

  constructor(
    private readonly logger: Logger,
    options: CleanerOptions = {},
  ) {
    this.dedupeBufferBytes = options.dedupeBufferBytes ?? 128 * 1024 * 1024;
    this.ioMaxBytesPerSecond = options.ioMaxBytesPerSecond ?? Number.POSITIVE_INFINITY;
  }

  /** Makes a running clean() stop at its next batch boundary (its output is discarded). */
  abort(): void {
    this.abortRequested = true;
  }

  /** Cleans one partition if cleaningNeed() says so (or with `need` given). Null when nothing was due. */
  async clean(log: PartitionLog, need: CleaningNeed | null = cleaningNeed(log)): Promise<CleaningStats | null> {
    if (!need) return null;
    this.abortRequested = false;
    const started = Date.now();
    this.ioBytes = 0;
    this.ioStart = started;
    this.sliceStart = started;
    const cfg = log.currentConfig;
    const ctx: CleaningContext = {
      log,
      map: new Map(),
      now: log.now(),
      deleteRetentionMs: cfg.deleteRetentionMs,
      lastBatchOfProducer: new Map(),
      nextHorizon: -1,
      recordsRead: 0,
      recordsKept: 0,
      maxPayloadBytes: decompressionLimit(cfg.maxMessageBytes),
      unreadable: 0,
    };
    const stats: CleaningStats = {
      bytesRead: 0,
      bytesWritten: 0,
      recordsRead: 0,
      recordsKept: 0,
      groups: 0,
      mapEntries: 0,
      durationMs: 0,
      endOffset: need.endOffset,
      aborted: false,
    };
    try {
      const segments = log.allSegments().filter((s) => s.nextOffset <= need.endOffset && s.baseOffset < need.endOffset);
      const endOffset = await this.buildOffsetMap(ctx, segments, need, stats);
      const toClean = segments.filter((s) => s.nextOffset <= endOffset && s.baseOffset < endOffset);
      for (const group of groupSegments(toClean, cfg.segmentBytes)) {
        const committed = await this.cleanGroup(ctx, group, stats);
        if (!committed) {
          stats.aborted = true;
          break;
        }
        stats.groups++;
      }
      if (!stats.aborted && !log.isClosed) {
        // Everything below endOffset (a segment boundary) is now clean.
        log.setCleanerCheckpoint(endOffset, ctx.nextHorizon);
        stats.endOffset = endOffset;
      }
    } catch (err) {
      if (!(err instanceof CleaningAborted)) throw err;
      stats.aborted = true;
    } finally {
      stats.recordsRead = ctx.recordsRead;
      stats.recordsKept = ctx.recordsKept;
      stats.mapEntries = ctx.map.size;
      stats.durationMs = Date.now() - started;
    }
    if (ctx.unreadable > 0) this.logger.warn('batches kept whole: corrupt or over the decompression limit', { dir: log.dir, batchReads: ctx.unreadable, maxPayloadBytes: ctx.maxPayloadBytes });
    this.logger.info('cleaned partition log', { dir: log.dir, reason: need.reason, dirtyRatio: Number(need.dirtyRatio.toFixed(3)), ...stats });
    return stats;
  }

  /** Reads the dirty segments into the key -> last offset map; returns where the cleanable range ends. */
  private async buildOffsetMap(ctx: CleaningContext, segments: readonly LogSegment[], need: CleaningNeed, stats: CleaningStats): Promise<number> {
    let mapBytes = 0;
    let first = true;
    for (const seg of segments) {
      if (seg.nextOffset <= need.firstDirtyOffset) continue;
      if (!first && mapBytes > this.dedupeBufferBytes) return seg.baseOffset;
      first = false;
      const reader = await BatchReader.open(seg.logPath, seg.size, (n) => this.account(n, stats, 'read'));
      try {
        for (let b = await reader.next(); b; b = await reader.next()) {
          await this.checkpointSlice(ctx.log);
          const h = b.header;
          if (h.producerId >= 0) ctx.lastBatchOfProducer.set(h.producerId, h.baseOffset + h.lastOffsetDelta);
          if (h.isControl || txnRules.isAborted?.(ctx.log, h)) continue;
          const opened = await openBatch(ctx, b.batch, h);
          if (!opened) continue;
          const { payload, records } = opened;
          for (const r of records) {
            if (r.keyStart < 0) continue;
            const key = payload.toString('latin1', r.keyStart, r.keyStart + r.keyLength);
            if (!ctx.map.has(key)) mapBytes += key.length + MAP_ENTRY_OVERHEAD;
            ctx.map.set(key, h.baseOffset + r.offsetDelta);
          }
        }
      } finally {
        await reader.close();
      }
    }
    return need.endOffset;
  }

  /** Rewrites one group of segments into `<first base>.*.cleaned` and commits it. False if the log changed meanwhile. */
  private async cleanGroup(ctx: CleaningContext, group: readonly LogSegment[], stats: CleaningStats): Promise<boolean> {
    const log = ctx.log;
    const base = group[0].baseOffset;
    const present = log.allSegments();
    if (log.isClosed || group.some((s) => !present.includes(s))) return false;
    const writer = await CleanedSegmentWriter.create(log.dir, base, log.currentConfig, (n) => this.account(n, stats, 'write'));
    let committed = false;
    let changed = false;
    try {
      for (const seg of group) {
        const reader = await BatchReader.open(seg.logPath, seg.size, (n) => this.account(n, stats, 'read'));
        try {
          for (let b = await reader.next(); b; b = await reader.next()) {
            await this.checkpointSlice(log);
            const kept = await filterBatch(ctx, b.batch, b.header);
            if (kept !== b.batch) changed = true;
            if (kept) {
              const h = kept === b.batch ? b.header : readBatchHeader(kept, 0);
              await writer.append(kept, h.baseOffset + h.lastOffsetDelta, h.maxTimestamp);
            }
          }
        } finally {
          await reader.close();
        }
      }
      if (group.length === 1 && !changed) {
        // Nothing changed in a lone segment: keep the original, skip the swap.
        await writer.discard();
        return !log.isClosed && log.allSegments().includes(group[0]);
      }
      await writer.finish();
      const suffixes = ['.log', '.index', '.timeindex'];
      if (await mergeTxnIndexes(log.dir, base, group)) suffixes.push('.txnindex');
      await prepareSwap(
        log.dir,
        base,
        group.map((s) => s.baseOffset),
        suffixes,
      );
      if (this.abortRequested) throw new CleaningAborted();
      committed = log.replaceSegments(group, suffixes);
      if (committed) await completeSwap(log.dir);
      return committed;
    } finally {
      if (!committed) {
        await abandonSwap(log.dir).catch(() => undefined);
        await writer.discard();
      }
    }
  }

  /** Counts I/O for the throttle and stats; sleeps when over log.cleaner.io.max.bytes.per.second. */
  private async account(bytes: number, stats: CleaningStats, kind: 'read' | 'write'): Promise<void> {
    if (kind === 'read') stats.bytesRead += bytes;
    else stats.bytesWritten += bytes;
    this.ioBytes += bytes;
    if (!Number.isFinite(this.ioMaxBytesPerSecond)) return;
    const due = this.ioStart + (this.ioBytes / this.ioMaxBytesPerSecond) * 1000;
    // Sleep in short steps so that abort() (broker shutdown) is not kept waiting.
    for (let wait = due - Date.now(); wait > 0 && !this.abortRequested; wait = due - Date.now()) {
      await new Promise((r) => setTimeout(r, Math.min(wait, 100)));
    }
  }

  /** Between batches: stop if asked to or if the log closed; yield to the event loop every few ms. */
  private async checkpointSlice(log: PartitionLog): Promise<void> {
    if (this.abortRequested || log.isClosed) throw new CleaningAborted();
    if (Date.now() - this.sliceStart >= SLICE_MS) {
      await new Promise<void>((r) => setImmediate(r));
      this.sliceStart = Date.now();
    }
  }
}

/** Consecutive groups with input bytes <= segment.bytes and offsets within one segment's 32-bit range. */
function groupSegments(segments: readonly LogSegment[], segmentBytes: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let cur: LogSegment[] = [];
  let bytes = 0;
  for (const s of segments) {
    const fits = cur.length > 0 && bytes + s.size <= segmentBytes && s.nextOffset - 1 - cur[0].baseOffset <= INT32_MAX;
    if (!fits && cur.length > 0) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(s);
    bytes += s.size;
  }
  if (cur.length > 0) groups.push(cur);
  return groups;
}

async function fsyncFile(file: string): Promise<void> {
  const fh = await fs.promises.open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Concatenates the replaced segments' .txnindex files (entries carry absolute offsets) into the cleaned one. */
async function mergeTxnIndexes(dir: string, base: number, group: readonly LogSegment[]): Promise<boolean> {
  const parts: Buffer[] = [];
  for (const s of group) {
    try {
      parts.push(await fs.promises.readFile(path.join(dir, segmentFileName(s.baseOffset, '.txnindex'))));
    } catch {
      // no aborted transactions in this segment
    }
  }
  if (parts.length === 0) return false;
  const fh = await fs.promises.open(cleanedPath(dir, base, '.txnindex'), 'w', 0o644);
  try {
    await fh.writeFile(Buffer.concat(parts));
    await fh.sync();
  } finally {
    await fh.close();
  }
  return true;
}

/**
 * The batch to write for `batch` (the same buffer when unchanged), or null to drop it.
 * See the module comment for the rules.
 */
async function filterBatch(ctx: CleaningContext, batch: Buffer, h: BatchHeader): Promise<Buffer | null> {
  const horizon = deleteHorizonOf(h);
  if (h.isControl) {
    if (horizon >= 0 && ctx.now >= horizon && txnRules.canDiscardMarker?.(ctx.log, h)) return null;
    if (horizon >= 0) noteHorizon(ctx, horizon);
    ctx.recordsRead += h.recordCount;
    ctx.recordsKept += h.recordCount;
    return batch;
  }
  ctx.recordsRead += h.recordCount;
  if (txnRules.isAborted?.(ctx.log, h)) return emptyOrNothing(ctx, h);
  const opened = await openBatch(ctx, batch, h);
  if (!opened) {
    ctx.recordsKept += h.recordCount;
    return batch;
  }
  const { payload, records } = opened;
  const kept: typeof records = [];
  let tombstoneKept = false;
  for (const r of records) {
    if (r.keyStart < 0) continue;
    const offset = h.baseOffset + r.offsetDelta;
    const latest = ctx.map.get(payload.toString('latin1', r.keyStart, r.keyStart + r.keyLength));
    if (latest !== undefined && offset < latest) continue;
    if (r.valueStart < 0) {
      if (horizon >= 0 && ctx.now >= horizon) continue;
      tombstoneKept = true;
    }
    kept.push(r);
  }
  ctx.recordsKept += kept.length;
  if (kept.length === 0) return emptyOrNothing(ctx, h);
  if (kept.length === records.length && (!tombstoneKept || horizon >= 0)) {
    if (tombstoneKept) noteHorizon(ctx, horizon);
    return batch;
  }
  const newHorizon = horizon >= 0 ? horizon : tombstoneKept ? ctx.now + ctx.deleteRetentionMs : -1;
  if (tombstoneKept) noteHorizon(ctx, newHorizon);
  const baseTimestamp = newHorizon >= 0 ? newHorizon : h.baseTimestamp;
  const parts: Buffer[] = [];
  let maxTimestamp = -1;
  for (const r of kept) {
    const ts = h.baseTimestamp + r.timestampDelta;
    if (ts > maxTimestamp) maxTimestamp = ts;
    parts.push(recordWithTimestampDelta(payload, r, ts - baseTimestamp));
  }
  return buildBatch(
    {
      header: h,
      baseTimestamp,
      maxTimestamp: isLogAppendTime(h) ? h.maxTimestamp : maxTimestamp,
      recordCount: kept.length,
      extraAttributes: newHorizon >= 0 ? DELETE_HORIZON_MASK : 0,
    },
    Buffer.concat(parts),
  );
}

/** A batch's records, or null (counted in ctx.unreadable) when it is corrupt or expands past the limit. */
async function openBatch(ctx: CleaningContext, batch: Buffer, h: BatchHeader): Promise<{ payload: Buffer; records: RecordSlice[] } | null> {
  try {
    const payload = await batchPayload(batch, h, ctx.maxPayloadBytes);
    return { payload, records: parseRecords(payload, h.recordCount) };
  } catch {
    ctx.unreadable++;
    return null;
  }
}

function noteHorizon(ctx: CleaningContext, horizon: number): void {
  if (horizon >= 0 && (ctx.nextHorizon < 0 || horizon < ctx.nextHorizon)) ctx.nextHorizon = horizon;
}

/** A producer batch that lost every record: an empty header batch when it may be the producer's last, else nothing. */
async function emptyOrNothing(ctx: CleaningContext, h: BatchHeader): Promise<Buffer | null> {
  if (h.producerId < 0) return null;
  const last = h.baseOffset + h.lastOffsetDelta;
  const keep = txnRules.retainEmptyBatch
    ? txnRules.retainEmptyBatch(ctx.log, h)
    : (ctx.lastBatchOfProducer.get(h.producerId) ?? last) <= last;
  if (!keep) return null;
  const header = { ...h, attributes: h.attributes & ~DELETE_HORIZON_MASK };
  return buildBatch({ header, baseTimestamp: h.maxTimestamp, maxTimestamp: h.maxTimestamp, recordCount: 0, compression: 0 }, Buffer.alloc(0));
}
