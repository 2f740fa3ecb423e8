/**
 * PartitionLog: the file-based log of one partition, Kafka's on-disk layout.
 *
 * Directory `<dataDir>/<topic>-<partition>/` (see partitionDir()):
 *
 *   00000000000000000000.log / .index / .timeindex   the first segment (see segment.ts,
 *   00000000000000012345.log / .index / .timeindex   offset-index.ts, time-index.ts)
 *   ...                                              segments sorted by base offset; the last
 *                                                    one is active and takes appends
 *   .clean-shutdown                                  empty marker written by close() after
 *                                                    everything was fsynced; removed (durably)
 *                                                    before the first write after open()
 *   partition.state                                  log start offset and cleaner checkpoint
 *                                                    (see log-state.ts)
 *   *.cleaned, cleaner.swap                          a compaction in progress (see segment-swap.ts)
 *   <base>.txnindex                                  aborted transactions whose marker is in
 *                                                    segment <base> (see txn-index.ts)
 *   <offset>.snapshot                                producer state as of <offset> (see
 *                                                    producer-state.ts; this class ignores both)
 *
 * Segment rolls: before an append, a new segment starts at logEndOffset when the active one
 * is not empty and (a) its size plus the append would exceed segment.bytes, or (b) the new
 * batches' max timestamp is more than segment.ms past the segment's first batch timestamp
 * (wall clock since creation when batches carry no timestamps), or (c) an index is full
 * (segment.index.bytes) or the offsets would not fit 32-bit relative offsets. A rolled
 * segment's indexes are written (trimmed to their entries) and its .log is fsynced on the
 * thread pool.
 *
 * Recovery (open):
 *   - Files that are not `<20 digits>.log/.index/.timeindex` are ignored; index files without
 *     a .log are deleted.
 *   - Closed segments are trusted, as Kafka trusts segments below its recovery point: no CRC
 *     check. Open checks their index files' shape (missing, size not a multiple of the entry,
 *     last entry not pointing at a batch that starts at or before its offset) and walks the
 *     batch headers after the last index entry to find the segment's end. A bad index is
 *     rebuilt by a full scan with CRC checks. A scan that finds a corrupt or torn batch in a
 *     closed segment truncates the log there and deletes all later segments (Kafka does the
 *     same); the indexes of closed segments are loaded into memory lazily, on first read.
 *   - The active (last) segment after an unclean shutdown (no `.clean-shutdown` marker): every
 *     batch is checked (length, magic 2, increasing offsets, CRC-32C); the file is truncated
 *     after the last valid batch and its indexes are rebuilt. A structured warning says how
 *     many bytes were cut and at which offset. After a clean shutdown the active segment is
 *     opened like a closed one (header walk from its last index entry, no CRC).
 *   - logEndOffset = last valid batch's baseOffset + lastOffsetDelta + 1; an empty partition
 *     starts at 0 with an empty segment 00000000000000000000.
 *   - Before any of this, an interrupted segment swap of the cleaner is completed or discarded
 *     (segment-swap.ts). After it, logStartOffset = max(partition.state value, first segment
 *     base); if that lies beyond logEndOffset (the tail was lost with the page cache after the
 *     start moved), the log is emptied and restarts at logStartOffset, as Kafka does.
 *
 * Log start offset: readers see [logStartOffset, logEndOffset). DeleteRecords
 * (advanceLogStartOffset) and retention (deleteOldestSegments) move it forward, write it to
 * partition.state durably, then delete the segments wholly below it. Compaction never moves it.
 *
 * Failed writes (ENOSPC, EIO, EMFILE): an append is all or nothing. A write or flush error
 * cuts the segment back to its size before the append and drops the index entries it added
 * (LogSegment.mark/rollback), so no reader ever sees a batch the producer is told failed,
 * and a failed roll leaves no new segment behind. The log stays open: the next append tries
 * the disk again, so writes resume by themselves once space returns.
 *
 * Durability: appends go to the page cache. flush.messages / flush.ms (checked on append and
 * by maybeFlush()) fsync the active segment, and the directory (and its parent) on the first
 * flush after open or a roll, so that the flushed bytes are reachable after an OS crash;
 * append() returns after that fsync, so flush.messages=1 makes every acknowledged append
 * durable. Rolls fsync the old segment in the background; close()
 * fsyncs everything before writing the marker. Indexes are not fsynced by flush(): recovery
 * rebuilds them from the log.
 *
 * Background writes: appendInBackground() (Produce) assigns offsets at once but writes a
 * large append on the thread pool, so that the page-cache copy runs beside the event loop;
 * the log, its indexes, readers and the caller's commit hook see the batches only when every
 * byte is written. One such write per log at a time (whenIdle() orders the next). Every
 * synchronous change to the log (append, roll, close, delete) first completes a write in
 * flight by writing the same bytes at the same place on the JS thread (settleWrites), so
 * those methods keep the rules below; retention waits for its next pass instead. If that
 * synchronous write fails, the write stays in flight and the thread pool's result decides
 * it: until then appends and rolls fail (a storage error for the client), and close()
 * leaves no clean-shutdown marker, so the next open recovers whatever reached the disk, as
 * after a crash (the write was never acknowledged). A segment's descriptor is closed only
 * after its last background write returned.
 *
 * Concurrency rules: one PartitionLog per directory per process; every method runs on the JS
 * thread, synchronously, and returns with the log consistent (no method yields mid-way).
 * append() and appendInBackground() are the only writers of the active segment. Closed segments change only through
 * deleteOldestSegments / advanceLogStartOffset (retention, DeleteRecords) and
 * replaceSegments (the cleaner, which prepares its output asynchronously from its own file
 * descriptors and commits it in one synchronous call that first checks the segments it read
 * are still there). FileRegions returned by read() point into segment files by
 * descriptor: the caller may read them asynchronously; after deleteAll() the descriptors stay
 * open for file.delete.delay.ms (default 60 s) so regions already handed out remain readable,
 * while close() (broker shutdown) closes them at once.
 *
 * Offsets and timestamps are numbers (exact up to 2^53), like every int64 in Samsa.
 */
