/**
 * Storage lifecycle: the durable log start offset (DeleteRecords), retention by time, by
 * size and below the log start, and recovery of partition.state.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { PartitionLog, partitionDir } from '../../src/storage/partition-log';
import { LogConfig } from '../../src/storage/log-config';
import { ErrorCode } from '../../src/protocol/errors';
import { applyRetention } from '../../src/storage/log-retention';
import { PARTITION_STATE_FILE, readPartitionState } from '../../src/storage/log-state';
import { createLogger } from '../../src/logging';
import { simpleBatch } from '../helpers/record-batch-builder';
import { readAllRecords } from '../helpers/read-log';

const quiet = createLogger('silent');
const T0 = 1_700_000_000_000;

const BASE: LogConfig = {
  segmentBytes: 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  segmentIndexBytes: 10 * 1024 * 1024,
  indexIntervalBytes: 4096,
  flushMessages: Number.MAX_VALUE,
  flushMs: Number.MAX_VALUE,
  fileDeleteDelayMs: 0,
  retentionMs: -1,
  retentionBytes: -1,
};

let tmp: string;
let now = T0;
const opened: PartitionLog[] = [];

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-lifecycle-'));
  now = T0;
});

afterEach(() => {
  for (const l of opened.splice(0)) l.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function open(config: Partial<LogConfig> = {}): PartitionLog {
  const l = PartitionLog.open(partitionDir(tmp, 't', 0), { ...BASE, ...config }, quiet, { clock: () => now });
  opened.push(l);
  return l;
}

function reopen(l: PartitionLog, config: Partial<LogConfig> = {}): PartitionLog {
  l.close();
  opened.splice(opened.indexOf(l), 1);
  return open(config);
}

/** Appends `batches` batches of 10 records of ~40 bytes, timestamps from `ts`. */
function fill(l: PartitionLog, batches: number, ts = T0): void {
  for (let i = 0; i < batches; i++) l.append(simpleBatch(10, { timestamp: ts + i * 10, valueSize: 40 }), 0);
}

