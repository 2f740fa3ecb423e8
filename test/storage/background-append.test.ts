/**
 * PartitionLog.appendInBackground: the write of a large append runs on the thread pool. The
 * log must look unchanged until the write is done, then commit in order; synchronous changes
 * (a marker append, close) complete a write in flight first; a failed write leaves the log
 * as before; a descriptor is never closed under a write.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AppendResult, PartitionLog } from '../../src/storage/partition-log';
import { LogConfig, resolveLogConfig } from '../../src/storage/log-config';
import { testLogConfig } from '../helpers/log-config';
import { LogSegment } from '../../src/storage/segment';
import { ioPinned } from '../../src/storage/background-write';
import { createLogger } from '../../src/logging';
import { inject, restoreAll } from '../helpers/fs-inject';
import { applyRetention } from '../../src/storage/log-retention';
import { decodeBatchValues, simpleBatch } from '../helpers/record-batch-builder';

const CONFIG: LogConfig = testLogConfig({ segmentBytes: 64 * 1024 * 1024 });

let dir: string;
let log: PartitionLog;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-background-append-'));
});
afterEach(() => {
  restoreAll();
  log?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A batch of `n` 1000-byte records: 70 of them are over the 64 KiB background threshold. */
const big = (n = 70, prefix = 'big') => simpleBatch(n, { prefix, valueSize: 1000 });
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/** Every record's offset, in log order (reads only what readers may see). */
function offsets(l: PartitionLog): number[] {
  const out: number[] = [];
  let offset = l.logStartOffset;
  while (offset < l.logEndOffset) {
    const r = l.read(offset, 8 << 20);
    const region = r.regions[0];
    const buf = Buffer.alloc(region.length);
    fs.readSync(region.fd, buf, 0, region.length, region.position);
    let pos = 0;
    while (pos + 12 <= buf.length) {
      const size = 12 + buf.readInt32BE(pos + 8);
      if (pos + size > buf.length) break;
      for (const v of decodeBatchValues(buf, pos)) if (v.offset >= offset) out.push(v.offset);
      pos += size;
    }
    offset = out.length > 0 ? out[out.length - 1] + 1 : offset + 1;
  }
  return out;
}

const logFileSize = () => fs.statSync(path.join(dir, '00000000000000000000.log')).size;
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

test('a large append is invisible until its write is done, then commits once, in order', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  log.append(simpleBatch(3), 0);
  const commits: AppendResult[] = [];
  const appended = log.appendInBackground(big(), 0, (r) => commits.push(r));
  expect(appended).toBeInstanceOf(Promise);
  // Nothing moved yet: readers and the end offset see the log as before.
  expect(log.logEndOffset).toBe(3);
  expect(log.read(3, 1 << 20).length).toBe(0);
  expect(commits).toEqual([]);
  const idle = log.whenIdle();
  expect(idle).not.toBeNull();
  expect(() => log.appendInBackground(big(), 0, () => undefined)).toThrow(/in flight/);
  const result = await appended;
  expect(result).toEqual(expect.objectContaining({ baseOffset: 3, lastOffset: 72 }));
  expect(commits).toEqual([result]);
  await idle;
  expect(log.whenIdle()).toBeNull();
  expect(log.logEndOffset).toBe(73);
  expect(offsets(log)).toEqual(range(0, 73));
});

test('a small append is written at once and commits before the call returns', () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  const commits: AppendResult[] = [];
  const r = log.appendInBackground(simpleBatch(5), 0, (c) => commits.push(c));
  expect(r).toEqual(expect.objectContaining({ baseOffset: 0, lastOffset: 4 }));
  expect(commits).toEqual([r]);
  expect(log.whenIdle()).toBeNull();
});

test('a synchronous append (a marker) completes the write in flight first', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  const order: string[] = [];
  const appended = log.appendInBackground(big(), 0, () => order.push('background committed'));
  const marker = log.append(simpleBatch(1), 0);
  order.push('sync appended');
  expect(order).toEqual(['background committed', 'sync appended']);
  expect(marker.baseOffset).toBe(70);
  expect(await appended).toEqual(expect.objectContaining({ baseOffset: 0, lastOffset: 69 }));
  // The thread pool's own write lands later (the same bytes again): nothing changes.
  await new Promise((r) => setTimeout(r, 50));
  expect(log.logEndOffset).toBe(71);
  expect(offsets(log)).toEqual(range(0, 71));
  expect(logFileSize()).toBe(log.size);
});

test('a write settled on the JS thread pins its buffer until the thread pool returns; one that ended by itself does not', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  const settled = big(70, 'settled');
  const appended = log.appendInBackground(settled, 0, () => undefined);
  expect(ioPinned.has(settled.buffer)).toBe(false);
  log.append(simpleBatch(1), 0); // a marker settles the write in flight
  await appended;
  // The request is answered, but the thread pool may still be reading these bytes: a pool of
  // request buffers (src/server/frame-pool.ts) must not hand them out again.
  expect(ioPinned.has(settled.buffer)).toBe(true);
  const own = big(70, 'own');
  await log.appendInBackground(own, 0, () => undefined);
  expect(ioPinned.has(own.buffer)).toBe(false);
});

test('close() during a write commits it; the log reopens clean with it', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  const appended = log.appendInBackground(big(), 0, () => undefined);
  log.close();
  await expect(appended).resolves.toEqual(expect.objectContaining({ lastOffset: 69 }));
  await new Promise((r) => setTimeout(r, 50));
  const warnings: string[] = [];
  const recording = { ...createLogger('silent'), warn: (m: string) => warnings.push(m), child: () => recording } as ReturnType<typeof createLogger>;
  log = PartitionLog.open(dir, CONFIG, recording);
  expect(warnings).toEqual([]);
  expect(offsets(log)).toEqual(range(0, 70));
});

