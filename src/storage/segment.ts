/**
 * Log segment: one `.log` file of record batches plus its `.index` and `.timeindex`.
 *
 * Files, named by the segment's base offset as 20 zero-padded digits (Kafka's layout):
 *
 *   00000000000000000000.log        record batches back to back, exactly as producers sent them
 *                                   except baseOffset (@0) and partitionLeaderEpoch (@12), which
 *                                   the broker rewrites (both outside the CRC). Each batch is the
 *                                   v2 layout in src/protocol/record-batch.ts:
 *                                     @0 baseOffset int64, @8 batchLength int32 (bytes after it),
 *                                     @12 partitionLeaderEpoch, @16 magic=2, @17 crc, @21 ...
 *                                   Offsets increase strictly from batch to batch; no header, no
 *                                   padding, no trailer. The file's length is the segment size.
 *   00000000000000000000.index      sparse offset index, see offset-index.ts
 *   00000000000000000000.timeindex  sparse time index, see time-index.ts
 *
 * A segment holds at most 2^31-1 bytes and offsets baseOffset .. baseOffset + 2^31-1 (index
 * entries store 32-bit relative values). Only batch headers are ever read here; records are not.
 *
 * Concurrency: a segment belongs to one PartitionLog and is used from the JS thread only, with
 * synchronous positional I/O. The log file descriptor stays open for the segment's lifetime
 * (reads hand it out inside FileRegions); index files are opened only to load or persist.
 */
import * as fs from 'fs';
import * as path from 'path';
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CONTROL_MASK,
  CRC_OFFSET,
  PRODUCER_ID_OFFSET,
  TRANSACTIONAL_MASK,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  NO_TIMESTAMP,
  readInt64,
} from '../protocol/record-batch';
import type { Logger } from '../logging';
import { readFully, writeFully } from './file-io';
import { OFFSET_INDEX_ENTRY_SIZE, OffsetIndex } from './offset-index';
import { TIME_INDEX_ENTRY_SIZE, TimeIndex } from './time-index';
import type { LogConfig } from './log-config';

export const LOG_FILE_SUFFIX = '.log';
export const INDEX_FILE_SUFFIX = '.index';
export const TIME_INDEX_FILE_SUFFIX = '.timeindex';

const INT32_MAX = 0x7fffffff;
/** Recovery reads the log in chunks of this size (bigger batches get their own buffer). */
const SCAN_CHUNK_BYTES = 1024 * 1024;

/** `00000000000000000042` for 42. */
export function segmentFileName(baseOffset: number, suffix: string): string {
  return String(baseOffset).padStart(20, '0') + suffix;
}

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

export function parseSegmentFileName(name: string): { baseOffset: number; suffix: string } | null {
  const m = SEGMENT_FILE.exec(name);
  return m ? { baseOffset: Number(m[1]), suffix: '.' + m[2] } : null;
}

/** Where a batch lies in a segment, from its header. */
export interface BatchLocation {
  position: number;
  /** Whole batch size (LOG_OVERHEAD + batchLength). */
  size: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface ScanResult {
  /** Bytes of whole, valid batches from the start of the file. */
  validBytes: number;
  /** Bytes after validBytes (removed from the file when truncating). */
  invalidBytes: number;
  /** Why the scan stopped before the end of the file, or null. */
  reason: string | null;
}

/** What LogSegment.mark() records. */
export interface SegmentMark {
  size: number;
  nextOffset: number;
  maxTimestamp: number;
  offsetOfMaxTimestamp: number;
  rollingBaseTimestamp: number;
  bytesSinceLastIndexEntry: number;
  unflushedBytes: number;
  offsetIndexEntries: number;
  timeIndexEntries: number;
}

/** Header scratch for reads: the storage layer runs on the JS thread only, so one buffer suffices. */
const header = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
/** Bytes per read of an index walk: one default index.interval.bytes (4 KiB) of batches and the header after. */
const WALK_READ_BYTES = 8 * 1024;
const walkBuffer = Buffer.allocUnsafe(WALK_READ_BYTES);

/** The header at buf[at] (file position `pos`) is a v2 batch that ends within `fileSize`. */
function plausibleHeader(buf: Buffer, at: number, pos: number, fileSize: number): boolean {
  const batchLength = buf.readInt32BE(at + BATCH_LENGTH_OFFSET);
  if (batchLength < MIN_BATCH_LENGTH || pos + LOG_OVERHEAD + batchLength > fileSize) return false;
  return buf.readInt8(at + MAGIC_OFFSET) === CURRENT_MAGIC;
}

/** Reads a chunk window of a file so a full scan costs one read per MiB, not one per batch. */
class FileWindow {
  private buf = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
  private start = 0;
  private length = 0;

