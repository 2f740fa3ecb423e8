/**
 * Fault rules as users write them (TypeScript, the HTTP admin API, the CLI) and their
 * validation. A bad spec is refused with a FaultSpecError naming the field, never half-applied.
 *
 *   { api: 'Produce' | 0, topic?, partition?, brokerId?, clientId?,
 *     count?: N | 'unlimited' (default 1),
 *     action: { error: 'NOT_LEADER_OR_FOLLOWER' | 6 } | { delayMs: 5000 } | { dropConnection: true } }
 */
import { ApiKey } from '../protocol/generated';
import { ErrorCode, errorName } from '../protocol/errors';

export type FaultAction = { error: string | number } | { delayMs: number } | { dropConnection: true };

export interface FaultSpec {
  /** API name (as in Kafka's protocol guide: Produce, Fetch, JoinGroup, ...) or key. */
  api: string | number;
  topic?: string;
  partition?: number;
  /** Only requests arriving at this broker (node id). */
  brokerId?: number;
  /** Only requests whose header carries this client.id. */
  clientId?: string;
  /** How many matching requests the rule affects; default 1. */
  count?: number | 'unlimited';
  action: FaultAction;
}

/** An action after validation: error codes resolved to code and name. */
export type ResolvedAction = { error: string; errorCode: number } | { delayMs: number } | { dropConnection: true };

/** A validated spec: the API resolved to its key and name. */
export interface ResolvedSpec {
  api: string;
  apiKey: number;
  topic?: string;
  partition?: number;
  brokerId?: number;
  clientId?: string;
  count: number | 'unlimited';
  action: ResolvedAction;
}

export class FaultSpecError extends Error {}

/** Codes Samsa's own table does not name but clients know (Kafka's numbering). */
const EXTRA_ERRORS: Record<string, number> = {
  REPLICA_NOT_AVAILABLE: 8,
  BROKER_NOT_AVAILABLE: 9,
  NETWORK_EXCEPTION: 13,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  REASSIGNMENT_IN_PROGRESS: 60,
};
const ERROR_CODES: Record<string, number> = { ...ErrorCode, ...EXTRA_ERRORS };
const ERROR_NAMES = new Map<number, string>(Object.entries(ERROR_CODES).map(([k, v]) => [v, k]));
const API_BY_LOWER_NAME = new Map<string, [string, number]>(Object.entries(ApiKey).map(([name, key]) => [name.toLowerCase(), [name, key]]));
const API_NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));

const KNOWN_KEYS = new Set(['api', 'topic', 'partition', 'brokerId', 'clientId', 'count', 'action']);

export function resolveApi(api: unknown): { api: string; apiKey: number } {
  if (typeof api === 'number' || (typeof api === 'string' && /^\d+$/.test(api))) {
    const key = Number(api);
    const name = API_NAMES.get(key);
    if (name === undefined) throw new FaultSpecError(`unknown API key ${api}`);
    return { api: name, apiKey: key };
  }
  if (typeof api !== 'string' || api === '') throw new FaultSpecError('api must be an API name (e.g. "Produce") or key');
  const found = API_BY_LOWER_NAME.get(api.toLowerCase());
  if (!found) throw new FaultSpecError(`unknown API "${api}" (names as in Kafka's protocol guide: Produce, Fetch, Metadata, JoinGroup, ...)`);
  return { api: found[0], apiKey: found[1] };
}

export function resolveError(e: unknown): { error: string; errorCode: number } {
  if (typeof e === 'number' || (typeof e === 'string' && /^-?\d+$/.test(e))) {
    const code = Number(e);
    if (!Number.isInteger(code) || code < -1 || code > 32767 || code === 0) throw new FaultSpecError(`error code ${e} is not a Kafka error code`);
    return { error: ERROR_NAMES.get(code) ?? errorName(code), errorCode: code };
  }
  if (typeof e !== 'string' || e === '') throw new FaultSpecError('action.error must be an error name (e.g. "NOT_LEADER_OR_FOLLOWER") or code');
  const name = e.toUpperCase();
  const code = ERROR_CODES[name];
  if (code === undefined || code === 0) throw new FaultSpecError(`unknown error "${e}" (Kafka error names, e.g. NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, or a numeric code)`);
  return { error: name, errorCode: code };
}

function nonNegativeInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new FaultSpecError(`${what} must be a non-negative integer`);
  return v;
}

function resolveAction(a: unknown): ResolvedAction {
  if (a === null || typeof a !== 'object' || Array.isArray(a)) {
    throw new FaultSpecError('action must be one of {"error": NAME|CODE}, {"delayMs": MS}, {"dropConnection": true}');
  }
  const o = a as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) throw new FaultSpecError('action must have exactly one of error, delayMs, dropConnection');
  if ('error' in o) return resolveError(o.error);
  if ('delayMs' in o) return { delayMs: nonNegativeInt(o.delayMs, 'action.delayMs') };
  if ('dropConnection' in o) {
    if (o.dropConnection !== true) throw new FaultSpecError('action.dropConnection must be true');
    return { dropConnection: true };
  }
  throw new FaultSpecError(`unknown action "${keys[0]}" (use error, delayMs or dropConnection)`);
}

/** Validates a spec from any source (a TypeScript object, parsed JSON). */
export function resolveFaultSpec(input: unknown): ResolvedSpec {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new FaultSpecError('a fault spec must be a JSON object');
  const s = input as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!KNOWN_KEYS.has(k)) throw new FaultSpecError(`unknown field "${k}" (fields: ${[...KNOWN_KEYS].join(', ')})`);
  if (s.api === undefined) throw new FaultSpecError('api is required');
  if (s.action === undefined) throw new FaultSpecError('action is required');
  const out: ResolvedSpec = { ...resolveApi(s.api), count: 1, action: resolveAction(s.action) };
  if (s.topic !== undefined) {
    if (typeof s.topic !== 'string' || s.topic === '') throw new FaultSpecError('topic must be a non-empty string');
    out.topic = s.topic;
  }
  if (s.partition !== undefined) out.partition = nonNegativeInt(s.partition, 'partition');
  if (s.brokerId !== undefined) out.brokerId = nonNegativeInt(s.brokerId, 'brokerId');
  if (s.clientId !== undefined) {
    if (typeof s.clientId !== 'string') throw new FaultSpecError('clientId must be a string');
    out.clientId = s.clientId;
  }
  if (s.count !== undefined) {
    if (s.count === 'unlimited' || s.count === null || s.count === Infinity) out.count = 'unlimited';
    else {
      const n = nonNegativeInt(s.count, 'count (or "unlimited")');
      if (n === 0) throw new FaultSpecError('count must be at least 1 (or "unlimited")');
      out.count = n;
    }
  }
  return out;
}
