/**
 * Per-partition log settings: the subset of Kafka's topic configs that the file log obeys.
 * Nothing here is stored on disk; the topic manager derives a LogConfig from the topic's
 * configs (with broker defaults) and passes it to PartitionLog.open / updateConfig.
 *
 * Kafka's "Long.MAX_VALUE means never" values arrive as 9.223372036854776e18, which works as
 * "never" in every comparison below; non-finite or missing values fall back to the default.
 */

export interface LogConfig {
  /** segment.bytes: roll when the active segment would grow past this (default 1 GiB). */
  segmentBytes: number;
  /** segment.ms: roll when this much time separates the segment's first batch from a new one (7 days). */
  segmentMs: number;
  /** segment.index.bytes: max offset-index size; a full index also rolls the segment (10 MiB). */
  segmentIndexBytes: number;
  /** index.interval.bytes: log bytes between sparse index entries (4096). */
  indexIntervalBytes: number;
  /** flush.messages: fsync after this many records (offsets) since the last fsync (never). */
  flushMessages: number;
  /** flush.ms: fsync when this long has passed since the last fsync, checked on append and maybeFlush() (never). */
  flushMs: number;
  /** message.timestamp.type: LogAppendTime makes append() stamp each batch with the broker time. */
  messageTimestampType?: 'CreateTime' | 'LogAppendTime';
  /**
   * file.delete.delay.ms: after deleteAll(), segment file descriptors stay open this long so
   * FileRegions handed out by read() remain readable (Kafka defers segment deletion likewise).
   * 0 closes them at once. Default 60000.
   */
  fileDeleteDelayMs?: number;
  /** cleanup.policy contains "delete": retention.ms / retention.bytes apply (default true). */
  deleteEnabled?: boolean;
  /** cleanup.policy contains "compact": the background cleaner compacts closed segments (default false). */
  compactEnabled?: boolean;
  /** retention.ms: closed segments whose newest timestamp is older than this are deleted; -1 never (7 days). */
  retentionMs?: number;
  /** retention.bytes: oldest segments are deleted while the log exceeds this; -1 never. */
  retentionBytes?: number;
  /** delete.retention.ms: how long a tombstone survives once the cleaner has seen it (1 day). */
  deleteRetentionMs?: number;
  /** min.cleanable.dirty.ratio: share of uncleaned bytes that triggers compaction (0.5). */
  minCleanableDirtyRatio?: number;
  /** min.compaction.lag.ms: records younger than this are not compacted (0). */
  minCompactionLagMs?: number;
  /** max.compaction.lag.ms: records older than this are compacted whatever the dirty ratio (never). */
  maxCompactionLagMs?: number;
  /** max.message.bytes: bounds how far the cleaner and timestamp lookups let a batch decompress (1 MiB + 12). */
  maxMessageBytes?: number;
}

export const DEFAULT_LOG_CONFIG: Readonly<Required<LogConfig>> = Object.freeze({
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 60 * 60 * 1000,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  flushMessages: Number.MAX_VALUE,
  flushMs: Number.MAX_VALUE,
  messageTimestampType: 'CreateTime' as const,
  fileDeleteDelayMs: 60_000,
  deleteEnabled: true,
  compactEnabled: false,
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  retentionBytes: -1,
  deleteRetentionMs: 24 * 60 * 60 * 1000,
  minCleanableDirtyRatio: 0.5,
  minCompactionLagMs: 0,
  maxCompactionLagMs: Number.MAX_VALUE,
  maxMessageBytes: 1048588,
});

function pick(v: number | undefined, dflt: number, min: number): number {
  return typeof v === 'number' && !Number.isNaN(v) && v >= min ? v : dflt;
}

/** Fills defaults and replaces invalid numbers (NaN, below Kafka's minimum) by defaults. */
export function resolveLogConfig(config: Partial<LogConfig> = {}): Required<LogConfig> {
  const d = DEFAULT_LOG_CONFIG;
  return {
    // A segment must hold at least a batch header; Kafka's minimum is 14.
    segmentBytes: pick(config.segmentBytes, d.segmentBytes, 14),
    segmentMs: pick(config.segmentMs, d.segmentMs, 1),
    segmentIndexBytes: pick(config.segmentIndexBytes, d.segmentIndexBytes, 4),
    indexIntervalBytes: pick(config.indexIntervalBytes, d.indexIntervalBytes, 0),
    flushMessages: pick(config.flushMessages, d.flushMessages, 1),
    flushMs: pick(config.flushMs, d.flushMs, 0),
    messageTimestampType: config.messageTimestampType === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    fileDeleteDelayMs: pick(config.fileDeleteDelayMs, d.fileDeleteDelayMs, 0),
    deleteEnabled: config.deleteEnabled ?? d.deleteEnabled,
    compactEnabled: config.compactEnabled ?? d.compactEnabled,
    // -1 (and anything negative) means "no limit" for both retention settings.
    retentionMs: pick(config.retentionMs, d.retentionMs, -Infinity),
    retentionBytes: pick(config.retentionBytes, d.retentionBytes, -Infinity),
    deleteRetentionMs: pick(config.deleteRetentionMs, d.deleteRetentionMs, 0),
    minCleanableDirtyRatio: pick(config.minCleanableDirtyRatio, d.minCleanableDirtyRatio, 0),
    minCompactionLagMs: pick(config.minCompactionLagMs, d.minCompactionLagMs, 0),
    maxCompactionLagMs: pick(config.maxCompactionLagMs, d.maxCompactionLagMs, 1),
    maxMessageBytes: pick(config.maxMessageBytes, d.maxMessageBytes, 0),
  };
}
