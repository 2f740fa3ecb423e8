/**
 * Log cleaner figures, in-process (no broker, no client):
 *
 *   npm run build && node dist/bench/cleaner.js [--mb=256] [--keys=10000] [--value=200] [--codec=none|gzip|lz4|zstd|snappy]
 *
 * Writes a compacted partition of about --mb MiB (batches of 100 records of --value bytes
 * over --keys keys, closed 16 MiB segments), then runs one cleaning and prints: the input
 * size, the cleaning time, MiB/s read, records per second, the output size, and the worst
 * event-loop delay seen by a 1 ms timer meanwhile (how long produce/fetch could have
 * waited), plus the same delay while appending at the same time.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { crc32c } from '@node-rs/crc32';
import { PartitionLog } from '../src/storage/partition-log';
import { LogCleaner, cleaningNeed } from '../src/storage/log-cleaner';
import { buildBatch } from '../src/storage/batch-records';
import { createLogger } from '../src/logging';
import { readBatchHeader } from '../src/protocol/record-batch';

function arg(name: string, dflt: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

const MB = Number(arg('mb', '256'));
const KEYS = Number(arg('keys', '10000'));
const VALUE = Number(arg('value', '200'));
const CODEC = ['none', 'gzip', 'snappy', 'lz4', 'zstd'].indexOf(arg('codec', 'none'));
const PER_BATCH = 100;

function varint(out: number[], v: number): void {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

/** An uncompressed v2 batch of PER_BATCH records (keys `key-N`, random values). */
function plainBatch(first: number, ts: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < PER_BATCH; i++) {
    const key = Buffer.from(`key-${(first + i) % KEYS}`);
    const value = crypto.randomBytes(VALUE / 2).toString('hex');
    const body: number[] = [0];
    varint(body, 0);
    varint(body, i);
    varint(body, key.length);
    const head = Buffer.from(body);
    const mid: number[] = [];
    varint(mid, value.length);
    const tail = Buffer.from([0]);
    const rec = Buffer.concat([head, key, Buffer.from(mid), Buffer.from(value), tail]);
    const len: number[] = [];
    varint(len, rec.length);
    parts.push(Buffer.from(len), rec);
  }
  const records = Buffer.concat(parts);
  const b = Buffer.alloc(61 + records.length);
  b.writeInt32BE(b.length - 12, 8);
  b.writeInt32BE(-1, 12);
  b.writeInt8(2, 16);
  b.writeInt32BE(PER_BATCH - 1, 23);
  b.writeBigInt64BE(BigInt(ts), 27);
  b.writeBigInt64BE(BigInt(ts), 35);
  b.writeBigInt64BE(-1n, 43);
  b.writeInt16BE(-1, 51);
  b.writeInt32BE(-1, 53);
  b.writeInt32BE(PER_BATCH, 57);
  records.copy(b, 61);
  b.writeUInt32BE(crc32c(b.subarray(21)), 17);
  return b;
}

async function makeBatch(first: number, ts: number): Promise<Buffer> {
  const plain = plainBatch(first, ts);
  if (CODEC <= 0) return plain;
  const h = readBatchHeader(plain, 0);
  return buildBatch({ header: h, baseTimestamp: ts, maxTimestamp: ts, recordCount: PER_BATCH, compression: CODEC }, plain.subarray(61));
}

/** Runs `work` while a 1 ms timer measures the worst event-loop delay. */
async function withLoopDelay<T>(work: () => Promise<T>): Promise<{ result: T; maxDelayMs: number }> {
  let last = performance.now();
  let maxDelayMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxDelayMs = Math.max(maxDelayMs, now - last - 1);
    last = now;
  }, 1);
  try {
    const result = await work();
    return { result, maxDelayMs };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-cleaner-'));
  const quiet = createLogger('silent');
  try {
    const config = { segmentBytes: 16 * 1024 * 1024, compactEnabled: true, deleteEnabled: false, minCleanableDirtyRatio: 0 };
    const log = PartitionLog.open(path.join(dir, 't-0'), config, quiet);
    let written = 0;
    let n = 0;
    const ts = Date.now();
    while (written < MB * 1024 * 1024) {
      const batch = await makeBatch(n, ts);
      log.append(batch, 0);
      written += batch.length;
      n += PER_BATCH;
    }
    log.rollNow();
    log.flush();
    const need = cleaningNeed(log);
    if (!need) throw new Error('nothing to clean');
    const cleaner = new LogCleaner(quiet);
    const sizeBefore = log.size;
    const { result: stats, maxDelayMs } = await withLoopDelay(() => cleaner.clean(log, need) as Promise<NonNullable<Awaited<ReturnType<LogCleaner['clean']>>>>);
    const mib = stats.bytesRead / 1024 / 1024;
    const secs = stats.durationMs / 1000;
    console.log(`cleaner: codec=${arg('codec', 'none')} input=${(sizeBefore / 1048576).toFixed(0)} MiB records=${n} keys=${KEYS} value=${VALUE} B`);
    console.log(`  cleaned in ${secs.toFixed(2)} s: read ${mib.toFixed(0)} MiB (map pass + rewrite) = ${(mib / secs).toFixed(0)} MiB/s, ${(stats.recordsRead / secs / 1e6).toFixed(2)} M records/s rewritten`);
    console.log(`  output ${(log.size / 1048576).toFixed(1)} MiB (${stats.recordsKept} records kept), ${stats.groups} segment groups`);
    console.log(`  worst event-loop delay during the cleaning: ${maxDelayMs.toFixed(1)} ms`);

    // Again with appends going on: how long does an append wait?
    n = 0;
    written = 0;
    while (written < (MB / 4) * 1024 * 1024) {
      const batch = await makeBatch(n, ts);
      log.append(batch, 0);
      written += batch.length;
      n += PER_BATCH;
    }
    log.rollNow();
    let appends = 0;
    let worstAppendGapMs = 0;
    let stop = false;
    const appender = (async () => {
      let last = performance.now();
      while (!stop) {
        await new Promise((r) => setImmediate(r));
        const now = performance.now();
        worstAppendGapMs = Math.max(worstAppendGapMs, now - last);
        last = now;
        log.append(plainBatch(appends * PER_BATCH, Date.now()), 0);
        appends++;
      }
    })();
    const again = await cleaner.clean(log);
    stop = true;
    await appender;
    console.log(`  second cleaning (${MB / 4} MiB new dirt) with appends running: ${again!.durationMs} ms, ${appends} batches appended meanwhile, worst gap between two appends ${worstAppendGapMs.toFixed(1)} ms`);
    log.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
