/**
 * Record batch v2 ("magic 2") header view: reads and patches the 61-byte header in place,
 * never decodes records. Layout (big-endian, offsets from the batch start):
 *
 *   @0  baseOffset            int64   first offset in the batch (the broker assigns it)
 *   @8  batchLength           int32   bytes that follow this field (batch size = 12 + batchLength)
 *   @12 partitionLeaderEpoch  int32   written by the broker, outside the CRC
 *   @16 magic                 int8    2
 *   @17 crc                   uint32  CRC-32C of bytes @21 .. end of batch
 *   @21 attributes            int16   bits 0-2 compression (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd),
 *                                     bit 3 timestamp type (1 = LogAppendTime), bit 4 transactional,
 *                                     bit 5 control, bit 6 delete horizon set
 *   @23 lastOffsetDelta       int32   lastOffset - baseOffset
 *   @27 baseTimestamp         int64
 *   @35 maxTimestamp          int64
 *   @43 producerId            int64   -1 when not idempotent
 *   @51 producerEpoch         int16
 *   @53 baseSequence          int32
 *   @57 recordCount           int32
 *   @61 records...
 *
 * int64 fields are read as numbers (exact within +-2^53, like Reader.int64).
 *
 * validateProducedRecords mirrors what Kafka checks before appending a Produce request's
 * records (ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords and
 * LogValidator.validateBatch), in the same order where the checks overlap:
 *   - no bytes at all                                  -> INVALID_RECORD (87)
 *   - batchLength < 49 (smaller than a v2 header), or magic outside 0..2
 *                                                      -> CORRUPT_MESSAGE (2)
 *   - trailing bytes that do not form a whole batch    -> CORRUPT_MESSAGE (2).  Kafka silently
 *     drops such trailing bytes (its batch iterator stops, then trimInvalidBytes); we refuse,
 *     since only a broken client sends them.
 *   - magic 0 or 1                                     -> INVALID_RECORD (87) when the Produce
 *     version is known to be >= 3 (Kafka's ProduceRequest.validateRecords); otherwise
 *     UNSUPPORTED_FOR_MESSAGE_FORMAT (43): Kafka 4 dropped message formats 0 and 1.
 *   - zstd in Produce < v7                             -> UNSUPPORTED_COMPRESSION_TYPE (76)
 *   - more than one batch                              -> INVALID_RECORD (87) (Kafka accepts exactly
 *     one v2 batch per partition; `allowMultipleBatches` lifts this for internal writers)
 *   - baseOffset != 0                                  -> INVALID_RECORD (87)
 *   - batch size > max.message.bytes                   -> MESSAGE_TOO_LARGE (10)
 *   - CRC mismatch                                     -> CORRUPT_MESSAGE (2)
 *   - compression codec 5..7                           -> CORRUPT_MESSAGE (2).  Kafka fails inside
 *     CompressionType.forId with an IllegalArgumentException (UNKNOWN_SERVER_ERROR); a
 *     corrupt-message answer is what that really is.
 *   - lastOffsetDelta < 0, recordCount <= 0, or recordCount != lastOffsetDelta + 1
 *                                                      -> INVALID_RECORD (87)
 *   - control batch from a client                      -> INVALID_RECORD (87)
 *   - producerId >= 0 with baseSequence < 0            -> INVALID_RECORD (87)
 *   - timestamp type LogAppendTime set by the producer -> INVALID_TIMESTAMP (32)
 *   - CreateTime outside message.timestamp.before/after.max.ms (when given) -> INVALID_TIMESTAMP (32).
 *     Kafka checks every record; without decoding records we check the batch's maxTimestamp
 *     against the "after" bound (exact) and its baseTimestamp against the "before" bound (exact
 *     when records are in time order, as producers write them).
 * Record-level checks that need decoded records (keys on compacted topics, per-record
 * timestamps and the record_errors naming them) are src/storage/produce-rewrite.ts's; a
 * bounds failure here is flagged (timestampOutOfBounds) so Produce can name the records.
 */