import * as fs from 'fs';
import * as path from 'path';
import { defaultLogger, type Logger } from '../logging';
import { fsyncDir, writeFully } from './file-io';
import { LogConfig, resolveLogConfig } from './log-config';
import { INDEX_FILE_SUFFIX, LOG_FILE_SUFFIX, LogSegment, parseSegmentFileName, segmentFileName, TIME_INDEX_FILE_SUFFIX } from './segment';
import { PartitionState, readPartitionState, writePartitionState } from './log-state';
import { commitSwap, deleteSegmentFiles, recoverSwap } from './segment-swap';

import { AppendResult, PreparedAppend, stampBatches } from './append-batches';
import { AppendFailures } from './append-failures';
import { BACKGROUND_WRITE_MIN_BYTES, BackgroundWrite, ioPinned } from './background-write';
import { maxTimestampOffset, offsetForTimestamp, readRange, ReadResult, readWholeBatches, ShareReadBatch, TimestampAndOffset } from './log-reads';

export type { FileRegion } from '../protocol/writer';
export type { LogConfig } from './log-config';
export type { AppendResult } from './append-batches';
export type { ReadResult, ShareReadBatch, TimestampAndOffset } from './log-reads';

/** Name of the marker file close() leaves behind after a complete flush. */
export const CLEAN_SHUTDOWN_FILE = '.clean-shutdown';

const INT32_MAX = 0x7fffffff;

/** `<dataDir>/<topic>-<partition>`, Kafka's partition directory name. */
export function partitionDir(dataDir: string, topic: string, partition: number): string {
  return path.join(dataDir, `${topic}-${partition}`);
}

export interface PartitionLogOptions {
  /** Wall clock (ms); tests substitute their own. Default Date.now. */
  clock?: () => number;
}