  constructor(
    private readonly fd: number,
    private readonly fileSize: number,
  ) {}

  /** Returns a buffer and the index in it where file bytes [pos, pos+n) are; n must fit in the file. */
  view(pos: number, n: number): { buf: Buffer; at: number } {
    if (pos >= this.start && pos + n <= this.start + this.length) return { buf: this.buf, at: pos - this.start };
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    const want = Math.min(this.buf.length, this.fileSize - pos);
    this.length = readFully(this.fd, this.buf, 0, want, pos);
    this.start = pos;
    if (this.length < n) throw new Error(`file shrank during scan: wanted ${n} bytes at ${pos}`);
    return { buf: this.buf, at: 0 };
  }
}

export class LogSegment {
  /** Bytes of the .log file that hold valid batches (= file length outside recovery). */
  size: number;
  /** Offset after the last batch; baseOffset when empty. */
  nextOffset: number;
  /** Largest batch maxTimestamp in the segment, NO_TIMESTAMP (-1) if none. */
  maxTimestamp = NO_TIMESTAMP;
  /** lastOffset of the batch that first reached maxTimestamp, -1 if none. */
  offsetOfMaxTimestamp = -1;
  /** maxTimestamp of the first batch (segment.ms rolls count from it), NO_TIMESTAMP if empty. */
  rollingBaseTimestamp = NO_TIMESTAMP;
  /** Wall-clock creation (or open) time, used for segment.ms when batches carry no timestamps. */
  readonly createdMs: number;
  /** Bytes written since the last fsync of the .log. */
  unflushedBytes = 0;
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  private bytesSinceLastIndexEntry = 0;
  private fdOpen = true;
  /** writeInBackground() calls not yet done; closeFile() waits for them (deferredClose: its delay). */
  private writesInFlight = 0;
  private deferredClose: number | null = null;
  /** The descriptor is closed or scheduled to close (no write may use it any more). */
  private fdClosed = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    readonly fd: number,
    size: number,
    private config: Required<LogConfig>,
    private readonly log: Logger,
    now: number,
  ) {
    this.size = size;
    this.nextOffset = baseOffset;
    this.createdMs = now;
    const segmentIndexBytes = config.segmentIndexBytes;
    this.offsetIndex = new OffsetIndex(
      path.join(dir, segmentFileName(baseOffset, INDEX_FILE_SUFFIX)),
      baseOffset,
      Math.max(1, Math.floor(segmentIndexBytes / OFFSET_INDEX_ENTRY_SIZE)),
    );
    this.timeIndex = new TimeIndex(
      path.join(dir, segmentFileName(baseOffset, TIME_INDEX_FILE_SUFFIX)),
      baseOffset,
      Math.max(1, Math.floor(segmentIndexBytes / TIME_INDEX_ENTRY_SIZE)),
    );
  }

  get logPath(): string {
    return path.join(this.dir, segmentFileName(this.baseOffset, LOG_FILE_SUFFIX));
  }

