/**
 * One connection to one broker: framing, request/response matching by correlation id,
 * optional TLS, SASL (PLAIN, SCRAM-SHA-256/512) and ApiVersions negotiation, so callers
 * ask for "the newest version up to N this broker speaks".
 */
import * as net from 'net';
import * as tls from 'tls';
import { API_CODECS } from '../protocol/generated';
import { isFlexible, writeRequestHeader } from '../protocol/headers';
import { Reader } from '../protocol/reader';
import { Writer } from '../protocol/writer';
import { ClientError, errorLabel } from './errors';
import { scramExchange } from './scram';
import { FrameQueue } from '../protocol/frame-queue';

export interface SaslOptions {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

export interface ConnectionOptions {
  clientId?: string;
  /** TLS when set; `ca` (PEM) replaces the system trust store when given. */
  tls?: { ca?: Buffer; rejectUnauthorized?: boolean; verifyHostname?: boolean; servername?: string } | null;
  sasl?: SaslOptions | null;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

interface Pending {
  apiKey: number;
  version: number;
  resolve: (v: any) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
}

export class Connection {
  private readonly frames = new FrameQueue();
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private closedError: Error | null = null;
  /** apiKey -> [min, max] the broker speaks. */
  private versions = new Map<number, [number, number]>();

  private constructor(
    private readonly socket: net.Socket,
    readonly host: string,
    readonly port: number,
    private readonly opts: ConnectionOptions,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new ClientError(`connection to ${host}:${port} closed`)));
  }