export class PartitionLog {
  private readonly segments: LogSegment[];
  private config: Required<LogConfig>;
  private readonly clock: () => number;
  /** Records appended since the last fsync (flush.messages counts these). */
  private unflushedMessages = 0;
  private lastFlushMs: number;
  /**
   * Directory entries that may not be durable; flush() fsyncs them. Starts at 'dir-and-parent'
   * after open: the partition directory or files recovery created (or an earlier life did,
   * killed before any flush) may be new; a roll adds a segment.
   */
  private dirEntriesUnsynced: 'none' | 'dir' | 'dir-and-parent' = 'dir-and-parent';
  private closed = false;
  /** The clean-shutdown marker is still on disk: nothing was written since a clean open. */
  private markerPresent: boolean;
  /** Durable partition state (log start offset, cleaner checkpoint); see log-state.ts. */
  private state: PartitionState;
  /** Runs of failed appends, logged at a bounded rate (append-failures.ts). */
  private readonly failures: AppendFailures;
  /** The background write in flight (appendInBackground), and who waits for it to end. */
  private pending: BackgroundWrite | null = null;
  private idleWaiters: (() => void)[] = [];

  private constructor(
    readonly dir: string,
    config: Required<LogConfig>,
    segments: LogSegment[],
    private readonly log: Logger,
    clock: () => number,
    markerPresent: boolean,
    state: PartitionState,
  ) {
    this.markerPresent = markerPresent;
    this.failures = new AppendFailures(log, dir);
    this.state = state;
    this.config = config;
    this.segments = segments;
    this.clock = clock;
    this.lastFlushMs = clock();
  }

