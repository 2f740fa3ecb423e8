/**
 * Where quotas meet request handling. Callers make one check first (`broker.quotas.active`)
 * so that nothing here runs while no user/client-id quota is set.
 *
 *   - Produce: the request's size counts against producer_byte_rate (Kafka counts the
 *     whole request, not only the records).
 *   - Fetch: the response's record bytes count against consumer_byte_rate. Before reading,
 *     the fetch is cut to what one quota span can hold; a fetch over quota is answered
 *     empty with the throttle time and its bytes are taken back, as Kafka does.
 *   - Every other answered request (and Produce/Fetch too): the time its handler ran on
 *     the event loop counts against request_percentage (100% = one thread busy all the time).
 * A throttle time goes into the response's throttle_time_ms and mutes the connection.
 */
import type { FetchRequest, FetchResponse } from '../protocol/generated';
import type { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import type { RequestContext } from '../server/handler-registry';

/** SASL handshakes and authentication happen before a principal exists; Kafka does not count them either. */
const EXEMPT_FROM_REQUEST_QUOTA = new Set([17, 36]);

const who = (ctx: RequestContext): [string, string] => [ctx.connection.principal.name, ctx.header.clientId ?? ''];

/** producer_byte_rate: records the request size; returns the throttle time (also applied to the connection). */
export function produceThrottleMs(ctx: RequestContext): number {
  const [user, clientId] = who(ctx);
  const throttle = ctx.cluster.quotas.record('produce', user, clientId, ctx.requestBytes, Date.now());
  if (throttle > 0) ctx.connection.throttle(throttle);
  return throttle;
}

export interface FetchQuota {
  /** Counts the fetched bytes; a throttled fetch is answered empty. */
  finish(response: Encodable<FetchResponse>, bytes: number): Encodable<FetchResponse>;
}

/** consumer_byte_rate: bounds the fetch size (mutating the request); null when no limit applies to this client. */
export function fetchQuota(ctx: RequestContext, req: FetchRequest): FetchQuota | null {
  const quotas = ctx.cluster.quotas;
  const [user, clientId] = who(ctx);
  const windowBytes = quotas.maxValueInWindow('fetch', user, clientId);
  if (windowBytes === Infinity) return null;
  const cap = Math.max(1, Math.floor(Math.min(windowBytes, 2147483647)));
  req.maxBytes = Math.min(req.maxBytes, cap);
  req.minBytes = Math.min(req.minBytes, req.maxBytes);
  return {
    finish(response, bytes) {
      const now = Date.now();
      const throttle = quotas.record('fetch', user, clientId, bytes, now);
      if (throttle <= 0) return response;
      quotas.unrecord('fetch', user, clientId, bytes, now);
      ctx.connection.throttle(throttle);
      return { throttleTimeMs: throttle, errorCode: ErrorCode.NONE, sessionId: 0, responses: [] };
    },
  };
}

/**
 * request_percentage: records the handler's time and, when over quota, raises the
 * response's throttle time (keeping a larger byte-rate one) and mutes the connection.
 */
export function applyRequestQuota(ctx: RequestContext, response: unknown, handlerMs: number): void {
  if (EXEMPT_FROM_REQUEST_QUOTA.has(ctx.header.apiKey)) return;
  const [user, clientId] = who(ctx);
  // Percent of one thread over a second: 1 ms of work is 0.1 percent-second.
  const throttle = ctx.cluster.quotas.record('request', user, clientId, handlerMs / 10, Date.now());
  if (throttle <= 0) return;
  ctx.connection.throttle(throttle);
  const body = response as { throttleTimeMs?: number };
  body.throttleTimeMs = Math.max(body.throttleTimeMs ?? 0, throttle);
}
