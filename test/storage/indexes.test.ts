import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { OffsetIndex } from '../../src/storage/offset-index';
import { TimeIndex } from '../../src/storage/time-index';

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-idx-'));
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('OffsetIndex', () => {
  test('lookup returns the last entry at or below the target; file is 8-byte big-endian entries', () => {
    const idx = new OffsetIndex(path.join(tmp, 'a.index'), 1000, 100);
    idx.reset();
    expect(idx.lookup(1500)).toBe(0);
    idx.append(1010, 4200);
    idx.append(1020, 8500);
    idx.append(1035, 13000);
    expect(idx.lookup(999)).toBe(0);
    expect(idx.lookup(1009)).toBe(0);
    expect(idx.lookup(1010)).toBe(4200);
    expect(idx.lookup(1034)).toBe(8500);
    expect(idx.lookup(5000)).toBe(13000);
    expect(() => idx.append(1035, 20000)).toThrow();
    idx.persist(true);
    const bytes = fs.readFileSync(idx.path);
    expect([...bytes]).toEqual([0, 0, 0, 10, 0, 0, 0x10, 0x68, 0, 0, 0, 20, 0, 0, 0x21, 0x34, 0, 0, 0, 35, 0, 0, 0x32, 0xc8]);
    const again = new OffsetIndex(idx.path, 1000, 100);
    expect(again.peek()).toEqual({ problem: null, entries: 3, last: { offset: 1035, position: 13000 } });
    expect(again.load(20000)).toBeNull();
    expect(again.lookup(1025)).toBe(8500);
    expect(new OffsetIndex(idx.path, 1000, 100).load(10000)).toMatch(/beyond/);
  });

  test('persist appends only new entries and trims stale bytes', () => {
    const p = path.join(tmp, 'b.index');
    fs.writeFileSync(p, Buffer.alloc(64, 0));
    const idx = new OffsetIndex(p, 0, 100);
    idx.reset();
    idx.append(5, 100);
    idx.persist(false);
    expect(fs.statSync(p).size).toBe(8);
    idx.append(9, 200);
    idx.persist(false);
    expect(fs.statSync(p).size).toBe(16);
    expect(idx.isFull()).toBe(false);
  });
});

describe('TimeIndex', () => {
  test('maybeAppend only when the timestamp grows; lookup finds the last entry at or below', () => {
    const idx = new TimeIndex(path.join(tmp, 'a.timeindex'), 100, 10);
    idx.reset();
    expect(idx.lookup(5)).toBeNull();
    idx.maybeAppend(1000, 105);
    idx.maybeAppend(1000, 110); // not larger: ignored
    idx.maybeAppend(2000, 120);
    expect(idx.entries).toBe(2);
    expect(idx.lookup(999)).toBeNull();
    expect(idx.lookup(1500)).toEqual({ timestamp: 1000, offset: 105 });
    expect(idx.lookup(2000)).toEqual({ timestamp: 2000, offset: 120 });
    idx.persist(false);
    const bytes = fs.readFileSync(idx.path);
    expect(bytes.length).toBe(24);
    expect(Number(bytes.readBigInt64BE(12))).toBe(2000);
    expect(bytes.readInt32BE(20)).toBe(20);
    const again = new TimeIndex(idx.path, 100, 10);
    expect(again.load(121)).toBeNull();
    expect(again.lastEntry()).toEqual({ timestamp: 2000, offset: 120 });
    expect(new TimeIndex(idx.path, 100, 10).load(120)).toMatch(/beyond/);
  });
});
