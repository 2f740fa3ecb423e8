/**
 * Transaction markers: the control batches a transaction coordinator writes into every
 * partition of a transaction when it commits or aborts (Kafka's EndTransactionMarker).
 *
 * A marker is a v2 batch (header layout in record-batch.ts) with attributes
 * transactional|control (0x30), the producer's id and epoch, baseSequence -1, and exactly one
 * uncompressed record:
 *
 *   length varint, attributes int8 0, timestampDelta varint 0, offsetDelta varint 0,
 *   key   (keyLength varint 4):   version int16 = 0, type int16 (0 ABORT, 1 COMMIT)
 *   value (valueLength varint 6): version int16 = 0, coordinatorEpoch int32
 *   headerCount varint 0
 *
 * All varints here are single bytes (zigzag of small values), so a marker is 78 bytes.
 */
import { crc32c } from '@node-rs/crc32';
import {
  ATTRIBUTES_OFFSET,
  BATCH_HEADER_SIZE,
  CONTROL_MASK,
  CRC_OFFSET,
  CURRENT_MAGIC,
  LOG_OVERHEAD,
  TRANSACTIONAL_MASK,
  writeInt64,
} from './record-batch';

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/** Whole size of a marker batch. */
export const MARKER_BATCH_SIZE = BATCH_HEADER_SIZE + 17;

export interface TxnMarker {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestamp: number;
}

/** Encodes one marker batch (baseOffset 0 and partitionLeaderEpoch -1: the log assigns both). */
export function encodeMarkerBatch(m: TxnMarker): Buffer {
  const buf = Buffer.alloc(MARKER_BATCH_SIZE);
  writeInt64(buf, 0, 0);
  buf.writeInt32BE(MARKER_BATCH_SIZE - LOG_OVERHEAD, 8);
  buf.writeInt32BE(-1, 12);
  buf.writeInt8(CURRENT_MAGIC, 16);
  buf.writeInt16BE(TRANSACTIONAL_MASK | CONTROL_MASK, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(0, 23); // lastOffsetDelta
  writeInt64(buf, 27, m.timestamp);
  writeInt64(buf, 35, m.timestamp);
  writeInt64(buf, 43, m.producerId);
  buf.writeInt16BE(m.producerEpoch, 51);
  buf.writeInt32BE(-1, 53); // baseSequence
  buf.writeInt32BE(1, 57); // recordCount
  let p = BATCH_HEADER_SIZE;
  buf[p++] = 16 * 2; // record length 16, zigzag
  buf[p++] = 0; // attributes
  buf[p++] = 0; // timestampDelta
  buf[p++] = 0; // offsetDelta
  buf[p++] = 4 * 2; // key length
  buf.writeInt16BE(0, p);
  buf.writeInt16BE(m.commit ? ControlType.COMMIT : ControlType.ABORT, p + 2);
  p += 4;
  buf[p++] = 6 * 2; // value length
  buf.writeInt16BE(0, p);
  buf.writeInt32BE(m.coordinatorEpoch, p + 2);
  p += 6;
  buf[p++] = 0; // headers
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let raw = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint in control record');
    const b = buf[pos++];
    raw += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new Error('varint too long in control record');
  }
  return [raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2, pos];
}

/**
 * Reads the control record of the control batch whose records start at `pos` in `buf`:
 * its type (ControlType) and, for transaction markers, the coordinator epoch (-1 if absent).
 * Returns null when the record does not parse (a control batch of an unknown kind).
 */
export function readControlRecord(buf: Buffer, pos: number): { type: number; coordinatorEpoch: number } | null {
  try {
    let p = readVarint(buf, pos)[1]; // record length
    p += 1; // attributes
    p = readVarint(buf, p)[1]; // timestampDelta
    p = readVarint(buf, p)[1]; // offsetDelta
    let keyLength: number;
    [keyLength, p] = readVarint(buf, p);
    if (keyLength < 4 || p + keyLength > buf.length) return null;
    const type = buf.readInt16BE(p + 2);
    p += keyLength;
    let valueLength: number;
    [valueLength, p] = readVarint(buf, p);
    const coordinatorEpoch = valueLength >= 6 && p + 6 <= buf.length ? buf.readInt32BE(p + 2) : -1;
    return { type, coordinatorEpoch };
  } catch {
    return null;
  }
}
