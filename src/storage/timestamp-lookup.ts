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
  const read = log.read(found.offset, 1);
  const region = read.regions[0];
  if (!region || region.length < RECORDS_OFFSET) return found;
  const head = Buffer.allocUnsafe(RECORDS_OFFSET);
  fs.readSync(region.fd, head, 0, RECORDS_OFFSET, region.position);
  const h = readBatchHeader(head, 0);
  // LogAppendTime batches carry one time for all records: the batch answer is exact.
  if (h.timestampType === TimestampType.LOG_APPEND_TIME || h.maxTimestamp < timestamp) return found;
  const size = LOG_OVERHEAD + h.batchLength;
  const batch = Buffer.allocUnsafe(size);
  fs.readSync(region.fd, batch, 0, size, region.position);
  let payload: Buffer;
  try {
    payload = await decompress(h.compression, batch.subarray(RECORDS_OFFSET));
  } catch {
    return found; // an undecodable payload still has a valid batch-level answer
  }
  for (const r of recordPositions(payload, h.recordCount)) {
    const ts = h.baseTimestamp + r.timestampDelta;
    const offset = h.baseOffset + r.offsetDelta;
    if (ts >= timestamp && offset >= log.logStartOffset) return { offset, timestamp: ts };
  }
  return found;
}
