/**
 * One client connection: framing, strictly ordered request processing, backpressure.
 *
 * Frames are 4-byte big-endian sizes followed by the request. As Kafka does, a connection
 * processes one request at a time and answers in arrival order: the next frame is decoded
 * only after the previous response was handed to the socket. That makes ordering trivial
 * and bounds memory per connection:
 *   - input: once more than MAX_QUEUED_BYTES of whole frames wait, the socket is paused;
 *   - output: responses go through a ResponseSender (response-sender.ts), which writes
 *     file regions with sendfile(2) when the optional addon is loaded (zero-copy.ts) or by
 *     bounded positional reads otherwise; processing continues once the response is handed
 *     to the kernel and the socket is under its high-water mark.
 * One exception to one-at-a-time: Produce requests queued behind a Produce whose writes are
 * in flight on the thread pool start at once (up to MAX_PIPELINED_PRODUCES), since the
 * partition log orders appends itself; their answers still go out in request order.
 * A frame with a negative size, one over max-request-bytes, an unknown API key, an
 * unsupported version (except ApiVersions, which answers with its v0 error form) or a
 * body that does not decode closes this connection with a log line; nothing else is affected.
 */
import type * as net from 'net';
import type * as tls from 'tls';
import { Reader, ProtocolError } from '../protocol/reader';
import { Writer } from '../protocol/writer';
import {
  API_VERSIONS_KEY,
  isFlexible,
  readHeaderRest,
  readHeaderStart,
  responseHeaderVersion,
  writeResponseHeader,
} from '../protocol/headers';
import { ErrorCode } from '../protocol/errors';
import { API_CODECS } from '../protocol/generated';
import { ConnectionInfo, NO_RESPONSE, NodeView, RequestContext } from './handler-registry';
import { ResponseSender } from './response-sender';
import { framePool, POOLED_FRAME_MIN_BYTES } from './frame-pool';
import { canReadInto, readInto } from './direct-reads';
import { zeroCopyAddon } from './zero-copy';
import type { ClusterState } from '../cluster/cluster-state';
import type { Logger } from '../logging';
import { ANONYMOUS, KafkaPrincipal, principalString } from '../security/principal';
import { isSaslProtocol, SecurityProtocol } from '../security/security';
import type { ListenerSpec } from './listeners';
import { SaslAuthenticator } from './sasl-authenticator';
import { applyRequestQuota } from '../quota/hooks';
import { DROP_CONNECTION } from '../faults/fault-engine';
import { normalizeIp } from '../quota/store';
import type { LimitedConnection, RequestMemory } from './connection-limits';

const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
const MAX_QUEUED_FRAMES = 1024;
const MAX_UNAUTHENTICATED_BYTES = 512 * 1024;
/** Produce requests of one connection handled at once (see pipelinesProduce). */
const MAX_PIPELINED_PRODUCES = 4;
const PRODUCE_KEY = 0;
/** Direct reads (direct-reads.ts): a connection's own area for reads that do not continue a large frame. */
const READ_AREA_BYTES = 8 * 1024;
/** A frame this large (more than one of Node's 64 KiB reads) switches its connection to direct reads. */
const DIRECT_READS_MIN_BYTES = 64 * 1024;

/**
 * A buffer for a frame of `n` bytes (its size field included) that starts with `first`: a
 * reused one for a large Produce (given back when its request is done, see requestDone), else a
 * new one.
 */
function frameBuffer(n: number, first: Buffer): Buffer {
  return (n >= POOLED_FRAME_MIN_BYTES && first.length >= 6 && first.readInt16BE(4) === PRODUCE_KEY && framePool.take(n)) || Buffer.allocUnsafe(n);
}

