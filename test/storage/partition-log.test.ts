import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PartitionLog, CLEAN_SHUTDOWN_FILE, ReadResult, partitionDir } from '../../src/storage/partition-log';
import { LogConfig } from '../../src/storage/log-config';
import { testLogConfig } from '../helpers/log-config';
import { ErrorCode } from '../../src/protocol/errors';
import { readBatchHeader, setBaseOffset, setPartitionLeaderEpoch, checkBatchCrc } from '../../src/protocol/record-batch';
import { createLogger, Logger } from '../../src/logging';
import { decodeBatchValues, simpleBatch } from '../helpers/record-batch-builder';

const quiet: Logger = createLogger('silent');

/** Collects log lines for assertions. */
function recordingLogger(): Logger & { lines: Array<{ level: string; msg: string; fields?: object }> } {
  const lines: Array<{ level: string; msg: string; fields?: object }> = [];
  const make = (): Logger => ({
    debug: (msg, fields) => lines.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => lines.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => lines.push({ level: 'error', msg, fields }),
    child: () => make(),
  });
  return Object.assign(make(), { lines });
}

const BASE_CONFIG: LogConfig = testLogConfig();

let tmp: string;
const opened: PartitionLog[] = [];

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-log-'));
});

afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function dir(): string {
  return partitionDir(tmp, 'topic', 0);
}

function open(config: Partial<LogConfig> = {}, logger: Logger = quiet, clock?: () => number): PartitionLog {
  const l = PartitionLog.open(dir(), { ...BASE_CONFIG, ...config }, logger, { clock });
  opened.push(l);
  return l;
}

function closeAll(): void {
  for (const l of opened.splice(0)) l.close();
}

/** Simulates a crash after close(): the data stays, the clean-shutdown marker does not. */
function closeUnclean(): void {
  closeAll();
  fs.rmSync(path.join(dir(), CLEAN_SHUTDOWN_FILE));
}

function regionBytes(r: ReadResult): Buffer {
  const bufs = r.regions.map((reg) => {
    const b = Buffer.alloc(reg.length);
    expect(fs.readSync(reg.fd, b, 0, reg.length, reg.position)).toBe(reg.length);
    return b;
  });
  return Buffer.concat(bufs);
}

/** Whole batches in a fetched byte range (a trailing partial batch is dropped, as clients do). */
function batchesIn(bytes: Buffer): Array<{ base: number; last: number; values: Array<{ offset: number; value: string | null }> }> {
  const out = [];
  let p = 0;
  while (p + 12 <= bytes.length) {
    const size = 12 + bytes.readInt32BE(p + 8);
    if (p + size > bytes.length) break;
    const h = readBatchHeader(bytes, p);
    expect(checkBatchCrc(bytes, p)).toBe(true);
    out.push({ base: h.baseOffset, last: h.baseOffset + h.lastOffsetDelta, values: decodeBatchValues(bytes.subarray(p, p + size)) });
    p += size;
  }
  return out;
}

function segmentFiles(suffix: string): string[] {
  return fs
    .readdirSync(dir())
    .filter((f) => f.endsWith(suffix))
    .sort();
}

/** Appends `count` batches of `perBatch` records with values v<batch>-<i>; returns expected values per offset. */
function fill(log: PartitionLog, count: number, perBatch: number | ((i: number) => number), opts: { valueSize?: number; ts?: (i: number) => number } = {}): string[] {
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = typeof perBatch === 'number' ? perBatch : perBatch(i);
    const b = simpleBatch(n, { prefix: `b${i}`, valueSize: opts.valueSize, timestamp: opts.ts ? opts.ts(i) : 1_700_000_000_000 + i * 100 });
    const dec = decodeBatchValues(b);
    values.push(...dec.map((d) => d.value as string));
    log.append(b, 0);
  }
  return values;
}

