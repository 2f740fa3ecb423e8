/**
 * Record-level access to v2 batches, for the few places that must look inside one: the
 * cleaner (keys, tombstones, rewriting a batch with fewer records) and Produce on topics
 * whose compression.type names a codec (recompression) or that are compacted (every record
 * needs a key). Produce and Fetch otherwise never come here.
 *
 * Record layout inside a (decompressed) batch payload, all integers zigzag varints:
 *   length, attributes int8, timestampDelta (varlong), offsetDelta, keyLength (-1 = null),
 *   key, valueLength (-1 = null), value, headerCount, headers...
 * A record is kept or dropped whole; a kept record's bytes are copied verbatim, except when
 * the batch's base timestamp changes (delete horizon, below) and its timestampDelta must be
 * re-encoded.
 *
 * Delete horizon (KIP-534): attribute bit 6 set means the batch's baseTimestamp field holds
 * the time after which the cleaner may drop its tombstones (and transaction markers);
 * records' timestampDeltas are then relative to that value, so clients still compute
 * baseTimestamp + timestampDelta = the record's own timestamp.
 */
import { crc32c } from '@node-rs/crc32';
import { compress, decompress } from '../compression/codecs';
import {
  ATTRIBUTES_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  BatchHeader,
  COMPRESSION_MASK,
  CRC_OFFSET,
  LOG_OVERHEAD,
  MAX_TIMESTAMP_OFFSET,
  RECORD_COUNT_OFFSET,
  RECORDS_OFFSET,
  TIMESTAMP_TYPE_MASK,
  writeInt64,
} from '../protocol/record-batch';

export const DELETE_HORIZON_MASK = 0x40;

/** One record of a decompressed payload, as positions into that payload. */
export interface RecordSlice {
  /** Whole record including its length prefix: payload[start, end). */
  start: number;
  end: number;
  attributes: number;
  timestampDelta: number;
  offsetDelta: number;
  /** Payload position right after the timestampDelta field (offsetDelta starts here). */
  afterTimestamp: number;
  /** null key / value: start -1. */
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
}

/** Reads a zigzag varint/varlong at pos; returns [value, next position]. Exact within 2^53. */
function readZigzag(buf: Buffer, pos: number): number {
  let raw = 0;
  let mul = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint in record');
    const b = buf[pos++];
    raw += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
    if (mul > 2 ** 63) throw new Error('varint too long in record');
  }
  varintEnd = pos;
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}
/** Position after the varint last read by readZigzag (avoids allocating a tuple per field). */
let varintEnd = 0;

/** Parses every record of a decompressed payload. Throws on malformed bytes. */
export function parseRecords(payload: Buffer, count: number): RecordSlice[] {
  const out: RecordSlice[] = new Array(count);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const start = pos;
    const length = readZigzag(payload, pos);
    const bodyStart = varintEnd;
    const end = bodyStart + length;
    if (length < 0 || end > payload.length) throw new Error(`record ${i} has an invalid length ${length}`);
    const attributes = payload[bodyStart];
    const timestampDelta = readZigzag(payload, bodyStart + 1);
    const afterTimestamp = varintEnd;
    const offsetDelta = readZigzag(payload, afterTimestamp);
    const keyLength = readZigzag(payload, varintEnd);
    const keyStart = keyLength < 0 ? -1 : varintEnd;
    const afterKey = varintEnd + Math.max(0, keyLength);
    const valueLength = readZigzag(payload, afterKey);
    const valueStart = valueLength < 0 ? -1 : varintEnd;
    if (varintEnd + Math.max(0, valueLength) > end) throw new Error(`record ${i} overruns its length`);
    out[i] = { start, end, attributes, timestampDelta, offsetDelta, afterTimestamp, keyStart, keyLength, valueStart, valueLength };
    pos = end;
  }
  return out;
}

/**
 * The decompressed records payload of a whole batch (copy-free when uncompressed); throws
 * DecompressionLimitError past maxBytes (decompressionLimit of the topic's max.message.bytes).
 */
