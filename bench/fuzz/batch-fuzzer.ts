/**
 * Record batches for fuzzed Produce requests: valid v2 batches (plain and with every codec),
 * then broken ones aimed at the batch validator and at the paths that decompress (produce
 * rewrite, the cleaner, timestamp lookups): bad CRC, bad attributes, wrong lengths and
 * counts, corrupt records under a valid CRC, compression bombs and truncated compressed
 * payloads. Bombs are built once per process (their compressed form is small, well under
 * max.message.bytes, and expands to hundreds of megabytes).
 */
import * as zlib from 'zlib';
import { compress } from '../../src/compression/codecs';
import { RECORDS_OFFSET } from '../../src/protocol/record-batch';
import { buildBatch, sealBatch, TestRecord, withPayload } from '../../test/helpers/record-batch-builder';
import type { Rng } from '../../test/helpers/codec-samples';

/** The record timestamps fuzzed batches use, so that ListOffsets by time lands on them. */
export const FUZZ_T0 = Date.now() - 60_000;

export interface Bombs {
  /** Codec id -> a payload expanding far past the broker's decompression limit. */
  byCodec: Map<number, Buffer>;
}

let bombs: Promise<Bombs> | null = null;

/** A zstd frame of `blocks` RLE blocks of 128 KiB: 4 bytes per block, each regenerating 128 KiB. */
export function zstdRleBomb(blocks: number): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58])]; // magic, no content size, window
  for (let i = 0; i < blocks; i++) {
    const header = ((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff, 0x00]));
  }
  return Buffer.concat(parts);
}

/** gzip of 256 MiB and lz4 of 128 MiB of zeros, a zstd frame of RLE blocks, a snappy block that lies about its length. */
export function compressionBombs(): Promise<Bombs> {
  return (bombs ??= (async () => {
    const byCodec = new Map<number, Buffer>();
    const zeros = Buffer.alloc(16 * 1024 * 1024);
    const gz = zlib.createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gz.on('data', (d: Buffer) => parts.push(d));
    const done = new Promise((resolve) => gz.on('end', resolve));
    for (let i = 0; i < 16; i++) gz.write(zeros);
    gz.end();
    await done;
    byCodec.set(1, Buffer.concat(parts));
    // lz4 frames concatenate: 8 frames of 16 MiB each (about 512 KiB, under max.message.bytes).
    const lz4 = await compress(3, zeros);
    byCodec.set(3, Buffer.concat(Array.from({ length: 8 }, () => lz4)));
    byCodec.set(4, zstdRleBomb(2048));
    // Declares 4 GiB - 1, then a literal of 4 bytes.
    byCodec.set(2, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0c, 0x61, 0x62, 0x63, 0x64]));
    return { byCodec };
  })());
}

function records(rng: Rng): TestRecord[] {
  const n = rng.int(1, 20);
  const out: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      key: rng.int(0, 9) === 0 ? null : `k${rng.int(0, 30)}`,
      value: rng.int(0, 9) === 0 ? null : rng.bytes(rng.int(0, 200)),
      timestamp: FUZZ_T0 + rng.int(0, 120_000),
      headers: rng.int(0, 4) === 0 ? [{ key: 'h', value: 'v' }] : [],
    });
  }
  return out;
}

export const BATCH_MUTATIONS = [
  'valid',
  'valid-compressed',
  'bad-crc',
  'bad-attributes',
  'bad-magic',
  'bad-batch-length',
  'bad-record-count',
  'bad-last-offset-delta',
  'corrupt-records',
  'truncated-compressed',
  'garbage-compressed',
  'bomb',
  'idempotent-fields',
  'two-batches',
  'short',
] as const;
export type BatchMutation = (typeof BATCH_MUTATIONS)[number];

