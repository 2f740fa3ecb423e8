/**
 * ResponseSender: writes one connection's responses (lists of buffers and file regions) to
 * its socket, in order, with backpressure. A connection sends one response at a time
 * (Connection awaits send()), and nothing else writes to the socket.
 *
 * Two ways to move a file region:
 *
 * Copy path (always available; the only one for TLS sockets and without the addon):
 *   - regions under COPY_CHUNK are read whole (preadv2 RWF_NOWAIT on the JS thread when the
 *     addon is loaded and the pages are cached, else fs.read on the thread pool) and written
 *     corked together with the buffers around them, so a response of many small partitions
 *     is one writev; at most RUN_LIMIT bytes of such reads are held before writing;
 *   - larger regions stream in COPY_CHUNK pieces through two pooled buffers: the read of
 *     piece k+1 runs on the thread pool while piece k is being written, and a buffer is
 *     reused only after its write callback. Memory per sending connection: 2 x COPY_CHUNK.
 *
 * Zero-copy path (the addon loaded, a plain TCP socket, a response with a region of at least
 * SENDFILE_MIN bytes): the whole response goes out through a dup() of the socket's fd:
 *   1. wait until Node's write queue for the socket is empty: every socket.write callback has
 *      run, writableLength is 0 and the handle's writeQueueSize is 0. Bytes still queued in
 *      Node would otherwise land after ours and break the framing;
 *   2. buffers (and small regions, read as above) go out with writev(2), large regions with
 *      sendfile(2), both non-blocking and from the JS thread. sendfile of pages that are not
 *      in the page cache would block the event loop on the disk, so a region that is not
 *      wholly cached (mincore) goes in PREFETCH_CHUNK pieces: a piece with missing pages is
 *      first paged in on the thread pool (readahead, then one byte per page), and the next
 *      piece's page-in overlaps the current piece's sendfile. (Page caches with proactive
 *      reclaim, as on some VMs, leave scattered holes in data read seconds ago.)
 *   3. on EAGAIN the sender waits for writability through the addon's epoll set (keyed by a
 *      per-operation id) and continues in a loop: continuations iterate, never recurse;
 *   4. socket.write is not called until the response is complete; then the dup is removed
 *      from the epoll set and closed. The dup keeps the socket's file description alive
 *      while an operation is in flight, so a socket destroyed meanwhile can neither be
 *      confused with a new fd of the same number nor make sendfile write elsewhere.
 * Bytes sent this way bypass socket.bytesWritten: they are counted in `directBytes` and in
 * sendStats. A file that turns out shorter than its region (truncated meanwhile) is padded
 * with zeros, which keeps the frame length promised in the size prefix; clients drop the
 * partial batch. A send error (peer reset, closed segment descriptor) destroys the socket.
 */
import * as fs from 'fs';
import type * as net from 'net';
import type { Chunk, FileRegion } from '../protocol/writer';
import type { Logger } from '../logging';
import { EAGAIN, SendfileAddon, cancelWait, newWaitId, prefetch, waitWritable } from './zero-copy';

/** Regions at least this large go out with sendfile; smaller ones are copied with the headers. */
export const SENDFILE_MIN = 64 * 1024;
/**
 * Bytes per sendfile call. On loopback one call keeps going while the reader drains, so a
 * 16 MiB region could hold the event loop for tens of milliseconds; after each slice the
 * sender yields (setImmediate) so that other connections are served in between.
 */
const SENDFILE_SLICE = 1024 * 1024;
/**
 * sendfile calls of at least this many bytes run on the thread pool (SAMSA_SENDFILE_THREAD=0:
 * never); smaller ones cost less than the round trip and run on the JS thread.
 */
const SENDFILE_ASYNC_MIN = process.env.SAMSA_SENDFILE_THREAD === '0' ? Infinity : 256 * 1024;
/** Zero-copy path: regions not wholly in the page cache are paged in and sent in pieces of this size. */
export const PREFETCH_CHUNK = 1024 * 1024;
/** Pieces paged in ahead of the one being sent. */
const PREFETCH_AHEAD = 4;
/** Copy path: regions at least this large are streamed in pieces of this size. */
export const COPY_CHUNK = 256 * 1024;
/** Copy path: bytes of small-region reads gathered before they are written. */
const RUN_LIMIT = 1024 * 1024;
/** Pooled COPY_CHUNK buffers kept for reuse across connections. */
const POOL_MAX = 16;
const ZEROS = Buffer.alloc(64 * 1024);