export class Connection implements ConnectionInfo, LimitedConnection {
  readonly remoteAddress: string;
  /** The peer's address without port, IPv4-mapped IPv6 unwrapped (per-ip limits). */
  readonly ip: string;
  /** Bumped when bytes arrive or a response goes out; the idle check watches it (no clock on the request path). */
  activity = 0;
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  readonly sasl: SaslAuthenticator | null;
  clientSoftware: { name: string; version: string } | null = null;
  private certificatePrincipal: KafkaPrincipal = ANONYMOUS;
  private closeAfterReply: string | null = null;
  private readonly log: Logger;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Direct reads: the area reads go to between frames (copied out: it is read into again). */
  private readArea: Buffer | null = null;
  /** Direct reads: the frame being read straight into its own buffer (the bytes after its first read). */
  private assembly: { buf: Buffer; filled: number } | null = null;
  /**
   * Direct reads: inside the read callback, the only place an assembly may start, since the
   * buffer asked for right after it is where the socket reads next (parseFrames also runs
   * from onMemoryRoom, when the socket's next read already goes to the area).
   */
  private inDirectRead = false;
  /** Inside a 'data' event (Node's reads): where a switch to direct reads may happen. */
  private inDataEvent = false;
  private readonly onDataEvent = (d: Buffer): void => {
    this.inDataEvent = true;
    try {
      this.onData(d);
    } finally {
      this.inDataEvent = false;
    }
  };
  private readonly frames: Buffer[] = [];
  private queuedBytes = 0;
  private processing = false;
  private closed = false;
  private paused = false;
  /** Quota throttling: no request is processed before this time (0: not muted). */
  private mutedUntil = 0;
  private readonly sender: ResponseSender;
  /** queued.max.request.bytes: the node's pool, what this connection holds of it, and whether it waits for room. */
  private readonly memory: RequestMemory;
  private reservedBytes = 0;
  /** Graceful shutdown: set by drain(), called once the received requests are answered. */
  private drained: (() => void) | null = null;
  private frameReserved = false;
  /** Set when the request being started got through decoding and its handler returned (see run). */
  private handlerStarted = false;
  private memoryPaused = false;
  private readonly onMemoryRoom = (): void => {
    this.memoryPaused = false;
    if (this.closed || this.drained) return;
    if (!this.paused) this.socket.resume();
    this.parseFrames();
  };