import { crc32c } from '@node-rs/crc32';
import { ErrorCode } from './errors';

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORD_COUNT_OFFSET = 57;
export const RECORDS_OFFSET = 61;

/** Size of the v2 batch header; records start right after it. */
export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes in front of what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** Smallest batchLength a v2 batch can have (an empty batch: header only). */
export const MIN_BATCH_LENGTH = BATCH_HEADER_SIZE - LOG_OVERHEAD;
/** Kafka's smallest legal size field for any magic (a v0 record); anything smaller is corrupt. */
const MIN_ANY_MAGIC_LENGTH = 14;

export const CURRENT_MAGIC = 2;

export const COMPRESSION_MASK = 0x07;
export const TIMESTAMP_TYPE_MASK = 0x08;
export const TRANSACTIONAL_MASK = 0x10;
export const CONTROL_MASK = 0x20;

export const Compression = { NONE: 0, GZIP: 1, SNAPPY: 2, LZ4: 3, ZSTD: 4 } as const;
export const TimestampType = { CREATE_TIME: 0, LOG_APPEND_TIME: 1 } as const;
/** Kafka's "no timestamp" value (RecordBatch.NO_TIMESTAMP). */
export const NO_TIMESTAMP = -1;

const TWO_POW_32 = 4294967296;

export interface BatchHeader {
  baseOffset: number;
  /** Bytes after the batchLength field; the whole batch is LOG_OVERHEAD + batchLength bytes. */
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  /** Stored CRC-32C, unsigned. */
  crc: number;
  attributes: number;
  /** 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd (5-7 are invalid). */
  compression: number;
  /** 0 CreateTime, 1 LogAppendTime. */
  timestampType: number;
  isTransactional: boolean;
  isControl: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

export function writeInt64(buf: Buffer, at: number, v: number): void {
  if (!Number.isSafeInteger(v)) throw new RangeError(`int64 value not a safe integer: ${v}`);
  const hi = Math.floor(v / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * TWO_POW_32, at + 4);
}

/** Reads the full v2 header at `pos`; the caller guarantees BATCH_HEADER_SIZE bytes are there. */
export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET_OFFSET),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes,
    compression: attributes & COMPRESSION_MASK,
    timestampType: (attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 1 : 0,
    isTransactional: (attributes & TRANSACTIONAL_MASK) !== 0,
    isControl: (attributes & CONTROL_MASK) !== 0,
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP_OFFSET),
    producerId: readInt64(buf, pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordCount: buf.readInt32BE(pos + RECORD_COUNT_OFFSET),
  };
}

/** Whole batch size in bytes (LOG_OVERHEAD + batchLength) of the batch at `pos`. */
export function batchSizeAt(buf: Buffer, pos: number): number {
  return LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
}

/** CRC-32C of the batch at `pos` matches its stored crc. The batch must lie wholly in `buf`. */
export function checkBatchCrc(buf: Buffer, pos: number): boolean {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  if (end > buf.length || end < pos + BATCH_HEADER_SIZE) return false;
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, end)) === buf.readUInt32BE(pos + CRC_OFFSET);
}

/** Recomputes and stores the CRC of the batch at `pos` (after changing a field covered by it). */
export function updateBatchCrc(buf: Buffer, pos: number): void {
  const end = pos + LOG_OVERHEAD + buf.readInt32BE(pos + BATCH_LENGTH_OFFSET);
  buf.writeUInt32BE(crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, end)), pos + CRC_OFFSET);
}

/** Rewrites baseOffset in place. Outside the CRC: the batch stays valid. */
export function setBaseOffset(buf: Buffer, pos: number, offset: number): void {
  writeInt64(buf, pos + BASE_OFFSET_OFFSET, offset);
}

/** Rewrites partitionLeaderEpoch in place. Outside the CRC: the batch stays valid. */
export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Marks the batch as LogAppendTime with maxTimestamp = `now` (topics with
 * message.timestamp.type=LogAppendTime), as Kafka's LogValidator does. Both fields are under
 * the CRC, so the CRC is recomputed (one pass over the batch). No-op if already so.
 */
