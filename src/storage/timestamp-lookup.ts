/**
 * ListOffsets by timestamp at record precision, as Kafka answers it: the time index finds
 * the first batch whose max timestamp reaches the target, then that one batch is read and
 * (if compressed) decompressed to find the first record at or after the target. This is
 * the only place the broker looks inside a stored batch; Produce and Fetch never do.
 */
import * as fs from 'fs';
import { decompress } from '../compression/codecs';
import { readBatchHeader, RECORDS_OFFSET, LOG_OVERHEAD, TimestampType } from '../protocol/record-batch';
import { recordPositions } from '../protocol/record-reader';
import type { PartitionLog, TimestampAndOffset } from './partition-log';

export async function offsetForTimestampExact(log: PartitionLog, timestamp: number): Promise<TimestampAndOffset | null> {
  const found = log.offsetForTimestamp(timestamp);
  if (!found) return null;
  return (await firstRecordInBatch(log, found.offset, timestamp)) ?? found;
}

/**
 * ListOffsets MAX_TIMESTAMP (-3): the record holding the largest timestamp, the first one if
 * several share it, as Kafka answers since 3.8 (KAFKA-16310); the segments only know the
 * batch that holds it.
 */
export async function offsetForMaxTimestampExact(log: PartitionLog): Promise<TimestampAndOffset> {
  const found = log.maxTimestampOffset();
  if (found.offset < 0) return found;
  return (await firstRecordInBatch(log, found.offset, found.timestamp)) ?? found;
}

/**
 * Reads the one batch holding `offset` and returns its first record (at or after the log
 * start) whose timestamp reaches `timestamp`, or null when the batch cannot say more than
 * its header (LogAppendTime batches give every record the batch time: their first record).
 */
async function firstRecordInBatch(log: PartitionLog, offset: number, timestamp: number): Promise<TimestampAndOffset | null> {
  const read = log.read(offset, 1);
  const region = read.regions[0];
  if (!region || region.length < RECORDS_OFFSET) return null;
  const head = Buffer.allocUnsafe(RECORDS_OFFSET);
  fs.readSync(region.fd, head, 0, RECORDS_OFFSET, region.position);
  const h = readBatchHeader(head, 0);
  if (h.maxTimestamp < timestamp) return null;
  if (h.timestampType === TimestampType.LOG_APPEND_TIME) {
    return { offset: Math.max(h.baseOffset, log.logStartOffset), timestamp: h.maxTimestamp };
  }
  const size = LOG_OVERHEAD + h.batchLength;
  const batch = Buffer.allocUnsafe(size);
  fs.readSync(region.fd, batch, 0, size, region.position);
  let payload: Buffer;
  try {
    payload = await decompress(h.compression, batch.subarray(RECORDS_OFFSET));
  } catch {
    return null; // an undecodable payload still has a valid batch-level answer
  }
  for (const r of recordPositions(payload, h.recordCount)) {
    const ts = h.baseTimestamp + r.timestampDelta;
    const at = h.baseOffset + r.offsetDelta;
    if (ts >= timestamp && at >= log.logStartOffset) return { offset: at, timestamp: ts };
  }
  return null;
}
