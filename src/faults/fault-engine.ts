/**
 * The fault engine: rules that make matching requests fail, wait or lose their connection,
 * and per-broker latency and pause. It lives on ClusterState, so every node of a simulated
 * cluster shares it; rules, latency and pauses are matched per node by its id (ctx.node.id).
 *
 * Cost when nothing is set: Connection reads `active` once per request and calls nothing.
 *
 * Semantics, as a client sees a real broker:
 *   - error: the broker refuses the request before doing any work (an injected
 *     NOT_LEADER_OR_FOLLOWER on Produce appends nothing, so the client's retry is stored
 *     once). With a topic/partition filter only the matching entries are refused and the
 *     rest of the request is handled normally; see error-answer.ts;
 *   - delayMs: the request waits that long before it is handled (the client's timeout
 *     fires while the broker is "slow"); delays of several matching rules add up;
 *   - dropConnection: the connection is destroyed when the request arrives, unhandled;
 *   - latency: every request of that broker waits that long;
 *   - pause: the broker keeps accepting connections and reading requests, and handles
 *     none until resumed (then it works through what it read, like a process after SIGCONT).
 *     A request already inside its handler when the pause starts (a long-poll Fetch) still answers.
 * Rules are tried in the order they were added; per request, matching delay rules all apply,
 * then the first matching error or dropConnection rule. A rule counts down each request it
 * affects and stays listed (remaining 0) until cleared, so tests can read its hits.
 */
import type { Logger } from '../logging';
import type { RequestContext, HandlerResult } from '../server/handler-registry';
import { NO_RESPONSE } from '../server/handler-registry';
import { FaultSpec, FaultSpecError, ResolvedAction, ResolvedSpec, resolveFaultSpec } from './fault-spec';
import type { EntryIdentity, Split } from './error-answer';

/** Answer shaping, required when a rule first matches (most brokers never inject a fault). */
const answers = () => require('./error-answer') as typeof import('./error-answer');

/** Returned by intercept() when the connection must be dropped without an answer. */
export const DROP_CONNECTION: unique symbol = Symbol('drop-connection');

export class UnknownBrokerError extends FaultSpecError {}

/** A rule as listed: its spec plus what is left of it. */
export interface FaultRule extends ResolvedSpec {
  id: number;
  /** Matching requests it will still affect: a number, or 'unlimited'. */
  remaining: number | 'unlimited';
  /** Requests it affected so far. */
  hits: number;
}

export interface BrokerFaultState {
  brokerId: number;
  latencyMs: number;
  paused: boolean;
}

export interface FaultListing {
  rules: FaultRule[];
  /** Brokers with latency or a pause. */
  brokers: BrokerFaultState[];
}

/**
 * What a user-facing handle (the Broker facade, a simulated Cluster) offers, each method
 * delegating to the engine on its ClusterState.
 */
export interface FaultControls {
  injectFault(spec: FaultSpec): FaultRule;
  listFaults(): FaultListing;
  clearFaults(id?: number): boolean;
  setBrokerLatency(nodeId: number, ms: number): void;
  pauseBroker(nodeId: number): void;
  resumeBroker(nodeId: number): void;
}

interface Pause {
  promise: Promise<void>;
  resume: () => void;
}

const PRODUCE = 0;

export class FaultEngine {
  /** The one check on the request path: false unless a live rule, a latency or a pause exists. */
  active = false;
  private rules: FaultRule[] = [];
  private nextId = 1;
  private readonly latency = new Map<number, number>();
  private readonly pauses = new Map<number, Pause>();
  /** Per node, how many times it was stopped: a request held across a stop is discarded. */
  private readonly stops = new Map<number, number>();

  constructor(
    /** Ids of the cluster's nodes (ClusterState.nodeIds): latency and pause refuse others. */
    private readonly nodeIds: ReadonlySet<number>,
    private readonly log: Logger,
  ) {}

