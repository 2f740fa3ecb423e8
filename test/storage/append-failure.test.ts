/**
 * Appends are all or nothing when the disk fails. ENOSPC on a real filesystem is covered by
 * test/integration/full-disk.test.ts (a tmpfs); the failures a test cannot provoke on demand
 * (EIO in the middle of a write, a failed fsync, no descriptor for a new segment) are
 * injected here at the fs call, and the log must stay exactly as before the append: file
 * size, offsets, indexes, reads, and the next append once the disk works again.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PartitionLog } from '../../src/storage/partition-log';
import { LogConfig } from '../../src/storage/log-config';
import { testLogConfig } from '../helpers/log-config';
import { createLogger } from '../../src/logging';
import { inject, restoreAll } from '../helpers/fs-inject';
import { decodeBatchValues, simpleBatch } from '../helpers/record-batch-builder';

const CONFIG: LogConfig = testLogConfig({ segmentBytes: 64 * 1024, indexIntervalBytes: 1024 });

let dir: string;
let log: PartitionLog;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-append-failure-'));
});
afterEach(() => {
  restoreAll();
  log?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

function values(l: PartitionLog): string[] {
  const out: string[] = [];
  let offset = l.logStartOffset;
  while (offset < l.logEndOffset) {
    const r = l.read(offset, 1 << 20);
    const region = r.regions[0];
    const buf = Buffer.alloc(region.length);
    fs.readSync(region.fd, buf, 0, region.length, region.position);
    for (const v of decodeBatchValues(buf)) {
      if (v.offset >= offset) out.push(v.value!);
    }
    offset = Math.max(offset + 1, ...decodeBatchValues(buf).map((v) => v.offset + 1));
  }
  return out;
}

function segmentFiles(): Record<string, number> {
  return Object.fromEntries(fs.readdirSync(dir).filter((n) => /\.(log|index|timeindex)$/.test(n)).map((n) => [n, fs.statSync(path.join(dir, n)).size]));
}

test('EIO after part of a write: the partial bytes are cut, offsets and reads unchanged, the next append works', () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  for (let i = 0; i < 20; i++) log.append(simpleBatch(3, { prefix: `a${i}-`, valueSize: 200 }), 0);
  const before = { end: log.logEndOffset, files: segmentFiles(), values: values(log) };
  const real = fs.writeSync;
  let calls = 0;
  inject('writeSync', ((fd: number, buf: Buffer, off: number, len: number, pos: number) => {
    // The first call writes half, the second fails: a torn write.
    if (++calls === 1) return real(fd, buf, off, Math.floor(len / 2), pos);
    throw errno('EIO');
  }) as typeof fs.writeSync);
  expect(() => log.append(simpleBatch(3, { prefix: 'torn-', valueSize: 200 }), 0)).toThrow(/EIO/);
  restoreAll();
  expect(log.logEndOffset).toBe(before.end);
  expect(segmentFiles()).toEqual(before.files);
  expect(values(log)).toEqual(before.values);
  const res = log.append(simpleBatch(2, { prefix: 'next' }), 0);
  expect(res.baseOffset).toBe(before.end);
  expect(values(log)).toEqual([...before.values, 'next-0', 'next-1']);
});

test('a failed fsync (flush.messages=1) undoes the append, index entries included', () => {
  log = PartitionLog.open(dir, { ...CONFIG, flushMessages: 1 }, createLogger('silent'));
  for (let i = 0; i < 20; i++) log.append(simpleBatch(2, { prefix: `b${i}-`, valueSize: 300 }), 0);
  const end = log.logEndOffset;
  const expected = values(log);
  inject('fsyncSync', () => {
    throw errno('EIO');
  });
  // Several failing appends, each big enough to add an index entry if it stayed.
  for (let i = 0; i < 3; i++) expect(() => log.append(simpleBatch(4, { prefix: 'lost-', valueSize: 600 }), 0)).toThrow(/EIO/);
  restoreAll();
  expect(log.logEndOffset).toBe(end);
  expect(values(log)).toEqual(expected);
  log.append(simpleBatch(1, { prefix: 'ok' }), 0);
  expect(values(log)).toEqual([...expected, 'ok-0']);
  // The indexes on disk match the log: a reopen after close trusts them without repair.
  log.close();
  const lines: string[] = [];
  const recording = { ...createLogger('silent'), warn: (m: string) => lines.push(m), child: () => recording } as ReturnType<typeof createLogger>;
  log = PartitionLog.open(dir, CONFIG, recording);
  expect(lines).toEqual([]);
  expect(values(log)).toEqual([...expected, 'ok-0']);
});

test('no descriptor for a new segment (EMFILE at a roll): no new segment is left, the active one keeps taking appends', () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  while (Object.keys(segmentFiles()).length === 3) log.append(simpleBatch(5, { prefix: 'c-', valueSize: 1000 }), 0);
  // Now two segments; fill the second up to its roll point.
  const files = () => Object.keys(segmentFiles()).sort();
  const twoSegments = files();
  const realOpen = fs.openSync;
  inject('openSync', ((p: fs.PathLike, flags?: fs.OpenMode, mode?: fs.Mode) => {
    if (String(p).endsWith('.log')) throw errno('EMFILE');
    return realOpen(p, flags, mode);
  }) as typeof fs.openSync);
  const end = log.logEndOffset;
  let failed = 0;
  for (let i = 0; i < 100 && failed === 0; i++) {
    try {
      log.append(simpleBatch(5, { prefix: 'd-', valueSize: 1000 }), 0);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('EMFILE');
      failed++;
    }
  }
  restoreAll();
  expect(failed).toBe(1);
  expect(files()).toEqual(twoSegments);
  const endBefore = log.logEndOffset;
  expect(endBefore).toBeGreaterThan(end);
  // Descriptors are back: the roll happens and appends continue from the same offset.
  expect(log.append(simpleBatch(5, { valueSize: 1000 }), 0).baseOffset).toBe(endBefore);
  expect(files().length).toBe(9);
});
