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
  handler: Handler;
  codec: ApiCodec;
}

export class HandlerRegistry {
  private readonly byKey: (RegisteredApi | undefined)[] = [];

  register(handler: Handler): void {
    const codec = API_CODECS[handler.apiKey];
    if (!codec) throw new Error(`no protocol definition for API key ${handler.apiKey}`);
    if (handler.minVersion < codec.minVersion || handler.maxVersion > codec.maxVersion) {
      throw new Error(
        `${codec.name} handler claims v${handler.minVersion}-${handler.maxVersion}, codec has v${codec.minVersion}-${codec.maxVersion}`,
      );
    }
    if (this.byKey[handler.apiKey]) throw new Error(`${codec.name} registered twice`);
    this.byKey[handler.apiKey] = { handler, codec };
  }

  get(apiKey: number): RegisteredApi | undefined {
    return apiKey >= 0 ? this.byKey[apiKey] : undefined;
  }

  supports(apiKey: number, version: number): boolean {
    const api = this.get(apiKey);
    return !!api && version >= api.handler.minVersion && version <= api.handler.maxVersion;
  }

  /** What ApiVersions advertises, in key order. */
  versions(): { apiKey: number; minVersion: number; maxVersion: number }[] {
    const out: { apiKey: number; minVersion: number; maxVersion: number }[] = [];
    this.byKey.forEach((api, key) => {
      if (api) out.push({ apiKey: key, minVersion: api.handler.minVersion, maxVersion: api.handler.maxVersion });
    });
    return out;
  }
}