/** One fuzzed records field and what was done to it. */
export async function fuzzBatch(rng: Rng): Promise<{ records: Buffer; mutation: BatchMutation }> {
  const mutation = rng.pick(BATCH_MUTATIONS);
  const recs = records(rng);
  const plain = buildBatch(recs);
  const codec = rng.int(1, 4);
  const compressed = async () => withPayload(plain, codec, await compress(codec, plain.subarray(RECORDS_OFFSET)));
  let b: Buffer;
  switch (mutation) {
    case 'valid':
      b = plain;
      break;
    case 'valid-compressed':
      b = await compressed();
      break;
    case 'bad-crc':
      b = Buffer.from(rng.bool() ? plain : await compressed());
      b.writeUInt32BE((b.readUInt32BE(17) ^ (1 << rng.int(0, 31))) >>> 0, 17);
      break;
    case 'bad-attributes':
      b = Buffer.from(rng.bool() ? plain : await compressed());
      // Codecs 5-7, the control and transactional bits, LogAppendTime, the delete-horizon bit, unused bits.
      b.writeInt16BE((b.readInt16BE(21) ^ rng.pick([5, 6, 7, 0x10, 0x20, 0x08, 0x40, 0x80, 0x7f00, -0x8000])) << 16 >> 16, 21);
      sealBatch(b);
      break;
    case 'bad-magic':
      b = Buffer.from(plain);
      b.writeInt8(rng.pick([0, 1, 3, -1, 127]), 16);
      sealBatch(b);
      break;
    case 'bad-batch-length':
      b = Buffer.from(plain);
      b.writeInt32BE(rng.pick([-1, 0, 1, 48, b.length - 13, b.length - 11, 0x7fffffff, -0x80000000]), 8);
      break;
    case 'bad-record-count':
      b = Buffer.from(rng.bool() ? plain : await compressed());
      b.writeInt32BE(rng.pick([-1, 0, recs.length + 1, recs.length - 1, 0x7fffffff, 1 << 20]), 57);
      sealBatch(b);
      break;
    case 'bad-last-offset-delta':
      b = Buffer.from(plain);
      b.writeInt32BE(rng.pick([-1, recs.length, 0x7fffffff, -0x80000000]), 23);
      sealBatch(b);
      break;
    case 'corrupt-records': {
      // Bytes inside the records changed under a valid CRC: bad varints, lengths past the end.
      const body = Buffer.from(plain.subarray(RECORDS_OFFSET));
      for (let i = rng.int(1, 4); i > 0 && body.length > 0; i--) body[rng.int(0, body.length - 1)] = rng.pick([0xff, 0x80, 0x7f, 0x00, 0x01, rng.int(0, 255)]);
      b = rng.bool() ? withPayload(plain, 0, body) : withPayload(plain, codec, await compress(codec, body));
      break;
    }
    case 'truncated-compressed': {
      const packed = await compress(codec, plain.subarray(RECORDS_OFFSET));
      b = withPayload(plain, codec, packed.subarray(0, rng.int(0, Math.max(0, packed.length - 1))));
      break;
    }
    case 'garbage-compressed':
      b = withPayload(plain, codec, rng.bytes(rng.int(0, 300)));
      break;
    case 'bomb': {
      const bombCodec = rng.int(1, 4);
      b = withPayload(plain, bombCodec, (await compressionBombs()).byCodec.get(bombCodec) as Buffer);
      break;
    }
    case 'idempotent-fields':
      b = Buffer.from(plain);
      b.writeInt32BE(rng.pick([0, 1, 1000]), 43);
      b.writeInt32BE(rng.pick([0, 1, -1, 0x7fffffff]), 47);
      b.writeInt16BE(rng.pick([0, 1, -1, 0x7fff]), 51);
      b.writeInt32BE(rng.pick([0, 5, -1, 0x7fffffff]), 53);
      sealBatch(b);
      break;
    case 'two-batches':
      b = Buffer.concat([plain, rng.bool() ? plain : await compressed()]);
      break;
    case 'short':
      b = plain.subarray(0, rng.int(0, RECORDS_OFFSET));
      break;
  }
  return { records: b, mutation };
}
