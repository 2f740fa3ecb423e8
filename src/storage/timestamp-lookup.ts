/**
 * ListOffsets answers at record precision, as Kafka gives them; the only places the broker
 * looks inside a stored batch (Produce and Fetch never do). One batch is read and (if
 * compressed) decompressed per lookup:
 *   - by timestamp: the time index finds the first batch whose max timestamp reaches the
 *     target, then the first record at or after the target in it;
 *   - MAX_TIMESTAMP (-3): the segments' running maximum names the batch that first reached
 *     the log's largest timestamp, then the first record carrying it (KAFKA-16310, Kafka 3.8+:
 *     not the batch's last offset), with that batch's leader epoch.
 */
import * as fs from 'fs';
import { decompress, decompressionLimit } from '../compression/codecs';
import { BatchHeader, readBatchHeader, RECORDS_OFFSET, LOG_OVERHEAD, TimestampType } from '../protocol/record-batch';
import { recordPositions } from '../protocol/record-reader';
import type { PartitionLog, TimestampAndOffset } from './partition-log';

export async function offsetForTimestampExact(log: PartitionLog, timestamp: number): Promise<TimestampAndOffset | null> {
  const found = log.offsetForTimestamp(timestamp);
  if (!found) return null;
  const batch = readBatchHolding(log, found.offset);
  // LogAppendTime batches carry one time for all records: the batch answer is exact.
  if (!batch || batch.header.timestampType === TimestampType.LOG_APPEND_TIME || batch.header.maxTimestamp < timestamp) return found;
  const exact = await firstRecord(batch, (ts) => ts >= timestamp, log);
  return exact ?? found;
}

/** MAX_TIMESTAMP: the first record holding the log's largest timestamp, and its batch's leader epoch (-1 if unknown). */
export async function maxTimestampRecord(log: PartitionLog): Promise<TimestampAndOffset & { leaderEpoch: number }> {
  const best = log.maxTimestampOffset();
  if (best.offset < 0) return { ...best, leaderEpoch: -1 };
  const batch = readBatchHolding(log, best.offset);
  if (!batch) return { ...best, leaderEpoch: -1 };
  const h = batch.header;
  const leaderEpoch = h.partitionLeaderEpoch >= 0 ? h.partitionLeaderEpoch : -1;
  // Under LogAppendTime every record carries the batch time: its first record holds the maximum.
  if (h.timestampType === TimestampType.LOG_APPEND_TIME) return { offset: Math.max(h.baseOffset, log.logStartOffset), timestamp: h.maxTimestamp, leaderEpoch };
  const exact = await firstRecord(batch, (ts) => ts === best.timestamp, log);
  return { ...(exact ?? best), leaderEpoch };
}

interface StoredBatch {
  header: BatchHeader;
  fd: number;
  position: number;
}

function readBatchHolding(log: PartitionLog, offset: number): StoredBatch | null {
  const region = log.read(offset, 1).regions[0];
  if (!region || region.length < RECORDS_OFFSET) return null;
  const head = Buffer.allocUnsafe(RECORDS_OFFSET);
  fs.readSync(region.fd, head, 0, RECORDS_OFFSET, region.position);
  return { header: readBatchHeader(head, 0), fd: region.fd, position: region.position };
}

/**
 * The first record of the batch (at or above the log start) whose timestamp passes `want`;
 * null if none, undecodable, or expanding past the topic's decompression limit.
 */
async function firstRecord(batch: StoredBatch, want: (ts: number) => boolean, log: PartitionLog): Promise<TimestampAndOffset | null> {
  const logStart = log.logStartOffset;
  const h = batch.header;
  const bytes = Buffer.allocUnsafe(LOG_OVERHEAD + h.batchLength);
  fs.readSync(batch.fd, bytes, 0, bytes.length, batch.position);
  let payload: Buffer;
  try {
    payload = await decompress(h.compression, bytes.subarray(RECORDS_OFFSET), decompressionLimit(log.currentConfig.maxMessageBytes));
  } catch {
    return null; // an undecodable (or oversized) payload still has a valid batch-level answer
  }
  for (const r of recordPositions(payload, h.recordCount)) {
    const ts = h.baseTimestamp + r.timestampDelta;
    const offset = h.baseOffset + r.offsetDelta;
    if (offset >= logStart && want(ts)) return { offset, timestamp: ts };
  }
  return null;
}