  /** Adds a rule; throws FaultSpecError for an invalid spec. */
  inject(spec: unknown): FaultRule {
    const resolved = resolveFaultSpec(spec);
    if (resolved.brokerId !== undefined) this.checkNode(resolved.brokerId);
    const rule: FaultRule = { id: this.nextId++, ...resolved, remaining: resolved.count, hits: 0 };
    this.rules.push(rule);
    this.refresh();
    this.log.info('fault rule added', { rule: describe(rule) });
    return { ...rule };
  }

  list(): FaultListing {
    const ids = new Set([...this.latency.keys(), ...this.pauses.keys()]);
    return {
      rules: this.rules.map((r) => ({ ...r })),
      brokers: [...ids].sort((a, b) => a - b).map((id) => ({ brokerId: id, latencyMs: this.latency.get(id) ?? 0, paused: this.pauses.has(id) })),
    };
  }

  /**
   * Without an id: removes every rule and every broker's latency, and resumes paused
   * brokers (a clean slate between tests). With an id: removes that rule; false if unknown.
   */
  clear(id?: number): boolean {
    if (id !== undefined) {
      const before = this.rules.length;
      this.rules = this.rules.filter((r) => r.id !== id);
      this.refresh();
      return this.rules.length < before;
    }
    this.rules = [];
    this.latency.clear();
    for (const nodeId of [...this.pauses.keys()]) this.resume(nodeId);
    this.refresh();
    return true;
  }

  /** Every request of that broker waits `ms` before it is handled (0 removes the latency). */
  setLatency(nodeId: number, ms: number): void {
    this.checkNode(nodeId);
    if (!Number.isInteger(ms) || ms < 0) throw new FaultSpecError('latency must be a non-negative integer of milliseconds');
    if (ms === 0) this.latency.delete(nodeId);
    else this.latency.set(nodeId, ms);
    this.refresh();
    this.log.info('broker latency set', { brokerId: nodeId, ms });
  }

  pause(nodeId: number): void {
    this.checkNode(nodeId);
    if (this.pauses.has(nodeId)) return;
    let resume!: () => void;
    const promise = new Promise<void>((r) => (resume = r));
    this.pauses.set(nodeId, { promise, resume });
    this.refresh();
    this.log.info('broker paused', { brokerId: nodeId });
  }

  resume(nodeId: number): void {
    this.checkNode(nodeId);
    const p = this.pauses.get(nodeId);
    if (!p) return;
    this.pauses.delete(nodeId);
    p.resume();
    this.refresh();
    this.log.info('broker resumed', { brokerId: nodeId });
  }

  /**
   * For the cluster simulation: node `nodeId` stopped (its connections are gone). Requests it
   * held (paused, delayed) are dropped unhandled, as a killed process would, and a pause ends;
   * rules and latency stay for when it starts again.
   */
  brokerStopped(nodeId: number): void {
    this.stops.set(nodeId, (this.stops.get(nodeId) ?? 0) + 1);
    const p = this.pauses.get(nodeId);
    if (p) {
      this.pauses.delete(nodeId);
      p.resume();
      this.refresh();
    }
  }

