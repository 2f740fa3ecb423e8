/**
 * Test helper: encodes real v2 record batches (records with zigzag varints, CRC-32C), the
 * way a producer does, so storage and validation tests run on genuine wire bytes.
 */
import { crc32c } from '@node-rs/crc32';

export interface TestRecord {
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  /** Absolute timestamp; defaults to the batch's baseTimestamp. */
  timestamp?: number;
  headers?: Array<{ key: string; value: Buffer | string | null }>;
}

export interface TestBatchOptions {
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  /** Defaults to the first record's timestamp, or 1_700_000_000_000. */
  baseTimestamp?: number;
  /** Defaults to the largest record timestamp. */
  maxTimestamp?: number;
  attributes?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Override the header fields (to build invalid batches); the CRC still covers them. */
  lastOffsetDelta?: number;
  recordCount?: number;
  magic?: number;
}

const TWO_POW_32 = 4294967296;

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function pushUVarint(out: number[], v: number): void {
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

function pushVarint(out: number[], v: number): void {
  pushUVarint(out, zigzag(v));
}

function bytesOf(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null;
  return typeof v === 'string' ? Buffer.from(v) : v;
}

function pushBytes(out: number[], b: Buffer | null): void {
  if (b === null) {
    pushVarint(out, -1);
    return;
  }
  pushVarint(out, b.length);
  for (const x of b) out.push(x);
}

function writeInt64(buf: Buffer, at: number, v: number): void {
  const hi = Math.floor(v / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(v - hi * TWO_POW_32, at + 4);
}

export function encodeRecords(records: TestRecord[], baseTimestamp: number): Buffer {
  const parts: Buffer[] = [];
  records.forEach((r, i) => {
    const body: number[] = [];
    body.push(0); // record attributes
    pushVarint(body, (r.timestamp ?? baseTimestamp) - baseTimestamp);
    pushVarint(body, i);
    pushBytes(body, bytesOf(r.key));
    pushBytes(body, bytesOf(r.value === undefined ? `value-${i}` : r.value));
    const headers = r.headers ?? [];
    pushVarint(body, headers.length);
    for (const h of headers) {
      pushBytes(body, Buffer.from(h.key));
      pushBytes(body, bytesOf(h.value));
    }
    const len: number[] = [];
    pushVarint(len, body.length);
    parts.push(Buffer.from(len), Buffer.from(body));
  });
  return Buffer.concat(parts);
}

/** One complete v2 batch. */
export function buildBatch(records: TestRecord[], opts: TestBatchOptions = {}): Buffer {
  const firstTs = records.find((r) => r.timestamp !== undefined)?.timestamp;
  const baseTimestamp = opts.baseTimestamp ?? firstTs ?? 1_700_000_000_000;
  const maxTimestamp = opts.maxTimestamp ?? Math.max(baseTimestamp, ...records.map((r) => r.timestamp ?? baseTimestamp));
  const body = encodeRecords(records, baseTimestamp);
  const buf = Buffer.alloc(61 + body.length);
  writeInt64(buf, 0, opts.baseOffset ?? 0);
  buf.writeInt32BE(buf.length - 12, 8);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, 12);
  buf.writeInt8(opts.magic ?? 2, 16);
  buf.writeInt16BE(opts.attributes ?? 0, 21);
  buf.writeInt32BE(opts.lastOffsetDelta ?? records.length - 1, 23);
  writeInt64(buf, 27, baseTimestamp);
  writeInt64(buf, 35, maxTimestamp);
  writeInt64(buf, 43, opts.producerId ?? -1);
  buf.writeInt16BE(opts.producerEpoch ?? -1, 51);
  buf.writeInt32BE(opts.baseSequence ?? -1, 53);
  buf.writeInt32BE(opts.recordCount ?? records.length, 57);
  body.copy(buf, 61);
  buf.writeUInt32BE(crc32c(buf.subarray(21)), 17);
  return buf;
}

/** Rewrites the batch's length field and CRC after an edit (so that only the intended fault remains). */
export function sealBatch(b: Buffer): Buffer {
  b.writeInt32BE(b.length - 12, 8);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

/** `plain` with its records replaced by raw `payload` bytes under `codec` (length and CRC fixed). */
export function withPayload(plain: Buffer, codec: number, payload: Buffer): Buffer {
  const out = Buffer.concat([plain.subarray(0, 61), payload]);
  out.writeInt16BE((out.readInt16BE(21) & ~7) | codec, 21);
  return sealBatch(out);
}

/** A batch of `n` records with values `${prefix}-${i}` and timestamps ts, ts+1, ... */
export function simpleBatch(n: number, opts: TestBatchOptions & { timestamp?: number; valueSize?: number; prefix?: string } = {}): Buffer {
  const ts = opts.timestamp ?? 1_700_000_000_000;
  const records: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const v = opts.valueSize !== undefined ? Buffer.alloc(opts.valueSize, 0x61 + (i % 26)) : `${opts.prefix ?? 'v'}-${i}`;
    records.push({ key: `k${i}`, value: v, timestamp: ts + i });
  }
  return buildBatch(records, opts);
}

/** Decodes a batch's records (offsets and values) — test-side verification only. */
export function decodeBatchValues(batch: Buffer, pos = 0): Array<{ offset: number; value: string | null }> {
  const baseOffset = batch.readInt32BE(pos) * TWO_POW_32 + batch.readUInt32BE(pos + 4);
  const end = pos + 12 + batch.readInt32BE(pos + 8);
  const count = batch.readInt32BE(pos + 57);
  let p = pos + 61;
  const readVarint = (): number => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = batch[p++];
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  };
  const out: Array<{ offset: number; value: string | null }> = [];
  for (let i = 0; i < count; i++) {
    readVarint(); // length
    p++; // attributes
    readVarint(); // timestamp delta
    const offsetDelta = readVarint();
    const kl = readVarint();
    if (kl > 0) p += kl;
    const vl = readVarint();
    const value = vl < 0 ? null : batch.toString('utf8', p, p + vl);
    if (vl > 0) p += vl;
    const hc = readVarint();
    for (let h = 0; h < hc; h++) {
      const hk = readVarint();
      p += hk;
      const hv = readVarint();
      if (hv > 0) p += hv;
    }
    out.push({ offset: baseOffset + offsetDelta, value });
  }
  if (p !== end) throw new Error(`batch decode ended at ${p}, expected ${end}`);
  return out;
}
