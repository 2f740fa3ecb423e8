/**
 * Writer: encodes Kafka primitive types into a list of chunks.
 *
 * A chunk is either bytes in memory or a region of an open file. Fetch responses carry
 * segment file regions straight from storage, so a response is never assembled into one
 * big buffer: small fields are packed into a growing scratch buffer, large byte strings
 * and file regions are appended as their own chunks, and the connection sends the list.
 */

/** A byte range of an open file, sent to the socket as it lies on disk. */
export interface FileRegion {
  fd: number;
  position: number;
  length: number;
}

export type Chunk = Buffer | FileRegion;

/** A records field value on the encode side: pieces whose total size is `length`. */
export interface RecordsPayload {
  length: number;
  chunks: Chunk[];
}

export function isFileRegion(c: Chunk): c is FileRegion {
  return !Buffer.isBuffer(c);
}

export function isRecordsPayload(v: unknown): v is RecordsPayload {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) && Array.isArray((v as RecordsPayload).chunks);
}

const MIN_SCRATCH = 1024;
/** Byte strings at least this long become their own chunk instead of being copied. */
const ZERO_COPY_THRESHOLD = 4096;
const TWO_POW_32 = 4294967296;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export class Writer {
  private readonly chunks: Chunk[] = [];
  private buf: Buffer;
  private pos = 0;
  /** Start of the bytes in `buf` not yet pushed to `chunks`. */
  private mark = 0;
  private flushedLength = 0;

  constructor(initialSize = MIN_SCRATCH) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.flushedLength + (this.pos - this.mark);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flushScratch();
    this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2, MIN_SCRATCH));
    this.pos = 0;
    this.mark = 0;
  }

  private flushScratch(): void {
    if (this.pos > this.mark) {
      this.chunks.push(this.buf.subarray(this.mark, this.pos));
      this.flushedLength += this.pos - this.mark;
      this.mark = this.pos;
    }
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int8(v: number): void {
    this.ensure(1);
    this.pos = this.buf.writeInt8(v, this.pos);
  }

  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }

  uint16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }

  uint32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }

  int64(v: number): void {
    this.ensure(8);
    if (Number.isSafeInteger(v)) {
      const hi = Math.floor(v / TWO_POW_32);
      this.buf.writeInt32BE(hi, this.pos);
      this.buf.writeUInt32BE(v - hi * TWO_POW_32, this.pos + 4);
      this.pos += 8;
      return;
    }
    let big = BigInt(Math.trunc(Number.isFinite(v) ? v : v > 0 ? Number.MAX_VALUE : -Number.MAX_VALUE));
    if (big > INT64_MAX) big = INT64_MAX;
    if (big < INT64_MIN) big = INT64_MIN;
    this.pos = this.buf.writeBigInt64BE(big, this.pos);
  }

  float64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  uvarint(v: number): void {
    this.ensure(5);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  uuid(v: string): void {
    if (v.length !== 22) throw new Error(`invalid uuid ${JSON.stringify(v)}: expected 22 base64url characters`);
    this.ensure(16);
    const n = this.buf.write(v, this.pos, 16, 'base64url');
    if (n !== 16) throw new Error(`invalid uuid ${JSON.stringify(v)}`);
    this.pos += 16;
  }

  private utf8(v: string, compact: boolean): void {
    const len = Buffer.byteLength(v, 'utf8');
    if (compact) this.uvarint(len + 1);
    else {
      if (len > 32767) throw new Error(`string of ${len} bytes exceeds int16 length`);
      this.int16(len);
    }
    this.ensure(len);
    this.pos += this.buf.write(v, this.pos, len, 'utf8');
  }

  string(v: string | null | undefined, compact: boolean): void {
    if (v == null) {
      if (compact) this.uvarint(0);
      else this.int16(-1);
      return;
    }
    this.utf8(v, compact);
  }

  /** bytes or records: a Buffer, a RecordsPayload (buffers and file regions), or null. */
  bytes(v: Buffer | RecordsPayload | null | undefined, compact: boolean, nullable: boolean): void {
    if (v == null) {
      if (!nullable) v = EMPTY;
      else {
        if (compact) this.uvarint(0);
        else this.int32(-1);
        return;
      }
    }
    const len = Buffer.isBuffer(v) ? v.length : v.length;
    if (compact) this.uvarint(len + 1);
    else this.int32(len);
    if (Buffer.isBuffer(v)) this.raw(v);
    else for (const c of v.chunks) Buffer.isBuffer(c) ? this.raw(c) : this.region(c);
  }

  arrayLength(n: number | null, compact: boolean): void {
    if (n === null) {
      if (compact) this.uvarint(0);
      else this.int32(-1);
    } else if (compact) this.uvarint(n + 1);
    else this.int32(n);
  }

  /** Appends bytes; large ones are referenced, not copied. */
  raw(b: Buffer): void {
    if (b.length >= ZERO_COPY_THRESHOLD) {
      this.flushScratch();
      this.chunks.push(b);
      this.flushedLength += b.length;
      return;
    }
    this.ensure(b.length);
    this.pos += b.copy(this.buf, this.pos);
  }

  region(r: FileRegion): void {
    if (r.length === 0) return;
    this.flushScratch();
    this.chunks.push(r);
    this.flushedLength += r.length;
  }

  /** Appends everything another writer holds (used for tagged fields, which need their size first). */
  append(other: Writer): void {
    for (const c of other.finish()) Buffer.isBuffer(c) ? this.raw(c) : this.region(c);
  }

  finish(): Chunk[] {
    this.flushScratch();
    return this.chunks;
  }

  /** All bytes as one buffer; only valid when no file regions were written. */
  toBuffer(): Buffer {
    const chunks = this.finish();
    if (chunks.some(isFileRegion)) throw new Error('toBuffer on a writer holding file regions');
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks as Buffer[]);
  }
}

const EMPTY = Buffer.alloc(0);
