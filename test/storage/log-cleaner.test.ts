/**
 * The log cleaner on real partition logs: latest value per key with original offsets,
 * tombstones and their delete horizon, compressed batches, producer and control batches,
 * the cleaning range (active segment, min.compaction.lag.ms, dirty ratio), concurrent
 * appends and retention, and crash recovery at every step of the segment swap.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PartitionLog, partitionDir } from '../../src/storage/partition-log';
import { LogConfig } from '../../src/storage/log-config';
import { LogCleaner, cleaningNeed, setTransactionCleaningRules } from '../../src/storage/log-cleaner';
import { applyRetention } from '../../src/storage/log-retention';
import { buildBatch as rebuild, DELETE_HORIZON_MASK } from '../../src/storage/batch-records';
import { readBatchHeader, RECORDS_OFFSET } from '../../src/protocol/record-batch';
import { CLEANED_SUFFIX, SWAP_FILE } from '../../src/storage/segment-swap';
import { createLogger } from '../../src/logging';
import { zstdRleBomb } from '../../bench/fuzz/batch-fuzzer';
import { buildBatch, TestRecord, withPayload } from '../helpers/record-batch-builder';
import { readAllBatches, readAllRecords, ReadRecord } from '../helpers/read-log';

const quiet = createLogger('silent');
const T0 = 1_700_000_000_000;

const BASE: LogConfig = {
  segmentBytes: 2048,
  segmentMs: 7 * 24 * 3600 * 1000,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 256,
  flushMessages: Number.MAX_VALUE,
  flushMs: Number.MAX_VALUE,
  fileDeleteDelayMs: 0,
  compactEnabled: true,
  deleteEnabled: false,
  minCleanableDirtyRatio: 0.01,
  deleteRetentionMs: 1000,
};

let tmp: string;
let now = T0;
const opened: PartitionLog[] = [];
const cleaner = new LogCleaner(quiet);

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cleaner-'));
  now = T0;
});

afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  setTransactionCleaningRules({});
});

function open(config: Partial<LogConfig> = {}): PartitionLog {
  const l = PartitionLog.open(partitionDir(tmp, 't', 0), { ...BASE, ...config }, quiet, { clock: () => now });
  opened.push(l);
  return l;
}

function forget(l: PartitionLog): void {
  opened.splice(opened.indexOf(l), 1);
}

/** Appends `n` keyed updates over `keys` keys, 5 per batch, then one tombstone batch per key in tombstoneKeys; returns the latest per key. */
function writeUpdates(l: PartitionLog, n: number, keys: number, opts: { tombstoneKeys?: number[]; codec?: number } = {}): Map<string, { offset: number; value: string | null }> {
  const latest = new Map<string, { offset: number; value: string | null }>();
  let batch: TestRecord[] = [];
  for (let i = 0; i < n; i++) {
    const key = `key-${i % keys}`;
    const value = `value-${i}-${'x'.repeat(20)}`;
    batch.push({ key, value, timestamp: now + i });
    if (batch.length === 5 || i === n - 1) {
      const base = l.logEndOffset;
      l.append(buildBatch(batch), 0);
      batch.forEach((r, j) => latest.set(r.key as string, { offset: base + j, value: r.value as string }));
      batch = [];
    }
  }
  for (const k of opts.tombstoneKeys ?? []) {
    const key = `key-${k}`;
    const base = l.logEndOffset;
    l.append(buildBatch([{ key, value: null, timestamp: now }]), 0);
    latest.set(key, { offset: base, value: null });
  }
  return latest;
}

function asMap(records: ReadRecord[]): Map<string, { offset: number; value: string | null }> {
  const m = new Map<string, { offset: number; value: string | null }>();
  for (const r of records) m.set(r.key as string, { offset: r.offset, value: r.value });
  return m;
}

async function cleanUntilDone(l: PartitionLog): Promise<number> {
  let rounds = 0;
  while (cleaningNeed(l) && rounds < 10) {
    await cleaner.clean(l);
    rounds++;
  }
  return rounds;
}

