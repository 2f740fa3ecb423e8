/**
 * Enforcement of client quotas, as Kafka's ClientQuotaManager and ConnectionQuotas do it.
 *
 * Which limit applies to a request is resolved per quota kind (producer_byte_rate,
 * consumer_byte_rate, request_percentage), most specific entity first:
 *   1 user + client-id   2 user + <default> client-id   3 user
 *   4 <default> user + client-id   5 <default> user + <default> client-id   6 <default> user
 *   7 client-id   8 <default> client-id
 * The level that matched also decides who shares one rate: levels 1, 2, 4, 5 measure each
 * (user, client-id) pair, 3 and 6 each user across its clients, 7 and 8 each client-id
 * across users. A default entity is a template: every user (client-id) it covers gets a
 * rate of its own. The user is the principal's name (ANONYMOUS on PLAINTEXT).
 *
 * Rates are windowed as in rate.ts (quota.window.num windows of quota.window.size.seconds);
 * a request over quota gets Kafka's throttle time, which the connection then waits out
 * before it reads the next request (KIP-219). Request-time throttles are capped at one
 * window, as Kafka caps them; byte-rate throttles are not.
 *
 * `active` is the single check the Produce and Fetch paths make: false while no
 * user/client-id quota is set, and then nothing here runs.
 */
import type * as net from 'net';
import {
  CLIENT_ID,
  ClientQuotaStore,
  CONNECTION_CREATION_RATE,
  CONSUMER_BYTE_RATE,
  entityKey,
  IP,
  normalizeIp,
  PRODUCER_BYTE_RATE,
  REQUEST_PERCENTAGE,
  USER,
} from './store';
import { RateConfig, recordAndThrottle, WindowedRate } from './rate';
import type { Logger } from '../logging';

export type QuotaKind = 'produce' | 'fetch' | 'request';

const KEY_OF: Record<QuotaKind, string> = {
  produce: PRODUCER_BYTE_RATE,
  fetch: CONSUMER_BYTE_RATE,
  request: REQUEST_PERCENTAGE,
};

/** Kafka drops a client's rate after an hour without traffic. */
const IDLE_EXPIRY_MS = 3600_000;
const SWEEP_INTERVAL_MS = 60_000;

export interface Resolved {
  /** The limit that applies (bytes/s, or percent of one thread). */
  limit: number;
  /** Who shares the rate: the matched level's user and client-id tags ("" when not part of it). */
  user: string;
  clientId: string;
}

