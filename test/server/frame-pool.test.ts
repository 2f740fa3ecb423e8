/**
 * FramePool: large Produce frames reuse buffers; a buffer comes back only when it was lent and
 * no thread-pool write may still read it.
 */
import { FramePool, POOLED_FRAME_MIN_BYTES } from '../../src/server/frame-pool';
import { ioPinned } from '../../src/storage/background-write';

test('a buffer given back is lent again for a frame of its size class', () => {
  const pool = new FramePool();
  const a = pool.take(1_000_100)!;
  expect(a.length).toBe(1_000_100);
  expect(a.buffer.byteLength).toBe(1 << 20);
  pool.give(a.subarray(4)); // connections give back the frame, a view past the size field
  const b = pool.take(900_000)!;
  expect(b.buffer).toBe(a.buffer);
  expect(b.length).toBe(900_000);
  // Another size class gets its own buffer.
  const c = pool.take(300_000)!;
  expect(c.buffer).not.toBe(a.buffer);
  expect(c.buffer.byteLength).toBe(1 << 19);
  expect(pool.stats).toEqual({ reused: 1, allocated: 2, pinned: 0 });
});

test('small and huge frames are not pooled', () => {
  const pool = new FramePool();
  expect(pool.take(POOLED_FRAME_MIN_BYTES - 1)).toBeNull();
  expect(pool.take(64 * 1024 * 1024)).toBeNull();
  expect(pool.take(POOLED_FRAME_MIN_BYTES)).not.toBeNull();
});

test('a buffer a thread-pool write may still read is never lent again', () => {
  const pool = new FramePool();
  const a = pool.take(500_000)!;
  ioPinned.add(a.buffer);
  pool.give(a);
  expect(pool.heldBytes).toBe(0);
  expect(pool.take(500_000)!.buffer).not.toBe(a.buffer);
  expect(pool.stats.pinned).toBe(1);
});

test('buffers the pool did not lend, or already got back, are ignored', () => {
  const pool = new FramePool();
  pool.give(Buffer.alloc(1 << 20));
  expect(pool.heldBytes).toBe(0);
  const a = pool.take(500_000)!;
  pool.give(a);
  pool.give(a); // twice: kept once
  expect(pool.heldBytes).toBe(1 << 19);
  const b = pool.take(500_000)!;
  const c = pool.take(500_000)!;
  expect(b.buffer).toBe(a.buffer);
  expect(c.buffer).not.toBe(a.buffer);
});

test('the pool keeps a bounded number of bytes', () => {
  const pool = new FramePool();
  const lent = Array.from({ length: 12 }, () => pool.take(3 << 20)!); // 4 MiB class
  for (const b of lent) pool.give(b);
  expect(pool.heldBytes).toBe(8 * (4 << 20));
});

test('idle buffers are dropped', () => {
  jest.useFakeTimers();
  try {
    const pool = new FramePool();
    pool.give(pool.take(500_000)!);
    expect(pool.heldBytes).toBe(1 << 19);
    jest.advanceTimersByTime(10_000); // taken since the last look: kept
    expect(pool.heldBytes).toBe(1 << 19);
    jest.advanceTimersByTime(10_000);
    expect(pool.heldBytes).toBe(0);
  } finally {
    jest.useRealTimers();
  }
});
