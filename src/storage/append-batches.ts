/**
 * Preparing batches for an append: the framing check and the header fields the log sets
 * (base offset, partition leader epoch, LogAppendTime), written into the producer's bytes in
 * place. Only batch headers are read; no on-disk format of its own.
 */
import {
  BATCH_HEADER_SIZE,
  BATCH_LENGTH_OFFSET,
  CURRENT_MAGIC,
  LAST_OFFSET_DELTA_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  MIN_BATCH_LENGTH,
  NO_TIMESTAMP,
  readInt64,
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
} from '../protocol/record-batch';

export interface AppendResult {
  /** Offset assigned to the first record. */
  baseOffset: number;
  /** Offset of the last record (logEndOffset - 1 after the append). */
  lastOffset: number;
  /** Largest batch maxTimestamp appended (the broker time under LogAppendTime), -1 if none. */
  maxTimestamp: number;
  /** Broker time stamped on the batches under message.timestamp.type=LogAppendTime, else -1. */
  logAppendTimeMs: number;
}

/** An append whose batches are stamped: its result, and its record count (flush.messages). */
export interface PreparedAppend {
  result: AppendResult;
  recordsCount: number;
}

/**
 * Checks the framing of the batches in `records` (already validated, e.g. by
 * validateProducedRecords), then assigns offsets from `baseOffset` by rewriting each batch's
 * baseOffset, stamps `leaderEpoch` (both outside the CRC) and, when `logAppendTime` >= 0, that
 * timestamp (recomputing the CRC). Throws on malformed framing before changing anything.
 */
export function stampBatches(records: Buffer, baseOffset: number, leaderEpoch: number, logAppendTime: number): PreparedAppend {
  if (records.length === 0) throw new Error('append of an empty records buffer');
  let p = 0;
  while (p < records.length) {
    if (records.length - p < BATCH_HEADER_SIZE) throw new Error(`append: ${records.length - p} bytes at ${p} are not a batch`);
    const batchLength = records.readInt32BE(p + BATCH_LENGTH_OFFSET);
    const size = LOG_OVERHEAD + batchLength;
    if (batchLength < MIN_BATCH_LENGTH || p + size > records.length) throw new Error(`append: batch at ${p} has invalid length ${batchLength}`);
    if (records.readInt8(p + MAGIC_OFFSET) !== CURRENT_MAGIC) throw new Error(`append: batch at ${p} is not magic 2`);
    const delta = records.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
    if (delta < 0) throw new Error(`append: batch at ${p} has lastOffsetDelta ${delta}`);
    p += size;
  }
  // Framing is sound: now rewrite offsets (and the timestamp under LogAppendTime).
  let next = baseOffset;
  let maxTimestamp = NO_TIMESTAMP;
  let recordsCount = 0;
  p = 0;
  while (p < records.length) {
    const size = LOG_OVERHEAD + records.readInt32BE(p + BATCH_LENGTH_OFFSET);
    setBaseOffset(records, p, next);
    setPartitionLeaderEpoch(records, p, leaderEpoch);
    if (logAppendTime >= 0) setLogAppendTime(records, p, logAppendTime);
    const delta = records.readInt32BE(p + LAST_OFFSET_DELTA_OFFSET);
    const ts = readInt64(records, p + MAX_TIMESTAMP_OFFSET);
    if (ts > maxTimestamp) maxTimestamp = ts;
    recordsCount += delta + 1;
    next += delta + 1;
    p += size;
  }
  return { result: { baseOffset, lastOffset: next - 1, maxTimestamp, logAppendTimeMs: logAppendTime }, recordsCount };
}
