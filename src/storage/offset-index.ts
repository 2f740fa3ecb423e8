/**
 * Offset index: `<baseOffset, 20 digits>.index`, one per segment, Kafka's layout and meaning.
 *
 * The file is a bare array of 8-byte big-endian entries, no header:
 *
 *   @0  relativeOffset  int32   lastOffset of an indexed batch minus the segment's baseOffset
 *   @4  position        int32   byte position in the .log where that batch starts
 *
 * Entries are sparse: one is added for a batch when more than index.interval.bytes of log were
 * appended since the previous entry (the segment's first batch never needs one: position 0 is
 * implied). Both fields strictly increase. lookup(target) returns the position of the last entry
 * whose offset <= target (or 0): a batch that starts at or before `target`, from which the
 * reader walks batch headers forward.
 *
 * In memory the entries live in two Int32Arrays. Closed segments load theirs lazily on first
 * use; the active segment's new entries are kept in memory and written to the file on
 * persist() (roll, flush, close) — the log itself is the source of truth, so an index that
 * lags after a crash is rebuilt by recovery. The file never holds preallocated space: it is
 * exactly `entries * 8` bytes after persist().
 */
import * as fs from 'fs';
import { writeFileTail } from './file-io';

export const OFFSET_INDEX_ENTRY_SIZE = 8;
const INT32_MAX = 0x7fffffff;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex {
  private rel = new Int32Array(16);
  private pos = new Int32Array(16);
  private count = 0;
  private persistedCount = 0;
  /** Bytes currently in the file as far as we know (-1: unknown). */
  private diskBytes = -1;
  private isLoaded = false;
  /** The file's current content has been fsynced (or predates this process). */
  private synced = true;
  /** Bumped on every file write, so a background fsync can tell whether it still covers the file. */
  private generation = 0;

  constructor(
    readonly path: string,
    readonly baseOffset: number,
    /** segment.index.bytes / 8: the segment rolls when this many entries exist. */
    readonly maxEntries: number,
  ) {}

  get loaded(): boolean {
    return this.isLoaded;
  }

  get entries(): number {
    return this.count;
  }

  isFull(): boolean {
    return this.count >= this.maxEntries;
  }

  /** Starts from an empty index (new segment or rebuild); the file is emptied on the next persist(). */
  reset(): void {
    this.count = 0;
    this.persistedCount = 0;
    this.isLoaded = true;
  }

  /**
   * Cheap consistency check of the file without loading it: length is a multiple of the entry
   * size; returns the entry count and last entry. `problem` is non-null when the file is
   * missing or malformed.
   */
  peek(): { problem: string | null; entries: number; last: OffsetPosition | null } {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch {
      return { problem: 'missing', entries: 0, last: null };
    }
    try {
      const size = fs.fstatSync(fd).size;
      this.diskBytes = size;
      if (size % OFFSET_INDEX_ENTRY_SIZE !== 0) return { problem: `size ${size} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`, entries: 0, last: null };
      const entries = size / OFFSET_INDEX_ENTRY_SIZE;
      if (entries === 0) return { problem: null, entries, last: null };
      const b = Buffer.allocUnsafe(OFFSET_INDEX_ENTRY_SIZE);
      if (fs.readSync(fd, b, 0, OFFSET_INDEX_ENTRY_SIZE, size - OFFSET_INDEX_ENTRY_SIZE) !== OFFSET_INDEX_ENTRY_SIZE) {
        return { problem: 'short read', entries: 0, last: null };
      }
      const relOffset = b.readInt32BE(0);
      const position = b.readInt32BE(4);
      if (relOffset < 0 || position < 0) return { problem: `last entry (${relOffset}, ${position}) is negative`, entries, last: null };
      return { problem: null, entries, last: { offset: this.baseOffset + relOffset, position } };
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Reads the whole file into memory and checks that entries strictly increase and that
   * positions lie below `logSize`. Returns a description of the problem, or null when loaded.
   */
  load(logSize: number): string | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.path);
    } catch {
      return 'missing';
    }
    this.diskBytes = data.length;
    if (data.length % OFFSET_INDEX_ENTRY_SIZE !== 0) return `size ${data.length} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`;
    const n = data.length / OFFSET_INDEX_ENTRY_SIZE;
    const rel = new Int32Array(Math.max(16, n));
    const pos = new Int32Array(Math.max(16, n));
    let prevRel = -1;
    let prevPos = -1;
    for (let i = 0, at = 0; i < n; i++, at += OFFSET_INDEX_ENTRY_SIZE) {
      const r = data.readInt32BE(at);
      const p = data.readInt32BE(at + 4);
      if (r <= prevRel || p <= prevPos) return `entry ${i} (${r}, ${p}) does not increase`;
      if (p >= logSize) return `entry ${i} points at ${p}, beyond the log's ${logSize} bytes`;
      rel[i] = r;
      pos[i] = p;
      prevRel = r;
      prevPos = p;
    }
    this.rel = rel;
    this.pos = pos;
    this.count = n;
    this.persistedCount = n;
    this.isLoaded = true;
    return null;
  }

  /** Adds an entry; `offset` and `position` must exceed the last entry's. */
  append(offset: number, position: number): void {
    const r = offset - this.baseOffset;
    if (r < 0 || r > INT32_MAX || position < 0 || position > INT32_MAX) {
      throw new RangeError(`offset index entry (${offset}, ${position}) out of range for segment ${this.baseOffset}`);
    }
    const n = this.count;
    if (n > 0 && (r <= this.rel[n - 1] || position <= this.pos[n - 1])) {
      throw new Error(`offset index entry (${offset}, ${position}) does not follow (${this.baseOffset + this.rel[n - 1]}, ${this.pos[n - 1]})`);
    }
    if (n === this.rel.length) {
      const rel = new Int32Array(n * 2);
      const pos = new Int32Array(n * 2);
      rel.set(this.rel);
      pos.set(this.pos);
      this.rel = rel;
      this.pos = pos;
    }
    this.rel[n] = r;
    this.pos[n] = position;
    this.count = n + 1;
  }

  /** Drops in-memory entries after the first `n` (an append undone); the file follows on the next persist(). */
  truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.persistedCount > n) this.persistedCount = n;
    this.diskBytes = -1;
  }

  /** Position of the last entry whose offset <= target, or 0 (the segment start). */
  lookup(target: number): number {
    const r = target - this.baseOffset;
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.rel[mid] <= r) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? 0 : this.pos[found];
  }

  lastEntry(): OffsetPosition | null {
    const n = this.count;
    return n === 0 ? null : { offset: this.baseOffset + this.rel[n - 1], position: this.pos[n - 1] };
  }

  /** Writes the entries not yet on disk and trims the file to exactly the entries. */
  persist(fsync: boolean): void {
    if (!this.isLoaded) return;
    const total = this.count * OFFSET_INDEX_ENTRY_SIZE;
    if (this.persistedCount === this.count && this.diskBytes === total && (!fsync || this.synced)) return;
    const from = this.persistedCount;
    const buf = Buffer.allocUnsafe((this.count - from) * OFFSET_INDEX_ENTRY_SIZE);
    for (let i = from, at = 0; i < this.count; i++, at += OFFSET_INDEX_ENTRY_SIZE) {
      buf.writeInt32BE(this.rel[i], at);
      buf.writeInt32BE(this.pos[i], at + 4);
    }
    writeFileTail(this.path, buf, from * OFFSET_INDEX_ENTRY_SIZE, total, fsync);
    this.persistedCount = this.count;
    this.diskBytes = total;
    this.synced = fsync;
    this.generation++;
  }

  /** fsyncs the file on the thread pool if it has unsynced writes (after a roll). */
  syncInBackground(onError: (err: Error) => void): void {
    if (this.synced) return;
    const generation = this.generation;
    fs.open(this.path, 'r', (err, fd) => {
      if (err) return onError(err);
      fs.fsync(fd, (syncErr) => {
        fs.close(fd, () => undefined);
        if (syncErr) return onError(syncErr);
        if (this.generation === generation) this.synced = true;
      });
    });
  }
}
