/**
 * Retention: which of a partition's oldest segments may go. No on-disk format of its own;
 * deletion and the durable log start offset are PartitionLog.deleteOldestSegments'.
 *
 * Three rules, each counting a prefix of the segments (oldest first), as Kafka's log
 * retention does; the longest prefix is deleted:
 *   - log start offset: a segment whose successor starts at or below the log start offset
 *     holds nothing readable (DeleteRecords moved past it). Applies to every policy.
 *   - retention.ms (cleanup.policy contains delete, value >= 0): a segment whose newest
 *     timestamp (or file time when its batches carry none) is more than retention.ms old.
 *   - retention.bytes (same policy, value >= 0): the oldest segments while the log without
 *     them is still at least retention.bytes.
 * The active segment counts too; when it must go, PartitionLog rolls a new empty one first,
 * so a partition keeps its log end offset and always has a segment to append to.
 */
import type { PartitionLog } from './partition-log';
import { segmentLargestTimestamp } from './log-cleaner';

export interface RetentionResult {
  deletedSegments: number;
  reason: string | null;
}

export function applyRetention(log: PartitionLog, now: number = log.now()): RetentionResult {
  if (log.isClosed) return { deletedSegments: 0, reason: null };
  const cfg = log.currentConfig;
  const segs = log.allSegments();
  const last = segs.length - 1;
  // The empty active segment is never a candidate (nothing to gain, and the log needs it).
  const candidates = segs[last].size === 0 ? last : segs.length;
  let count = 0;
  let reason: string | null = null;

  let breached = 0;
  while (breached + 1 < segs.length && segs[breached + 1].baseOffset <= log.logStartOffset) breached++;
  if (breached > count) {
    count = breached;
    reason = 'log start offset';
  }

  if (cfg.deleteEnabled && cfg.retentionMs >= 0) {
    let expired = 0;
    while (expired < candidates && now - segmentLargestTimestamp(segs[expired]) > cfg.retentionMs) expired++;
    if (expired > count) {
      count = expired;
      reason = 'retention.ms';
    }
  }

  if (cfg.deleteEnabled && cfg.retentionBytes >= 0) {
    let excess = log.size - cfg.retentionBytes;
    let over = 0;
    while (over < candidates && excess - segs[over].size >= 0) {
      excess -= segs[over].size;
      over++;
    }
    if (over > count) {
      count = over;
      reason = 'retention.bytes';
    }
  }

  if (count === 0) return { deletedSegments: 0, reason: null };
  log.deleteOldestSegments(count, reason as string);
  return { deletedSegments: count, reason };
}
