/**
 * A minimal Kafka client for the bench's scale figures (many partitions, many connections),
 * on Samsa's own generated codecs: encode a request, send it, match responses by order.
 * Requests on one connection are answered in order, so a FIFO of waiters suffices.
 */
import * as net from 'net';
import * as tls from 'tls';
import { API_CODECS } from '../src/protocol/generated';
import { isFlexible, writeRequestHeader } from '../src/protocol/headers';
import { Reader } from '../src/protocol/reader';
import { Writer } from '../src/protocol/writer';
import { FrameQueue } from '../src/protocol/frame-queue';

export function encodeRequest(apiKey: number, version: number, body: object, correlationId: number): Buffer {
  const codec = API_CODECS[apiKey];
  const encode = codec?.encodeRequest[version];
  if (!codec || !encode) throw new Error(`no encoder for API ${apiKey} v${version}`);
  const w = new Writer(256);
  w.int32(0);
  writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: 'samsa-bench' }, isFlexible(codec, version));
  encode(w, body);
  const b = w.toBuffer();
  b.writeInt32BE(b.length - 4, 0);
  return b;
}

export function decodeResponse<T = any>(apiKey: number, version: number, frame: Buffer): T {
  const codec = API_CODECS[apiKey];
  const decode = codec?.decodeResponse[version];
  if (!codec || !decode) throw new Error(`no decoder for API ${apiKey} v${version}`);
  const r = new Reader(frame);
  r.int32(); // correlation id
  if (isFlexible(codec, version) && apiKey !== 18) r.skipTaggedFields();
  return decode(r) as T;
}

export class WireClient {
  private readonly frames = new FrameQueue();
  private waiters: { resolve: (f: Buffer) => void; reject: (e: Error) => void }[] = [];
  private nextId = 1;
  private closedError: Error | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** With `tlsCa` (PEM of the CA to trust) the connection is TLS, resolved after the handshake. */
  static connect(port: number, timeoutMs = 10_000, tlsCa: Buffer | null = null): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const s: net.Socket = tlsCa ? tls.connect({ port, host: '127.0.0.1', ca: tlsCa }) : net.connect({ port, host: '127.0.0.1' });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error('connect timed out'));
      }, timeoutMs);
      s.once(tlsCa ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        resolve(new WireClient(s));
      });
      s.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Sends a request; resolves with its decoded response. */
  async request<T = any>(apiKey: number, version: number, body: object): Promise<T> {
    const frame = await this.requestRaw(encodeRequest(apiKey, version, body, this.nextId++));
    return decodeResponse<T>(apiKey, version, frame);
  }

  /** Sends encoded request bytes; resolves with the response frame (without size prefix). */
  requestRaw(bytes: Buffer): Promise<Buffer> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.socket.write(bytes);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private readonly onFrame = (frame: Buffer): void => this.waiters.shift()?.resolve(frame);

  private onData(d: Buffer): void {
    this.frames.push(d, this.onFrame);
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(err);
  }
}