export class QuotaManager {
  /** Any user/client-id quota set: the one check made on every Produce and Fetch. */
  active = false;
  /** Any ip quota set: checked on every accepted connection. */
  ipActive = false;
  private readonly resolved = new Map<string, Resolved | null>();
  private readonly rates = new Map<string, WindowedRate>();
  private readonly heldSockets = new Set<net.Socket>();
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly store: ClientQuotaStore,
    readonly config: RateConfig,
    private readonly log: Logger,
  ) {
    store.onChange = () => this.refresh();
    this.refresh();
  }

  private refresh(): void {
    this.resolved.clear();
    this.active = this.store.hasEntityOfKind(false);
    this.ipActive = this.store.hasEntityOfKind(true);
    if (!this.active && !this.ipActive) this.rates.clear();
    if ((this.active || this.ipActive) && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => this.sweep(Date.now()), SWEEP_INTERVAL_MS);
      this.sweepTimer.unref();
    }
  }

  /** The limit for this user and client-id, and who shares its rate; null when none applies. */
  resolve(kind: QuotaKind, user: string, clientId: string): Resolved | null {
    const cacheKey = `${kind}\u0000${user}\u0000${clientId}`;
    const hit = this.resolved.get(cacheKey);
    if (hit !== undefined) return hit;
    const key = KEY_OF[kind];
    const limitOf = (u: string | null | undefined, c: string | null | undefined): number | undefined => {
      const entity: [string, string | null][] = [];
      if (u !== undefined) entity.push([USER, u]);
      if (c !== undefined) entity.push([CLIENT_ID, c]);
      return this.store.get(entityKey(entity))?.get(key);
    };
    // Kafka never matches a client-id level for a request without a client id.
    const hasClient = clientId !== '';
    const levels: [string | null | undefined, string | null | undefined, string, string][] = [
      [user, clientId, user, clientId],
      [user, null, user, clientId],
      [user, undefined, user, ''],
      [null, clientId, user, clientId],
      [null, null, user, clientId],
      [null, undefined, user, ''],
      [undefined, clientId, '', clientId],
      [undefined, null, '', clientId],
    ];
    let found: Resolved | null = null;
    for (const [u, c, userTag, clientTag] of levels) {
      if (!hasClient && c !== undefined) continue;
      const limit = limitOf(u, c);
      if (limit !== undefined) {
        found = { limit, user: userTag, clientId: clientTag };
        break;
      }
    }
    this.resolved.set(cacheKey, found);
    return found;
  }

  /** Records `value` for the rate that applies; returns the throttle time in ms (0 when within quota). */
  record(kind: QuotaKind, user: string, clientId: string, value: number, nowMs: number): number {
    const r = this.resolve(kind, user, clientId);
    if (!r) return 0;
    const throttle = recordAndThrottle(this.rateOf(kind, r), r.limit, value, nowMs);
    return kind === 'request' ? Math.min(throttle, this.config.windowMs) : throttle;
  }

  /** Takes back a recorded value (a throttled fetch returns no data, so its bytes do not count). */
  unrecord(kind: QuotaKind, user: string, clientId: string, value: number, nowMs: number): void {
    const r = this.resolve(kind, user, clientId);
    if (r) this.rateOf(kind, r).record(-value, nowMs);
  }

  /**
   * The most that can be recorded at once without being throttled for certain: a fetch is
   * cut to this, so one response cannot overshoot the quota by more than the window allows.
   */
  maxValueInWindow(kind: QuotaKind, user: string, clientId: string): number {
    const r = this.resolve(kind, user, clientId);
    return r ? r.limit * (this.config.samples - 1) * (this.config.windowMs / 1000) : Infinity;
  }

  /** connection_creation_rate of this ip: its own entity first, then the <default> ip. */
  connectionLimit(ip: string): number | undefined {
    return this.store.get(entityKey([[IP, ip]]))?.get(CONNECTION_CREATION_RATE) ?? this.store.get(entityKey([[IP, null]]))?.get(CONNECTION_CREATION_RATE);
  }

  /**
   * Counts a new connection from `ip`; over the rate it is not counted and the delay (capped
   * at one window) is returned, after which Kafka closes such a connection without reading it.
   */
  connectionThrottleMs(ip: string, nowMs: number): number {
    const limit = this.connectionLimit(ip);
    if (limit === undefined) return 0;
    const key = `ip\u0000${ip}`;
    let rate = this.rates.get(key);
    if (!rate) this.rates.set(key, (rate = new WindowedRate(this.config)));
    const throttle = recordAndThrottle(rate, limit, 1, nowMs);
    if (throttle > 0) rate.record(-1, nowMs);
    return Math.min(throttle, this.config.windowMs);
  }

  /**
   * Applies connection_creation_rate to a just-accepted socket: true when it is over the rate,
   * in which case the socket is held unread and closed after the throttle time.
   */
  refuseConnection(socket: net.Socket): boolean {
    const ip = normalizeIp(socket.remoteAddress ?? '');
    const throttle = this.connectionThrottleMs(ip, Date.now());
    if (throttle <= 0) return false;
    this.log.debug('connection creation rate exceeded, closing the connection after the throttle time', { ip, throttleMs: throttle });
    socket.pause();
    socket.on('error', () => undefined);
    this.heldSockets.add(socket);
    socket.once('close', () => this.heldSockets.delete(socket));
    setTimeout(() => socket.destroy(), throttle).unref();
    return true;
  }

  close(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    for (const s of this.heldSockets) s.destroy();
    this.heldSockets.clear();
  }

  private rateOf(kind: QuotaKind, r: Resolved): WindowedRate {
    const key = `${kind}\u0000${r.user}\u0000${r.clientId}`;
    let rate = this.rates.get(key);
    if (!rate) this.rates.set(key, (rate = new WindowedRate(this.config)));
    return rate;
  }

  private sweep(nowMs: number): void {
    for (const [k, rate] of this.rates) if (nowMs - rate.lastUsedMs > IDLE_EXPIRY_MS) this.rates.delete(k);
  }
}
