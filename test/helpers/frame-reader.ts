/**
 * Splits a socket's byte stream into Kafka frames (4-byte size prefix) without quadratic
 * copying: chunks are kept in a list and a frame is assembled once it is complete. For tests
 * that move many or large responses over one raw socket.
 */
import type * as net from 'net';

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = -1;
  /** Complete frames (without the size prefix) not yet taken. */
  readonly frames: Buffer[] = [];
  bytesReceived = 0;
  private waiter: (() => void) | null = null;

  /** `socket` may be left in paused mode by the caller (then call feed() yourself). */
  constructor(socket?: net.Socket) {
    socket?.on('data', (d: Buffer) => this.feed(d));
  }

  feed(d: Buffer): void {
    this.bytesReceived += d.length;
    this.chunks.push(d);
    this.buffered += d.length;
    for (;;) {
      if (this.need < 0) {
        if (this.buffered < 4) break;
        this.need = this.take(4).readInt32BE(0);
      }
      if (this.buffered < this.need) break;
      this.frames.push(this.take(this.need));
      this.need = -1;
    }
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[0];
        const k = Math.min(c.length, n - filled);
        c.copy(out, filled, 0, k);
        filled += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }

  /** Resolves once at least `count` frames have arrived (in total, taken or not). */
  async waitFor(count: number, timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.frames.length} of ${count} frames before the deadline`);
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, 200);
      });
    }
  }
}