  /**
   * Runs one request under the faults that apply to it: `handle` runs the API's handler.
   * Only called while `active`.
   */
  async intercept<Res>(
    ctx: RequestContext,
    request: unknown,
    topicById: (id: string) => string | undefined,
    handle: (request: unknown) => HandlerResult<Res> | Promise<HandlerResult<Res>>,
  ): Promise<HandlerResult<Res> | Res | typeof DROP_CONNECTION> {
    const nodeId = ctx.node.id;
    const { apiKey, apiVersion, clientId } = ctx.header;
    const stopsBefore = this.stops.get(nodeId) ?? 0;
    for (let p = this.pauses.get(nodeId); p; p = this.pauses.get(nodeId)) await p.promise;
    if ((this.stops.get(nodeId) ?? 0) !== stopsBefore) return NO_RESPONSE;
    let delay = this.latency.get(nodeId) ?? 0;
    let chosen: FaultRule | null = null;
    let split: Split | null = null;
    for (const rule of this.rules) {
      if (rule.remaining === 0 || rule.apiKey !== apiKey) continue;
      if (rule.brokerId !== undefined && rule.brokerId !== nodeId) continue;
      if (rule.clientId !== undefined && rule.clientId !== clientId) continue;
      let ruleSplit: Split | null = null;
      if (rule.topic !== undefined || rule.partition !== undefined) {
        ruleSplit = answers().splitRequest(apiKey, apiVersion, request as Record<string, unknown>, (id) => matches(rule, id), topicById);
        if (!ruleSplit) continue;
      }
      this.spend(rule);
      this.log.debug('fault rule applied', { rule: rule.id, api: rule.api, brokerId: nodeId, correlationId: ctx.header.correlationId });
      if ('delayMs' in rule.action) {
        delay += rule.action.delayMs;
        continue;
      }
      chosen = rule;
      split = ruleSplit;
      break;
    }
    // Like Kafka, a request that was read is handled even if its client gave up meanwhile,
    // but not by a node that was stopped meanwhile.
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if ((this.stops.get(nodeId) ?? 0) !== stopsBefore) return NO_RESPONSE;
    if (!chosen) return handle(request);
    const action = chosen.action as Exclude<ResolvedAction, { delayMs: number }>;
    if ('dropConnection' in action) return DROP_CONNECTION;
    return this.refuse(ctx, request as Record<string, unknown>, split, action.errorCode, handle);
  }

  private async refuse<Res>(
    ctx: RequestContext,
    request: Record<string, unknown>,
    split: Split | null,
    errorCode: number,
    handle: (request: unknown) => HandlerResult<Res> | Promise<HandlerResult<Res>>,
  ): Promise<HandlerResult<Res> | Res | typeof DROP_CONNECTION> {
    const { apiKey, apiVersion } = ctx.header;
    // Produce with acks=0 has no answer to carry an error: Kafka closes the connection instead.
    if (apiKey === PRODUCE && request.acks === 0) return DROP_CONNECTION;
    if (!split) return answers().mirrorError(apiKey, apiVersion, request, errorCode) as Res;
    if (split.left === 0) return answers().mirrorError(apiKey, apiVersion, split.refused, errorCode) as Res;
    // A broker answers at once when a partition is in error, without waiting for data.
    const rest = 'maxWaitMs' in split.rest ? { ...split.rest, maxWaitMs: 0 } : split.rest;
    const answer = await handle(rest);
    if (answer === NO_RESPONSE) return NO_RESPONSE;
    return answers().mergeError(apiKey, apiVersion, answer as Record<string, unknown>, split.refused, errorCode) as Res;
  }

  private spend(rule: FaultRule): void {
    rule.hits++;
    if (rule.remaining !== 'unlimited') {
      rule.remaining--;
      if (rule.remaining === 0) this.refresh();
    }
  }

  private refresh(): void {
    this.active = this.latency.size > 0 || this.pauses.size > 0 || this.rules.some((r) => r.remaining !== 0);
  }

  private checkNode(nodeId: number): void {
    if (!this.nodeIds.has(nodeId)) throw new UnknownBrokerError(`no broker with id ${nodeId} (brokers: ${[...this.nodeIds].sort((a, b) => a - b).join(', ')})`);
  }
}

function matches(rule: FaultRule, id: EntryIdentity): boolean {
  return (rule.topic === undefined || id.topic === rule.topic) && (rule.partition === undefined || id.partition === rule.partition);
}

function describe(r: FaultRule): string {
  const where = [r.topic !== undefined ? `topic=${r.topic}` : '', r.partition !== undefined ? `partition=${r.partition}` : '', r.brokerId !== undefined ? `broker=${r.brokerId}` : '', r.clientId !== undefined ? `client=${r.clientId}` : ''].filter(Boolean).join(' ');
  const what = 'error' in r.action ? `error ${r.action.error}` : 'delayMs' in r.action ? `delay ${r.action.delayMs}ms` : 'drop connection';
  return `#${r.id} ${r.api}${where ? ` (${where})` : ''}: ${what} x${r.count}`;
}
