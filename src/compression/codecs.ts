/**
 * Record batch compression codecs (Kafka attribute ids 1-4). The broker keeps batches
 * compressed as producers sent them; it decompresses only where an answer needs record
 * level detail (ListOffsets by timestamp) — never on the Produce or Fetch path.
 */
import * as zlib from 'zlib';
import type * as Lz4 from 'lz4-napi';
import type * as Snappy from 'snappy';
import type * as Zstd from '@mongodb-js/zstd';

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

function unsnappy(buf: Buffer): Buffer {
  if (buf.length >= XERIAL_HEADER && buf.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const parts: Buffer[] = [];
    let pos = XERIAL_HEADER;
    while (pos + 4 <= buf.length) {
      const len = buf.readInt32BE(pos);
      pos += 4;
      if (len < 0 || pos + len > buf.length) throw new Error('truncated xerial snappy chunk');
      parts.push(snappy.m.uncompressSync(buf.subarray(pos, pos + len), { asBuffer: true }) as Buffer);
      pos += len;
    }
    return Buffer.concat(parts);
  }
  return snappy.m.uncompressSync(buf, { asBuffer: true }) as Buffer;
}

export async function decompress(codec: number, data: Buffer): Promise<Buffer> {
  switch (codec) {
    case 0:
      return data;
    case 1:
      return zlib.gunzipSync(data);
    case 2:
      return unsnappy(data);
    case 3:
      return lz4.m.decompressFrameSync(data);
    case 4:
      return zstd.m.decompress(data);
    default:
      throw new Error(`unknown compression codec ${codec}`);
  }
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