test('a failed background write rejects and leaves the log as it was; the next append works', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  log.append(simpleBatch(3), 0);
  const size = logFileSize();
  const realWrite = fs.write as unknown as (...a: unknown[]) => void;
  let calls = 0;
  inject('write', ((fd: number, buf: Buffer, off: number, len: number, pos: number, cb: (e: Error | null, n: number) => void) => {
    // The first call writes part of the batch for real, the second fails: a torn write.
    if (++calls === 1) return realWrite(fd, buf, off, Math.floor(len / 2), pos, cb);
    setImmediate(() => cb(errno('EIO'), 0));
  }) as unknown as typeof fs.write);
  const committed = jest.fn();
  await expect(log.appendInBackground(big(), 0, committed)).rejects.toThrow(/EIO/);
  restoreAll();
  expect(committed).not.toHaveBeenCalled();
  expect(log.appendsFailing).toBe(true);
  expect(log.logEndOffset).toBe(3);
  expect(logFileSize()).toBe(size);
  expect(log.whenIdle()).toBeNull();
  const next = await log.appendInBackground(big(), 0, () => undefined);
  expect(next.baseOffset).toBe(3);
  expect(log.appendsFailing).toBe(false);
  expect(offsets(log)).toEqual(range(0, 73));
});

/** Holds the thread pool's next write until release() (fs.write swapped for the test). */
function holdBackgroundWrite(): () => void {
  const realWrite = fs.write as unknown as (...a: unknown[]) => void;
  let release: () => void = () => undefined;
  inject('write', ((...args: unknown[]) => {
    release = () => realWrite(...args);
  }) as unknown as typeof fs.write);
  return () => release();
}

/** writeSync fails `times` times with `code`, then works. */
function failWriteSync(code: string, times = 1): void {
  const real = fs.writeSync;
  let n = 0;
  inject('writeSync', ((...a: unknown[]) => {
    if (n++ < times) throw errno(code);
    return (real as (...x: unknown[]) => number)(...a);
  }) as unknown as typeof fs.writeSync);
}

test('a write that cannot be completed at once stays in flight: nothing else is written until the thread pool returns', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  log.append(simpleBatch(3), 0);
  const release = holdBackgroundWrite();
  const committed = jest.fn();
  const appended = log.appendInBackground(big(), 0, committed);
  failWriteSync('EIO');
  // A marker's append cannot complete the write ahead of it, so it fails instead of taking its place.
  expect(() => log.append(simpleBatch(1), 0)).toThrow(/still in flight/);
  expect(log.whenIdle()).not.toBeNull();
  restoreAll();
  release();
  // The thread pool's write decides: it worked, so the append commits (the client is told so).
  expect(await appended).toEqual(expect.objectContaining({ baseOffset: 3, lastOffset: 72 }));
  expect(committed).toHaveBeenCalledTimes(1);
  expect(log.append(simpleBatch(1), 0).baseOffset).toBe(73);
  expect(offsets(log)).toEqual(range(0, 74));
  expect(logFileSize()).toBe(log.size);
});

test('close() while a write is stuck leaves no clean-shutdown marker: the next open recovers what reached the disk', async () => {
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  log.append(simpleBatch(3), 0);
  const release = holdBackgroundWrite();
  const appended = log.appendInBackground(big(), 0, () => undefined);
  const outcome = (appended as Promise<AppendResult>).then(
    () => 'acknowledged',
    () => 'failed',
  );
  failWriteSync('EIO');
  log.close();
  expect(fs.existsSync(path.join(dir, '.clean-shutdown'))).toBe(false);
  restoreAll();
  release();
  // Never acknowledged: like a crash during the write, it may or may not survive.
  expect(await outcome).toBe('failed');
  await new Promise((r) => setTimeout(r, 50));
  log = PartitionLog.open(dir, CONFIG, createLogger('silent'));
  const end = log.logEndOffset;
  expect([3, 73]).toContain(end);
  expect(offsets(log)).toEqual(range(0, end));
});

test('retention waits while a write is in flight (it counted segments without it)', async () => {
  const old = 1_700_000_000_000;
  const now = old + 10 * 3600_000;
  log = PartitionLog.open(dir, { ...CONFIG, retentionMs: 3600_000 }, createLogger('silent'), { clock: () => now });
  log.append(simpleBatch(3, { timestamp: old }), 0);
  const appended = log.appendInBackground(simpleBatch(70, { valueSize: 1000, timestamp: now }), 0, () => undefined);
  applyRetention(log, now);
  const result = await appended;
  expect(result.baseOffset).toBe(3);
  expect(log.logStartOffset).toBe(0);
  expect(offsets(log)).toEqual(range(0, 73));
  // Once the write is in, the segment holds fresh data: nothing in it expires.
  applyRetention(log, now);
  expect(log.logStartOffset).toBe(0);
  expect(offsets(log)).toEqual(range(0, 73));
});

test('a segment descriptor stays open until the write under it is done', async () => {
  const seg = LogSegment.create(dir, 0, resolveLogConfig(CONFIG), createLogger('silent'), Date.now());
  const done = new Promise<Error | null>((resolve) => seg.writeInBackground(big(), resolve));
  seg.closeFile();
  expect(() => fs.fstatSync(seg.fd)).not.toThrow();
  expect(await done).toBeNull();
  expect(() => fs.fstatSync(seg.fd)).toThrow(/EBADF/);
});
