/**
 * Reused buffers for large Produce frames.
 *
 * A frame that spans several socket reads is copied into one buffer. Allocating a fresh one per
 * request (about 1 MB for a librdkafka batch) makes V8 collect garbage for "external memory
 * pressure" every few tens of milliseconds under a steady producer, and every client on the
 * event loop waits through those pauses. A Produce frame is not referenced once its request is
 * over (its appends are written, nothing keeps the records), so its buffer comes back here,
 * unless a write on the thread pool may still be reading it (storage pins those: ioPinned).
 */
import { ioPinned } from '../storage/background-write';

/** Frames smaller than this are cheap to allocate (and most fit in one socket read anyway). */
export const POOLED_FRAME_MIN_BYTES = 128 * 1024;
/** Larger frames are rare (the default max.request.size is 1 MB): not worth keeping. */
const POOLED_FRAME_MAX_BYTES = 16 * 1024 * 1024;
/** Buffers kept per size class, and in all. */
const KEPT_PER_CLASS = 8;
const KEPT_BYTES = 32 * 1024 * 1024;
/** Buffers not asked for within this long are dropped, so a burst does not hold memory forever. */
const IDLE_DROP_MS = 10_000;

export class FramePool {
  /** Free buffers by size class (log2 of the capacity). */
  private readonly free = new Map<number, ArrayBuffer[]>();
  private keptBytes = 0;
  /** Buffers handed out and not given back yet (given back ones are checked against it). */
  private readonly lent = new WeakSet<ArrayBuffer>();
  private takenSinceTrim = false;
  private trimTimer: NodeJS.Timeout | null = null;
  /** Counters for tests and the bench: buffers reused, allocated, and refused on return. */
  readonly stats = { reused: 0, allocated: 0, pinned: 0 };

  /** A buffer of exactly `size` bytes over a pooled allocation, or null when `size` is not pooled. */
  take(size: number): Buffer | null {
    if (size < POOLED_FRAME_MIN_BYTES || size > POOLED_FRAME_MAX_BYTES) return null;
    const cls = Math.ceil(Math.log2(size));
    const list = this.free.get(cls);
    let ab = list?.pop();
    if (ab) {
      this.keptBytes -= ab.byteLength;
      this.stats.reused++;
    } else {
      ab = new ArrayBuffer(2 ** cls);
      this.stats.allocated++;
    }
    this.lent.add(ab);
    this.takenSinceTrim = true;
    return Buffer.from(ab, 0, size);
  }

  /** Gives back a buffer from take() (or any view of it) once nothing refers to its bytes. */
  give(view: Buffer): void {
    const ab = view.buffer as ArrayBuffer;
    if (!this.lent.has(ab)) return;
    this.lent.delete(ab);
    if (ioPinned.has(ab)) {
      this.stats.pinned++;
      return;
    }
    const cls = Math.log2(ab.byteLength);
    let list = this.free.get(cls);
    if (!list) this.free.set(cls, (list = []));
    if (list.length >= KEPT_PER_CLASS || this.keptBytes + ab.byteLength > KEPT_BYTES) return;
    list.push(ab);
    this.keptBytes += ab.byteLength;
    this.scheduleTrim();
  }

  /** Bytes held by free buffers. */
  get heldBytes(): number {
    return this.keptBytes;
  }

  private scheduleTrim(): void {
    if (this.trimTimer) return;
    this.trimTimer = setInterval(() => {
      if (this.takenSinceTrim) {
        this.takenSinceTrim = false;
        return;
      }
      this.free.clear();
      this.keptBytes = 0;
      if (this.trimTimer) clearInterval(this.trimTimer);
      this.trimTimer = null;
    }, IDLE_DROP_MS);
    this.trimTimer.unref();
  }
}

/** One pool for the process: frames are not tied to a connection, and idle ones cost nothing. */
export const framePool = new FramePool();
