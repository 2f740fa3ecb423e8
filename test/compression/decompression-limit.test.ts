/**
 * Bounded decompression (codecs.ts, compression-bounds.ts): every codec refuses a payload that
 * would expand past the limit before allocating it, still opens legitimate payloads near it,
 * and fails truncated ones with an ordinary error.
 */
import { compress, decompress, DecompressionLimitError, decompressionLimit } from '../../src/compression/codecs';
import { lz4FrameBound, zstdFrameBound } from '../../src/compression/compression-bounds';
import { zstdRleBomb } from '../../bench/fuzz/batch-fuzzer';

const CODECS = [
  ['gzip', 1],
  ['snappy', 2],
  ['lz4', 3],
  ['zstd', 4],
] as const;

function mixed(n: number): Buffer {
  const b = Buffer.alloc(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = i % 7 === 0 ? x & 0xff : 0x61 + (i % 13);
  }
  return b;
}

describe('bounded decompression', () => {
  test('the limit follows max.message.bytes within [64 MiB, 1 GiB]', () => {
    expect(decompressionLimit(1048588)).toBe(64 * 1048588);
    expect(decompressionLimit(1000)).toBe(64 * 2 ** 20);
    expect(decompressionLimit(100 * 2 ** 20)).toBe(2 ** 30);
    expect(decompressionLimit(NaN)).toBe(64 * 2 ** 20);
  });

  test.each(CODECS)('%s: a payload over the limit is refused, one at the limit opens', async (_name, codec) => {
    const data = Buffer.alloc(1024 * 1024, 0x41);
    const packed = await compress(codec, data);
    expect(packed.length).toBeLessThan(data.length / 20);
    await expect(decompress(codec, packed, 256 * 1024)).rejects.toBeInstanceOf(DecompressionLimitError);
    // lz4 and zstd bounds may exceed the real size by less than one block (<= 4 MiB for lz4).
    const roomy = codec === 3 || codec === 4 ? data.length + 4 * 1024 * 1024 : data.length;
    expect((await decompress(codec, packed, roomy)).equals(data)).toBe(true);
  });

  test.each(CODECS)('%s: truncated and garbled payloads fail with an error, never hang or crash', async (_name, codec) => {
    const data = mixed(300 * 1024);
    const packed = await compress(codec, data);
    for (const cut of [0, 1, 3, 7, 16, Math.floor(packed.length / 2), packed.length - 1]) {
      const r = await decompress(codec, packed.subarray(0, cut), 2 ** 26).then(
        (b) => b,
        (e: Error) => e,
      );
      // Some codecs accept a prefix (snappy of an empty input): whatever comes back stays bounded.
      if (Buffer.isBuffer(r)) expect(r.length).toBeLessThanOrEqual(2 ** 26);
      else expect(typeof (r as Error).message).toBe('string'); // native errors come from another realm under jest
    }
  });

  test('lz4 and zstd bounds are never below the real size', async () => {
    for (const n of [0, 1, 1000, 65536, 65537, 300_000, 2_000_000]) {
      const data = mixed(n);
      if (n > 0) expect(lz4FrameBound(await compress(3, data))).toBeGreaterThanOrEqual(n);
      expect(zstdFrameBound(await compress(4, data))).toBeGreaterThanOrEqual(n);
    }
  });

  test('a zstd RLE bomb is refused before decompression', async () => {
    const bomb = zstdRleBomb(8 * 1024); // 32 KiB claiming 1 GiB
    expect(zstdFrameBound(bomb)).toBe(8 * 1024 * 128 * 1024);
    await expect(decompress(4, bomb, decompressionLimit(1048588))).rejects.toBeInstanceOf(DecompressionLimitError);
  });

  test('an lz4 frame declaring a huge content size is refused', async () => {
    const frame = Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x68, 0x40, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x00, 0, 0, 0, 0]);
    expect(lz4FrameBound(frame)).toBe(2 ** 36);
    await expect(decompress(3, frame, 2 ** 26)).rejects.toBeInstanceOf(DecompressionLimitError);
  });

  test('a snappy block declaring a huge length is refused', async () => {
    const block = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]);
    await expect(decompress(2, block, 2 ** 26)).rejects.toBeInstanceOf(DecompressionLimitError);
  });
});