export function setLogAppendTime(buf: Buffer, pos: number, now: number): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  if ((attributes & TIMESTAMP_TYPE_MASK) !== 0 && readInt64(buf, pos + MAX_TIMESTAMP_OFFSET) === now) return;
  buf.writeInt16BE(attributes | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES_OFFSET);
  writeInt64(buf, pos + MAX_TIMESTAMP_OFFSET, now);
  updateBatchCrc(buf, pos);
}

export interface ProduceValidationOptions {
  /** Produce request version, when known: decides magic 0/1's error code and the zstd check (< v7). */
  produceVersion?: number;
  /** Accept several batches in one records field (Kafka allows exactly one). Default false. */
  allowMultipleBatches?: boolean;
  /** Wall clock for the timestamp bounds below; Date.now() when omitted. */
  now?: number;
  /** message.timestamp.before.max.ms: CreateTime may be at most this far in the past. */
  timestampBeforeMaxMs?: number;
  /** message.timestamp.after.max.ms: CreateTime may be at most this far in the future. */
  timestampAfterMaxMs?: number;
}

export interface ProducedRecordsCheck {
  /** ErrorCode.NONE (0) when every batch passed; otherwise the Kafka error code for the partition. */
  errorCode: number;
  /** Human-readable reason (Produce v8+ error_message); null when valid. */
  message: string | null;
  /** Batches walked (all of them when valid). */
  batchCount: number;
  /** Sum of recordCount over the batches (= offsets the append will consume). */
  recordCount: number;
  /** Largest maxTimestamp over the batches, NO_TIMESTAMP (-1) if none. */
  maxTimestamp: number;
  /** Header of the first batch (producer id, epoch, sequence, transactional flag), if readable. */
  firstBatch: BatchHeader | null;
  /** The INVALID_TIMESTAMP came from the before/after bounds (every other check passed). */
  timestampOutOfBounds?: boolean;
}

function fail(
  errorCode: number,
  message: string,
  batchCount: number,
  recordCount: number,
  maxTimestamp: number,
  firstBatch: BatchHeader | null,
): ProducedRecordsCheck {
  return { errorCode, message, batchCount, recordCount, maxTimestamp, firstBatch };
}

/**
 * Validates a Produce request partition's records field without decoding records (see the
 * module comment for the rules and their Kafka counterparts). Reads only batch headers and
 * computes one CRC per batch. Does not modify `records`.
 */
