/**
 * kafkajs compression codecs for snappy, lz4 and zstd, built on the packages Samsa uses
 * (kafkajs ships only gzip). Registering them lets the tests produce and consume every codec.
 */
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
import * as lz4 from 'lz4-napi';
import * as snappy from 'snappy';
import * as zstd from '@mongodb-js/zstd';

// Java clients frame snappy data the xerial way: an 8-byte magic, two int32 versions,
// then [int32 length][raw snappy block] chunks. librdkafka and kafkajs write raw blocks.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

function snappyDecompress(buf: Buffer): Buffer {
  if (buf.length >= 16 && buf.subarray(0, 8).equals(XERIAL_MAGIC)) {
    const parts: Buffer[] = [];
    let pos = 16;
    while (pos + 4 <= buf.length) {
      const len = buf.readInt32BE(pos);
      pos += 4;
      parts.push(snappy.uncompressSync(buf.subarray(pos, pos + len), { asBuffer: true }) as Buffer);
      pos += len;
    }
    return Buffer.concat(parts);
  }
  return snappy.uncompressSync(buf, { asBuffer: true }) as Buffer;
}

type Encoder = { buffer: Buffer };

export function registerKafkajsCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: async (encoder: Encoder) => snappy.compressSync(encoder.buffer),
    decompress: async (buffer: Buffer) => snappyDecompress(buffer),
  });
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: async (encoder: Encoder) => lz4.compressFrameSync(encoder.buffer),
    decompress: async (buffer: Buffer) => lz4.decompressFrameSync(buffer),
  });
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: Encoder) => zstd.compress(encoder.buffer, 3),
    decompress: async (buffer: Buffer) => zstd.decompress(buffer),
  });
}