  /**
   * Creates a new, empty segment (truncating any leftover files of the same name). On an I/O
   * error (no space for the index files, no descriptor left) nothing stays behind: the
   * descriptor is closed and the files are removed before the error is rethrown.
   */
  static create(dir: string, baseOffset: number, config: Required<LogConfig>, log: Logger, now: number): LogSegment {
    const fd = fs.openSync(path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX)), 'w+', 0o644);
    const seg = new LogSegment(dir, baseOffset, fd, 0, config, log, now);
    try {
      seg.offsetIndex.reset();
      seg.timeIndex.reset();
      seg.offsetIndex.persist(false);
      seg.timeIndex.persist(false);
    } catch (err) {
      seg.closeFile();
      try {
        seg.deleteFiles();
      } catch {
        // The original error is the one to report; recovery ignores an empty last segment.
      }
      throw err;
    }
    return seg;
  }

  /** Opens an existing segment's .log; state is unknown until openTrusted() or recover(). */
  static open(dir: string, baseOffset: number, config: Required<LogConfig>, log: Logger, now: number): LogSegment {
    const fd = fs.openSync(path.join(dir, segmentFileName(baseOffset, LOG_FILE_SUFFIX)), 'r+');
    const size = fs.fstatSync(fd).size;
    return new LogSegment(dir, baseOffset, fd, size, config, log, now);
  }

  updateConfig(config: Required<LogConfig>): void {
    this.config = config;
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Full scan from byte 0: checks every batch (length, magic, increasing offsets, and the CRC
   * when `checkCrc`), rebuilds both indexes, and stops at the first bad batch. With
   * `truncate`, the file is cut (and fsynced) at the last valid batch.
   */
  recover(checkCrc: boolean, truncate: boolean): ScanResult {
    const fileSize = fs.fstatSync(this.fd).size;
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.maxTimestamp = NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = -1;
    this.rollingBaseTimestamp = NO_TIMESTAMP;
    this.bytesSinceLastIndexEntry = 0;
    this.nextOffset = this.baseOffset;
    const win = new FileWindow(this.fd, fileSize);
    let pos = 0;
    let reason: string | null = null;
    while (pos < fileSize) {
      const remaining = fileSize - pos;
      if (remaining < BATCH_HEADER_SIZE) {
        reason = `${remaining} trailing bytes, less than a batch header`;
        break;
      }
      let v = win.view(pos, BATCH_HEADER_SIZE);
      const batchLength = v.buf.readInt32BE(v.at + BATCH_LENGTH_OFFSET);
      if (batchLength < MIN_BATCH_LENGTH) {
        reason = `invalid batch length ${batchLength}`;
        break;
      }
      const size = LOG_OVERHEAD + batchLength;
      if (size > remaining) {
        reason = `incomplete batch: ${remaining} of ${size} bytes present`;
        break;
      }
      if (checkCrc) v = win.view(pos, size);
      const { buf, at } = v;
      const magic = buf.readInt8(at + MAGIC_OFFSET);
      if (magic !== CURRENT_MAGIC) {
        reason = `unsupported magic ${magic}`;
        break;
      }
      const batchBase = readInt64(buf, at);
      const delta = buf.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      if (batchBase < this.nextOffset || delta < 0 || batchBase + delta - this.baseOffset > INT32_MAX) {
        reason = `offsets ${batchBase}+${delta} do not follow ${this.nextOffset - 1} in segment ${this.baseOffset}`;
        break;
      }
      if (checkCrc && crc32c(buf.subarray(at + ATTRIBUTES_OFFSET, at + size)) !== buf.readUInt32BE(at + CRC_OFFSET)) {
        reason = `CRC mismatch in batch at offset ${batchBase}`;
        break;
      }
      const maxTs = readInt64(buf, at + MAX_TIMESTAMP_OFFSET);
      if (pos === 0) this.rollingBaseTimestamp = maxTs;
      const lastOffset = batchBase + delta;
      this.indexBatch(pos, size, lastOffset, maxTs);
      this.nextOffset = lastOffset + 1;
      pos += size;
    }
    this.size = pos;
    if (truncate && pos < fileSize) {
      fs.ftruncateSync(this.fd, pos);
      fs.fsyncSync(this.fd);
    }
    this.offsetIndex.persist(false);
    this.timeIndex.persist(false);
    return { validBytes: pos, invalidBytes: fileSize - pos, reason };
  }

  /**
   * Cheap open for a segment trusted to be intact (closed segments; the active one after a
   * clean shutdown): checks the index files' shape and the batch the last index entry points
   * at, then walks batch headers (no CRC) from there to the end of the file to find
   * nextOffset and the maximum timestamp. With `loadIndexes` (the active segment), the indexes
   * are loaded and missing trailing entries are added as the walk passes them.
   * Returns a problem description (the caller then runs recover()), or null.
   */
  openTrusted(loadIndexes: boolean): string | null {
    const oi = this.offsetIndex.peek();
    if (oi.problem) return `offset index ${oi.problem}`;
    const ti = this.timeIndex.peek();
    if (ti.problem) return `time index ${ti.problem}`;
    let pos = 0;
    let expectNext = this.baseOffset;
    if (oi.last) {
      if (oi.last.position >= this.size) return `offset index points at ${oi.last.position}, log has ${this.size} bytes`;
      if (!this.readHeader(oi.last.position)) return `offset index entry at ${oi.last.position} is not a batch`;
      const base = readInt64(header, 0);
      if (base > oi.last.offset || base < this.baseOffset) return `offset index entry ${oi.last.offset} does not match the batch at ${oi.last.position}`;
      pos = oi.last.position;
      expectNext = base;
    }
    if (loadIndexes) {
      // The time index is loaded before nextOffset is known; its last offset is checked below.
      const p = this.offsetIndex.load(this.size) ?? this.timeIndex.load(Infinity);
      if (p) return `index ${p}`;
    }
    this.maxTimestamp = ti.last ? ti.last.timestamp : NO_TIMESTAMP;
    this.offsetOfMaxTimestamp = ti.last ? ti.last.offset : -1;
    this.bytesSinceLastIndexEntry = 0;
    const indexedPos = oi.last ? oi.last.position : -1;
    let next = expectNext;
    while (pos < this.size) {
      if (!this.readHeader(pos)) return `torn or invalid batch at position ${pos}`;
      const size = LOG_OVERHEAD + header.readInt32BE(BATCH_LENGTH_OFFSET);
      const base = readInt64(header, 0);
      const delta = header.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      if (base < next || delta < 0 || base + delta - this.baseOffset > INT32_MAX) return `offsets do not increase at position ${pos}`;
      const lastOffset = base + delta;
      const maxTs = readInt64(header, MAX_TIMESTAMP_OFFSET);
      if (loadIndexes && pos !== indexedPos) {
        // Same rule as append: adds entries the index file lacks, if any.
        this.indexBatch(pos, size, lastOffset, maxTs);
      } else {
        if (maxTs > this.maxTimestamp) {
          this.maxTimestamp = maxTs;
          this.offsetOfMaxTimestamp = lastOffset;
        }
        this.bytesSinceLastIndexEntry += size;
      }
      next = lastOffset + 1;
      pos += size;
    }
    this.nextOffset = next;
    if (ti.last && ti.last.offset >= this.nextOffset) return `time index offset ${ti.last.offset} beyond the segment end ${this.nextOffset}`;
    if (this.size > 0) {
      if (!this.readHeader(0)) return 'invalid first batch';
      this.rollingBaseTimestamp = readInt64(header, MAX_TIMESTAMP_OFFSET);
    }
    return null;
  }

  /** Loads a closed segment's indexes on first use; rebuilds them from the log if they are bad. */
  private ensureIndexes(): void {
    if (this.offsetIndex.loaded && this.timeIndex.loaded) return;
    let problem = this.offsetIndex.loaded ? null : this.offsetIndex.load(this.size);
    if (problem) problem = `offset index ${problem}`;
    else if (!this.timeIndex.loaded) {
      problem = this.timeIndex.load(this.nextOffset);
      if (problem) problem = `time index ${problem}`;
    }
    if (!problem) return;
    this.log.warn('segment index inconsistent, rebuilding it from the log', { segment: this.logPath, problem });
    const before = this.nextOffset;
    const result = this.recover(true, false);
    this.seal();
    if (result.reason) {
      this.log.error('closed segment has an invalid tail; serving only its valid prefix', {
        segment: this.logPath,
        reason: result.reason,
        validBytes: result.validBytes,
        nextOffset: this.nextOffset,
        expectedNextOffset: before,
      });
    }
  }

  /**
   * Kafka's per-batch index rule (LogSegment.append / recover): track the max timestamp; when
   * more than index.interval.bytes were appended since the last entry, index this batch in
   * both indexes.
   */
  private indexBatch(position: number, size: number, lastOffset: number, maxTimestamp: number): void {
    if (maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = maxTimestamp;
      this.offsetOfMaxTimestamp = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += size;
  }

  /** Reads the 61-byte header at `pos` into the scratch buffer; false if it is not a plausible v2 batch within the segment. */
  private readHeader(pos: number): boolean {
    if (this.size - pos < BATCH_HEADER_SIZE) return false;
    if (readFully(this.fd, header, 0, BATCH_HEADER_SIZE, pos) !== BATCH_HEADER_SIZE) return false;
    return plausibleHeader(header, 0, pos, this.size);
  }

  // ---------------------------------------------------------------- append

  /**
   * Appends whole batches whose offsets are already assigned (> nextOffset - 1) with one
   * positional write, then indexes them. On a failed write the file is cut back, so the
   * segment never keeps a partial batch.
   */
  append(records: Buffer): void {
    try {
      writeFully(this.fd, records, 0, records.length, this.size);
    } catch (err) {
      this.cutBack();
      throw err;
    }
    this.appendWritten(records);
  }

  /**
   * Writes `records` at the end of the segment on the thread pool; changes no state, so
   * readers keep seeing the segment without them. `done` runs on the JS thread when every
   * byte is written or the write failed; the caller then calls appendWritten() or cutBack().
   * The descriptor stays open until the write is over, even if closeFile() comes first (its
   * number could otherwise be reused by another file while the thread pool still writes).
   */
  writeInBackground(records: Buffer, done: (err: Error | null) => void): void {
    const position = this.size;
    this.writesInFlight++;
    const step = (from: number): void => {
      fs.write(this.fd, records, from, records.length - from, position + from, (err, n) => {
        if (!err && n === 0) err = Object.assign(new Error(`${this.logPath}: write returned 0 bytes`), { code: 'EIO' });
        if (!err && from + n < records.length) return step(from + n);
        this.writesInFlight--;
        // The caller may cut the file back: the descriptor closes after it answered.
        done(err);
        if (this.writesInFlight === 0 && this.deferredClose !== null) this.closeNow(this.deferredClose);
      });
    };
    step(0);
  }

  /** Cuts the file back to the segment's size (a failed write may have left part of a batch past it). */
  cutBack(): void {
    if (this.fdClosed) return;
    try {
      fs.ftruncateSync(this.fd, this.size);
    } catch {
      // The original error is the one to report; bytes past `size` are never read and recovery cuts them.
    }
  }

  /** Indexes whole batches just written at the segment's end (by append() or writeInBackground()). */
  appendWritten(records: Buffer): void {
    const position = this.size;
    let p = 0;
    while (p < records.length) {
      const size = LOG_OVERHEAD + records.readInt32BE(p + BATCH_LENGTH_OFFSET);
      const lastOffset = readInt64(records, p) + records.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
      const maxTs = readInt64(records, p + MAX_TIMESTAMP_OFFSET);
      if (position + p === 0) this.rollingBaseTimestamp = maxTs;
      this.indexBatch(position + p, size, lastOffset, maxTs);
      this.nextOffset = lastOffset + 1;
      p += size;
    }
    this.size = position + records.length;
    this.unflushedBytes += records.length;
  }

  /** The segment's state before an append, for rollback() when the append cannot complete. */
  mark(): SegmentMark {
    return {
      size: this.size,
      nextOffset: this.nextOffset,
      maxTimestamp: this.maxTimestamp,
      offsetOfMaxTimestamp: this.offsetOfMaxTimestamp,
      rollingBaseTimestamp: this.rollingBaseTimestamp,
      bytesSinceLastIndexEntry: this.bytesSinceLastIndexEntry,
      unflushedBytes: this.unflushedBytes,
      offsetIndexEntries: this.offsetIndex.entries,
      timeIndexEntries: this.timeIndex.entries,
    };
  }

  /**
   * Undoes everything appended since `mark`: the file is cut back to the marked size and the
   * in-memory indexes drop the entries added since (their files follow on the next persist).
   * Readers never saw the undone bytes: appends and reads run on the same thread.
   */
  rollback(mark: SegmentMark): void {
    this.size = mark.size;
    this.nextOffset = mark.nextOffset;
    this.maxTimestamp = mark.maxTimestamp;
    this.offsetOfMaxTimestamp = mark.offsetOfMaxTimestamp;
    this.rollingBaseTimestamp = mark.rollingBaseTimestamp;
    this.bytesSinceLastIndexEntry = mark.bytesSinceLastIndexEntry;
    this.unflushedBytes = mark.unflushedBytes;
    this.offsetIndex.truncateEntries(mark.offsetIndexEntries);
    this.timeIndex.truncateEntries(mark.timeIndexEntries);
    try {
      fs.ftruncateSync(this.fd, mark.size);
    } catch (err) {
      // The bytes past `size` are never read, the next append overwrites them, and recovery
      // cuts a torn tail; say so, since the disk is in trouble.
      this.log.error('could not cut back a failed append', { segment: this.logPath, size: mark.size, error: (err as Error).message });
    }
  }

  /** Index capacity or relative-offset range would be exceeded by an append ending at lastOffset. */
  indexesFullFor(lastOffset: number): boolean {
    return this.offsetIndex.isFull() || this.timeIndex.isFull() || lastOffset - this.baseOffset > INT32_MAX;
  }

  /** The segment stops being active: record its max timestamp in the time index, write the indexes. */
  seal(): void {
    if (this.timeIndex.loaded && this.maxTimestamp !== NO_TIMESTAMP) {
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
    }
    this.offsetIndex.persist(false);
    this.timeIndex.persist(false);
  }

  // ---------------------------------------------------------------- read

  /** The first batch whose lastOffset >= target, found via the offset index; null if none here. */
  findBatch(target: number): BatchLocation | null {
    this.ensureIndexes();
    return this.walkFrom(this.offsetIndex.lookup(target), (base, last) => last >= target);
  }

  /**
   * Whole batches from the one holding `target`, in file order, while they fit `maxBytes`
   * (the first always) and start below `maxOffset`. Headers only; used by share fetches,
   * which must know each batch's offsets to hand out acquisition ranges.
   */
  wholeBatchesFrom(target: number, maxBytes: number, maxOffset: number): (BatchLocation & { control: boolean; transactional: boolean; producerId: number })[] {
    this.ensureIndexes();
    const first = this.findBatch(target);
    if (!first) return [];
    const out: (BatchLocation & { control: boolean; transactional: boolean; producerId: number })[] = [];
    let pos = first.position;
    let total = 0;
    while (pos < this.size) {
      if (!this.readHeader(pos)) throw new Error(`invalid batch header at position ${pos} of ${this.logPath}`);
      const size = LOG_OVERHEAD + header.readInt32BE(BATCH_LENGTH_OFFSET);
      const base = readInt64(header, 0);
      if (base >= maxOffset || (out.length > 0 && total + size > maxBytes)) break;
      const last = base + header.readInt32BE(LAST_OFFSET_DELTA_OFFSET);
      const attributes = header.readInt16BE(ATTRIBUTES_OFFSET);
      out.push({
        position: pos,
        size,
        baseOffset: base,
        lastOffset: last,
        maxTimestamp: readInt64(header, MAX_TIMESTAMP_OFFSET),
        control: (attributes & CONTROL_MASK) !== 0,
        transactional: (attributes & TRANSACTIONAL_MASK) !== 0,
        producerId: readInt64(header, PRODUCER_ID_OFFSET),
      });
      total += size;
      pos += size;
    }
    return out;
  }

  /** The first batch whose maxTimestamp >= timestamp, found via the time index; null if none here. */
  findByTimestamp(timestamp: number): BatchLocation | null {
    this.ensureIndexes(); // first: a rebuild may correct maxTimestamp
    if (this.maxTimestamp < timestamp) return null;
    const entry = this.timeIndex.lookup(timestamp);
    const start = this.offsetIndex.lookup(entry ? entry.offset : this.baseOffset);
    return this.walkFrom(start, (_b, _l, maxTs) => maxTs >= timestamp);
  }

  /**
   * Walks batch headers from `pos` (an offset-index position) to the first that matches. The
   * first read is one header (large batches: the indexed one is usually it); after that the
   * walk reads WALK_READ_BYTES at a time, so the batches between two index entries cost one
   * more read rather than one per batch (a tail fetch of small batches walks dozens of them).
   */
  private walkFrom(pos: number, match: (base: number, last: number, maxTs: number) => boolean): BatchLocation | null {
    let start = 0;
    let length = 0; // walkBuffer holds file bytes [start, start + length)
    let want = BATCH_HEADER_SIZE;
    while (pos < this.size) {
      if (pos < start || pos + BATCH_HEADER_SIZE > start + length) {
        start = pos;
        length = this.size - pos < BATCH_HEADER_SIZE ? 0 : readFully(this.fd, walkBuffer, 0, Math.min(want, this.size - pos), pos);
        want = WALK_READ_BYTES;
      }
      const at = pos - start;
      if (length - at < BATCH_HEADER_SIZE || !plausibleHeader(walkBuffer, at, pos, this.size)) throw new Error(`invalid batch header at position ${pos} of ${this.logPath}`);
      const size = LOG_OVERHEAD + walkBuffer.readInt32BE(at + BATCH_LENGTH_OFFSET);
      const base = readInt64(walkBuffer, at);
      const last = base + walkBuffer.readInt32BE(at + LAST_OFFSET_DELTA_OFFSET);
      const maxTs = readInt64(walkBuffer, at + MAX_TIMESTAMP_OFFSET);
      if (match(base, last, maxTs)) return { position: pos, size, baseOffset: base, lastOffset: last, maxTimestamp: maxTs };
      pos += size;
    }
    return null;
  }

  // ---------------------------------------------------------------- durability and lifetime

  /** fsync the .log (and write + fsync the indexes when `indexes`). */
  flush(indexes: boolean): void {
    if (this.unflushedBytes > 0) {
      fs.fsyncSync(this.fd);
      this.unflushedBytes = 0;
    }
    if (indexes) {
      this.offsetIndex.persist(true);
      this.timeIndex.persist(true);
    }
  }

  /** fsyncs the .log and the index files on the thread pool (after a roll), so the JS thread does not wait for the disk. */
  flushInBackground(): void {
    const onError = (err: Error): void => {
      // EBADF/ENOENT only if the segment was closed or deleted meanwhile; close() flushed synchronously then.
      if (this.fdOpen) this.log.error('background fsync of a rolled segment failed', { segment: this.logPath, error: err.message });
    };
    this.offsetIndex.syncInBackground(onError);
    this.timeIndex.syncInBackground(onError);
    if (this.unflushedBytes === 0) return;
    const bytes = this.unflushedBytes;
    fs.fsync(this.fd, (err) => {
      if (err) return onError(err);
      this.unflushedBytes = Math.max(0, this.unflushedBytes - bytes);
    });
  }

  /** Closes the .log descriptor, at once or after `delayMs` (outstanding FileRegions may still read it). */
  closeFile(delayMs = 0): void {
    if (!this.fdOpen) return;
    this.fdOpen = false;
    if (this.writesInFlight > 0) this.deferredClose = delayMs;
    else this.closeNow(delayMs);
  }

  private closeNow(delayMs: number): void {
    this.deferredClose = null;
    this.fdClosed = true;
    const fd = this.fd;
    if (delayMs <= 0) {
      fs.closeSync(fd);
      return;
    }
    setTimeout(() => fs.close(fd, () => undefined), delayMs).unref();
  }

  /** Removes the segment's files (the descriptor must be closed or scheduled to close). */
  deleteFiles(): void {
    for (const p of [this.logPath, this.offsetIndex.path, this.timeIndex.path]) fs.rmSync(p, { force: true });
  }
}
