/**
 * The Produce slow path: batches that cannot be stored as they arrived. Kafka opens batches
 * on Produce in two cases this broker also honours, and only for topics configured so:
 *   - compression.type names a codec (not "producer"): a batch using another codec is
 *     decompressed and recompressed with it (records untouched, header kept, CRC
 *     recomputed; compression.gzip/zstd.level apply). "uncompressed" stores it plain.
 *   - cleanup.policy contains compact: every record must have a key, else the batch is
 *     refused with INVALID_RECORD, as Kafka does (the cleaner could not keep it).
 *   - record timestamps must be checked one by one (message.timestamp.before/after.max.ms):
 *     the batch header failed the bounds, or a "before" bound is set (a record may be older
 *     than the batch's baseTimestamp; only decoding finds it).
 * A refused batch is refused whole, as in Kafka, with record_errors naming every offending
 * record (its index in the batch and why) and Kafka's summary as error_message (Produce v8+,
 * KIP-467): clients fail those records only and retry the rest.
 * Everything else never comes here and stays zero-copy. No on-disk format of its own.
 */
import { ErrorCode } from '../protocol/errors';
import { BatchHeader, Compression, LOG_OVERHEAD, NO_TIMESTAMP, readBatchHeader } from '../protocol/record-batch';
import { DecompressionLimitError, decompressionLimit } from '../compression/codecs';
import { batchPayload, buildBatch, parseRecords, RecordSlice } from './batch-records';

const CODEC_BY_NAME: Record<string, number> = {
  uncompressed: Compression.NONE,
  gzip: Compression.GZIP,
  snappy: Compression.SNAPPY,
  lz4: Compression.LZ4,
  zstd: Compression.ZSTD,
};

export interface ProduceRewriteConfig {
  /** compression.type: "producer" or a codec name. */
  compressionType: string;
  /** cleanup.policy contains compact. */
  compacted: boolean;
  gzipLevel: number;
  zstdLevel: number;
  maxMessageBytes: number;
  /** "topic-partition" for messages. */
  partitionName: string;
  /** Check every record's CreateTime against these bounds (ms, as configured); absent: no check. */
  timestampBounds?: TimestampBounds;
}

export interface TimestampBounds {
  now: number;
  /** message.timestamp.before.max.ms / after.max.ms, as configured (exact int64 text for messages). */
  beforeMaxMs: string;
  afterMaxMs: string;
}

export interface RecordError {
  batchIndex: number;
  batchIndexErrorMessage: string;
}

export type RewriteOutcome = { errorCode: 0; records: Buffer } | { errorCode: number; message: string; recordErrors?: RecordError[] };

/**
 * Null when the batches can be appended as they are (the fast path); otherwise a function
 * producing the bytes to append, or the error to answer with. `first` is the first batch's
 * header (Produce carries one batch).
 */
export function produceRewrite(cfg: ProduceRewriteConfig, first: BatchHeader | null): ((records: Buffer) => Promise<RewriteOutcome>) | null {
  const target = cfg.compressionType === 'producer' ? null : CODEC_BY_NAME[cfg.compressionType] ?? null;
  const recompress = target !== null && first !== null && first.compression !== target;
  if (!recompress && !cfg.compacted && !cfg.timestampBounds) return null;
  return (records) => rewrite(records, cfg, target);
}