export async function batchPayload(batch: Buffer, header: BatchHeader, maxBytes: number): Promise<Buffer> {
  return decompress(header.compression, batch.subarray(RECORDS_OFFSET), maxBytes);
}

function zigzagBytes(v: number): number[] {
  let raw = v >= 0 ? v * 2 : -v * 2 - 1;
  const out: number[] = [];
  while (raw >= 0x80) {
    out.push((raw % 0x80) | 0x80);
    raw = Math.floor(raw / 0x80);
  }
  out.push(raw);
  return out;
}

/**
 * The bytes of `rec` with its timestampDelta replaced (its length prefix recomputed);
 * a verbatim slice when the delta is unchanged.
 */
export function recordWithTimestampDelta(payload: Buffer, rec: RecordSlice, timestampDelta: number): Buffer {
  if (timestampDelta === rec.timestampDelta) return payload.subarray(rec.start, rec.end);
  const ts = zigzagBytes(timestampDelta);
  const rest = payload.subarray(rec.afterTimestamp, rec.end);
  const bodyLength = 1 + ts.length + rest.length;
  const len = zigzagBytes(bodyLength);
  const out = Buffer.allocUnsafe(len.length + bodyLength);
  let p = 0;
  for (const b of len) out[p++] = b;
  out[p++] = rec.attributes;
  for (const b of ts) out[p++] = b;
  rest.copy(out, p);
  return out;
}

export interface RebuiltBatchFields {
  /** The original header (offsets, producer fields, leader epoch, codec, flags are kept). */
  header: BatchHeader;
  baseTimestamp: number;
  maxTimestamp: number;
  recordCount: number;
  /** Attribute bits to set in addition to the original ones (DELETE_HORIZON_MASK). */
  extraAttributes?: number;
  /** Codec of the new batch; default the original's. */
  compression?: number;
  compressionLevel?: number;
}

/**
 * Builds a v2 batch from an uncompressed records payload: the original header with the
 * given timestamps and record count, lastOffsetDelta preserved (so a producer's last
 * sequence number survives compaction, as in Kafka), payload compressed with the batch's
 * codec, CRC computed.
 */
export async function buildBatch(f: RebuiltBatchFields, records: Buffer): Promise<Buffer> {
  const h = f.header;
  const codec = f.compression ?? h.compression;
  const body = records.length === 0 || codec === 0 ? records : await compress(codec, records, f.compressionLevel);
  const batch = Buffer.allocUnsafe(RECORDS_OFFSET + body.length);
  writeInt64(batch, 0, h.baseOffset);
  batch.writeInt32BE(BATCH_HEADER_SIZE - LOG_OVERHEAD + body.length, BATCH_LENGTH_OFFSET);
  batch.writeInt32BE(h.partitionLeaderEpoch, 12);
  batch.writeInt8(2, 16);
  const attributes = (h.attributes & ~COMPRESSION_MASK) | (records.length === 0 ? 0 : codec) | (f.extraAttributes ?? 0);
  batch.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  batch.writeInt32BE(h.lastOffsetDelta, 23);
  writeInt64(batch, BASE_TIMESTAMP_OFFSET, f.baseTimestamp);
  writeInt64(batch, MAX_TIMESTAMP_OFFSET, f.maxTimestamp);
  writeInt64(batch, 43, h.producerId);
  batch.writeInt16BE(h.producerEpoch, 51);
  batch.writeInt32BE(h.baseSequence, 53);
  batch.writeInt32BE(f.recordCount, RECORD_COUNT_OFFSET);
  body.copy(batch, RECORDS_OFFSET);
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return batch;
}

/** True when the batch uses LogAppendTime (its records' timestamps are the batch maxTimestamp). */
export function isLogAppendTime(header: BatchHeader): boolean {
  return (header.attributes & TIMESTAMP_TYPE_MASK) !== 0;
}

/** The delete horizon of a batch (bit 6 set: its baseTimestamp), or -1. */
export function deleteHorizonOf(header: BatchHeader): number {
  return (header.attributes & DELETE_HORIZON_MASK) !== 0 ? header.baseTimestamp : -1;
}