  static async open(host: string, port: number, opts: ConnectionOptions = {}): Promise<Connection> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const t = opts.tls;
      const s: net.Socket = t
        ? tls.connect({
            host,
            port,
            ca: t.ca,
            rejectUnauthorized: t.rejectUnauthorized ?? true,
            servername: t.servername ?? (net.isIP(host) ? undefined : host),
            // ssl.endpoint.identification.algorithm= (empty) keeps the chain check but not the name check.
            ...(t.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
          })
        : net.connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ClientError(`cannot reach ${host}:${port}: connection timed out`, { hint: 'check --bootstrap-server and that the broker is running' }));
      }, opts.connectTimeoutMs ?? 10_000);
      s.once(t ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const what = err.code === 'ECONNREFUSED' ? 'connection refused' : err.message;
        reject(new ClientError(`cannot reach ${host}:${port}: ${what}`, { hint: t ? 'check --bootstrap-server, --tls-ca and that the listener speaks TLS' : 'check --bootstrap-server and that the broker is running' }));
      });
    });
    const conn = new Connection(socket, host, port, opts);
    try {
      await conn.negotiate();
      if (opts.sasl) await conn.authenticate(opts.sasl);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  private async negotiate(): Promise<void> {
    // v3 is flexible and sends the client software name; brokers that do not speak it
    // answer UNSUPPORTED_VERSION with their own list, which v0 decoding reads.
    let res = await this.send(18, 3, { clientSoftwareName: 'samsa-cli', clientSoftwareVersion: '0.1.0' }).catch(() => null);
    if (!res || res.errorCode === 35) res = await this.send(18, 0, {});
    if (res.errorCode !== 0) throw new ClientError(`ApiVersions failed: ${errorLabel(res.errorCode)}`, { code: res.errorCode });
    for (const k of res.apiKeys as { apiKey: number; minVersion: number; maxVersion: number }[]) this.versions.set(k.apiKey, [k.minVersion, k.maxVersion]);
  }

  private async authenticate(sasl: SaslOptions): Promise<void> {
    const hs = await this.request(17, 1, { mechanism: sasl.mechanism });
    if (hs.errorCode !== 0) {
      throw new ClientError(`SASL handshake for ${sasl.mechanism} failed: ${errorLabel(hs.errorCode)} (broker offers ${(hs.mechanisms as string[]).join(', ') || 'none'})`, {
        code: hs.errorCode,
        hint: 'pick one of the offered mechanisms with --sasl-mechanism, or connect to a SASL listener',
      });
    }
    const step = async (token: Buffer): Promise<Buffer> => {
      const r = await this.request(36, 2, { authBytes: token });
      if (r.errorCode !== 0) {
        throw new ClientError(`SASL authentication failed: ${errorLabel(r.errorCode)}${r.errorMessage ? `: ${r.errorMessage}` : ''}`, {
          code: r.errorCode,
          hint: 'check --sasl-username/--sasl-password (or sasl.jaas.config) and the mechanism',
        });
      }
      return r.authBytes as Buffer;
    };
    if (sasl.mechanism === 'PLAIN') await step(Buffer.from(`\0${sasl.username}\0${sasl.password}`));
    else await scramExchange(sasl.mechanism, sasl.username, sasl.password, step);
  }

  /** The version to use: the highest both sides speak, at most `preferred`. */
  version(apiKey: number, preferred: number): number {
    const range = this.versions.get(apiKey);
    const codec = API_CODECS[apiKey];
    if (!range || !codec) throw new ClientError(`the broker at ${this.host}:${this.port} does not support ${codec?.name ?? `API ${apiKey}`}`, { code: 35 });
    const v = Math.min(preferred, range[1], codec.maxVersion);
    if (v < range[0]) throw new ClientError(`the broker at ${this.host}:${this.port} needs ${codec.name} v${range[0]}+, this client speaks up to v${preferred}`, { code: 35 });
    return v;
  }

  supports(apiKey: number): boolean {
    return this.versions.has(apiKey);
  }

  apiVersions(): Map<number, [number, number]> {
    return this.versions;
  }

  /** Sends `body` at the negotiated version (<= preferred); resolves with the decoded response. */
  request<T = any>(apiKey: number, preferred: number, body: object, opts: { timeoutMs?: number; noResponse?: boolean } = {}): Promise<T> {
    return this.send(apiKey, this.versions.size ? this.version(apiKey, preferred) : preferred, body, opts);
  }

  private send(apiKey: number, version: number, body: object, opts: { timeoutMs?: number; noResponse?: boolean } = {}): Promise<any> {
    if (this.closedError) return Promise.reject(this.closedError);
    const codec = API_CODECS[apiKey];
    const encode = codec?.encodeRequest[version];
    if (!codec || !encode) return Promise.reject(new ClientError(`no encoder for API ${apiKey} v${version}`));
    const id = this.nextId++;
    const w = new Writer(256);
    w.int32(0);
    writeRequestHeader(w, { apiKey, apiVersion: version, correlationId: id, clientId: this.opts.clientId ?? 'samsa-cli' }, isFlexible(codec, version));
    encode(w, body);
    const frame = w.toBuffer();
    frame.writeInt32BE(frame.length - 4, 0);
    if (opts.noResponse) {
      this.socket.write(frame);
      return Promise.resolve(null);
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.opts.requestTimeoutMs ?? 30_000;
      const timer = timeoutMs > 0
        ? setTimeout(() => {
            this.pending.delete(id);
            reject(new ClientError(`${codec.name} to ${this.host}:${this.port} timed out after ${timeoutMs} ms`, { code: 7 }));
          }, timeoutMs)
        : null;
      this.pending.set(id, { apiKey, version, resolve, reject, timer });
      this.socket.write(frame);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private readonly onFrame = (frame: Buffer): void => this.dispatch(frame);

  private onData(d: Buffer): void {
    try {
      this.frames.push(d, this.onFrame);
    } catch (err) {
      this.fail(new ClientError(`bad response framing: ${(err as Error).message}`));
      this.socket.destroy();
    }
  }

  private dispatch(frame: Buffer): void {
    const id = frame.readInt32BE(0);
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    try {
      const codec = API_CODECS[p.apiKey]!;
      const r = new Reader(frame);
      r.int32();
      // ApiVersions answers always carry header v0 (so old clients can read them).
      if (isFlexible(codec, p.version) && p.apiKey !== 18) r.skipTaggedFields();
      p.resolve(codec.decodeResponse[p.version]!(r));
    } catch (err) {
      p.reject(new ClientError(`cannot decode the ${API_CODECS[p.apiKey]?.name} response: ${(err as Error).message}`));
    }
  }

  private fail(err: Error): void {
    if (!this.closedError) this.closedError = err;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(this.closedError);
    }
  }
}