/** Process-wide counters of the send path (tests, bench, debug logs). */
export const sendStats = {
  /** Bytes sent by sendfile(2). */
  sendfileBytes: 0,
  /** Of those, bytes sent by sendfile calls on the thread pool. */
  sendfileThreadBytes: 0,
  /** Bytes written by the addon's writev(2) inside zero-copy responses (headers, small regions). */
  directWriteBytes: 0,
  /** Region bytes read into memory and written (copy path, cold or small regions). */
  copiedRegionBytes: 0,
  /** Responses sent on the zero-copy path. */
  zeroCopyResponses: 0,
  /** PREFETCH_CHUNK pieces of large regions that were paged in on the thread pool before sendfile. */
  prefetchedChunks: 0,
  /** EAGAIN waits for writability on the zero-copy path. */
  writableWaits: 0,
  /** Regions that came back short (file truncated) and were padded with zeros. */
  paddedRegions: 0,
};

class SendAborted extends Error {}

const pool: Buffer[] = [];

function takeChunkBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(COPY_CHUNK);
}

function returnChunkBuffer(b: Buffer): void {
  if (pool.length < POOL_MAX) pool.push(b);
}

export class ResponseSender {
  /** Bytes handed to the kernel outside socket.write (sendfile and the addon's writev). */
  directBytes = 0;
  private closed = false;
  private busy = false;
  private outstandingWrites = 0;
  private writesDrained: (() => void)[] = [];
  private drainWaiter: (() => void) | null = null;
  private idleWaiters: (() => void)[] = [];
  /** The zero-copy operation in flight: our dup of the socket fd and its wait id. */
  private dupFd = -1;
  private waitId = 0;
  private readonly onWriteDone = (): void => {
    this.outstandingWrites--;
    if (this.outstandingWrites === 0 && this.writesDrained.length > 0) this.wakeWritesDrained();
  };

  constructor(
    private readonly socket: net.Socket,
    private readonly log: Logger,
    /** For RWF_NOWAIT reads of small regions; null without the addon. */
    private readonly addon: SendfileAddon | null,
    /** sendfile allowed: the addon is loaded and this is a plain (not TLS) socket. */
    private readonly direct: boolean,
  ) {
    socket.on('drain', () => this.wakeDrain());
    socket.on('close', () => this.onClose());
  }

  /** Whether a response is being sent (Connection.close waits for it before ending the socket). */
  get isBusy(): boolean {
    return this.busy;
  }