async function rewrite(records: Buffer, cfg: ProduceRewriteConfig, target: number | null): Promise<RewriteOutcome> {
  const out: Buffer[] = [];
  const maxPayload = decompressionLimit(cfg.maxMessageBytes);
  let pos = 0;
  while (pos < records.length) {
    const size = LOG_OVERHEAD + records.readInt32BE(pos + 8);
    const batch = records.subarray(pos, pos + size);
    const h = readBatchHeader(batch, 0);
    pos += size;
    let payload: Buffer;
    try {
      payload = await batchPayload(batch, h, maxPayload);
    } catch (err) {
      if (err instanceof DecompressionLimitError) {
        return { errorCode: ErrorCode.MESSAGE_TOO_LARGE, message: `The record batch ${err.message} when decompressed (max.message.bytes is ${cfg.maxMessageBytes})` };
      }
      return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: `Record batch could not be decompressed: ${(err as Error).message}` };
    }
    if (cfg.compacted || cfg.timestampBounds) {
      let recs;
      try {
        recs = parseRecords(payload, h.recordCount);
      } catch (err) {
        return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: `Record is corrupt: ${(err as Error).message}` };
      }
      const refused = recordErrors(recs, h.baseTimestamp, cfg);
      if (refused) return refused;
    }
    if (target === null || h.compression === target) {
      out.push(batch);
      continue;
    }
    const level = target === Compression.GZIP ? cfg.gzipLevel : target === Compression.ZSTD ? cfg.zstdLevel : undefined;
    const rebuilt = await buildBatch(
      { header: h, baseTimestamp: h.baseTimestamp, maxTimestamp: h.maxTimestamp, recordCount: h.recordCount, compression: target, compressionLevel: level },
      payload,
    );
    if (rebuilt.length > cfg.maxMessageBytes) {
      return {
        errorCode: ErrorCode.MESSAGE_TOO_LARGE,
        message: `The record batch size after recompression is ${rebuilt.length} bytes which exceeds the maximum configured value of ${cfg.maxMessageBytes}`,
      };
    }
    out.push(rebuilt);
  }
  return { errorCode: 0, records: out.length === 1 ? out[0] : Buffer.concat(out) };
}

/**
 * The per-record verdict of Kafka's LogValidator: a missing key on a compacted topic, else a
 * CreateTime outside the bounds. Null when every record passes. The partition error is
 * INVALID_TIMESTAMP if any record failed on its timestamp, else INVALID_RECORD, with Kafka's
 * summary text.
 */
function recordErrors(recs: RecordSlice[], baseTimestamp: number, cfg: ProduceRewriteConfig): { errorCode: number; message: string; recordErrors: RecordError[] } | null {
  const bounds = cfg.timestampBounds;
  const before = bounds ? Number(bounds.beforeMaxMs) : Infinity;
  const after = bounds ? Number(bounds.afterMaxMs) : Infinity;
  let errors: RecordError[] | null = null;
  let badTimestamp = false;
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    let message: string | null = null;
    if (cfg.compacted && r.keyStart < 0) {
      message = `Compacted topic cannot accept message without key in topic partition ${cfg.partitionName}`;
    } else if (bounds) {
      const ts = baseTimestamp + r.timestampDelta;
      if (ts !== NO_TIMESTAMP && (bounds.now - ts > before || ts - bounds.now > after)) {
        badTimestamp = true;
        // The range is printed as Kafka computes it, in int64 (the bounds may be Long.MAX_VALUE).
        const now = BigInt(bounds.now);
        message =
          `Timestamp ${ts} of message with offset ${r.offsetDelta} is out of range. ` +
          `The timestamp should be within [${now - BigInt(bounds.beforeMaxMs)}, ${now + BigInt(bounds.afterMaxMs)}]`;
      }
    }
    if (message !== null) (errors ??= []).push({ batchIndex: i, batchIndexErrorMessage: message });
  }
  if (!errors) return null;
  if (badTimestamp) return { errorCode: ErrorCode.INVALID_TIMESTAMP, message: 'One or more records have been rejected due to invalid timestamp', recordErrors: errors };
  const shown = errors.slice(0, 3).map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.batchIndexErrorMessage}')`);
  return {
    errorCode: ErrorCode.INVALID_RECORD,
    message: `One or more records have been rejected due to ${errors.length} record errors in total, and only showing the first three errors at most: [${shown.join(', ')}]`,
    recordErrors: errors,
  };
}
