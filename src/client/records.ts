/**
 * Building and reading v2 record batches on the client side: a producer's batch (records,
 * optional compression, idempotent producer fields, CRC) and the records of fetched batches
 * (decompressed, control batches and aborted transactions dropped).
 */
import { crc32c } from '@node-rs/crc32';
import { compress, decompress, decompressionLimit } from '../compression/codecs';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  LOG_OVERHEAD,
  RECORDS_OFFSET,
  readBatchHeader,
  writeInt64,
} from '../protocol/record-batch';

export interface Header {
  key: string;
  value: Buffer | null;
}

export interface OutRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Header[];
  /** Milliseconds since the epoch; now when omitted. */
  timestamp?: number;
}

export interface InRecord {
  offset: number;
  timestamp: number;
  /** 0 CreateTime, 1 LogAppendTime. */
  timestampType: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Header[];
}

export interface ProducerFields {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Growable byte buffer with zigzag varints, for one batch's records. */
class Bytes {
  buf: Buffer;
  len = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }
  varint(v: number): void {
    this.ensure(10);
    let raw = v >= 0 ? v * 2 : -v * 2 - 1;
    while (raw >= 0x80) {
      this.buf[this.len++] = (raw % 0x80) | 0x80;
      raw = Math.floor(raw / 0x80);
    }
    this.buf[this.len++] = raw;
  }
  bytes(b: Buffer | null): void {
    if (b === null) return this.varint(-1);
    this.varint(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
  }
}

function varintSize(v: number): number {
  let raw = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (raw >= 0x80) {
    raw = Math.floor(raw / 0x80);
    n++;
  }
  return n;
}

/** A fetched batch may expand this far (the broker's own limit at Kafka's default max.message.bytes). */
const CLIENT_DECOMPRESSION_LIMIT = decompressionLimit(1024 * 1024);

const bytesSize = (b: Buffer | null) => (b === null ? 1 : varintSize(b.length) + b.length);

/** Encodes records as one v2 batch (baseOffset 0: the broker assigns offsets). */
export async function encodeBatch(records: OutRecord[], codec = 0, producer: ProducerFields | null = null, now = Date.now()): Promise<Buffer> {
  if (records.length === 0) throw new Error('a batch needs at least one record');
  const baseTimestamp = records[0].timestamp ?? now;
  let maxTimestamp = baseTimestamp;
  const body = new Bytes(records.reduce((n, r) => n + 32 + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0));
  records.forEach((r, i) => {
    const ts = r.timestamp ?? now;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const headerKeys = (r.headers ?? []).map((h) => Buffer.from(h.key));
    let size = 1 + varintSize(ts - baseTimestamp) + varintSize(i) + bytesSize(r.key) + bytesSize(r.value) + varintSize(headerKeys.length);
    (r.headers ?? []).forEach((h, k) => (size += bytesSize(headerKeys[k]) + bytesSize(h.value)));
    body.varint(size);
    body.ensure(1);
    body.buf[body.len++] = 0;
    body.varint(ts - baseTimestamp);
    body.varint(i);
    body.bytes(r.key);
    body.bytes(r.value);
    body.varint(headerKeys.length);
    (r.headers ?? []).forEach((h, k) => {
      body.bytes(headerKeys[k]);
      body.bytes(h.value);
    });
  });
  const raw = body.buf.subarray(0, body.len);
  const payload = codec === 0 ? raw : await compress(codec, raw);
  const batch = Buffer.allocUnsafe(RECORDS_OFFSET + payload.length);
  writeInt64(batch, 0, 0);
  batch.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD + payload.length, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(-1, 12);
  batch.writeInt8(2, 16);
  batch.writeInt16BE(codec, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(records.length - 1, 23);
  writeInt64(batch, 27, baseTimestamp);
  writeInt64(batch, 35, maxTimestamp);
  writeInt64(batch, 43, producer ? producer.producerId : -1);
  batch.writeInt16BE(producer ? producer.producerEpoch : -1, 51);
  batch.writeInt32BE(producer ? producer.baseSequence : -1, 53);
  batch.writeInt32BE(records.length, 57);
  payload.copy(batch, RECORDS_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** Reads zigzag varints off one payload, tracking the position. */
class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  varint(): number {
    let raw = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated record');
      const b = this.buf[this.pos++];
      raw += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
      mul *= 128;
    }
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }
  bytes(): Buffer | null {
    const n = this.varint();
    if (n < 0) return null;
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
}

export interface DecodedBatches {
  records: InRecord[];
  /** Offset to fetch next: one past the last whole batch read (control batches included). */
  nextOffset: number;
}

/**
 * Decodes the whole batches in a fetched records field; a trailing partial batch (the broker
 * cut at max bytes) is left for the next fetch. Records below `fromOffset` (a batch starting
 * before the requested offset) are dropped. With `aborted` (read_committed), batches of
 * aborted transactions are dropped, as Kafka's consumer does.
 */
export async function decodeBatches(data: Buffer | null, fromOffset: number, aborted: AbortedTxn[] | null = null): Promise<DecodedBatches> {
  const out: InRecord[] = [];
  let next = fromOffset;
  if (!data) return { records: out, nextOffset: next };
  const abortedQueue = aborted ? [...aborted].sort((a, b) => a.firstOffset - b.firstOffset) : [];
  const abortedProducers = new Set<number>();
  let pos = 0;
  while (pos + RECORDS_OFFSET <= data.length) {
    const size = LOG_OVERHEAD + data.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (pos + size > data.length) break;
    const h = readBatchHeader(data, pos);
    const batch = data.subarray(pos, pos + size);
    pos += size;
    const last = h.baseOffset + h.lastOffsetDelta;
    if (last < fromOffset) continue;
    next = Math.max(next, last + 1);
    if (h.magic !== 2) throw new Error(`record batch with magic ${h.magic} at offset ${h.baseOffset} is not supported`);
    while (abortedQueue.length && abortedQueue[0].firstOffset <= last) abortedProducers.add(abortedQueue.shift()!.producerId);
    if (h.isControl) {
      // A commit or abort marker ends that producer's transaction.
      if (h.isTransactional) abortedProducers.delete(h.producerId);
      continue;
    }
    if (h.isTransactional && abortedProducers.has(h.producerId)) continue;
    const payload = await decompress(h.compression, batch.subarray(RECORDS_OFFSET), CLIENT_DECOMPRESSION_LIMIT);
    const c = new Cursor(payload);
    for (let i = 0; i < h.recordCount; i++) {
      const length = c.varint();
      const end = c.pos + length;
      c.pos++; // attributes
      const tsDelta = c.varint();
      const offset = h.baseOffset + c.varint();
      const key = c.bytes();
      const value = c.bytes();
      const nh = c.varint();
      const headers: Header[] = [];
      for (let k = 0; k < nh; k++) {
        const hk = c.bytes();
        headers.push({ key: hk ? hk.toString() : '', value: c.bytes() });
      }
      c.pos = end;
      if (offset < fromOffset) continue;
      out.push({
        offset,
        timestamp: h.timestampType === 1 ? h.maxTimestamp : h.baseTimestamp + tsDelta,
        timestampType: h.timestampType,
        key,
        value,
        headers,
      });
    }
  }
  return { records: out, nextOffset: next };
}