  /**
   * Opens (creating if needed) the partition log in `dir` and recovers it (see the module
   * comment). Synchronous. Throws if the directory cannot be read or written.
   */
  static open(dir: string, config: LogConfig | Partial<LogConfig>, log?: Logger, options: PartitionLogOptions = {}): PartitionLog {
    const cfg = resolveLogConfig(config);
    const logger = log ?? defaultLogger.child({ dir });
    const clock = options.clock ?? Date.now;
    const now = clock();
    fs.mkdirSync(dir, { recursive: true });

    // The marker stays until the first write (see markWriting): a log opened and closed
    // without appends is still clean, and open() costs no directory fsync.
    const clean = fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE));
    recoverSwap(dir, logger);

    const logs = new Set<number>();
    const indexes: Array<{ baseOffset: number; file: string }> = [];
    for (const name of fs.readdirSync(dir)) {
      const parsed = parseSegmentFileName(name);
      if (!parsed) continue;
      if (parsed.suffix === LOG_FILE_SUFFIX) logs.add(parsed.baseOffset);
      else indexes.push({ baseOffset: parsed.baseOffset, file: name });
    }
    for (const idx of indexes) {
      if (!logs.has(idx.baseOffset)) {
        logger.warn('deleting index file without a log segment', { file: path.join(dir, idx.file) });
        fs.rmSync(path.join(dir, idx.file), { force: true });
      }
    }

    const bases = [...logs].sort((a, b) => a - b);
    const segments: LogSegment[] = [];
    try {
      for (let i = 0; i < bases.length; i++) {
        const seg = LogSegment.open(dir, bases[i], cfg, logger, now);
        segments.push(seg);
        const isActive = i === bases.length - 1;
        const cut = PartitionLog.recoverSegment(seg, isActive, clean, logger);
        if (cut && !isActive) {
          // Everything after a hole is dropped, as Kafka does; this segment becomes the active one.
          for (let j = i + 1; j < bases.length; j++) {
            logger.warn('deleting segment after a truncated one', { segment: path.join(dir, segmentFileName(bases[j], LOG_FILE_SUFFIX)) });
            for (const suffix of [LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX]) {
              fs.rmSync(path.join(dir, segmentFileName(bases[j], suffix)), { force: true });
            }
          }
          break;
        }
      }
      for (let i = 0; i + 1 < segments.length; i++) {
        if (segments[i].nextOffset > segments[i + 1].baseOffset) {
          logger.warn('segments overlap', { segment: segments[i].logPath, nextOffset: segments[i].nextOffset, nextSegmentBase: segments[i + 1].baseOffset });
        }
      }
      if (segments.length === 0) segments.push(LogSegment.create(dir, 0, cfg, logger, now));
    } catch (err) {
      for (const s of segments) s.closeFile();
      throw err;
    }
    const state = readPartitionState(dir);
    state.logStartOffset = Math.max(state.logStartOffset, segments[0].baseOffset);
    const end = segments[segments.length - 1].nextOffset;
    if (state.logStartOffset > end) {
      logger.warn('log start offset is past the recovered log end: emptying the log', { dir, logStartOffset: state.logStartOffset, logEndOffset: end });
      for (const s of segments.splice(0)) {
        s.closeFile();
        deleteSegmentFiles(dir, s.baseOffset);
      }
      segments.push(LogSegment.create(dir, state.logStartOffset, cfg, logger, now));
      fsyncDir(dir);
    }
    const pl = new PartitionLog(dir, cfg, segments, logger, clock, clean, state);
    logger.debug('partition log opened', {
      dir,
      cleanShutdown: clean,
      segments: segments.length,
      logStartOffset: pl.logStartOffset,
      logEndOffset: pl.logEndOffset,
    });
    return pl;
  }

  /** Brings one segment to a known state; returns true when data had to be cut from it. */
  private static recoverSegment(seg: LogSegment, isActive: boolean, clean: boolean, logger: Logger): boolean {
    let problem: string | null = null;
    if (isActive && !clean) {
      problem = 'unclean shutdown';
    } else {
      problem = seg.openTrusted(isActive);
      if (problem) logger.warn('segment needs recovery', { segment: seg.logPath, problem });
    }
    if (!problem) return false;
    const result = seg.recover(true, true);
    // A closed segment's time index ends with its max timestamp (see time-index.ts).
    if (!isActive && result.invalidBytes === 0) seg.seal();
    if (result.invalidBytes > 0) {
      logger.warn('truncated invalid bytes at the end of a segment', {
        segment: seg.logPath,
        truncatedBytes: result.invalidBytes,
        atPosition: result.validBytes,
        fromOffset: seg.nextOffset,
        reason: result.reason,
      });
      return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- state

  /** First offset readers may fetch: moved by DeleteRecords and retention, never below the first segment's base. */
  get logStartOffset(): number {
    return this.state.logStartOffset;
  }

  /** Next offset to assign (= high watermark: there is one replica). */
  get logEndOffset(): number {
    return this.active.nextOffset;
  }

  /** Total bytes of all segments' .log files. */
  get size(): number {
    let n = 0;
    for (const s of this.segments) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first (tests, DescribeLogDirs). */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The resolved configuration in force (retention and the cleaner read it). */
  get currentConfig(): Readonly<Required<LogConfig>> {
    return this.config;
  }

  /** Wall clock of this log (tests substitute their own). */
  now(): number {
    return this.clock();
  }

  /** Every segment, oldest first, the active one last. Callers must not modify them. */
  allSegments(): readonly LogSegment[] {
    return this.segments;
  }

  /** The cleaner's checkpoint: offsets below cleanerFirstDirtyOffset were compacted; next delete horizon. */
  get cleanerCheckpoint(): { firstDirtyOffset: number; nextHorizonMs: number } {
    return { firstDirtyOffset: this.state.cleanerFirstDirtyOffset, nextHorizonMs: this.state.cleanerNextHorizonMs };
  }

  /** Records the cleaner's progress durably. */
  setCleanerCheckpoint(firstDirtyOffset: number, nextHorizonMs: number): void {
    this.checkOpen();
    this.state.cleanerFirstDirtyOffset = firstDirtyOffset;
    this.state.cleanerNextHorizonMs = nextHorizonMs;
    writePartitionState(this.dir, this.state);
  }

  // ---------------------------------------------------------------- lifecycle of closed segments

  /**
   * DeleteRecords: moves the log start offset to `offset` (at most logEndOffset) if that is a
   * move forward, durably, then deletes the segments wholly below it. Returns the new start.
   */
  advanceLogStartOffset(offset: number): number {
    this.checkOpen();
    if (offset > this.logEndOffset) throw new RangeError(`log start offset ${offset} beyond the log end ${this.logEndOffset}`);
    if (offset <= this.state.logStartOffset) return this.state.logStartOffset;
    this.state.logStartOffset = offset;
    writePartitionState(this.dir, this.state);
    let n = 0;
    while (n + 1 < this.segments.length && this.segments[n + 1].baseOffset <= offset) n++;
    if (n > 0) this.removeOldestSegments(n, 'log start offset');
    this.log.info('log start offset moved', { dir: this.dir, logStartOffset: offset, deletedSegments: n });
    return offset;
  }

  /**
   * Retention: deletes the `count` oldest segments. When that would include the active
   * segment, a new empty active segment is rolled first (Kafka does the same when every
   * segment has expired), so the log always keeps one. The log start offset moves to the
   * first remaining segment's base (durably, before any file is deleted).
   */
  deleteOldestSegments(count: number, reason: string): void {
    this.checkOpen();
    // The caller counted segments without the write in flight; it counts again next time.
    if (this.pending) return;
    if (count <= 0) return;
    if (count >= this.segments.length) {
      if (this.active.size === 0) count = this.segments.length - 1;
      else {
        this.markWriting();
        this.roll(`retention (${reason})`, this.clock());
        count = this.segments.length - 1;
      }
      if (count <= 0) return;
    }
    const newStart = this.segments[count].baseOffset;
    if (newStart > this.state.logStartOffset) {
      this.state.logStartOffset = newStart;
      writePartitionState(this.dir, this.state);
    }
    this.removeOldestSegments(count, reason);
  }

  private removeOldestSegments(count: number, reason: string): void {
    const removed = this.segments.splice(0, count);
    for (const s of removed) {
      s.closeFile(this.config.fileDeleteDelayMs);
      deleteSegmentFiles(this.dir, s.baseOffset);
    }
    fsyncDir(this.dir);
    this.log.info('deleted segments', { dir: this.dir, reason, count, bases: removed.map((s) => s.baseOffset), logStartOffset: this.logStartOffset });
  }

  /**
   * The cleaner's commit: replaces `replaced` (consecutive closed segments, still in the log)
   * by the rewritten segment in `<first base>.*.cleaned` (fsynced by the caller, which also
   * prepared the swap record: segment-swap.ts prepareSwap, then completeSwap after this
   * returns true). Returns false, changing nothing, when the log was
   * closed or the segments changed meanwhile (retention or DeleteRecords removed some); the
   * caller then deletes its .cleaned files.
   */
  replaceSegments(replaced: readonly LogSegment[], suffixes: string[]): boolean {
    if (this.closed || replaced.length === 0) return false;
    const first = this.segments.indexOf(replaced[0]);
    if (first < 0 || first + replaced.length >= this.segments.length) return false;
    for (let i = 0; i < replaced.length; i++) if (this.segments[first + i] !== replaced[i]) return false;
    const base = replaced[0].baseOffset;
    for (const s of replaced) s.closeFile(this.config.fileDeleteDelayMs);
    commitSwap(
      this.dir,
      base,
      replaced.map((s) => s.baseOffset),
      suffixes,
    );
    const seg = LogSegment.open(this.dir, base, this.config, this.log, this.clock());
    const problem = seg.openTrusted(false);
    if (problem) {
      this.log.warn('cleaned segment needs recovery', { segment: seg.logPath, problem });
      seg.recover(true, true);
      seg.seal();
    }
    this.segments.splice(first, replaced.length, seg);
    return true;
  }

  /** Applies changed topic configs (takes effect for the next append / roll / new segment). */
  updateConfig(config: LogConfig | Partial<LogConfig>): void {
    this.config = resolveLogConfig(config);
    for (const s of this.segments) s.updateConfig(this.config);
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1];
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`partition log ${this.dir} is closed`);
  }

  /** Before the first write after a clean open: remove the marker durably, so a crash from now on counts as unclean. */
  private markWriting(): void {
    if (!this.markerPresent) return;
    fs.rmSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE), { force: true });
    fsyncDir(this.dir);
    this.markerPresent = false;
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends one or more v2 batches (already validated, e.g. by validateProducedRecords; only
   * their framing is re-checked here). Assigns offsets from logEndOffset by rewriting each
   * batch's baseOffset in `records` and stamps `leaderEpoch` into partitionLeaderEpoch (both
   * outside the CRC); under LogAppendTime also sets the timestamp (recomputing the CRC).
   * Rolls the segment if needed, writes everything with one write, updates the indexes and
   * applies flush.messages / flush.ms. Throws on malformed framing (nothing is written) or
   * on an I/O error (the segment is cut back to its previous size).
   */
  append(records: Buffer, leaderEpoch: number): AppendResult {
    this.checkOpen();
    this.settleBeforeWrite();
    const now = this.clock();
    const prepared = this.prepareAppend(records, leaderEpoch, now);
    try {
      this.markWriting();
      this.maybeRoll(records.length, prepared.result.maxTimestamp, prepared.result.lastOffset, now);
      const seg = this.active;
      this.commitToSegment(seg, prepared.recordsCount, now, () => seg.append(records));
    } catch (err) {
      this.failures.failed(err as Error, now);
      throw err;
    }
    this.failures.resumed(now);
    return prepared.result;
  }

  /**
   * append() with the write on the thread pool (the page-cache copy is the largest cost of a
   * large produce, and this way it runs beside the event loop): offsets are assigned now, but
   * the log, its indexes and its readers see the batches only once every byte is written, and
   * then `onCommit` runs, before any later change to the log. Small appends are written at
   * once (a thread-pool round trip costs more than the copy). One background write per log
   * at a time: the caller waits for whenIdle() first. A failure rejects (the log is cut back).
   */
  appendInBackground(records: Buffer, leaderEpoch: number, onCommit: (result: AppendResult) => void): AppendResult | Promise<AppendResult> {
    this.checkOpen();
    if (this.pending) throw new Error(`partition log ${this.dir}: a background write is in flight`);
    if (records.length < BACKGROUND_WRITE_MIN_BYTES) {
      const result = this.append(records, leaderEpoch);
      onCommit(result);
      return result;
    }
    const now = this.clock();
    const prepared = this.prepareAppend(records, leaderEpoch, now);
    try {
      this.markWriting();
      this.maybeRoll(records.length, prepared.result.maxTimestamp, prepared.result.lastOffset, now);
    } catch (err) {
      this.failures.failed(err as Error, now);
      throw err;
    }
    const seg = this.active;
    return new Promise<AppendResult>((resolve, reject) => {
      const write: BackgroundWrite = { seg, records, prepared, onCommit, resolve, reject, done: false, stuck: false };
      this.pending = write;
      seg.writeInBackground(records, (err) => this.backgroundWriteDone(write, err));
    });
  }

  /** Null when no background write is in flight, else a promise resolved when it is over. */
  whenIdle(): Promise<void> | null {
    if (!this.pending) return null;
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Completes a background write now, on this thread (the same bytes at the same position:
   * writing them twice is harmless), so that synchronous changes to the log (a transaction
   * marker, a roll, close) see it committed or failed first.
   */
  settleWrites(): boolean {
    const write = this.pending;
    if (!write) return true;
    if (write.stuck) return false;
    try {
      writeFully(write.seg.fd, write.records, 0, write.records.length, write.seg.size);
    } catch (err) {
      // The thread pool may still write these bytes: nothing may be written after them (or
      // over them) before it returns, so the write stays in flight and decides as usual.
      write.stuck = true;
      this.log.warn('could not complete a background write at once; the log takes no other write until it returns', { dir: this.dir, error: (err as Error).message });
      return false;
    }
    write.done = true;
    ioPinned.add(write.records.buffer); // the thread pool's write of these bytes has not returned
    this.commitBackgroundWrite(write);
    return true;
  }

  /** settleWrites() for the synchronous writers: an error (a storage error for the client) while a write is stuck. */
  private settleBeforeWrite(): void {
    if (!this.settleWrites()) throw new Error(`partition log ${this.dir}: an earlier write is still in flight on a failing disk`);
  }

  private backgroundWriteDone(write: BackgroundWrite, err: Error | null): void {
    if (write.done) return; // settled meanwhile
    write.done = true;
    if (this.closed) {
      // Closed while stuck: what reached the disk is the next open's to recover, as after a crash.
      this.pending = null;
      write.reject(err ?? new Error(`partition log ${this.dir} was closed during the write`));
      this.wakeIdleWaiters();
      return;
    }
    if (err) this.failBackgroundWrite(write, err);
    else this.commitBackgroundWrite(write);
  }

  private commitBackgroundWrite(write: BackgroundWrite): void {
    const now = this.clock();
    const { seg, records, prepared } = write;
    try {
      this.commitToSegment(seg, prepared.recordsCount, now, () => seg.appendWritten(records));
    } catch (err) {
      this.failBackgroundWrite(write, err as Error);
      return;
    }
    this.failures.resumed(now);
    this.finishBackgroundWrite(write);
    try {
      write.onCommit(prepared.result);
    } catch (err) {
      this.log.error('append commit hook failed', { dir: this.dir, error: (err as Error).stack ?? String(err) });
    }
    write.resolve(prepared.result);
    this.wakeIdleWaiters();
  }

  /**
   * Runs `write` (the segment taking the batches), counts them for flush.messages and flushes
   * when due. All or nothing: on a failure the segment and the count are as before (a batch the
   * client is told failed must not stay in the log) and the error is rethrown.
   */
  private commitToSegment(seg: LogSegment, recordsCount: number, now: number, write: () => void): void {
    const mark = seg.mark();
    const unflushed = this.unflushedMessages;
    try {
      write();
      this.unflushedMessages += recordsCount;
      this.maybeFlush(now);
    } catch (err) {
      seg.rollback(mark);
      this.unflushedMessages = unflushed;
      throw err;
    }
  }

  private failBackgroundWrite(write: BackgroundWrite, err: Error): void {
    write.seg.cutBack();
    this.failures.failed(err, this.clock());
    this.finishBackgroundWrite(write);
    write.reject(err);
    this.wakeIdleWaiters();
  }

  private finishBackgroundWrite(write: BackgroundWrite): void {
    if (this.pending === write) this.pending = null;
  }

  private wakeIdleWaiters(): void {
    const waiters = this.idleWaiters;
    if (waiters.length === 0) return;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Framing check, offsets from logEndOffset, the leader epoch and LogAppendTime (append-batches.ts). */
  private prepareAppend(records: Buffer, leaderEpoch: number, now: number): PreparedAppend {
    return stampBatches(records, this.logEndOffset, leaderEpoch, this.config.messageTimestampType === 'LogAppendTime' ? now : -1);
  }

  /** Whether the last append failed (health checks, metrics). */
  get appendsFailing(): boolean {
    return this.failures.failing;
  }

  private maybeRoll(bytes: number, maxTimestamp: number, lastOffset: number, now: number): void {
    const seg = this.active;
    if (seg.size === 0) return;
    let reason: string | null = null;
    if (seg.size + bytes > this.config.segmentBytes || seg.size + bytes > INT32_MAX) reason = 'segment.bytes';
    else if (this.timeWaitedForRoll(seg, maxTimestamp, now) > this.config.segmentMs) reason = 'segment.ms';
    else if (seg.indexesFullFor(lastOffset)) reason = 'index full';
    if (reason) this.roll(reason, now);
  }

  /** Kafka's rule: compare batch timestamps when the segment's first batch has one, else wall clock. */
  private timeWaitedForRoll(seg: LogSegment, maxTimestamp: number, now: number): number {
    return seg.rollingBaseTimestamp >= 0 ? maxTimestamp - seg.rollingBaseTimestamp : now - seg.createdMs;
  }

  /** Starts a new active segment at logEndOffset. */
  private roll(reason: string, now: number): void {
    const old = this.active;
    const base = old.nextOffset;
    old.seal();
    old.flushInBackground();
    this.segments.push(LogSegment.create(this.dir, base, this.config, this.log, now));
    if (this.dirEntriesUnsynced === 'none') this.dirEntriesUnsynced = 'dir';
    this.log.debug('rolled segment', { dir: this.dir, reason, newBaseOffset: base, previousSize: old.size });
  }

  /** Forces a new segment now (tests; retention and DeleteRecords will use it). No-op on an empty active segment. */
  rollNow(): void {
    this.checkOpen();
    this.settleBeforeWrite();
    if (this.active.size === 0) return;
    this.markWriting();
    this.roll('requested', this.clock());
  }

  /** Applies flush.messages and flush.ms; the broker may call this periodically for flush.ms on idle logs. */
  maybeFlush(now: number = this.clock()): void {
    if (this.closed || this.unflushedMessages === 0) return;
    if (this.unflushedMessages >= this.config.flushMessages || now - this.lastFlushMs >= this.config.flushMs) this.flush();
  }

  /** fsyncs the .log of every segment holding unflushed bytes (and new directory entries) and writes the active segment's indexes. */
  flush(): void {
    this.checkOpen();
    for (const s of this.segments) s.flush(false);
    if (this.dirEntriesUnsynced !== 'none') {
      fsyncDir(this.dir);
      if (this.dirEntriesUnsynced === 'dir-and-parent') fsyncDir(path.dirname(this.dir));
      this.dirEntriesUnsynced = 'none';
    }
    this.active.offsetIndex.persist(false);
    this.active.timeIndex.persist(false);
    this.unflushedMessages = 0;
    this.lastFlushMs = this.clock();
  }

  // ---------------------------------------------------------------- read

  /** See readRange (log-reads.ts): the file range a Fetch sends from fetchOffset. */
  read(fetchOffset: number, maxBytes: number, minOneMessage = true, maxOffset = Infinity): ReadResult {
    this.checkOpen();
    return readRange(this.segments, this.logStartOffset, this.logEndOffset, fetchOffset, maxBytes, minOneMessage, maxOffset);
  }

  /** See readWholeBatches (log-reads.ts): whole batches for share fetches. */
  readWholeBatches(fetchOffset: number, maxBytes: number, maxOffset = Infinity): ShareReadBatch[] {
    this.checkOpen();
    return readWholeBatches(this.segments, this.logStartOffset, this.logEndOffset, fetchOffset, maxBytes, maxOffset);
  }

  /** See offsetForTimestamp (log-reads.ts): ListOffsets by timestamp. */
  offsetForTimestamp(timestamp: number): TimestampAndOffset | null {
    this.checkOpen();
    return offsetForTimestamp(this.segments, this.logStartOffset, timestamp);
  }

  /** See maxTimestampOffset (log-reads.ts): ListOffsets MAX_TIMESTAMP. */
  maxTimestampOffset(): TimestampAndOffset {
    this.checkOpen();
    return maxTimestampOffset(this.segments);
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Flushes everything (logs and indexes fsynced, the active segment's time index sealed with
   * its max timestamp), writes the clean-shutdown marker and closes all files. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    // A write that cannot complete now leaves the log as a crash would: no clean marker.
    const settled = this.settleWrites();
    try {
      this.active.seal();
      for (const s of this.segments) s.flush(true);
      if (!this.markerPresent && settled) {
        const fd = fs.openSync(path.join(this.dir, CLEAN_SHUTDOWN_FILE), 'w');
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        fsyncDir(this.dir);
      }
    } catch (err) {
      // No marker then: the next start checks the active segment as after a crash.
      this.log.error('could not flush the log at close; the next start recovers it', { dir: this.dir, error: (err as Error).message });
    }
    for (const s of this.segments) s.closeFile();
    this.closed = true;
  }

  /**
   * Deletes the partition directory (DeleteTopics). Descriptors close after file.delete.delay.ms
   * (fetches may still read them), or after `delayMs` (0 for a log nobody has read).
   */
  deleteAll(delayMs = this.config.fileDeleteDelayMs): void {
    if (!this.closed) {
      this.settleWrites();
      for (const s of this.segments) s.closeFile(delayMs);
      this.closed = true;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
