/**
 * Reads of a partition log's segments: the file range a Fetch sends, whole batches for share
 * fetches, and the ListOffsets lookups by timestamp. Only batch headers and indexes are read
 * (LogSegment.findBatch and friends); the bytes themselves go out by file descriptor. No
 * state of their own: PartitionLog passes its segments and offsets.
 */
import type { FileRegion } from '../protocol/writer';
import { ErrorCode } from '../protocol/errors';
import { NO_TIMESTAMP } from '../protocol/record-batch';
import type { LogSegment } from './segment';

export interface ReadResult {
  /** ErrorCode.NONE, or ErrorCode.OFFSET_OUT_OF_RANGE when fetchOffset is outside [logStartOffset, logEndOffset]. */
  errorCode: number;
  /** File ranges to send in order (at most one today: a read stays within one segment). */
  regions: FileRegion[];
  /** Total bytes of the regions; 0 at the log end or on error. */
  length: number;
}

/** A whole stored batch: its offsets, control and transactional flags, producer and where its bytes lie. */
export interface ShareReadBatch {
  baseOffset: number;
  lastOffset: number;
  control: boolean;
  transactional: boolean;
  producerId: number;
  region: FileRegion;
}

export interface TimestampAndOffset {
  offset: number;
  timestamp: number;
}

const NO_REGIONS = Object.freeze([]) as unknown as FileRegion[];
const EMPTY_READ: ReadResult = Object.freeze({ errorCode: ErrorCode.NONE, regions: NO_REGIONS, length: 0 });
const OUT_OF_RANGE: ReadResult = Object.freeze({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, regions: NO_REGIONS, length: 0 });

/**
 * Locates fetchOffset and returns the file range to send. The batch containing fetchOffset
 * comes first and whole even when it starts before fetchOffset (clients skip the earlier
 * records) and, with `minOneMessage` (default), even when it alone exceeds maxBytes. The
 * range then extends to maxBytes in total, possibly ending inside a batch (clients drop a
 * trailing partial batch) — the slice Kafka's FileRecords makes. A read stays within one
 * segment. Only batch headers are read.
 *   fetchOffset == logEndOffset                    -> empty result
 *   fetchOffset < logStartOffset or > logEndOffset -> errorCode OFFSET_OUT_OF_RANGE
 * With minOneMessage=false and a first batch larger than maxBytes, the range is maxBytes
 * long (a partial batch), as in Kafka.
 * `maxOffset` (read_committed: the last stable offset) ends the range before the batch that
 * holds that offset; nothing is returned when fetchOffset >= maxOffset.
 */
export function readRange(
  segments: readonly LogSegment[],
  logStartOffset: number,
  logEndOffset: number,
  fetchOffset: number,
  maxBytes: number,
  minOneMessage = true,
  maxOffset = Infinity,
): ReadResult {
  if (fetchOffset < logStartOffset || fetchOffset > logEndOffset) return OUT_OF_RANGE;
  if (fetchOffset === logEndOffset || fetchOffset >= maxOffset) return EMPTY_READ;
  for (let i = segmentIndexFor(segments, fetchOffset); i < segments.length; i++) {
    const seg = segments[i];
    const batch = seg.findBatch(fetchOffset);
    if (!batch) continue; // fetchOffset lies past this segment's end (a gap): try the next one
    let available = seg.size - batch.position;
    if (maxOffset < seg.nextOffset) {
      const stop = seg.findBatch(maxOffset);
      if (stop) available = Math.min(available, stop.position - batch.position);
    }
    const wanted = minOneMessage ? Math.max(maxBytes, batch.size) : Math.max(0, maxBytes);
    const length = Math.min(available, wanted);
    if (length <= 0) return EMPTY_READ;
    return { errorCode: ErrorCode.NONE, regions: [{ fd: seg.fd, position: batch.position, length }], length };
  }
  return EMPTY_READ;
}

/**
 * Share fetches: whole batches from the one holding `fetchOffset` up to `maxBytes` (the
 * first batch always) and below `maxOffset`, each with its offsets and file range, within
 * one segment like readRange(). Never a partial batch: every offset in the bytes sent is one
 * the caller can account for. Empty at the log end or outside the log.
 */
export function readWholeBatches(
  segments: readonly LogSegment[],
  logStartOffset: number,
  logEndOffset: number,
  fetchOffset: number,
  maxBytes: number,
  maxOffset = Infinity,
): ShareReadBatch[] {
  if (fetchOffset < logStartOffset || fetchOffset >= logEndOffset || fetchOffset >= maxOffset) return [];
  for (let i = segmentIndexFor(segments, fetchOffset); i < segments.length; i++) {
    const seg = segments[i];
    const found = seg.wholeBatchesFrom(fetchOffset, maxBytes, maxOffset);
    if (found.length === 0) continue;
    return found.map((b) => ({
      baseOffset: b.baseOffset,
      lastOffset: b.lastOffset,
      control: b.control,
      transactional: b.transactional,
      producerId: b.producerId,
      region: { fd: seg.fd, position: b.position, length: b.size },
    }));
  }
  return [];
}

/** Index of the last segment whose baseOffset <= offset (0 if none). */
export function segmentIndexFor(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid].baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/**
 * ListOffsets by timestamp: the first batch (in offset order) whose maxTimestamp >= timestamp,
 * as { offset: that batch's baseOffset, timestamp: its maxTimestamp }; null when no batch
 * qualifies. Batch granularity: Kafka decodes the batch to return the exact first record
 * with timestamp >= target; we return the batch start, so a consumer seeking there may also
 * see a few earlier-stamped records of the same batch, never miss a later one.
 */
export function offsetForTimestamp(segments: readonly LogSegment[], logStartOffset: number, timestamp: number): TimestampAndOffset | null {
  for (const seg of segments) {
    const batch = seg.findByTimestamp(timestamp);
    if (batch) return { offset: Math.max(batch.baseOffset, logStartOffset), timestamp: batch.maxTimestamp };
  }
  return null;
}

/**
 * ListOffsets MAX_TIMESTAMP (-3): the largest batch maxTimestamp in the log and the last
 * offset of the first batch that carries it (Kafka's "shallow" offset of the max timestamp;
 * the exact record when timestamps rise within the batch). { offset: -1, timestamp: -1 }
 * when the log is empty or no batch has a timestamp.
 */
export function maxTimestampOffset(segments: readonly LogSegment[]): TimestampAndOffset {
  let best: TimestampAndOffset = { offset: -1, timestamp: NO_TIMESTAMP };
  for (const seg of segments) {
    if (seg.maxTimestamp > best.timestamp) best = { offset: seg.offsetOfMaxTimestamp, timestamp: seg.maxTimestamp };
  }
  return best;
}

