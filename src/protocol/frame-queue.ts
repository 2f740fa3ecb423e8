/**
 * Reassembles Kafka frames (int32 big-endian size, then that many bytes) from a byte stream,
 * for the client side (src/client, the bench's wire client, tests, the fuzzer). Received
 * chunks are kept in a list and a frame is copied out once, when complete; a frame lying
 * inside one chunk is returned as a view of it. I/O-free: the caller feeds socket data in.
 * (The broker's connection has its own copy, tuned for its request limits.)
 */
const EMPTY = Buffer.alloc(0);

export class FrameQueue {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds received bytes; calls onFrame for each frame completed (without its size prefix). */
  push(d: Buffer, onFrame: (frame: Buffer) => void): void {
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) return;
        this.need = this.take(4).readInt32BE(0);
        if (this.need < 0) throw new Error(`negative frame size ${this.need}`);
      }
      if (this.buffered < this.need) return;
      const frame = this.take(this.need);
      this.need = -1;
      onFrame(frame);
    }
  }

  private take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0];
    if (first.length >= n) {
      this.buffered -= n;
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, k);
      filled += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}