  constructor(
    private readonly socket: net.Socket,
    private readonly cluster: ClusterState,
    private readonly node: NodeView & { connectionClosed(conn: Connection): void; readonly requestMemory: RequestMemory },
    readonly id: number,
    listener: ListenerSpec,
  ) {
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.ip = normalizeIp(socket.remoteAddress ?? '');
    this.memory = node.requestMemory;
    this.listenerName = listener.name;
    this.securityProtocol = listener.securityProtocol;
    this.log = cluster.log.child({ conn: id, remote: this.remoteAddress, listener: listener.name });
    this.sasl = isSaslProtocol(listener.securityProtocol) ? new SaslAuthenticator(cluster.security, listener.name, this.log) : null;
    if (listener.securityProtocol === 'SSL') this.certificatePrincipal = this.principalFromCertificate(socket as tls.TLSSocket);
    socket.setNoDelay(true);
    const addon = zeroCopyAddon(cluster.log);
    // TLS sockets expose a raw fd too, but sendfile there would bypass the encryption.
    const plain = (socket as net.Socket & { encrypted?: boolean }).encrypted !== true;
    this.sender = new ResponseSender(socket, this.log, addon, addon !== null && plain);
    socket.on('data', this.onDataEvent);
    socket.on('error', (err) => this.log.debug('socket error', { error: err.message }));
    socket.on('close', () => {
      this.closed = true;
      if (this.memory.enabled) {
        this.memory.forget(this.onMemoryRoom);
        this.memory.release(this.reservedBytes);
        this.reservedBytes = 0;
      }
      this.checkDrained();
      this.log.debug('connection closed', { bytesWritten: socket.bytesWritten, zeroCopyBytes: this.sender.directBytes });
      node.connectionClosed(this);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A request is queued or being handled (never closed as idle then). */
  get busy(): boolean {
    return this.processing || this.frames.length > 0;
  }

  /** Bytes sent with sendfile(2), and through the socket's own writes (metrics). */
  get zeroCopyBytes(): number {
    return this.sender.directBytes;
  }

  get copiedBytes(): number {
    return this.socket.bytesWritten;
  }

  /** SASL's principal on SASL listeners, the client certificate's on SSL with client auth, else ANONYMOUS. */
  get principal(): KafkaPrincipal {
    return this.sasl ? (this.sasl.principal ?? ANONYMOUS) : this.certificatePrincipal;
  }

  closeAfterResponse(reason: string): void {
    this.closeAfterReply = reason;
  }

  throttle(ms: number): void {
    this.mutedUntil = Math.max(this.mutedUntil, Date.now() + ms);
  }

  private principalFromCertificate(socket: tls.TLSSocket): KafkaPrincipal {
    const cert = socket.getPeerX509Certificate();
    if (!cert) return ANONYMOUS;
    if (!socket.authorized) {
      // ssl.client.auth=requested lets Node finish a handshake with an untrusted certificate;
      // Java's TLS (and so Kafka) refuses it, so this connection ends here.
      this.log.info('client certificate not trusted, closing connection', { error: String(socket.authorizationError) });
      socket.destroy();
      return ANONYMOUS;
    }
    try {
      const principal = this.cluster.security.certificatePrincipal(this.listenerName, cert);
      this.log.info('client certificate accepted', { principal: principalString(principal) });
      return principal;
    } catch (err) {
      // No ssl.principal.mapping.rules rule matched: Kafka fails the authentication.
      this.log.info('client certificate refused', { error: (err as Error).message });
      socket.destroy();
      return ANONYMOUS;
    }
  }

  /** `quiet`: an expected close (idle connections), logged at debug level as Kafka does. */
  close(reason: string, quiet = false): void {
    if (this.closed) return;
    if (quiet) this.log.debug('closing connection', { reason });
    else this.log.warn('closing connection', { reason });
    this.closed = true;
    // Never end the socket under a sendfile in flight: the shutdown would cut the frame.
    void this.sender.whenIdle().then(() => this.socket.end());
    // A peer that never reads would hold the socket open forever.
    setTimeout(() => this.socket.destroy(), 5000).unref();
  }

  /**
   * Graceful shutdown: reads nothing more, answers the requests already received (a request
   * still arriving is dropped), then ends the socket. Resolves once that is done or the
   * connection closed.
   */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      this.drained = resolve;
      this.socket.pause();
      this.checkDrained();
    });
  }

  private checkDrained(): void {
    const done = this.drained;
    if (!done || (this.processing && !this.closed) || (this.frames.length > 0 && !this.closed)) return;
    this.drained = null;
    if (this.closed) return done();
    this.closed = true;
    void this.sender.whenIdle().then(() => {
      this.socket.end();
      done();
    });
  }

