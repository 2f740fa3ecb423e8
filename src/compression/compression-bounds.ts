/**
 * Upper bounds on the decompressed size of lz4 and zstd payloads, read from their frame and
 * block headers without decompressing anything. The native decoders allocate whatever the
 * input asks for, so a small payload could claim gigabytes; codecs.ts refuses a payload
 * whose bound exceeds its limit before calling them. Bounds are never below the real size;
 * for legitimate frames they exceed it by less than one block per frame.
 *
 * LZ4 frame (lz4 frame format 1.6): magic 0x184D2204 LE, FLG, BD, [content size u64],
 * [dict id u32], HC; then blocks: u32 LE size (high bit: stored uncompressed), data,
 * [u32 checksum]; a zero size ends the frame, then [u32 content checksum].
 * Zstd frame (RFC 8878): magic 0xFD2FB528 LE, descriptor, [window], [dict id], [content
 * size]; then blocks with a 3-byte LE header: last flag, type (raw, RLE, compressed),
 * size. Raw and RLE blocks regenerate exactly `size` bytes, a compressed one at most 128 KiB.
 * Both formats allow skippable frames (magic 0x184D2A5?, u32 LE size) and concatenation.
 */

const LZ4_MAGIC = 0x184d2204;
const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_MAX_BLOCK = 128 * 1024;

function isSkippable(magic: number): boolean {
  return (magic & 0xfffffff0) >>> 0 === 0x184d2a50;
}

function need(buf: Buffer, pos: number, n: number, what: string): void {
  if (pos + n > buf.length) throw new Error(`truncated ${what}`);
}

export function lz4FrameBound(buf: Buffer): number {
  let total = 0;
  let pos = 0;
  while (pos < buf.length) {
    need(buf, pos, 4, 'lz4 frame');
    const magic = buf.readUInt32LE(pos);
    pos += 4;
    if (isSkippable(magic)) {
      need(buf, pos, 4, 'lz4 skippable frame');
      pos += 4 + buf.readUInt32LE(pos);
      continue;
    }
    if (magic !== LZ4_MAGIC) throw new Error('bad lz4 frame magic');
    need(buf, pos, 3, 'lz4 frame header');
    const flg = buf[pos];
    const bd = buf[pos + 1];
    if (flg >> 6 !== 1) throw new Error('unsupported lz4 frame version');
    const blockId = (bd >> 4) & 7;
    if (blockId < 4) throw new Error('bad lz4 block size id');
    const blockMax = 1 << (2 * blockId + 8); // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
    const blockChecksum = (flg & 0x10) !== 0;
    const contentSize = (flg & 0x08) !== 0;
    pos += 2;
    let declared = 0;
    if (contentSize) {
      need(buf, pos, 8, 'lz4 content size');
      declared = Number(buf.readBigUInt64LE(pos));
      pos += 8;
    }
    if (flg & 0x01) pos += 4;
    pos += 1; // header checksum
    let blocks = 0;
    for (;;) {
      need(buf, pos, 4, 'lz4 block');
      const word = buf.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = word & 0x7fffffff;
      blocks += (word & 0x80000000) !== 0 ? size : blockMax;
      pos += size + (blockChecksum ? 4 : 0);
      if (pos > buf.length) throw new Error('truncated lz4 block');
    }
    // The decoder may size its output by a declared content size, and never returns more than the blocks hold.
    total += Math.max(declared, blocks);
    if (flg & 0x04) pos += 4;
  }
  return total;
}

export function zstdFrameBound(buf: Buffer): number {
  let total = 0;
  let pos = 0;
  while (pos < buf.length) {
    need(buf, pos, 4, 'zstd frame');
    const magic = buf.readUInt32LE(pos);
    pos += 4;
    if (isSkippable(magic)) {
      need(buf, pos, 4, 'zstd skippable frame');
      pos += 4 + buf.readUInt32LE(pos);
      continue;
    }
    if (magic !== ZSTD_MAGIC) throw new Error('bad zstd frame magic');
    need(buf, pos, 1, 'zstd frame header');
    const fhd = buf[pos++];
    const fcsFlag = fhd >> 6;
    const singleSegment = (fhd & 0x20) !== 0;
    if (!singleSegment) pos += 1;
    pos += [0, 1, 2, 4][fhd & 3];
    const fcsSize = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
    need(buf, pos, fcsSize, 'zstd frame header');
    let declared = -1;
    if (fcsSize === 1) declared = buf[pos];
    else if (fcsSize === 2) declared = buf.readUInt16LE(pos) + 256;
    else if (fcsSize === 4) declared = buf.readUInt32LE(pos);
    else if (fcsSize === 8) declared = Number(buf.readBigUInt64LE(pos));
    pos += fcsSize;
    let blocks = 0;
    for (let last = false; !last; ) {
      need(buf, pos, 3, 'zstd block');
      const header = buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16);
      pos += 3;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      const size = header >>> 3;
      if (type === 0) {
        blocks += size;
        pos += size;
      } else if (type === 1) {
        blocks += size;
        pos += 1;
      } else if (type === 2) {
        blocks += ZSTD_MAX_BLOCK;
        pos += size;
      } else {
        throw new Error('reserved zstd block type');
      }
      if (pos > buf.length) throw new Error('truncated zstd block');
    }
    total += Math.max(declared, blocks);
    if (fhd & 0x04) pos += 4;
  }
  return total;
}