/** Reads the whole log from `from` with fetches of `maxBytes`, returning every value in offset order. */
function consumeAll(log: PartitionLog, from: number, maxBytes: number): Array<{ offset: number; value: string | null }> {
  const out: Array<{ offset: number; value: string | null }> = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, maxBytes);
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.length).toBeGreaterThan(0);
    const batches = batchesIn(regionBytes(r));
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) for (const v of b.values) if (v.offset >= offset) out.push(v);
    offset = batches[batches.length - 1].last + 1;
  }
  return out;
}

describe('PartitionLog', () => {
  test('an empty partition starts at 0 with one empty segment', () => {
    const log = open();
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(0);
    expect(segmentFiles('.log')).toEqual(['00000000000000000000.log']);
    expect(segmentFiles('.index')).toEqual(['00000000000000000000.index']);
    expect(segmentFiles('.timeindex')).toEqual(['00000000000000000000.timeindex']);
    expect(log.read(0, 100)).toMatchObject({ errorCode: ErrorCode.NONE, length: 0, regions: [] });
    expect(log.maxTimestampOffset()).toEqual({ offset: -1, timestamp: -1 });
    expect(log.offsetForTimestamp(0)).toBeNull();
  });

  test('append assigns offsets and returns them', () => {
    const log = open();
    const a = log.append(simpleBatch(3, { timestamp: 1000 }), 7);
    expect(a).toEqual({ baseOffset: 0, lastOffset: 2, maxTimestamp: 1002, logAppendTimeMs: -1 });
    const b = log.append(simpleBatch(2, { timestamp: 2000 }), 7);
    expect(b).toEqual({ baseOffset: 3, lastOffset: 4, maxTimestamp: 2001, logAppendTimeMs: -1 });
    expect(log.logEndOffset).toBe(5);
  });

  test('round trip across many segment rolls', () => {
    const log = open({ segmentBytes: 1500, indexIntervalBytes: 200 });
    const values = fill(log, 60, (i) => 1 + (i % 5));
    expect(log.segmentCount).toBeGreaterThan(3);
    expect(log.logEndOffset).toBe(values.length);
    // Segment files are named by their base offsets, which are where each segment's first batch starts.
    const bases = log.segmentBaseOffsets();
    expect(segmentFiles('.log')).toEqual(bases.map((b) => `${String(b).padStart(20, '0')}.log`));
    for (const f of segmentFiles('.log')) {
      expect(fs.statSync(path.join(dir(), f)).size).toBeLessThanOrEqual(1500);
      const buf = fs.readFileSync(path.join(dir(), f));
      if (buf.length > 0) expect(readBatchHeader(buf, 0).baseOffset).toBe(Number(f.slice(0, 20)));
    }
    for (const maxBytes of [1, 300, 1000, 100_000]) {
      const got = consumeAll(log, 0, maxBytes);
      expect(got.map((g) => g.offset)).toEqual(values.map((_, i) => i));
      expect(got.map((g) => g.value)).toEqual(values);
    }
    // Every single offset can be fetched, and the first batch returned contains it.
    for (let o = 0; o < log.logEndOffset; o++) {
      const batches = batchesIn(regionBytes(log.read(o, 1)));
      expect(batches[0].base).toBeLessThanOrEqual(o);
      expect(batches[0].last).toBeGreaterThanOrEqual(o);
    }
  });

  test('index walks longer than one 8 KiB read find every offset (small batches, and batches larger than a read)', () => {
    // A sparse index (64 KiB apart) makes each lookup walk many batches; the walk reads 8 KiB at
    // a time, so headers fall across read boundaries and some batches span several reads.
    const log = open({ indexIntervalBytes: 64 * 1024 });
    const values = fill(log, 300, (i) => 1 + (i % 3));
    const big = fill(log, 12, 2, { valueSize: 5000 }); // ~10 KiB batches
    const tail = fill(log, 200, 1);
    const all = [...values, ...big, ...tail];
    expect(log.logEndOffset).toBe(all.length);
    for (let o = 0; o < log.logEndOffset; o++) {
      const batches = batchesIn(regionBytes(log.read(o, 1)));
      expect(batches[0].base).toBeLessThanOrEqual(o);
      expect(batches[0].last).toBeGreaterThanOrEqual(o);
      expect(batches[0].values.find((v) => v.offset === o)?.value).toBe(all[o]);
    }
  });

  test('read returns the batch containing a mid-batch offset whole', () => {
    const log = open();
    log.append(simpleBatch(4), 0); // 0..3
    const mid = simpleBatch(10); // 4..13
    log.append(Buffer.from(mid), 0);
    log.append(simpleBatch(2), 0); // 14..15
    const r = log.read(8, 1);
    expect(r.regions).toHaveLength(1);
    expect(r.length).toBe(mid.length);
    const [b] = batchesIn(regionBytes(r));
    expect(b.base).toBe(4);
    expect(b.last).toBe(13);
  });

  test('maxBytes: first batch whole even if larger, then a cut at the limit like FileRecords.slice', () => {
    const log = open();
    const sizes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const b = simpleBatch(3, { valueSize: 100 });
      sizes.push(b.length);
      log.append(b, 0);
    }
    expect(log.read(0, 10).length).toBe(sizes[0]);
    const limit = sizes[0] + sizes[1] + Math.floor(sizes[2] / 2);
    const r = log.read(0, limit);
    expect(r.length).toBe(limit);
    expect(batchesIn(regionBytes(r)).map((b) => b.base)).toEqual([0, 3]);
    const all = log.read(0, 1_000_000);
    expect(all.length).toBe(sizes.reduce((a, b) => a + b, 0));
    // Without minOneMessage the cut applies to the first batch too.
    expect(log.read(0, 10, false).length).toBe(10);
  });

  test('readWholeBatches (share fetch): whole batches only, with their offsets, control flag and file range', () => {
    const log = open();
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const b = simpleBatch(3, { valueSize: 100, attributes: i === 2 ? 0x30 : 0 }); // batch 2: a transactional control batch
      sizes.push(b.length);
      log.append(b, 0);
    }
    // From mid-batch: the batch holding offset 4 comes first; a limit inside batch 2 stops before it.
    const got = log.readWholeBatches(4, sizes[1] + Math.floor(sizes[2] / 2));
    expect(got.map((b) => [b.baseOffset, b.lastOffset, b.control])).toEqual([[3, 5, false]]);
    const all = log.readWholeBatches(0, 1_000_000);
    expect(all.map((b) => [b.baseOffset, b.lastOffset, b.control])).toEqual([[0, 2, false], [3, 5, false], [6, 8, true], [9, 11, false]]);
    expect(all.map((b) => b.region.length)).toEqual(sizes);
    // The first batch comes whole even above the limit; maxOffset stops before the batch that holds it.
    expect(log.readWholeBatches(0, 1)).toHaveLength(1);
    expect(log.readWholeBatches(0, 1_000_000, 6).map((b) => b.baseOffset)).toEqual([0, 3]);
    expect(log.readWholeBatches(12, 1000)).toEqual([]);
  });

  test('a read stays within one segment', () => {
    const log = open({ segmentBytes: 400 });
    fill(log, 10, 2);
    expect(log.segmentCount).toBeGreaterThan(1);
    const r = log.read(0, 1_000_000);
    const batches = batchesIn(regionBytes(r));
    expect(batches[batches.length - 1].last + 1).toBe(log.segmentBaseOffsets()[1]);
  });

  test('read at logEndOffset is empty; outside the log is OFFSET_OUT_OF_RANGE', () => {
    const log = open();
    fill(log, 3, 2);
    expect(log.read(6, 100)).toMatchObject({ errorCode: ErrorCode.NONE, length: 0, regions: [] });
    expect(log.read(7, 100).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(log.read(-1, 100).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
  });

  test('batches on disk are the appended bytes with only baseOffset and leader epoch rewritten', () => {
    const log = open({ segmentBytes: 2000 });
    const expected: Buffer[][] = [];
    let offset = 0;
    for (let i = 0; i < 20; i++) {
      const b = simpleBatch(1 + (i % 4), { valueSize: 30 + i, producerId: 9, producerEpoch: 1, baseSequence: offset });
      const want = Buffer.from(b);
      setBaseOffset(want, 0, offset);
      setPartitionLeaderEpoch(want, 0, 3);
      const seg = log.append(b, 3).baseOffset === offset ? log.segmentBaseOffsets().length - 1 : -1;
      (expected[seg] ??= []).push(want);
      offset += 1 + (i % 4);
    }
    const files = segmentFiles('.log');
    expect(files).toHaveLength(expected.length);
    files.forEach((f, i) => expect(fs.readFileSync(path.join(dir(), f)).equals(Buffer.concat(expected[i]))).toBe(true));
  });

  test('the offset index is sparse and follows index.interval.bytes', () => {
    const log = open({ indexIntervalBytes: 1000 });
    fill(log, 40, 2, { valueSize: 100 }); // ~ 300-byte batches
    log.flush();
    const idx = fs.readFileSync(path.join(dir(), '00000000000000000000.index'));
    expect(idx.length % 8).toBe(0);
    const n = idx.length / 8;
    expect(n).toBeGreaterThan(5);
    expect(n).toBeLessThan(40);
    const logBytes = fs.readFileSync(path.join(dir(), '00000000000000000000.log'));
    let prev = 0;
    for (let i = 0; i < n; i++) {
      const rel = idx.readInt32BE(i * 8);
      const pos = idx.readInt32BE(i * 8 + 4);
      const h = readBatchHeader(logBytes, pos);
      expect(h.baseOffset + h.lastOffsetDelta).toBe(rel); // Kafka's convention: the batch's last offset
      expect(pos - prev).toBeGreaterThan(1000);
      prev = pos;
    }
  });

  test('reopen after close keeps everything', () => {
    let log = open({ segmentBytes: 1200, indexIntervalBytes: 100 });
    const values = fill(log, 30, 3);
    const leo = log.logEndOffset;
    const maxTs = log.maxTimestampOffset();
    const bases = log.segmentBaseOffsets();
    closeAll();
    expect(fs.existsSync(path.join(dir(), CLEAN_SHUTDOWN_FILE))).toBe(true);
    const rec = recordingLogger();
    log = open({ segmentBytes: 1200, indexIntervalBytes: 100 }, rec);
    // The marker goes away with the first write, not before.
    expect(fs.existsSync(path.join(dir(), CLEAN_SHUTDOWN_FILE))).toBe(true);
    expect(rec.lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(log.logEndOffset).toBe(leo);
    expect(log.segmentBaseOffsets()).toEqual(bases);
    expect(log.maxTimestampOffset()).toEqual(maxTs);
    expect(consumeAll(log, 0, 500).map((v) => v.value)).toEqual(values);
    // Appends continue where the log ended.
    expect(log.append(simpleBatch(2), 0).baseOffset).toBe(leo);
    expect(fs.existsSync(path.join(dir(), CLEAN_SHUTDOWN_FILE))).toBe(false);
    expect(consumeAll(log, leo, 500).map((v) => v.offset)).toEqual([leo, leo + 1]);
  });

  test('torn tail after a crash is truncated to the last whole batch', () => {
    let log = open({ indexIntervalBytes: 100 });
    const values = fill(log, 10, 3);
    const leo = log.logEndOffset;
    closeUnclean();
    const file = path.join(dir(), '00000000000000000000.log');
    const goodSize = fs.statSync(file).size;
    // A partial batch: the first 40 bytes of a real one.
    fs.appendFileSync(file, simpleBatch(5).subarray(0, 40));
    const rec = recordingLogger();
    log = open({ indexIntervalBytes: 100 }, rec);
    expect(log.logEndOffset).toBe(leo);
    expect(fs.statSync(file).size).toBe(goodSize);
    const warn = rec.lines.find((l) => l.msg.includes('truncated'));
    expect(warn?.fields).toMatchObject({ truncatedBytes: 40, atPosition: goodSize, fromOffset: leo });
    expect(consumeAll(log, 0, 1000).map((v) => v.value)).toEqual(values);
    expect(log.append(simpleBatch(1), 0).baseOffset).toBe(leo);
  });

  test('garbage after the last batch is truncated even after a clean shutdown', () => {
    let log = open();
    fill(log, 4, 2);
    closeAll();
    fs.appendFileSync(path.join(dir(), '00000000000000000000.log'), Buffer.alloc(100, 0xee));
    log = open();
    expect(log.logEndOffset).toBe(8);
    expect(fs.statSync(path.join(dir(), '00000000000000000000.log')).size).toBe(log.size);
  });

  test('a tail batch with a bad CRC is truncated', () => {
    let log = open();
    fill(log, 5, 2);
    const before = log.size;
    const last = simpleBatch(3, { valueSize: 50 });
    log.append(last, 0);
    closeUnclean();
    const file = path.join(dir(), '00000000000000000000.log');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0x5a]), 0, 1, before + last.length - 10); // flip a record byte
    fs.closeSync(fd);
    log = open();
    expect(log.logEndOffset).toBe(10);
    expect(fs.statSync(file).size).toBe(before);
    expect(log.append(simpleBatch(1), 0).baseOffset).toBe(10);
  });

  test('a closed segment with a missing index is rebuilt; corruption in it cuts the log there', () => {
    let log = open({ segmentBytes: 600, indexIntervalBytes: 50 });
    fill(log, 20, 2);
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(3);
    closeAll();
    // Corrupt a record byte in the second segment and remove its index.
    const second = `${String(bases[1]).padStart(20, '0')}`;
    const logFile = path.join(dir(), `${second}.log`);
    const bytes = fs.readFileSync(logFile);
    const firstBatchSize = 12 + bytes.readInt32BE(8);
    bytes[firstBatchSize + 70] ^= 0xff; // inside the second batch's records
    fs.writeFileSync(logFile, bytes);
    fs.rmSync(path.join(dir(), `${second}.index`));
    const rec = recordingLogger();
    log = open({ segmentBytes: 600, indexIntervalBytes: 50 }, rec);
    expect(log.segmentBaseOffsets()).toEqual(bases.slice(0, 2));
    expect(log.logEndOffset).toBe(bases[1] + 2);
    expect(fs.statSync(logFile).size).toBe(firstBatchSize);
    expect(rec.lines.some((l) => l.msg.includes('deleting segment'))).toBe(true);
    expect(consumeAll(log, 0, 10_000)).toHaveLength(bases[1] + 2);
  });

  test('deleted .index and .timeindex files are rebuilt identically and reads still work', () => {
    let log = open({ segmentBytes: 3000, indexIntervalBytes: 150 });
    const values = fill(log, 40, 2, { valueSize: 40 });
    const tsProbe = 1_700_000_000_000 + 17 * 100 + 1;
    const expectedTs = log.offsetForTimestamp(tsProbe);
    closeAll();
    const originals = new Map<string, Buffer>();
    for (const f of [...segmentFiles('.index'), ...segmentFiles('.timeindex')]) {
      originals.set(f, fs.readFileSync(path.join(dir(), f)));
      fs.rmSync(path.join(dir(), f));
    }
    expect(originals.size).toBeGreaterThan(4);
    log = open({ segmentBytes: 3000, indexIntervalBytes: 150 });
    expect(consumeAll(log, 0, 700).map((v) => v.value)).toEqual(values);
    expect(log.offsetForTimestamp(tsProbe)).toEqual(expectedTs);
    closeAll();
    for (const [f, content] of originals) expect(fs.readFileSync(path.join(dir(), f)).equals(content)).toBe(true);
  });

  test('a damaged index (bad size, bad entries) is rebuilt', () => {
    let log = open({ segmentBytes: 3000, indexIntervalBytes: 100 });
    const values = fill(log, 30, 2, { valueSize: 40 });
    closeAll();
    const [firstIdx] = segmentFiles('.index');
    const [, secondTime] = segmentFiles('.timeindex');
    fs.appendFileSync(path.join(dir(), firstIdx), Buffer.alloc(3)); // not a multiple of 8
    fs.writeFileSync(path.join(dir(), secondTime), Buffer.alloc(24, 0)); // zeros: non-increasing entries
    log = open({ segmentBytes: 3000, indexIntervalBytes: 100 });
    expect(consumeAll(log, 0, 300).map((v) => v.value)).toEqual(values);
    expect(log.offsetForTimestamp(1_700_000_000_000 + 25 * 100)?.offset).toBe(50);
  });

  test('offsetForTimestamp finds the first batch with maxTimestamp >= target', () => {
    const log = open({ segmentBytes: 1000, indexIntervalBytes: 100 });
    // Batch i has 2 records stamped T+i*100 and T+i*100+1.
    const T = 1_700_000_000_000;
    fill(log, 30, 2, { ts: (i) => T + i * 100 });
    expect(log.segmentCount).toBeGreaterThan(2);
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: T + 1 });
    expect(log.offsetForTimestamp(T + 1)).toEqual({ offset: 0, timestamp: T + 1 });
    expect(log.offsetForTimestamp(T + 2)).toEqual({ offset: 2, timestamp: T + 101 });
    expect(log.offsetForTimestamp(T + 1550)).toEqual({ offset: 32, timestamp: T + 1601 });
    expect(log.offsetForTimestamp(T + 2901)).toEqual({ offset: 58, timestamp: T + 2901 });
    expect(log.offsetForTimestamp(T + 2902)).toBeNull();
    for (let i = 0; i < 30; i++) expect(log.offsetForTimestamp(T + i * 100)?.offset).toBe(i * 2);
  });

  test('offsetForTimestamp with timestamps that go back and forth', () => {
    const log = open({ indexIntervalBytes: 0 });
    const stamps = [100, 500, 200, 300, 800, 400];
    stamps.forEach((ts) => log.append(simpleBatch(1, { timestamp: ts }), 0));
    expect(log.offsetForTimestamp(150)).toEqual({ offset: 1, timestamp: 500 });
    expect(log.offsetForTimestamp(600)).toEqual({ offset: 4, timestamp: 800 });
    expect(log.offsetForTimestamp(801)).toBeNull();
    expect(log.maxTimestampOffset()).toEqual({ offset: 4, timestamp: 800 });
  });

  test('maxTimestampOffset spans segments and survives reopen', () => {
    let log = open({ segmentBytes: 300 });
    const stamps = [10, 50, 20, 90, 30, 40];
    stamps.forEach((ts) => log.append(simpleBatch(2, { timestamp: ts }), 0));
    expect(log.segmentCount).toBeGreaterThan(1);
    expect(log.maxTimestampOffset()).toEqual({ offset: 7, timestamp: 91 });
    closeAll();
    log = open({ segmentBytes: 300 });
    expect(log.maxTimestampOffset()).toEqual({ offset: 7, timestamp: 91 });
    closeUnclean();
    log = open({ segmentBytes: 300 });
    expect(log.maxTimestampOffset()).toEqual({ offset: 7, timestamp: 91 });
  });

  test('segment.ms rolls by batch timestamps, or by wall clock without timestamps', () => {
    let now = 1_000_000;
    const log = open({ segmentMs: 1000 }, quiet, () => now);
    log.append(simpleBatch(1, { timestamp: 5000 }), 0);
    log.append(simpleBatch(1, { timestamp: 5900 }), 0);
    expect(log.segmentCount).toBe(1);
    log.append(simpleBatch(1, { timestamp: 6001 }), 0);
    expect(log.segmentBaseOffsets()).toEqual([0, 2]);
    closeAll();
    fs.rmSync(dir(), { recursive: true });
    const log2 = open({ segmentMs: 1000 }, quiet, () => now);
    log2.append(simpleBatch(1, { timestamp: -1, maxTimestamp: -1 }), 0);
    now += 500;
    log2.append(simpleBatch(1, { timestamp: -1, maxTimestamp: -1 }), 0);
    expect(log2.segmentCount).toBe(1);
    now += 600;
    log2.append(simpleBatch(1, { timestamp: -1, maxTimestamp: -1 }), 0);
    expect(log2.segmentBaseOffsets()).toEqual([0, 2]);
  });

  test('a full offset index rolls the segment', () => {
    const log = open({ segmentIndexBytes: 24, indexIntervalBytes: 0 }); // 3 offset entries, 2 time entries
    fill(log, 10, 1);
    expect(log.segmentCount).toBeGreaterThan(2);
    expect(consumeAll(log, 0, 50)).toHaveLength(10);
  });

  test('several batches in one append', () => {
    const log = open({ indexIntervalBytes: 0 });
    const multi = Buffer.concat([simpleBatch(2, { prefix: 'a' }), simpleBatch(3, { prefix: 'b' }), simpleBatch(1, { prefix: 'c' })]);
    expect(log.append(multi, 0)).toMatchObject({ baseOffset: 0, lastOffset: 5 });
    expect(consumeAll(log, 0, 1).map((v) => v.value)).toEqual(['a-0', 'a-1', 'b-0', 'b-1', 'b-2', 'c-0']);
    expect(batchesIn(regionBytes(log.read(3, 1)))[0].base).toBe(2);
  });

  test('append rejects malformed framing without writing', () => {
    const log = open();
    log.append(simpleBatch(1), 0);
    const size = log.size;
    expect(() => log.append(Buffer.concat([simpleBatch(1), Buffer.alloc(5)]), 0)).toThrow();
    expect(() => log.append(simpleBatch(1, { magic: 1 }), 0)).toThrow();
    expect(log.size).toBe(size);
    expect(log.logEndOffset).toBe(1);
  });

  test('LogAppendTime stamps batches with the broker clock', () => {
    const log = open({ messageTimestampType: 'LogAppendTime' }, quiet, () => 42_000);
    const r = log.append(simpleBatch(2, { timestamp: 5 }), 0);
    expect(r.logAppendTimeMs).toBe(42_000);
    expect(r.maxTimestamp).toBe(42_000);
    const bytes = regionBytes(log.read(0, 1000));
    const h = readBatchHeader(bytes, 0);
    expect(h.timestampType).toBe(1);
    expect(h.maxTimestamp).toBe(42_000);
    expect(checkBatchCrc(bytes, 0)).toBe(true);
    expect(log.offsetForTimestamp(41_000)).toEqual({ offset: 0, timestamp: 42_000 });
  });

  test('flush.messages=1 fsyncs on every append; flush.ms by clock', () => {
    // The fs module object itself (the `import * as` namespace has read-only bindings).
    const realFs = jest.requireActual<typeof fs>('fs');
    const spy = jest.spyOn(realFs, 'fsyncSync');
    try {
      const log = open({ flushMessages: 1 });
      spy.mockClear();
      log.append(simpleBatch(2), 0);
      expect(spy).toHaveBeenCalled();
      const calls = spy.mock.calls.length;
      log.append(simpleBatch(1), 0);
      expect(spy.mock.calls.length).toBeGreaterThan(calls);
      closeAll();
      fs.rmSync(dir(), { recursive: true });

      let now = 0;
      const log2 = open({ flushMs: 1000 }, quiet, () => now);
      spy.mockClear();
      log2.append(simpleBatch(1), 0);
      expect(spy).not.toHaveBeenCalled();
      now = 1500;
      log2.maybeFlush();
      expect(spy).toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  test('unclean shutdown rebuilds the active segment indexes (written lazily)', () => {
    let log = open({ indexIntervalBytes: 100 });
    const values = fill(log, 20, 2);
    // Simulate a crash before index entries reached the file: indexes lag the log.
    closeUnclean();
    fs.writeFileSync(path.join(dir(), '00000000000000000000.index'), Buffer.alloc(0));
    fs.writeFileSync(path.join(dir(), '00000000000000000000.timeindex'), Buffer.alloc(0));
    log = open({ indexIntervalBytes: 100 });
    expect(consumeAll(log, 0, 200).map((v) => v.value)).toEqual(values);
    log.flush();
    expect(fs.statSync(path.join(dir(), '00000000000000000000.index')).size).toBeGreaterThan(0);
  });

  test('an index lagging the active segment after a clean shutdown is completed by the tail walk', () => {
    let log = open({ indexIntervalBytes: 100 });
    const values = fill(log, 20, 2);
    closeAll();
    const full = fs.readFileSync(path.join(dir(), '00000000000000000000.index'));
    fs.writeFileSync(path.join(dir(), '00000000000000000000.index'), full.subarray(0, 16));
    log = open({ indexIntervalBytes: 100 });
    expect(consumeAll(log, 0, 200).map((v) => v.value)).toEqual(values);
    closeAll();
    expect(fs.readFileSync(path.join(dir(), '00000000000000000000.index')).equals(full)).toBe(true);
  });

  test('orphan index files are deleted and unrelated files ignored', () => {
    let log = open();
    fill(log, 2, 1);
    closeAll();
    fs.writeFileSync(path.join(dir(), '00000000000000000099.index'), Buffer.alloc(8));
    fs.writeFileSync(path.join(dir(), 'leader-epoch-checkpoint'), '0\n0\n');
    log = open();
    expect(log.logEndOffset).toBe(2);
    expect(fs.existsSync(path.join(dir(), '00000000000000000099.index'))).toBe(false);
    expect(fs.existsSync(path.join(dir(), 'leader-epoch-checkpoint'))).toBe(true);
  });

  test('deleteAll removes the directory; regions stay readable until the delay passes', () => {
    jest.useFakeTimers();
    try {
      const log = PartitionLog.open(dir(), { ...BASE_CONFIG, fileDeleteDelayMs: 5000 }, quiet);
      log.append(simpleBatch(3), 0);
      const r = log.read(0, 1000);
      log.deleteAll();
      expect(fs.existsSync(dir())).toBe(false);
      expect(batchesIn(regionBytes(r))[0].values).toHaveLength(3);
      expect(() => log.read(0, 10)).toThrow(/closed/);
      jest.advanceTimersByTime(5000);
    } finally {
      jest.useRealTimers();
    }
  });

  test('close is idempotent and later calls fail', () => {
    const log = open();
    log.append(simpleBatch(1), 0);
    log.close();
    log.close();
    expect(() => log.append(simpleBatch(1), 0)).toThrow(/closed/);
  });

  test('recovery of a large active segment truncates only the torn tail', () => {
    let log = open({ indexIntervalBytes: 4096 });
    const values = fill(log, 300, 5, { valueSize: 200 }); // ~300 KB, several scan chunks? no: one chunk; still many batches
    closeUnclean();
    const file = path.join(dir(), '00000000000000000000.log');
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 7);
    log = open({ indexIntervalBytes: 4096 });
    expect(log.logEndOffset).toBe(values.length - 5);
    expect(consumeAll(log, 0, 64 * 1024)).toHaveLength(values.length - 5);
  });
});