  destroy(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** Direct reads: where the next read goes (the rest of the frame being assembled, else the area). */
  private nextReadBuffer(): Buffer {
    const a = this.assembly;
    if (a) return a.buf.subarray(a.filled);
    return (this.readArea ??= Buffer.allocUnsafeSlow(READ_AREA_BYTES));
  }

  private onDirectRead(bytes: number, buffer: Buffer): void {
    if (this.closed) return;
    const a = this.assembly;
    if (a && buffer.buffer === a.buf.buffer && buffer.byteOffset === a.buf.byteOffset + a.filled) {
      this.activity++;
      a.filled += bytes;
      if (a.filled < a.buf.length) return;
      this.assembly = null;
      this.frameArrived(a.buf.subarray(4));
      this.parseFrames();
      return;
    }
    const copy = Buffer.allocUnsafe(bytes);
    buffer.copy(copy, 0, 0, bytes);
    this.inDirectRead = true;
    try {
      this.onData(copy);
    } finally {
      this.inDirectRead = false;
    }
  }

  /**
   * Direct reads: the rest of an incomplete frame will be read straight into its buffer (a
   * reused one for a large Produce, see frame-pool.ts). `pending` holds only its first bytes.
   */
  private startAssembly(n: number): void {
    const first = this.pending[0];
    const buf = frameBuffer(n, first);
    let filled = 0;
    for (const c of this.pending) {
      c.copy(buf, filled);
      filled += c.length;
    }
    this.pending = [];
    this.pendingBytes = 0;
    this.assembly = { buf, filled };
  }

  /**
   * The first large frame of a plain TCP connection: its rest, and everything after it, is
   * read through direct reads (direct-reads.ts). Only from a 'data' event: the socket's next
   * read then goes where nextReadBuffer() says.
   */
  private switchToDirectReads(n: number): void {
    if (!canReadInto(this.socket)) return;
    this.startAssembly(n);
    if (readInto(this.socket, () => this.nextReadBuffer(), (bytes, buffer) => this.onDirectRead(bytes, buffer))) {
      this.socket.off('data', this.onDataEvent);
      return;
    }
    // Not expected after canReadInto(); if so, Node's reads go on and the bytes go back.
    const a = this.assembly as { buf: Buffer; filled: number };
    this.assembly = null;
    this.pending = [a.buf.subarray(0, a.filled)];
    this.pendingBytes = a.filled;
  }

  private frameArrived(frame: Buffer): void {
    this.frameReserved = false;
    this.frames.push(frame);
    this.queuedBytes += frame.length;
  }

  private onData(d: Buffer): void {
    if (this.closed) return;
    this.activity++;
    this.pending.push(d);
    this.pendingBytes += d.length;
    this.parseFrames();
  }

  private parseFrames(): void {
    try {
      this.parseQueuedBytes();
    } catch (err) {
      // Runs in socket callbacks, where a throw would end the process: only this connection ends.
      // (A frame's buffer is allocated when its size arrives; the allocation can fail.)
      this.log.warn('could not take a request in, closing connection', { error: (err as Error).message });
      this.destroy();
    }
  }

  private parseQueuedBytes(): void {
    // Before authentication a SASL client gets Kafka's small frame limit (sasl.server.max.receive.size).
    const maxRequestBytes = this.sasl && this.sasl.principal === null ? Math.min(MAX_UNAUTHENTICATED_BYTES, this.cluster.config.maxRequestBytes) : this.cluster.config.maxRequestBytes;
    while (this.pendingBytes >= 4) {
      const size = this.peekSize();
      if (size < 0 || size > maxRequestBytes) {
        this.log.warn('invalid frame size, closing connection', { size, maxRequestBytes });
        this.destroy();
        return;
      }
      if (this.memory.enabled && !this.frameReserved) {
        // queued.max.request.bytes: only between requests does a connection stop reading.
        if (!this.memory.reserve(4 + size)) {
          this.waitForMemory();
          break;
        }
        this.frameReserved = true;
        this.reservedBytes += 4 + size;
      }
      if (this.pendingBytes < 4 + size) {
        if (!this.assembly) {
          if (this.inDirectRead) this.startAssembly(4 + size);
          else if (this.inDataEvent && 4 + size >= DIRECT_READS_MIN_BYTES) this.switchToDirectReads(4 + size);
        }
        break;
      }
      this.frameArrived(this.take(4 + size).subarray(4));
    }
    if (!this.paused && (this.queuedBytes > MAX_QUEUED_BYTES || this.frames.length > MAX_QUEUED_FRAMES)) {
      this.paused = true;
      this.socket.pause();
    }
    if (!this.processing) void this.run();
  }

  private waitForMemory(): void {
    if (this.memoryPaused) return;
    this.memoryPaused = true;
    this.socket.pause();
    this.log.debug('queued.max.request.bytes reached, reading paused', { heldBytes: this.memory.heldBytes });
    this.memory.waitForRoom(this.onMemoryRoom);
  }

  private peekSize(): number {
    const first = this.pending[0];
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.pending, Math.min(4, this.pendingBytes)).subarray(0, 4);
    return head.readInt32BE(0);
  }

