/**
 * A minimal Kafka client over a raw socket, built on Samsa's generated codecs: for tests
 * that must send exact bytes (bad input, specific versions) and read exact answers.
 */
import * as net from 'net';
import * as tls from 'tls';
import { API_CODECS } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';
import { Writer } from '../../src/protocol/writer';
import { isFlexible, writeRequestHeader } from '../../src/protocol/headers';
import { FrameQueue } from '../../src/protocol/frame-queue';

export class RawClient {
  private readonly frames = new FrameQueue();
  private waiters: ((frame: Buffer) => void)[] = [];
  private correlationId = 1;
  readonly closed: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.frames.push(d, (frame) => this.waiters.shift()?.(frame)));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
  }

  /** `localAddress` picks the source address (e.g. 127.0.0.2, another loopback address, for per-ip limits). */
  static connect(port: number, localAddress?: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** A TLS connection (SSL and SASL_SSL listeners). */
  static connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ...options }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  /** Resolves with the next response frame (without its size prefix). */
  nextFrame(): Promise<Buffer> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  encodeRequest(apiKey: number, version: number, body: object, correlationId = this.correlationId++): Buffer {
    const codec = API_CODECS[apiKey]!;
    const w = new Writer();
    writeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: 'raw-test' }, isFlexible(codec, version));
    codec.encodeRequest[version]!(w, body);
    const payload = w.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(payload.length);
    return Buffer.concat([size, payload]);
  }

  /** Sends a request and decodes its response (header v0 or v1 as the API version says). */
  async request<T = any>(apiKey: number, version: number, body: object): Promise<{ correlationId: number; body: T }> {
    const codec = API_CODECS[apiKey]!;
    const frame = this.nextFrame();
    this.writeRaw(this.encodeRequest(apiKey, version, body));
    const r = new Reader(await frame);
    const correlationId = r.int32();
    if (isFlexible(codec, version) && apiKey !== 18) r.skipTaggedFields();
    const decoded = codec.decodeResponse[version]!(r) as T;
    return { correlationId, body: decoded };
  }

  close(): void {
    this.socket.destroy();
  }
}