describe('compaction', () => {
  test('many updates to few keys end with the latest value per key at its original offset', async () => {
    const l = open();
    const latest = writeUpdates(l, 2000, 10, { tombstoneKeys: [3, 7] });
    l.append(buildBatch([{ key: 'tail', value: 'in the active segment' }]), 0);
    const before = await readAllRecords(l);
    const sizeBefore = l.size;
    const end = l.logEndOffset;
    expect(cleaningNeed(l)).not.toBeNull();
    const stats = await cleaner.clean(l);
    expect(stats).toMatchObject({ aborted: false });
    expect(l.size).toBeLessThan(sizeBefore / 5);
    expect(l.logEndOffset).toBe(end);
    expect(l.logStartOffset).toBe(0);
    const after = await readAllRecords(l);
    // Every surviving record is identical to what was written at that offset.
    const byOffset = new Map(before.map((r) => [r.offset, r]));
    for (const r of after) expect(r).toEqual(byOffset.get(r.offset));
    // Offsets strictly increase and the latest of each key is there (tombstones too, for now).
    for (let i = 1; i < after.length; i++) expect(after[i].offset).toBeGreaterThan(after[i - 1].offset);
    const got = asMap(after.filter((r) => r.key !== 'tail'));
    expect(got).toEqual(latest);
    // Only the latest record of each key remains in the cleaned part.
    const cleanedPart = after.filter((r) => r.offset < stats!.endOffset);
    expect(new Set(cleanedPart.map((r) => r.key)).size).toBe(cleanedPart.length);
  });

  test('tombstones stay until delete.retention.ms after the first cleaning that kept them', async () => {
    const l = open({ deleteRetentionMs: 5000 });
    writeUpdates(l, 500, 5, { tombstoneKeys: [1, 2] });
    l.rollNow();
    await cleaner.clean(l);
    let batches = await readAllBatches(l);
    const withTombstones = batches.filter((b) => b.records.some((r) => r.value === null));
    expect(withTombstones).toHaveLength(2);
    for (const b of withTombstones) {
      expect(b.header.attributes & DELETE_HORIZON_MASK).toBe(DELETE_HORIZON_MASK);
      expect(b.header.baseTimestamp).toBe(T0 + 5000);
      // The record's own timestamp is unchanged for clients.
      expect(b.records[0].timestamp).toBe(T0);
    }
    expect(l.cleanerCheckpoint.nextHorizonMs).toBe(T0 + 5000);
    // Before the horizon, nothing to do; after it, the cleaner runs for the horizon alone.
    now = T0 + 4000;
    expect(cleaningNeed(l)).toBeNull();
    now = T0 + 5001;
    expect(cleaningNeed(l)).toMatchObject({ reason: 'delete-horizon' });
    await cleaner.clean(l);
    batches = await readAllBatches(l);
    const keys = batches.flatMap((b) => b.records).map((r) => r.key);
    expect(keys).not.toContain('key-1');
    expect(keys).not.toContain('key-2');
    expect(new Set(keys)).toEqual(new Set(['key-0', 'key-3', 'key-4']));
    expect(l.cleanerCheckpoint.nextHorizonMs).toBe(-1);
  });

  test.each([
    ['gzip', 1],
    ['snappy', 2],
    ['lz4', 3],
    ['zstd', 4],
  ])('%s batches are rebuilt with their codec', async (_name, codec) => {
    const l = open();
    const latest = new Map<string, string>();
    for (let b = 0; b < 60; b++) {
      const records: TestRecord[] = [];
      for (let i = 0; i < 8; i++) {
        const key = `k${(b * 8 + i) % 6}`;
        const value = `v${b}-${i}-${'y'.repeat(30)}`;
        records.push({ key, value, timestamp: T0 + b });
        latest.set(key, value);
      }
      const plain = buildBatch(records);
      const compressed = await rebuild(
        { header: readBatchHeader(plain, 0), baseTimestamp: T0 + b, maxTimestamp: T0 + b, recordCount: 8, compression: codec },
        plain.subarray(RECORDS_OFFSET),
      );
      l.append(compressed, 0);
    }
    l.rollNow();
    await cleaner.clean(l);
    const batches = await readAllBatches(l);
    for (const b of batches) expect(b.header.compression).toBe(codec);
    const records = batches.flatMap((b) => b.records);
    expect(new Map(records.map((r) => [r.key, r.value]))).toEqual(latest);
    expect(records).toHaveLength(6);
  });

  test('a batch that expands past the decompression limit (or is corrupt) is kept whole, the rest is compacted', async () => {
    const l = open();
    // Offset 0: a zstd frame of RLE blocks claiming 100 MiB (> 64 MiB, the limit at max.message.bytes 1 MiB).
    const bomb = withPayload(buildBatch([{ key: 'k0', value: 'bomb', timestamp: T0 }]), 4, zstdRleBomb(800));
    l.append(bomb, 0);
    // Offset 1: gzip attribute over bytes that are not gzip.
    const corrupt = withPayload(buildBatch([{ key: 'k1', value: 'bad', timestamp: T0 }]), 1, Buffer.from('not a gzip stream'));
    l.append(corrupt, 0);
    const latest = writeUpdates(l, 60, 4);
    l.rollNow();
    const stats = await cleaner.clean(l);
    expect(stats?.aborted).toBe(false);
    const at = (offset: number, length: number) => {
      const region = l.read(offset, length).regions[0];
      const b = Buffer.alloc(length);
      fs.readSync(region.fd, b, 0, length, region.position);
      return b;
    };
    expect(at(0, bomb.length).subarray(12).equals(bomb.subarray(12))).toBe(true);
    expect(at(1, corrupt.length).subarray(12).equals(corrupt.subarray(12))).toBe(true);
    const records = await readAllRecords(l, 2);
    expect(records.map((r) => [r.key, r.offset])).toEqual([...latest].map(([k, v]) => [k, v.offset]).sort((a, b) => (a[1] as number) - (b[1] as number)));
  });

  test('never touches the active segment, nor segments younger than min.compaction.lag.ms', async () => {
    const l = open({ segmentBytes: 1024 * 1024 });
    writeUpdates(l, 200, 2);
    expect(l.segmentCount).toBe(1);
    expect(cleaningNeed(l)).toBeNull();
    l.rollNow();
    l.updateConfig({ ...BASE, segmentBytes: 1024 * 1024, minCompactionLagMs: 60_000 });
    expect(cleaningNeed(l)).toBeNull();
    now = T0 + 120_000;
    expect(cleaningNeed(l)).not.toBeNull();
  });

  test('the dirty ratio decides; max.compaction.lag.ms overrides it', async () => {
    const l = open({ minCleanableDirtyRatio: 0.99 });
    writeUpdates(l, 300, 3);
    l.rollNow();
    expect(cleaningNeed(l)).toMatchObject({ reason: 'dirty-ratio', dirtyRatio: 1 });
    await cleaner.clean(l);
    // A little new dirt over a larger clean part: below 0.99.
    writeUpdates(l, 5, 3);
    l.rollNow();
    writeUpdates(l, 1, 3);
    const need = cleaningNeed(l);
    expect(need).toBeNull();
    l.updateConfig({ ...BASE, minCleanableDirtyRatio: 0.99, maxCompactionLagMs: 10_000 });
    now = T0 + 60_000;
    expect(cleaningNeed(l)).toMatchObject({ reason: 'max-compaction-lag' });
  });

  test('records without a key are dropped; control batches and a producer\'s last emptied batch stay', async () => {
    const l = open();
    l.append(buildBatch([{ key: null, value: 'keyless' }, { key: 'a', value: 'a1' }]), 0);
    // Idempotent producer 7: its batch loses both records to later updates but is its last batch.
    l.append(buildBatch([{ key: 'a', value: 'a2' }, { key: 'b', value: 'b1' }], { producerId: 7, producerEpoch: 0, baseSequence: 0 }), 0);
    // A control batch (commit marker) from producer 9.
    l.append(buildBatch([{ key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }], { attributes: 0x30, producerId: 9, producerEpoch: 0 }), 0);
    l.append(buildBatch([{ key: 'a', value: 'a3' }, { key: 'b', value: 'b2' }]), 0);
    l.rollNow();
    await cleaner.clean(l);
    const batches = await readAllBatches(l);
    const p7 = batches.find((b) => b.header.producerId === 7)!;
    expect(p7.header.recordCount).toBe(0);
    expect(p7.header.lastOffsetDelta).toBe(1);
    expect(p7.header.baseOffset).toBe(2);
    expect(batches.find((b) => b.header.isControl)).toBeDefined();
    const data = batches.filter((b) => !b.header.isControl).flatMap((b) => b.records);
    expect(data.map((r) => [r.offset, r.key, r.value])).toEqual([
      [5, 'a', 'a3'],
      [6, 'b', 'b2'],
    ]);
  });

  test('transaction rules hook: aborted batches go, unstable offsets are not cleaned', async () => {
    const l = open();
    l.append(buildBatch([{ key: 'a', value: 'committed' }]), 0);
    l.append(buildBatch([{ key: 'a', value: 'aborted' }], { attributes: 0x10, producerId: 5, producerEpoch: 0, baseSequence: 0 }), 0);
    l.rollNow();
    l.append(buildBatch([{ key: 'z', value: 'later' }]), 0);
    l.rollNow();
    setTransactionCleaningRules({
      isAborted: (_log, h) => h.producerId === 5,
      retainEmptyBatch: () => false,
      firstUnstableOffset: () => 2,
    });
    const need = cleaningNeed(l)!;
    expect(need.endOffset).toBe(2);
    await cleaner.clean(l);
    const records = await readAllRecords(l);
    expect(records.map((r) => r.value)).toEqual(['committed', 'later']);
  });

  test('indexes of cleaned segments find every surviving offset and timestamp', async () => {
    const l = open({ indexIntervalBytes: 64 });
    for (let i = 0; i < 400; i++) l.append(buildBatch([{ key: `k${i % 50}`, value: `v${i}`, timestamp: T0 + i }]), 0);
    l.rollNow();
    await cleaner.clean(l);
    const records = await readAllRecords(l);
    expect(records).toHaveLength(50);
    for (const r of records) {
      const read = l.read(r.offset, 1);
      expect(read.errorCode).toBe(0);
      const head = Buffer.alloc(61);
      fs.readSync(read.regions[0].fd, head, 0, 61, read.regions[0].position);
      expect(readBatchHeader(head, 0).baseOffset).toBe(r.offset);
      // Offsets that were compacted away resolve to the next surviving batch.
      if (r.offset > 0) {
        const gap = l.read(r.offset - 1, 1);
        fs.readSync(gap.regions[0].fd, head, 0, 61, gap.regions[0].position);
        expect(readBatchHeader(head, 0).baseOffset).toBeLessThanOrEqual(r.offset);
      }
      expect(l.offsetForTimestamp(r.timestamp)?.offset).toBe(r.offset);
    }
    // Survives a reopen.
    l.close();
    forget(l);
    const again = open({ indexIntervalBytes: 64 });
    expect(await readAllRecords(again)).toEqual(records);
  });

  test('appends and reads go on while a cleaning runs; retention meanwhile makes the cleaning give up its commit', async () => {
    const l = open({ segmentBytes: 4096 });
    writeUpdates(l, 3000, 20);
    l.rollNow();
    const slow = new LogCleaner(quiet, { ioMaxBytesPerSecond: 2 * 1024 * 1024 });
    const running = slow.clean(l);
    let appended = 0;
    const before = l.logEndOffset;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 2));
      l.append(buildBatch([{ key: `live-${i}`, value: 'x' }]), 0);
      appended++;
      expect(l.read(l.logStartOffset, 100).errorCode).toBe(0);
    }
    await running;
    expect(l.logEndOffset).toBe(before + appended);
    const records = await readAllRecords(l);
    expect(records.filter((r) => r.key?.startsWith('live-'))).toHaveLength(20);

    // Now race retention against a cleaning: the cleaner must not resurrect deleted segments.
    writeUpdates(l, 2000, 20);
    l.rollNow();
    const racing = slow.clean(l);
    await new Promise((r) => setTimeout(r, 5));
    const cut = l.segmentBaseOffsets()[2];
    l.advanceLogStartOffset(cut);
    applyRetention(l);
    const stats = await racing;
    expect(l.logStartOffset).toBe(cut);
    const rest = await readAllRecords(l);
    expect(rest[0].offset).toBeGreaterThanOrEqual(cut);
    expect(stats).not.toBeNull();
    expect(fs.readdirSync(l.dir).filter((f) => f.endsWith(CLEANED_SUFFIX))).toEqual([]);
  });
});

