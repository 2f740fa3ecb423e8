/**
 * Collects a raw socket's response frames (src/protocol/frame-queue.ts does the reassembly),
 * for tests that move many or large responses over one raw socket.
 */
import type * as net from 'net';
import { FrameQueue } from '../../src/protocol/frame-queue';

export class FrameReader {
  private readonly queue = new FrameQueue();
  /** Complete frames (without the size prefix) not yet taken. */
  readonly frames: Buffer[] = [];
  bytesReceived = 0;
  private waiter: (() => void) | null = null;
  private readonly onFrame = (f: Buffer): void => {
    this.frames.push(f);
  };

  /** `socket` may be left in paused mode by the caller (then call feed() yourself). */
  constructor(socket?: net.Socket) {
    socket?.on('data', (d: Buffer) => this.feed(d));
  }

  feed(d: Buffer): void {
    this.bytesReceived += d.length;
    this.queue.push(d, this.onFrame);
    const w = this.waiter;
    this.waiter = null;
    w?.();
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