  private take(n: number): Buffer {
    const first = this.pending[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    } else {
      out = frameBuffer(n, first);
      let filled = 0;
      while (filled < n) {
        const c = this.pending[0];
        const want = n - filled;
        if (c.length <= want) {
          c.copy(out, filled);
          filled += c.length;
          this.pending.shift();
        } else {
          c.copy(out, filled, 0, want);
          filled += want;
          this.pending[0] = c.subarray(want);
        }
      }
    }
    this.pendingBytes -= n;
    return out;
  }

  private async run(): Promise<void> {
    this.processing = true;
    /** Produce requests started before the previous ones were answered (oldest first). */
    let pipelined: Promise<void>[] = [];
    try {
      while (this.frames.length > 0 && !this.closed) {
        const frame = this.frames.shift() as Buffer;
        this.queuedBytes -= frame.length;
        if (this.paused && this.queuedBytes < MAX_QUEUED_BYTES / 2 && this.frames.length < MAX_QUEUED_FRAMES / 2) {
          this.paused = false;
          if (!this.memoryPaused && !this.drained) this.socket.resume();
        }
        if (this.mutedUntil !== 0) {
          // Muted by a quota (KIP-219): the response went out, the next request waits.
          const wait = this.mutedUntil - Date.now();
          this.mutedUntil = 0;
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
          if (this.closed) break;
        }
        const previous = pipelined.length > 0 ? pipelined[pipelined.length - 1] : null;
        this.handlerStarted = false;
        const own = this.handleFrame(frame, previous);
        // Done when its answer is out and every earlier one's too (an acks=0 request sends none).
        const handled = (previous ? Promise.all([own, previous]) : own).then(() => this.requestDone(frame));
        // Only a request whose handler is running lets the next one start: one that failed to
        // decode ends the connection, and nothing behind it may have been appended.
        const started = this.handlerStarted;
        if (started && pipelined.length < MAX_PIPELINED_PRODUCES - 1 && this.frames.length > 0 && this.pipelinesProduce(frame) && this.pipelinesProduce(this.frames[0])) {
          // The next Produce starts (validation, its own partitions' writes) while this one's
          // writes are on the thread pool; answers still go out in order (handleFrame waits).
          handled.catch(() => undefined); // observed below, when the pipeline is drained
          pipelined.push(handled);
          continue;
        }
        await handled;
        for (const earlier of pipelined) await earlier;
        pipelined = [];
      }
      for (const earlier of pipelined) await earlier;
    } catch (err) {
      if (err instanceof ProtocolError) {
        this.log.warn('malformed request, closing connection', { error: err.message });
      } else {
        this.log.error('request failed, closing connection', { error: (err as Error).stack ?? String(err) });
      }
      this.destroy();
    } finally {
      this.processing = false;
      this.checkDrained();
    }
  }

  private requestDone(frame: Buffer): void {
    this.activity++;
    framePool.give(frame); // a no-op for frames that are not the pool's
    // After close, the close handler gave back everything the connection held.
    if (this.memory.enabled && !this.closed) {
      this.reservedBytes -= 4 + frame.length;
      this.memory.release(4 + frame.length);
    }
  }

  /**
   * Whether this request may start before the one ahead of it is answered: Produce only
   * (the partition log orders its appends), and not while quotas, injected faults or a raw
   * SASL exchange make the order of work matter.
   */
  private pipelinesProduce(frame: Buffer): boolean {
    return frame.length >= 2 && frame.readInt16BE(0) === PRODUCE_KEY && !this.cluster.quotas.active && !this.cluster.faults.active && !this.sasl?.expectsRawToken && this.mutedUntil === 0;
  }

