/**
 * Time index: `<baseOffset, 20 digits>.timeindex`, one per segment, Kafka's layout and meaning.
 *
 * The file is a bare array of 12-byte big-endian entries, no header:
 *
 *   @0  timestamp       int64   largest batch maxTimestamp seen in the segment so far
 *   @8  relativeOffset  int32   lastOffset of the batch that first reached that timestamp,
 *                               minus the segment's baseOffset
 *
 * An entry is considered whenever an offset-index entry is added (every index.interval.bytes)
 * and written only if the maximum grew since the last entry; when the segment stops being
 * active (roll, close) a final entry records the segment's maximum, so the last entry of a
 * closed segment is its largest timestamp. Timestamps strictly increase, offsets increase.
 *
 * lookup(ts) returns the last entry with timestamp <= ts: every batch before that entry's
 * batch has a smaller maxTimestamp, so a search for "first batch with maxTimestamp >= ts"
 * may start there (via the offset index).
 *
 * Loading, persisting and trimming work as for the offset index (see offset-index.ts).
 */
import * as fs from 'fs';
import { readInt64, writeInt64 } from '../protocol/record-batch';
import { writeFileTail } from './file-io';

export const TIME_INDEX_ENTRY_SIZE = 12;
const INT32_MAX = 0x7fffffff;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

export class TimeIndex {
  private ts = new Float64Array(16);
  private rel = new Int32Array(16);
  private count = 0;
  private persistedCount = 0;
  private diskBytes = -1;
  private isLoaded = false;
  /** The file's current content has been fsynced (or predates this process). */
  private synced = true;
  /** Bumped on every file write, so a background fsync can tell whether it still covers the file. */
  private generation = 0;

  constructor(
    readonly path: string,
    readonly baseOffset: number,
    /** segment.index.bytes / 12: the segment rolls when this many entries exist. */
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

  reset(): void {
    this.count = 0;
    this.persistedCount = 0;
    this.isLoaded = true;
  }

  /** Cheap check without loading: size multiple of 12; first and last entries. */
  peek(): { problem: string | null; entries: number; first: TimestampOffset | null; last: TimestampOffset | null } {
    let fd: number;
    try {
      fd = fs.openSync(this.path, 'r');
    } catch {
      return { problem: 'missing', entries: 0, first: null, last: null };
    }
    try {
      const size = fs.fstatSync(fd).size;
      this.diskBytes = size;
      if (size % TIME_INDEX_ENTRY_SIZE !== 0) {
        return { problem: `size ${size} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`, entries: 0, first: null, last: null };
      }
      const entries = size / TIME_INDEX_ENTRY_SIZE;
      if (entries === 0) return { problem: null, entries, first: null, last: null };
      const b = Buffer.allocUnsafe(TIME_INDEX_ENTRY_SIZE);
      const read = (at: number): TimestampOffset | null =>
        fs.readSync(fd, b, 0, TIME_INDEX_ENTRY_SIZE, at) === TIME_INDEX_ENTRY_SIZE
          ? { timestamp: readInt64(b, 0), offset: this.baseOffset + b.readInt32BE(8) }
          : null;
      const first = read(0);
      const last = read(size - TIME_INDEX_ENTRY_SIZE);
      if (!first || !last) return { problem: 'short read', entries, first: null, last: null };
      if (last.timestamp < first.timestamp) return { problem: `last timestamp ${last.timestamp} < first ${first.timestamp}`, entries, first, last };
      if (last.offset < this.baseOffset) return { problem: `last offset ${last.offset} below the segment base`, entries, first, last };
      return { problem: null, entries, first, last };
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Loads the file; checks ordering and that offsets lie below `nextOffset`. Returns a problem or null. */
  load(nextOffset: number): string | null {
    let data: Buffer;
    try {
      data = fs.readFileSync(this.path);
    } catch {
      return 'missing';
    }
    this.diskBytes = data.length;
    if (data.length % TIME_INDEX_ENTRY_SIZE !== 0) return `size ${data.length} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`;
    const n = data.length / TIME_INDEX_ENTRY_SIZE;
    const ts = new Float64Array(Math.max(16, n));
    const rel = new Int32Array(Math.max(16, n));
    let prevTs = -Infinity;
    let prevRel = -1;
    const limit = nextOffset - this.baseOffset;
    for (let i = 0, at = 0; i < n; i++, at += TIME_INDEX_ENTRY_SIZE) {
      const t = readInt64(data, at);
      const r = data.readInt32BE(at + 8);
      if (t <= prevTs || r < prevRel || r < 0) return `entry ${i} (${t}, ${r}) does not increase`;
      if (r >= limit) return `entry ${i} offset ${this.baseOffset + r} is beyond the segment's end ${nextOffset}`;
      ts[i] = t;
      rel[i] = r;
      prevTs = t;
      prevRel = r;
    }
    this.ts = ts;
    this.rel = rel;
    this.count = n;
    this.persistedCount = n;
    this.isLoaded = true;
    return null;
  }

  lastEntry(): TimestampOffset | null {
    const n = this.count;
    return n === 0 ? null : { timestamp: this.ts[n - 1], offset: this.baseOffset + this.rel[n - 1] };
  }

  /** Appends (timestamp, offset) if timestamp exceeds the last entry's (Kafka's maybeAppend). */
  maybeAppend(timestamp: number, offset: number): void {
    const n = this.count;
    if (n > 0 && timestamp <= this.ts[n - 1]) return;
    const r = offset - this.baseOffset;
    if (r < 0 || r > INT32_MAX) throw new RangeError(`time index offset ${offset} out of range for segment ${this.baseOffset}`);
    if (n > 0 && r < this.rel[n - 1]) {
      throw new Error(`time index offset ${offset} goes backwards from ${this.baseOffset + this.rel[n - 1]}`);
    }
    if (n === this.ts.length) {
      const ts = new Float64Array(n * 2);
      const rel = new Int32Array(n * 2);
      ts.set(this.ts);
      rel.set(this.rel);
      this.ts = ts;
      this.rel = rel;
    }
    this.ts[n] = timestamp;
    this.rel[n] = r;
    this.count = n + 1;
  }

  /** Drops in-memory entries after the first `n` (an append undone); the file follows on the next persist(). */
  truncateEntries(n: number): void {
    if (n >= this.count) return;
    this.count = n;
    if (this.persistedCount > n) this.persistedCount = n;
    this.diskBytes = -1;
  }

  /** Last entry with timestamp <= target, or null when there is none (start at the segment base). */
  lookup(target: number): TimestampOffset | null {
    let lo = 0;
    let hi = this.count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ts[mid] <= target) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? null : { timestamp: this.ts[found], offset: this.baseOffset + this.rel[found] };
  }

  persist(fsync: boolean): void {
    if (!this.isLoaded) return;
    const total = this.count * TIME_INDEX_ENTRY_SIZE;
    if (this.persistedCount === this.count && this.diskBytes === total && (!fsync || this.synced)) return;
    const from = this.persistedCount;
    const buf = Buffer.allocUnsafe((this.count - from) * TIME_INDEX_ENTRY_SIZE);
    for (let i = from, at = 0; i < this.count; i++, at += TIME_INDEX_ENTRY_SIZE) {
      writeInt64(buf, at, this.ts[i]);
      buf.writeInt32BE(this.rel[i], at + 8);
    }
    writeFileTail(this.path, buf, from * TIME_INDEX_ENTRY_SIZE, total, fsync);
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