  /** Resolves once no response is being sent. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Sends one response. Resolves when the next one may be sent: every region has been handed
   * to the kernel or read, and the socket is not over its high-water mark.
   */
  async send(chunks: Chunk[]): Promise<void> {
    if (this.closed) return;
    this.busy = true;
    try {
      if (this.direct && hasLargeRegion(chunks)) await this.sendDirect(chunks);
      else await this.sendViaSocket(chunks);
      if (this.socket.writableNeedDrain && !this.closed) await new Promise<void>((resolve) => (this.drainWaiter = resolve));
    } catch (err) {
      if (!(err instanceof SendAborted)) throw err;
    } finally {
      this.busy = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  // ---- copy path ----

  private async sendViaSocket(chunks: Chunk[]): Promise<void> {
    let run: (Buffer | Promise<Buffer>)[] = [];
    let runBytes = 0;
    let pendingReads = false;
    const flush = async () => {
      const buffers = pendingReads ? await Promise.all(run) : (run as Buffer[]);
      run = [];
      runBytes = 0;
      pendingReads = false;
      this.checkOpen();
      this.writeCorked(buffers);
      if (this.socket.writableNeedDrain) await this.drain();
    };
    for (const c of chunks) {
      if (Buffer.isBuffer(c)) {
        run.push(c);
        continue;
      }
      if (c.length < COPY_CHUNK) {
        const b = this.readSmall(c);
        if (!Buffer.isBuffer(b)) pendingReads = true;
        run.push(b);
        runBytes += c.length;
        if (runBytes >= RUN_LIMIT) await flush();
        continue;
      }
      if (run.length > 0) await flush();
      await this.streamRegion(c, (b) => this.writeAndWait(b));
    }
    if (run.length > 0) await flush();
  }

  private writeCorked(buffers: Buffer[]): void {
    if (buffers.length === 1) {
      this.write(buffers[0]);
      return;
    }
    this.socket.cork();
    for (const b of buffers) this.write(b);
    this.socket.uncork();
  }

  private write(b: Buffer, cb: () => void = this.onWriteDone): void {
    this.outstandingWrites++;
    this.socket.write(b, cb);
  }

  /** Writes and resolves at the write callback: the buffer may then be reused. */
  private writeAndWait(b: Buffer): Promise<void> {
    this.checkOpen();
    return new Promise<void>((resolve) =>
      this.write(b, () => {
        this.onWriteDone();
        resolve();
      }),
    );
  }

  /**
   * A region read whole: synchronously when the addon can read it without blocking (all
   * pages cached), else on the thread pool.
   */
  private readSmall(r: FileRegion): Buffer | Promise<Buffer> {
    const buf = Buffer.allocUnsafe(r.length);
    let filled = 0;
    if (this.addon) {
      const n = this.addon.preadNoWait(r.fd, buf, 0, r.length, r.position);
      if (n === r.length) {
        sendStats.copiedRegionBytes += n;
        return buf;
      }
      if (n > 0) filled = n;
    }
    return this.readInto(r, buf, 0, filled, r.length).then(() => buf);
  }

  /**
   * Reads region bytes [from, from + length) into buf[offset..], starting `filled` bytes in.
   * A short read (file truncated, descriptor closed) fills the rest with zeros and logs.
   */
  private readInto(r: FileRegion, buf: Buffer, offset: number, filled: number, length: number, from = 0): Promise<number> {
    return new Promise((resolve) => {
      const step = (done: number) => {
        if (done >= length) {
          sendStats.copiedRegionBytes += length;
          return resolve(length);
        }
        fs.read(r.fd, buf, offset + done, length - done, r.position + from + done, (err, n) => {
          if (err || n === 0) {
            this.log.warn('short read of a log segment', { error: err?.message, position: r.position + from + done });
            sendStats.paddedRegions++;
            buf.fill(0, offset + done, offset + length);
            return resolve(length);
          }
          step(done + n);
        });
      };
      step(filled);
    });
  }

  /**
   * Streams a region in COPY_CHUNK pieces through two pooled buffers; the read of the next
   * piece overlaps the write of the current one. `write` resolves when its buffer is free.
   */
  private async streamRegion(r: FileRegion, write: (b: Buffer) => Promise<void>): Promise<void> {
    const bufs = [takeChunkBuffer(), takeChunkBuffer()];
    let next: Promise<number> = this.readInto(r, bufs[0], 0, 0, Math.min(COPY_CHUNK, r.length), 0);
    let reading = true;
    try {
      let done = 0;
      let i = 0;
      while (done < r.length) {
        const n = await next;
        reading = false;
        const piece = bufs[i];
        done += n;
        if (done < r.length) {
          next = this.readInto(r, bufs[i ^ 1], 0, 0, Math.min(COPY_CHUNK, r.length - done), done);
          reading = true;
        }
        this.checkOpen();
        await write(n === piece.length ? piece : piece.subarray(0, n));
        i ^= 1;
      }
    } finally {
      // A read still running owns its buffer until it completes.
      if (reading) void next.then(() => bufs.forEach(returnChunkBuffer));
      else bufs.forEach(returnChunkBuffer);
    }
  }

  private drain(): Promise<void> {
    this.checkOpen();
    return new Promise<void>((resolve) => (this.drainWaiter = resolve));
  }

  // ---- zero-copy path ----

  private async sendDirect(chunks: Chunk[]): Promise<void> {
    await this.nodeQueueEmpty();
    const addon = this.addon as SendfileAddon;
    const fd = socketFd(this.socket);
    const dup = fd >= 0 ? addon.dup(fd) : -1;
    if (dup < 0) {
      // No descriptor to write to (a socket being torn down): the copy path handles it.
      await this.sendViaSocket(chunks);
      return;
    }
    this.dupFd = dup;
    this.waitId = newWaitId();
    sendStats.zeroCopyResponses++;
    try {
      let run: (Buffer | Promise<Buffer>)[] = [];
      let runBytes = 0;
      const flush = async () => {
        const buffers = await Promise.all(run);
        run = [];
        runBytes = 0;
        await this.writeDirect(buffers);
      };
      for (const c of chunks) {
        if (Buffer.isBuffer(c)) {
          run.push(c);
        } else if (c.length < SENDFILE_MIN) {
          run.push(this.readSmall(c));
          runBytes += c.length;
          if (runBytes >= RUN_LIMIT) await flush();
        } else {
          if (run.length > 0) await flush();
          await this.sendfileRegion(c);
        }
      }
      if (run.length > 0) await flush();
    } finally {
      const id = this.waitId;
      this.waitId = 0;
      this.dupFd = -1;
      cancelWait(id);
      addon.close(dup);
    }
  }

  /**
   * One sendfile call on the thread pool: the kernel's copy (on loopback also the receiving
   * side's TCP work) then runs beside the event loop. The dup and the segment descriptor stay
   * open until it returns: sendDirect closes the dup only after its last await, and segment
   * descriptors close after file.delete.delay.ms or at shutdown, after connections drained.
   */
  private sendfileOffThread(addon: SendfileAddon, fd: number, position: number, length: number): Promise<number> {
    return new Promise((resolve) => {
      const rc = addon.sendfileAsync!(this.dupFd, fd, position, length, resolve);
      if (rc < 0) resolve(rc);
    });
  }

  /** Until every byte socket.write accepted has reached the kernel (see the file comment). */
  private async nodeQueueEmpty(): Promise<void> {
    for (let spins = 0; ; spins++) {
      this.checkOpen();
      if (this.outstandingWrites > 0) {
        await new Promise<void>((resolve) => this.writesDrained.push(resolve));
        continue;
      }
      const handle = (this.socket as unknown as { _handle?: { writeQueueSize?: number } | null })._handle;
      if (this.socket.writableLength === 0 && (handle?.writeQueueSize ?? 0) === 0) return;
      // Not expected once all callbacks ran; poll rather than risk interleaving bytes.
      if (spins > 10000) throw new Error('socket write queue did not empty');
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async writeDirect(buffers: Buffer[]): Promise<void> {
    const addon = this.addon as SendfileAddon;
    let total = 0;
    for (const b of buffers) total += b.length;
    let sent = 0;
    while (sent < total) {
      this.checkOpen();
      const n = addon.writev(this.dupFd, buffers, sent);
      if (n > 0) {
        sent += n;
        this.countDirect(n);
        sendStats.directWriteBytes += n;
      } else if (n === -EAGAIN) {
        await this.waitWritable();
      } else {
        this.fail('writev', n);
      }
    }
  }

  private async sendfileRegion(r: FileRegion): Promise<void> {
    const addon = this.addon as SendfileAddon;
    const end = r.position + r.length;
    if (addon.resident(r.fd, r.position, r.length) === 1) {
      await this.sendfileRange(r.fd, r.position, end);
      return;
    }
    // Not wholly cached: piece by piece, each one paged in off the JS thread when needed, with
    // up to PREFETCH_AHEAD pieces paging in while the current one is sent.
    const ahead = new Map<number, Promise<number>>();
    let scheduled = r.position; // pieces before this were checked (and paged in if needed)
    for (let position = r.position; position < end; ) {
      while (scheduled < end && scheduled < position + (PREFETCH_AHEAD + 1) * PREFETCH_CHUNK) {
        const to = Math.min(end, scheduled + PREFETCH_CHUNK);
        if (addon.resident(r.fd, scheduled, to - scheduled) !== 1) ahead.set(scheduled, this.pageIn(r.fd, scheduled, to));
        scheduled = to;
      }
      const pieceEnd = Math.min(end, position + PREFETCH_CHUNK);
      const ready = ahead.get(position);
      if (ready) {
        ahead.delete(position);
        await ready;
      }
      if (!(await this.sendfileRange(r.fd, position, pieceEnd))) {
        // The file ended early: the rest of the region was padded already.
        await this.padZeros(end - pieceEnd);
        return;
      }
      position = pieceEnd;
    }
  }

  private pageIn(fd: number, from: number, to: number): Promise<number> {
    sendStats.prefetchedChunks++;
    return prefetch(this.addon as SendfileAddon, fd, from, to - from);
  }

  /**
   * sendfile of [from, to) until done; false if the file ended before `to` (the missing
   * bytes are then written as zeros so that the frame keeps its promised length).
   */
  private async sendfileRange(fd: number, from: number, to: number): Promise<boolean> {
    const addon = this.addon as SendfileAddon;
    let position = from;
    let sliceLeft = SENDFILE_SLICE;
    while (position < to) {
      this.checkOpen();
      if (sliceLeft <= 0) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        sliceLeft = SENDFILE_SLICE;
        continue;
      }
      const want = Math.min(to - position, sliceLeft);
      const offThread = want >= SENDFILE_ASYNC_MIN && addon.sendfileAsync !== undefined;
      const n = offThread ? await this.sendfileOffThread(addon, fd, position, want) : addon.sendfile(this.dupFd, fd, position, want);
      if (offThread && n > 0) sendStats.sendfileThreadBytes += n;
      if (n > 0) {
        position += n;
        sliceLeft -= n;
        this.countDirect(n);
        sendStats.sendfileBytes += n;
      } else if (n === 0) {
        this.log.warn('short read of a log segment', { position, missing: to - position });
        sendStats.paddedRegions++;
        await this.padZeros(to - position);
        return false;
      } else if (n === -EAGAIN) {
        await this.waitWritable();
        sliceLeft = SENDFILE_SLICE;
      } else {
        this.fail('sendfile', n);
      }
    }
    return true;
  }

  private async padZeros(length: number): Promise<void> {
    for (let left = length; left > 0; ) {
      const z = Math.min(left, ZEROS.length);
      await this.writeDirect([ZEROS.subarray(0, z)]);
      left -= z;
    }
  }

  /**
   * Bytes that bypassed socket.write: counted here (Connection reports them with
   * socket.bytesWritten), and they refresh the socket's idle timeout as a write would.
   */
  private countDirect(n: number): void {
    this.directBytes += n;
    (this.socket as unknown as { _unrefTimer?: () => void })._unrefTimer?.();
  }

  private async waitWritable(): Promise<void> {
    sendStats.writableWaits++;
    await waitWritable(this.addon as SendfileAddon, this.dupFd, this.waitId);
  }

  private fail(call: string, rc: number): never {
    const errno = -rc;
    // EPIPE, ECONNRESET: the peer is gone, as with any socket write error.
    if (errno === 32 || errno === 104) this.log.debug(`${call} failed, peer gone`, { errno });
    else this.log.warn(`${call} failed, closing connection`, { errno });
    this.socket.destroy();
    this.closed = true;
    throw new SendAborted(`${call}: errno ${errno}`);
  }

  // ---- lifecycle ----

  private checkOpen(): void {
    if (this.closed || this.socket.destroyed) {
      this.closed = true;
      throw new SendAborted('socket closed');
    }
  }

  private onClose(): void {
    this.closed = true;
    if (this.waitId) cancelWait(this.waitId);
    this.wakeDrain();
    this.wakeWritesDrained();
  }

  private wakeDrain(): void {
    const w = this.drainWaiter;
    this.drainWaiter = null;
    if (w) w();
  }

  private wakeWritesDrained(): void {
    const waiters = this.writesDrained;
    this.writesDrained = [];
    for (const w of waiters) w();
  }
}

function hasLargeRegion(chunks: Chunk[]): boolean {
  for (const c of chunks) if (!Buffer.isBuffer(c) && c.length >= SENDFILE_MIN) return true;
  return false;
}

function socketFd(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}
