/**
 * The Produce slow path: batches that cannot be stored as they arrived. Kafka opens batches
 * on Produce in two cases this broker also honours, and only for topics configured so:
 *   - compression.type names a codec (not "producer"): a batch using another codec is
 *     decompressed and recompressed with it (records untouched, header kept, CRC
 *     recomputed; compression.gzip/zstd.level apply). "uncompressed" stores it plain.
 *   - cleanup.policy contains compact: every record must have a key, else the batch is
 *     refused with INVALID_RECORD, as Kafka does (the cleaner could not keep it).
 * Everything else never comes here and stays zero-copy. No on-disk format of its own.
 */
import { ErrorCode } from '../protocol/errors';
import { BatchHeader, Compression, LOG_OVERHEAD, readBatchHeader } from '../protocol/record-batch';
import { batchPayload, buildBatch, parseRecords } from './batch-records';

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
}

export type RewriteOutcome = { errorCode: 0; records: Buffer } | { errorCode: number; message: string };

/**
 * Null when the batches can be appended as they are (the fast path); otherwise a function
 * producing the bytes to append, or the error to answer with. `first` is the first batch's
 * header (Produce carries one batch).
 */
export function produceRewrite(cfg: ProduceRewriteConfig, first: BatchHeader | null): ((records: Buffer) => Promise<RewriteOutcome>) | null {
  const target = cfg.compressionType === 'producer' ? null : CODEC_BY_NAME[cfg.compressionType] ?? null;
  const recompress = target !== null && first !== null && first.compression !== target;
  if (!recompress && !cfg.compacted) return null;
  return (records) => rewrite(records, cfg, target);
}

async function rewrite(records: Buffer, cfg: ProduceRewriteConfig, target: number | null): Promise<RewriteOutcome> {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < records.length) {
    const size = LOG_OVERHEAD + records.readInt32BE(pos + 8);
    const batch = records.subarray(pos, pos + size);
    const h = readBatchHeader(batch, 0);
    pos += size;
    let payload: Buffer;
    try {
      payload = await batchPayload(batch, h);
    } catch (err) {
      return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: `Record batch could not be decompressed: ${(err as Error).message}` };
    }
    if (cfg.compacted) {
      let recs;
      try {
        recs = parseRecords(payload, h.recordCount);
      } catch (err) {
        return { errorCode: ErrorCode.CORRUPT_MESSAGE, message: `Record is corrupt: ${(err as Error).message}` };
      }
      if (recs.some((r) => r.keyStart < 0)) {
        return { errorCode: ErrorCode.INVALID_RECORD, message: `Compacted topic cannot accept message without key in topic partition ${cfg.partitionName}.` };
      }
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