  /** `previous`: a pipelined request whose answer must be sent before this one's. */
  private async handleFrame(frame: Buffer, previous: Promise<void> | null): Promise<void> {
    const sasl = this.sasl;
    if (sasl?.expectsRawToken) {
      // After SaslHandshake v0 the client sends bare SASL tokens, answered the same way.
      const reply = sasl.rawToken(frame);
      if (reply === null) {
        this.close('SASL authentication failed');
        return;
      }
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(reply.length, 0);
      await this.sender.send([size, reply]);
      return;
    }
    const r = new Reader(frame);
    const { apiKey, apiVersion, correlationId } = readHeaderStart(r);
    const registry = this.node.registry;
    const refusal = sasl?.refusal(apiKey);
    if (refusal) {
      // Kafka answers nothing before authentication: it closes the connection.
      this.close(refusal);
      return;
    }
    const api = registry.get(apiKey);
    if (!api) {
      this.close(`unknown API key ${apiKey}`);
      return;
    }
    if (!registry.supports(apiKey, apiVersion)) {
      if (apiKey === API_VERSIONS_KEY) {
        // Clients send their newest ApiVersions; the v0-form error tells them what we speak.
        await this.sendResponse(correlationId, API_VERSIONS_KEY, 0, false, {
          errorCode: ErrorCode.UNSUPPORTED_VERSION,
          apiKeys: registry.versions(),
        });
        return;
      }
      this.close(`unsupported version ${apiVersion} of ${api.codec.name}`);
      return;
    }
    const flexible = isFlexible(api.codec, apiVersion);
    const clientId = readHeaderRest(r, flexible);
    const decode = api.codec.decodeRequest[apiVersion];
    if (!decode) throw new ProtocolError(`no decoder for ${api.codec.name} v${apiVersion}`);
    const request = decode(r);
    const ctx: RequestContext = {
      header: { apiKey, apiVersion, correlationId, clientId },
      requestBytes: frame.length,
      cluster: this.cluster,
      node: this.node,
      connection: this,
    };
    // request_percentage counts the handler's time on the event loop; one check when no quota is set.
    const started = this.cluster.quotas.active ? performance.now() : -1;
    const metrics = this.cluster.metrics;
    const measured = metrics === null ? 0 : performance.now();
    // Injected faults (src/faults/): one check when none is set.
    let result = this.cluster.faults.active ? this.cluster.faults.intercept(ctx, request, this.topicName, (req) => api.handler.handle(ctx, req)) : api.handler.handle(ctx, request);
    this.handlerStarted = true;
    const handlerMs = started < 0 ? 0 : performance.now() - started;
    if (result instanceof Promise) result = await result;
    if (result === DROP_CONNECTION) {
      this.log.info('connection dropped by an injected fault', { apiKey, correlationId });
      this.destroy();
      return;
    }
    if (result === NO_RESPONSE || this.closed) {
      metrics?.request(apiKey, apiVersion, measured, null);
      return;
    }
    if (started >= 0) applyRequestQuota(ctx, result, handlerMs);
    if (previous) {
      await previous;
      if (this.closed) return;
    }
    await this.sendResponse(correlationId, apiKey, apiVersion, flexible, result);
    metrics?.request(apiKey, apiVersion, measured, result);
    if (this.closeAfterReply !== null) this.close(this.closeAfterReply);
  }

  private readonly topicName = (topicId: string): string | undefined => this.cluster.topics.getById(topicId)?.name;

  private async sendResponse(correlationId: number, apiKey: number, version: number, flexible: boolean, body: unknown) {
    // 1 KiB comes from Buffer's shared pool; the writer grows by adding chunks, never copying.
    const w = new Writer(1024);
    w.int32(0); // the size prefix, filled in below
    writeResponseHeader(w, correlationId, responseHeaderVersion(apiKey, flexible));
    const encode = API_CODECS[apiKey]?.encodeResponse[version];
    if (!encode) throw new Error(`no encoder for API ${apiKey} v${version}`);
    encode(w, body);
    const size = w.length - 4;
    const chunks = w.finish();
    // The first chunk is the writer's first scratch buffer, which starts with the prefix.
    (chunks[0] as Buffer).writeInt32BE(size, 0);
    await this.sender.send(chunks);
  }
}