describe('log start offset (DeleteRecords)', () => {
  test('moves forward durably, deletes whole segments below it, reads below it are out of range', async () => {
    const l = open();
    fill(l, 20);
    expect(l.segmentCount).toBeGreaterThan(5);
    const bases = l.segmentBaseOffsets();
    const target = bases[3] + 5; // inside the fourth segment
    expect(l.advanceLogStartOffset(target)).toBe(target);
    expect(l.logStartOffset).toBe(target);
    expect(l.segmentBaseOffsets()[0]).toBe(bases[3]);
    expect(fs.existsSync(path.join(l.dir, String(bases[0]).padStart(20, '0') + '.log'))).toBe(false);
    expect(l.read(target - 1, 1000).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(l.read(target, 1000).errorCode).toBe(ErrorCode.NONE);
    // A smaller offset is not a move: the start stays.
    expect(l.advanceLogStartOffset(2)).toBe(target);
    expect(() => l.advanceLogStartOffset(l.logEndOffset + 1)).toThrow();
    const records = await readAllRecords(l);
    expect(records[0].offset).toBe(target);
    expect(records[records.length - 1].offset).toBe(199);

    const again = reopen(l);
    expect(again.logStartOffset).toBe(target);
    expect(again.logEndOffset).toBe(200);
    expect(readPartitionState(again.dir).logStartOffset).toBe(target);
  });

  test('survives a crash (no clean shutdown) right after the move', () => {
    const l = open();
    fill(l, 20);
    l.advanceLogStartOffset(123);
    // Simulate kill -9: drop the object without close(); files stay as they are.
    opened.splice(opened.indexOf(l), 1);
    const again = open();
    expect(again.logStartOffset).toBe(123);
    expect(again.logEndOffset).toBe(200);
  });

  test('up to the log end: everything closed goes, the active segment stays, appends continue', async () => {
    const l = open();
    fill(l, 12);
    l.advanceLogStartOffset(l.logEndOffset);
    expect(l.logStartOffset).toBe(120);
    expect(l.segmentCount).toBe(1);
    expect(l.read(120, 1000)).toMatchObject({ errorCode: ErrorCode.NONE, length: 0 });
    l.append(simpleBatch(3), 0);
    expect((await readAllRecords(l)).map((r) => r.offset)).toEqual([120, 121, 122]);
  });

  test('a start beyond the recovered end (lost page cache) empties the log at the start', () => {
    const l = open();
    fill(l, 5);
    l.advanceLogStartOffset(50);
    l.close();
    opened.splice(opened.indexOf(l), 1);
    // Pretend the tail was lost: the state says 80, the log ends at 50.
    fs.writeFileSync(path.join(l.dir, PARTITION_STATE_FILE), 'samsa-partition-state 1\nlog-start-offset 80\n');
    const again = open();
    expect(again.logStartOffset).toBe(80);
    expect(again.logEndOffset).toBe(80);
    expect(again.segmentBaseOffsets()).toEqual([80]);
  });

  test('a missing or garbled state file means the first segment base', () => {
    const l = open();
    fill(l, 20);
    l.advanceLogStartOffset(100);
    l.close();
    opened.splice(opened.indexOf(l), 1);
    fs.writeFileSync(path.join(l.dir, PARTITION_STATE_FILE), 'garbage');
    const again = open();
    expect(again.logStartOffset).toBe(again.segmentBaseOffsets()[0]);
  });
});

describe('retention', () => {
  test('retention.ms deletes closed segments whose newest record is too old, oldest first', () => {
    const l = open({ retentionMs: 60_000 });
    fill(l, 10, T0); // old
    l.rollNow();
    fill(l, 10, T0 + 3_600_000); // recent
    now = T0 + 3_600_000 + 1000;
    const before = l.segmentBaseOffsets();
    const res = applyRetention(l);
    expect(res.reason).toBe('retention.ms');
    expect(l.logStartOffset).toBe(100);
    expect(l.segmentBaseOffsets()[0]).toBe(100);
    expect(before.length - l.segmentCount).toBe(res.deletedSegments);
    expect(l.read(0, 100).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect(l.logEndOffset).toBe(200);
  });

  test('an expired active segment is rolled and deleted; the log end is kept', () => {
    const l = open({ retentionMs: 1000, segmentBytes: 1024 * 1024 });
    fill(l, 5);
    expect(l.segmentCount).toBe(1);
    now = T0 + 10_000;
    applyRetention(l);
    expect(l.logStartOffset).toBe(50);
    expect(l.logEndOffset).toBe(50);
    expect(l.segmentBaseOffsets()).toEqual([50]);
    // An empty log is never rolled again.
    expect(applyRetention(l).deletedSegments).toBe(0);
    l.append(simpleBatch(1, { timestamp: now }), 0);
    expect(l.logEndOffset).toBe(51);
  });

  test('retention.bytes keeps the newest segments within the limit', () => {
    const l = open({ retentionBytes: 3000 });
    fill(l, 30);
    applyRetention(l);
    expect(l.size).toBeLessThanOrEqual(3000 + 1024);
    const removedAnother = l.size - l.allSegments()[0].size;
    expect(removedAnother).toBeLessThan(3000);
    expect(l.logStartOffset).toBe(l.segmentBaseOffsets()[0]);
    expect(l.logEndOffset).toBe(300);
  });

  test('cleanup.policy=compact alone: no time or size retention, but segments below the start still go', () => {
    const l = open({ retentionMs: 1, retentionBytes: 1, deleteEnabled: false, compactEnabled: true });
    fill(l, 20);
    now = T0 + 100_000;
    expect(applyRetention(l).deletedSegments).toBe(0);
    const bases = l.segmentBaseOffsets();
    l.advanceLogStartOffset(bases[2]);
    expect(l.segmentBaseOffsets()[0]).toBe(bases[2]);
  });

  test('segments left below the start by a crash between the state write and the deletion are removed by retention', () => {
    const l = open();
    fill(l, 20);
    const bases = l.segmentBaseOffsets();
    l.close();
    opened.splice(opened.indexOf(l), 1);
    fs.writeFileSync(path.join(l.dir, PARTITION_STATE_FILE), `samsa-partition-state 1\nlog-start-offset ${bases[4]}\n`);
    const again = open();
    expect(again.segmentBaseOffsets()[0]).toBe(bases[0]);
    expect(applyRetention(again).reason).toBe('log start offset');
    expect(again.segmentBaseOffsets()[0]).toBe(bases[4]);
  });
});
