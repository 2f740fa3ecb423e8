/**
 * Handler registry: one handler per API key, each declaring the versions it serves.
 * ApiVersions answers from this registry, so what Samsa advertises is exactly what is
 * registered (a handler whose codec lacks a version cannot claim it).
 */
import { API_CODECS, ApiCodec } from '../protocol/generated';
import { RequestHeader } from '../protocol/headers';
import type { ClusterState } from '../cluster/cluster-state';
import type { KafkaPrincipal } from '../security/principal';
import type { SecurityProtocol } from '../security/security';
import type { SaslAuthenticator } from './sasl-authenticator';

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no-response');

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly isClosed: boolean;
  /** The listener the connection came in on (e.g. "PLAINTEXT", "SASL_SSL") and its protocol. */
  readonly listenerName: string;
  readonly securityProtocol: SecurityProtocol;
  /** Who is on the other end: User:ANONYMOUS until SASL or a client certificate says otherwise. */
  readonly principal: KafkaPrincipal;
  /** Closes the connection after the pending responses are written. */
  close(reason: string): void;
  /** Closes the connection once the response to the current request is written. */
  closeAfterResponse(reason: string): void;
  /** Quota throttling (KIP-219): the connection reads no further request for this long after answering. */
  throttle(ms: number): void;
  /** The SASL state on SASL listeners; null elsewhere. */
  readonly sasl: SaslAuthenticator | null;
  /** The client's software name and version from its ApiVersions request (v3+, KIP-511). */
  clientSoftware?: { name: string; version: string } | null;
}

/** What a handler may know of the node the request arrived at. */
export interface NodeView {
  readonly id: number;
  /** The APIs and versions this node serves (ApiVersions). */
  readonly registry: HandlerRegistry;
  /** Where clients that came in on a listener are told to connect (Metadata, FindCoordinator, DescribeCluster). */
  advertisedEndpoint(listenerName: string): { host: string; port: number };
}

export interface RequestContext {
  readonly header: RequestHeader;
  /** Size of the request frame (after its length prefix), what producer_byte_rate counts. */
  readonly requestBytes: number;
  /** State shared by every node: topics, coordinators, security, quotas. */
  readonly cluster: ClusterState;
  /** The node that received the request. */
  readonly node: NodeView;
  readonly connection: ConnectionInfo;
}

export type HandlerResult<Res> = Res | typeof NO_RESPONSE;

export interface Handler<Req = any, Res = any> {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
  handle(ctx: RequestContext, request: Req): HandlerResult<Res> | Promise<HandlerResult<Res>>;
}

export interface RegisteredApi {
  readonly codec: ApiCodec;
  /** The versions served (what ApiVersions advertises). */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** The handler; its module is required on first access (see registerLazy). */
  readonly handler: Handler;
}

/** A registered API; a lazily registered one requires its handler module on first access. */
class ApiEntry implements RegisteredApi {
  private loaded: Handler | null;

  constructor(
    readonly codec: ApiCodec,
    readonly minVersion: number,
    readonly maxVersion: number,
    private readonly load: (() => Handler) | null,
    handler: Handler | null,
  ) {
    this.loaded = handler;
  }

  get handler(): Handler {
    return this.loaded ?? (this.loaded = this.checked(this.load!()));
  }

  get isLoaded(): boolean {
    return this.loaded !== null;
  }

  private checked(handler: Handler): Handler {
    if (handler.apiKey !== this.codec.key || handler.minVersion !== this.minVersion || handler.maxVersion !== this.maxVersion) {
      throw new Error(
        `${this.codec.name} handler declares key ${handler.apiKey} v${handler.minVersion}-${handler.maxVersion}, registered as key ${this.codec.key} v${this.minVersion}-${this.maxVersion}`,
      );
    }
    return handler;
  }
}

export class HandlerRegistry {
  private readonly byKey: (ApiEntry | undefined)[] = [];
  private warming: NodeJS.Immediate | null = null;

  register(handler: Handler): void {
    this.add(handler.apiKey, handler.minVersion, handler.maxVersion, null, handler);
  }

  /**
   * Registers an API whose handler module is required when a request first needs it (or by
   * warmUp), so that a broker listens without compiling every handler and what it imports.
   * The versions are declared here because ApiVersions must not load anything; the loaded
   * handler must declare the same ones.
   */
  registerLazy(apiKey: number, minVersion: number, maxVersion: number, load: () => Handler): void {
    this.add(apiKey, minVersion, maxVersion, load, null);
  }

  private add(apiKey: number, minVersion: number, maxVersion: number, load: (() => Handler) | null, handler: Handler | null): void {
    const codec = API_CODECS[apiKey];
    if (!codec) throw new Error(`no protocol definition for API key ${apiKey}`);
    if (minVersion < codec.minVersion || maxVersion > codec.maxVersion) {
      throw new Error(`${codec.name} handler claims v${minVersion}-${maxVersion}, codec has v${codec.minVersion}-${codec.maxVersion}`);
    }
    if (this.byKey[apiKey]) throw new Error(`${codec.name} registered twice`);
    this.byKey[apiKey] = new ApiEntry(codec, minVersion, maxVersion, load, handler);
  }

  get(apiKey: number): RegisteredApi | undefined {
    return apiKey >= 0 ? this.byKey[apiKey] : undefined;
  }

  supports(apiKey: number, version: number): boolean {
    const api = this.get(apiKey);
    return !!api && version >= api.minVersion && version <= api.maxVersion;
  }

  /** What ApiVersions advertises, in key order. */
  versions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    const out: { apiKey: number; minVersion: number; maxVersion: number }[] = [];
    this.byKey.forEach((api, key) => {
      if (api) out.push({ apiKey: key, minVersion: api.minVersion, maxVersion: api.maxVersion });
    });
    return out;
  }

  /**
   * Requires the handler modules not loaded yet, one per event-loop turn, so that the first
   * request of each API does not pay for it; requests are served in between. Stopped by
   * stopWarmUp (a node that stops serving).
   */
  warmUp(): void {
    this.stopWarmUp();
    const pending = this.byKey.filter((api): api is ApiEntry => api !== undefined && !api.isLoaded);
    const next = () => {
      const api = pending.shift();
      this.warming = api ? setImmediate(next) : null;
      if (api) void api.handler; // requires the module
    };
    this.warming = setImmediate(next);
  }

  stopWarmUp(): void {
    if (this.warming) clearImmediate(this.warming);
    this.warming = null;
  }
}