describe('crash safety of the segment swap', () => {
  /** Prepares a log whose first group is about to be swapped; returns the expected records after cleaning. */
  async function prepare(): Promise<{ dir: string; before: ReadRecord[]; after: ReadRecord[]; files: Map<string, Buffer> }> {
    const l = open();
    writeUpdates(l, 600, 4);
    l.rollNow();
    const before = await readAllRecords(l);
    l.close();
    forget(l);
    const dir = l.dir;
    const files = new Map(fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
    const l2 = open();
    await cleaner.clean(l2);
    const after = await readAllRecords(l2);
    l2.close();
    forget(l2);
    return { dir, before, after, files };
  }

  function restore(dir: string, files: Map<string, Buffer>): void {
    for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
    for (const [f, data] of files) fs.writeFileSync(path.join(dir, f), data);
  }

  test('output of a cleaning that never committed is discarded on open', async () => {
    const { dir, before, files } = await prepare();
    restore(dir, files);
    fs.writeFileSync(path.join(dir, '00000000000000000000.log' + CLEANED_SUFFIX), Buffer.alloc(100, 7));
    fs.writeFileSync(path.join(dir, '00000000000000000000.index' + CLEANED_SUFFIX), Buffer.alloc(16, 1));
    const l = open();
    expect(await readAllRecords(l)).toEqual(before);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(CLEANED_SUFFIX))).toEqual([]);
  });

  test('a crash after the swap record while DeleteRecords removed part of the group: rolling forward keeps the log consistent', async () => {
    const l = open({ segmentBytes: 1024 });
    writeUpdates(l, 600, 4);
    l.rollNow();
    l.updateConfig({ ...BASE, segmentBytes: 8192 }); // cleaned groups span several segments
    const before = await readAllRecords(l);
    const snapshot = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cleaner-snap-'));
    let recovered: PartitionLog | undefined;
    try {
      const real = l.replaceSegments.bind(l);
      let start = -1;
      (l as unknown as { replaceSegments: typeof real }).replaceSegments = (rs, suffixes) => {
        if (start < 0) {
          start = rs[1].baseOffset + 1; // inside the group's second segment
          l.advanceLogStartOffset(start);
          fs.cpSync(l.dir, snapshot, { recursive: true }); // the disk as a crash would leave it
          expect(fs.existsSync(path.join(snapshot, SWAP_FILE))).toBe(true);
        }
        return real(rs, suffixes);
      };
      await new LogCleaner(quiet).clean(l);
      expect(fs.existsSync(path.join(l.dir, SWAP_FILE))).toBe(false);
      recovered = PartitionLog.open(snapshot, { ...BASE, segmentBytes: 8192 }, quiet, { clock: () => now });
      expect(recovered.logStartOffset).toBe(start);
      expect(recovered.segmentBaseOffsets()[0]).toBe(0); // the rolled-forward cleaned segment, below the start
      const records = await readAllRecords(recovered);
      const original = new Map(before.map((r) => [r.offset, r]));
      for (const r of records) expect(r).toEqual(original.get(r.offset));
      expect(asMap(records)).toEqual(asMap(before.filter((r) => r.offset >= start)));
      expect(fs.readdirSync(snapshot).filter((f) => f.endsWith(CLEANED_SUFFIX) || f.startsWith(SWAP_FILE))).toEqual([]);
      applyRetention(recovered);
      expect(recovered.segmentBaseOffsets()[0]).toBeLessThanOrEqual(start);
    } finally {
      recovered?.close();
      fs.rmSync(snapshot, { recursive: true, force: true });
    }
  });

  test.each(['after-record', 'after-deletes', 'after-log-rename'])('a crash %s rolls the swap forward', async (point) => {
    const { dir, before, after, files } = await prepare();
    restore(dir, files);
    // Re-create the crash state by hand: clean again with a commit that stops part-way.
    const l = open();
    const segs = l.allSegments().slice(0, -1);
    let group = 0;
    let bytes = 0;
    while (group < segs.length && bytes + segs[group].size <= BASE.segmentBytes) bytes += segs[group++].size;
    const replaced = segs.slice(0, Math.max(1, group));
    // Produce the .cleaned files with a real cleaning into a copy, then stage them here.
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-cleaner-copy-'));
    try {
      for (const [f, data] of files) fs.writeFileSync(path.join(copy, f), data);
      const c = PartitionLog.open(copy, { ...BASE }, quiet, { clock: () => now });
      // Stop the commit before it happens: capture the cleaned files of the first group.
      const real = c.replaceSegments.bind(c);
      let captured: Map<string, Buffer> | null = null;
      (c as unknown as { replaceSegments: typeof real }).replaceSegments = (rs, suffixes) => {
        if (!captured) {
          captured = new Map(
            fs.readdirSync(copy).filter((f) => f.endsWith(CLEANED_SUFFIX)).map((f) => [f, fs.readFileSync(path.join(copy, f))]),
          );
          expect(rs.map((s) => s.baseOffset)).toEqual(replaced.map((s) => s.baseOffset));
          void suffixes;
          return false;
        }
        return real(rs, suffixes);
      };
      await new LogCleaner(quiet).clean(c);
      c.close();
      l.close();
      forget(l);
      for (const [f, data] of captured!) fs.writeFileSync(path.join(dir, f), data);
    } finally {
      fs.rmSync(copy, { recursive: true, force: true });
    }
    const bases = replaced.map((s) => s.baseOffset);
    fs.writeFileSync(
      path.join(dir, SWAP_FILE),
      `samsa-segment-swap 1\nbase ${bases[0]}\nreplaces ${bases.join(' ')}\nsuffixes .log .index .timeindex\n`,
    );
    const name = (b: number, s: string) => path.join(dir, String(b).padStart(20, '0') + s);
    if (point !== 'after-record') for (const b of bases.slice(1)) for (const s of ['.log', '.index', '.timeindex']) fs.rmSync(name(b, s), { force: true });
    if (point === 'after-log-rename') fs.renameSync(name(bases[0], '.log') + CLEANED_SUFFIX, name(bases[0], '.log'));
    const recovered = open();
    const records = await readAllRecords(recovered);
    // The first group is compacted, the rest untouched: same latest values, a subset of the original records.
    expect(asMap(records)).toEqual(asMap(after));
    const original = new Map(before.map((r) => [r.offset, r]));
    for (const r of records) expect(r).toEqual(original.get(r.offset));
    expect(records.length).toBeLessThan(before.length);
    expect(fs.existsSync(path.join(dir, SWAP_FILE))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(CLEANED_SUFFIX))).toEqual([]);
    // And a full cleaning from there reaches the same end state.
    await cleaner.clean(recovered);
    expect(await readAllRecords(recovered)).toEqual(after);
  });
});
