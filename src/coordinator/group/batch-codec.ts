/**
 * A small v2 record batch writer and reader for the coordinator's internal log
 * (__consumer_offsets). Produce and Fetch never decode records; the coordinator must, both to
 * write its own records and to replay them on load.
 *
 * Batch layout: see src/protocol/record-batch.ts (61-byte header). Each record:
 *
 *   length          varint   bytes that follow, up to the end of this record
 *   attributes      int8     0
 *   timestampDelta  varlong  record timestamp - batch baseTimestamp
 *   offsetDelta     varint   record offset - batch baseOffset
 *   keyLength       varint   -1 = null key
 *   key             bytes
 *   valueLength     varint   -1 = null value (a tombstone)
 *   value           bytes
 *   headerCount     varint   (each header: keyLength varint, key, valueLength varint, value)
 *
 * Varints are zigzag-encoded, as in Kafka. Batches written here are uncompressed, CreateTime,
 * non-idempotent (producerId -1), with baseOffset 0 and partitionLeaderEpoch -1: the log
 * assigns both on append.
 */
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  CRC_OFFSET,
  LOG_OVERHEAD,
  readBatchHeader,
  writeInt64,
  BatchHeader,
  CURRENT_MAGIC,
} from '../../protocol/record-batch';

export interface LogRecord {
  key: Buffer | null;
  value: Buffer | null;
}

function zigzagSize(v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 128);
    n++;
  }
  return n;
}

function putVarint(buf: Buffer, pos: number, v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    buf[pos++] = (z % 128) | 0x80;
    z = Math.floor(z / 128);
  }
  buf[pos++] = z;
  return pos;
}

function recordBodySize(r: LogRecord, offsetDelta: number): number {
  let n = 1 + zigzagSize(0) + zigzagSize(offsetDelta);
  n += r.key ? zigzagSize(r.key.length) + r.key.length : zigzagSize(-1);
  n += r.value ? zigzagSize(r.value.length) + r.value.length : zigzagSize(-1);
  n += zigzagSize(0);
  return n;
}

export interface BatchOptions {
  timestamp: number;
  producerId?: number;
  producerEpoch?: number;
  transactional?: boolean;
}

/** Encodes `records` as one uncompressed v2 batch, CRC included. */
export function encodeRecordBatch(records: LogRecord[], opts: BatchOptions): Buffer {
  if (records.length === 0) throw new Error('a record batch needs at least one record');
  let size = BATCH_HEADER_SIZE;
  const bodies: number[] = [];
  records.forEach((r, i) => {
    const body = recordBodySize(r, i);
    bodies.push(body);
    size += zigzagSize(body) + body;
  });
  const buf = Buffer.alloc(size);
  writeInt64(buf, 0, 0);
  buf.writeInt32BE(size - LOG_OVERHEAD, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(CURRENT_MAGIC, 16);
  buf.writeInt16BE(opts.transactional ? 0x10 : 0, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(records.length - 1, 23);
  writeInt64(buf, 27, opts.timestamp);
  writeInt64(buf, 35, opts.timestamp);
  writeInt64(buf, 43, opts.producerId ?? -1);
  buf.writeInt16BE(opts.producerEpoch ?? -1, 51);
  buf.writeInt32BE(-1, 53);
  buf.writeInt32BE(records.length, 57);
  let p = BATCH_HEADER_SIZE;
  records.forEach((r, i) => {
    p = putVarint(buf, p, bodies[i]);
    buf[p++] = 0; // attributes
    p = putVarint(buf, p, 0); // timestamp delta
    p = putVarint(buf, p, i); // offset delta
    if (r.key) {
      p = putVarint(buf, p, r.key.length);
      p += r.key.copy(buf, p);
    } else p = putVarint(buf, p, -1);
    if (r.value) {
      p = putVarint(buf, p, r.value.length);
      p += r.value.copy(buf, p);
    } else p = putVarint(buf, p, -1);
    p = putVarint(buf, p, 0); // headers
  });
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}

class RecordCursor {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  varint(): number {
    let raw = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint in record');
      const b = this.buf[this.pos++];
      raw += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (shift > 63) throw new Error('varint too long in record');
    }
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  bytes(): Buffer | null {
    const len = this.varint();
    if (len < 0) return null;
    if (this.pos + len > this.end) throw new Error('record field runs past its record');
    const b = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return b;
  }
}

export interface DecodedBatch {
  header: BatchHeader;
  /** Records with their absolute offsets; empty for compressed batches (see `compressed`). */
  records: Array<LogRecord & { offset: number }>;
  /** True when the batch is compressed: this reader does not decompress. */
  compressed: boolean;
}

/**
 * Walks the whole batches in `buf` (a trailing partial batch is ignored) and decodes the
 * records of uncompressed ones. Throws on a record that does not fit its batch.
 */
export function* readRecordBatches(buf: Buffer): Generator<DecodedBatch> {
  let pos = 0;
  while (pos + BATCH_HEADER_SIZE <= buf.length) {
    const header = readBatchHeader(buf, pos);
    const end = pos + LOG_OVERHEAD + header.batchLength;
    if (header.batchLength < BATCH_HEADER_SIZE - LOG_OVERHEAD || end > buf.length) break;
    const records: Array<LogRecord & { offset: number }> = [];
    const compressed = header.compression !== 0;
    if (!compressed && header.magic === CURRENT_MAGIC) {
      const c = new RecordCursor(buf, pos + BATCH_HEADER_SIZE, end);
      for (let i = 0; i < header.recordCount; i++) {
        const length = c.varint();
        const recordEnd = c.pos + length;
        if (recordEnd > end) throw new Error(`record ${i} of the batch at offset ${header.baseOffset} runs past the batch`);
        const rc = new RecordCursor(buf, c.pos, recordEnd);
        rc.pos += 1; // attributes
        rc.varint(); // timestamp delta
        const offsetDelta = rc.varint();
        const key = rc.bytes();
        const value = rc.bytes();
        records.push({ offset: header.baseOffset + offsetDelta, key, value });
        c.pos = recordEnd;
      }
    }
    yield { header, records, compressed };
    pos = end;
  }
}