export function validateProducedRecords(
  records: Buffer | null,
  maxBatchBytes: number,
  options: ProduceValidationOptions = {},
): ProducedRecordsCheck {
  let batchCount = 0;
  let recordCount = 0;
  let maxTimestamp = NO_TIMESTAMP;
  let firstBatch: BatchHeader | null = null;
  if (records === null || records.length === 0) {
    return fail(ErrorCode.INVALID_RECORD, 'Produce request must have at least one record batch per partition', 0, 0, maxTimestamp, null);
  }
  const end = records.length;
  let pos = 0;
  while (pos < end) {
    const remaining = end - pos;
    if (remaining < LOG_OVERHEAD) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `${remaining} trailing bytes after the last record batch`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    const batchLength = records.readInt32BE(pos + BATCH_LENGTH_OFFSET);
    if (batchLength < MIN_ANY_MAGIC_LENGTH) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `Record size ${batchLength} is less than the minimum record overhead (${MIN_ANY_MAGIC_LENGTH})`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (remaining <= MAGIC_OFFSET) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `${remaining} trailing bytes after the last record batch`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    const magic = records.readInt8(pos + MAGIC_OFFSET);
    if (magic < 0 || magic > CURRENT_MAGIC) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `Invalid magic found in record: ${magic}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    const size = LOG_OVERHEAD + batchLength;
    if (size > remaining) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `Incomplete record batch: ${size} bytes announced, ${remaining} present`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (magic !== CURRENT_MAGIC) {
      const v = options.produceVersion;
      return v !== undefined && v >= 3
        ? fail(ErrorCode.INVALID_RECORD, `Produce requests with version ${v} are only allowed to contain record batches with magic version 2`, batchCount, recordCount, maxTimestamp, firstBatch)
        : fail(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `Message format v${magic} is not supported; use record batches (magic 2)`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (batchLength < MIN_BATCH_LENGTH) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `Record batch is corrupt (the size ${size} is smaller than the minimum allowed overhead ${BATCH_HEADER_SIZE})`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    const h = readBatchHeader(records, pos);
    if (batchCount === 0) {
      firstBatch = h;
      if (h.compression === Compression.ZSTD && options.produceVersion !== undefined && options.produceVersion < 7) {
        return fail(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `Produce requests with version ${options.produceVersion} are not allowed to use ZStandard compression`, 0, 0, maxTimestamp, firstBatch);
      }
    } else if (!options.allowMultipleBatches) {
      return fail(ErrorCode.INVALID_RECORD, 'Produce requests are only allowed to contain exactly one record batch per partition', batchCount, recordCount, maxTimestamp, firstBatch);
    }
    batchCount++;
    if (h.baseOffset !== 0) {
      return fail(ErrorCode.INVALID_RECORD, `The baseOffset of the record batch should be 0, but it is ${h.baseOffset}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (size > maxBatchBytes) {
      return fail(ErrorCode.MESSAGE_TOO_LARGE, `The record batch size is ${size} bytes which exceeds the maximum configured value of ${maxBatchBytes}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (crc32c(records.subarray(pos + ATTRIBUTES_OFFSET, pos + size)) !== h.crc) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `Record is corrupt (stored crc = ${h.crc})`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.compression > Compression.ZSTD) {
      return fail(ErrorCode.CORRUPT_MESSAGE, `Unknown compression type id: ${h.compression}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.lastOffsetDelta < 0) {
      return fail(ErrorCode.INVALID_RECORD, `Batch has an invalid offset range: [0, ${h.lastOffsetDelta}]`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.recordCount <= 0) {
      return fail(ErrorCode.INVALID_RECORD, `Invalid reported count for record batch: ${h.recordCount}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.recordCount !== h.lastOffsetDelta + 1) {
      return fail(ErrorCode.INVALID_RECORD, `Inconsistent batch offset range [0, ${h.lastOffsetDelta}] and count of records ${h.recordCount}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.isControl) {
      return fail(ErrorCode.INVALID_RECORD, 'Clients are not allowed to write control records', batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.producerId >= 0 && h.baseSequence < 0) {
      return fail(ErrorCode.INVALID_RECORD, `Invalid sequence number ${h.baseSequence} in record batch with producerId ${h.producerId}`, batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (h.timestampType === TimestampType.LOG_APPEND_TIME) {
      return fail(ErrorCode.INVALID_TIMESTAMP, 'Producer should not set timestamp type to LogAppendTime', batchCount, recordCount, maxTimestamp, firstBatch);
    }
    if (options.timestampAfterMaxMs !== undefined || options.timestampBeforeMaxMs !== undefined) {
      const now = options.now ?? Date.now();
      const after = options.timestampAfterMaxMs;
      const before = options.timestampBeforeMaxMs;
      if (after !== undefined && h.maxTimestamp !== NO_TIMESTAMP && h.maxTimestamp - now > after) {
        return { ...fail(ErrorCode.INVALID_TIMESTAMP, `Timestamp ${h.maxTimestamp} is more than ${after} ms after the broker time ${now}`, batchCount, recordCount, maxTimestamp, firstBatch), timestampOutOfBounds: true };
      }
      if (before !== undefined && h.baseTimestamp !== NO_TIMESTAMP && now - h.baseTimestamp > before) {
        return { ...fail(ErrorCode.INVALID_TIMESTAMP, `Timestamp ${h.baseTimestamp} is more than ${before} ms before the broker time ${now}`, batchCount, recordCount, maxTimestamp, firstBatch), timestampOutOfBounds: true };
      }
    }
    recordCount += h.recordCount;
    if (h.maxTimestamp > maxTimestamp) maxTimestamp = h.maxTimestamp;
    pos += size;
  }
  return { errorCode: ErrorCode.NONE, message: null, batchCount, recordCount, maxTimestamp, firstBatch };
}
