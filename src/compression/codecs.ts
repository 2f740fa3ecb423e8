/**
 * Record batch compression codecs (Kafka attribute ids 1-4). The broker keeps batches
 * compressed as producers sent them; it decompresses only where an answer needs record
 * level detail (ListOffsets by timestamp) — never on the Produce or Fetch path.
 */
import * as zlib from 'zlib';
import type * as Lz4 from 'lz4-napi';
import type * as Snappy from 'snappy';
import type * as Zstd from '@mongodb-js/zstd';
import { lz4FrameBound, zstdFrameBound } from './compression-bounds';

// The native codec addons load on first use: together they cost ~15 ms of startup, and most
// brokers never decompress anything (only ListOffsets by timestamp and the cleaner do).
let lz4Module: typeof Lz4 | null = null;
let snappyModule: typeof Snappy | null = null;
let zstdModule: typeof Zstd | null = null;
const lz4 = {
  get m(): typeof Lz4 {
    return (lz4Module ??= require('lz4-napi') as typeof Lz4);
  },
};
const snappy = {
  get m(): typeof Snappy {
    return (snappyModule ??= require('snappy') as typeof Snappy);
  },
};
const zstd = {
  get m(): typeof Zstd {
    return (zstdModule ??= require('@mongodb-js/zstd') as typeof Zstd);
  },
};

export const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

// Java producers frame snappy the xerial way: 8-byte magic, two int32 versions, then
// [int32 length][raw snappy block] chunks. librdkafka and most others write one raw block.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = 16;

function unsnappy(buf: Buffer, maxBytes: number): Buffer {
  if (buf.length >= XERIAL_HEADER && buf.subarray(0, 8).equals(XERIAL_MAGIC)) {
    // Every chunk's declared size is checked before any is decompressed.
    const chunks: Buffer[] = [];
    let declared = 0;
    let pos = XERIAL_HEADER;
    while (pos + 4 <= buf.length) {
      const len = buf.readInt32BE(pos);
      pos += 4;
      if (len < 0 || pos + len > buf.length) throw new Error('truncated xerial snappy chunk');
      const chunk = buf.subarray(pos, pos + len);
      declared += snappyLength(chunk);
      if (declared > maxBytes) throw new DecompressionLimitError(maxBytes);
      chunks.push(chunk);
      pos += len;
    }
    return Buffer.concat(chunks.map((c) => snappy.m.uncompressSync(c, { asBuffer: true }) as Buffer));
  }
  if (snappyLength(buf) > maxBytes) throw new DecompressionLimitError(maxBytes);
  return snappy.m.uncompressSync(buf, { asBuffer: true }) as Buffer;
}

/** A raw snappy block starts with its uncompressed length as a varint (at most 32 bits). */
function snappyLength(block: Buffer): number {
  let n = 0;
  for (let i = 0; i < 5; i++) {
    if (i >= block.length) throw new Error('truncated snappy length');
    const b = block[i];
    n += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return n;
  }
  throw new Error('bad snappy length');
}

/** A payload would decompress to more than the allowed size (a compression bomb, or a limit too low). */
export class DecompressionLimitError extends Error {
  constructor(readonly maxBytes: number) {
    super(`decompressed size exceeds ${maxBytes} bytes`);
  }
}

/**
 * How far the broker lets one batch's payload expand when it must look inside (recompression,
 * compaction, timestamp lookup, the console): 64x the topic's max.message.bytes, at least
 * 64 MiB and at most 1 GiB. Producers cap a batch's uncompressed size near max.message.bytes
 * (batch.size, message.max.bytes), so only bombs reach this; Kafka itself never holds a whole
 * decompressed batch, it streams records.
 */
export function decompressionLimit(maxMessageBytes: number): number {
  const m = Number.isFinite(maxMessageBytes) && maxMessageBytes > 0 ? maxMessageBytes : 1024 * 1024;
  return Math.min(2 ** 30, Math.max(64 * 2 ** 20, 64 * m));
}

/**
 * Decompresses a batch payload, refusing (DecompressionLimitError) one that would exceed
 * maxBytes before allocating it: gzip through zlib's output limit, snappy by its declared
 * length, lz4 and zstd by an upper bound read from their frame and block headers
 * (compression-bounds.ts). Malformed input throws an ordinary Error.
 */
export async function decompress(codec: number, data: Buffer, maxBytes: number): Promise<Buffer> {
  let out: Buffer;
  switch (codec) {
    case 0:
      return data;
    case 1:
      try {
        out = zlib.gunzipSync(data, { maxOutputLength: maxBytes });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressionLimitError(maxBytes);
        throw err;
      }
      break;
    case 2:
      out = unsnappy(data, maxBytes);
      break;
    case 3:
      if (lz4FrameBound(data) > maxBytes) throw new DecompressionLimitError(maxBytes);
      out = lz4.m.decompressFrameSync(data);
      break;
    case 4:
      if (zstdFrameBound(data) > maxBytes) throw new DecompressionLimitError(maxBytes);
      out = await zstd.m.decompress(data);
      break;
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
  if (out.length > maxBytes) throw new DecompressionLimitError(maxBytes);
  return out;
}

/** `level`: gzip 1-9 and zstd levels are honoured (compression.*.level); lz4 and snappy ignore it. */
export async function compress(codec: number, data: Buffer, level?: number): Promise<Buffer> {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return zlib.gzipSync(data, level !== undefined && level >= 1 && level <= 9 ? { level } : {});
    case 2:
      return snappy.m.compressSync(data);
    case 3:
      return lz4.m.compressFrameSync(data);
    case 4:
      return zstd.m.compress(data, level ?? 3);
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
}
