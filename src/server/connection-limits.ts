/**
 * Kafka's connection limits for one broker node (what Kafka's ConnectionQuotas and socket
 * server do), read from the broker settings under Kafka's names:
 *
 *   max.connections (broker-wide) and listener.name.<l>.max.connections (one listener):
 *     at the limit Kafka stops accepting, so new clients wait in the listen backlog. Here a
 *     new connection is accepted but left unread in a queue of at most
 *     socket.listen.backlog.size (50) and started, oldest first, when a connection closes;
 *     past that queue the newest connection is closed at once. Dynamic (AlterConfigs); a
 *     lower limit does not close connections already open, as in Kafka.
 *   max.connections.per.ip, max.connections.per.ip.overrides ("host:n,1.2.3.4:m"): a new
 *     connection from an address at its limit is closed at once, with an info line, as Kafka
 *     drops it. Host names in the overrides are resolved once when the value is first used.
 *   connections.max.idle.ms (600000; -1 turns it off): a connection that sent nothing and
 *     had no request in progress for that long is closed (Kafka's idle expiry); checked by a
 *     timer every tenth of the limit (at least 100 ms, at most 30 s).
 *   queued.max.request.bytes (-1: no limit): RequestMemory below.
 *
 * Nothing here runs per request; the accept path reads a few settings per connection.
 */
import * as dns from 'dns';
import * as net from 'net';
import type { BrokerConfigStore } from '../cluster/broker-config';
import type { Logger } from '../logging';
import { normalizeIp } from '../quota/store';

const INT_MAX = 2147483647;

/** A connection as the limits see it. */
export interface LimitedConnection {
  readonly ip: string;
  readonly listenerName: string;
  /** A counter bumped by every read and every response sent. */
  readonly activity: number;
  /** A request is queued or in progress: not idle whatever the clock says. */
  readonly busy: boolean;
  close(reason: string, quiet?: boolean): void;
}

/** Parses max.connections.per.ip.overrides ("host:100,127.0.0.1:200"); throws Kafka's message on a bad entry. */
export function parsePerIpOverrides(value: string): Map<string, number> {
  const out = new Map<string, number>();
  const bad: string[] = [];
  for (const entry of value.split(',')) {
    const e = entry.trim();
    if (e === '') continue;
    const at = e.lastIndexOf(':');
    const host = at > 0 ? e.slice(0, at).trim() : '';
    const count = at > 0 ? Number(e.slice(at + 1).trim()) : NaN;
    if (!/^[A-Za-z0-9.:_%-]+$/.test(host) || !Number.isInteger(count) || count < 0) {
      bad.push(e);
      continue;
    }
    out.set(net.isIP(host) ? normalizeIp(host) : host.toLowerCase(), count);
  }
  if (bad.length > 0) throw new Error(`max.connections.per.ip.overrides contains invalid entries : ${bad.join(',')}`);
  return out;
}

/** Kafka's start-up checks between the connection settings (KafkaConfig.validateValues). */
export function connectionSettingsError(get: (name: string) => string | undefined): string | null {
  const perIp = get('max.connections.per.ip');
  const overrides = get('max.connections.per.ip.overrides') ?? '';
  if (perIp !== undefined && Number(perIp) === 0 && overrides.trim() === '') {
    return 'max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set.';
  }
  try {
    parsePerIpOverrides(overrides);
  } catch (err) {
    return (err as Error).message;
  }
  const queued = Number(get('queued.max.request.bytes') ?? -1);
  const maxRequest = Number(get('socket.request.max.bytes') ?? 104857600);
  if (queued > 0 && queued < maxRequest) return 'queued.max.request.bytes must be larger or equal to socket.request.max.bytes';
  return null;
}

export class ConnectionLimits {
  private total = 0;
  private readonly perListener = new Map<string, number>();
  private readonly perIp = new Map<string, number>();
  /** Connections accepted over max.connections, waiting unread (Kafka: the listen backlog). */
  private readonly waiting: { socket: net.Socket; listenerName: string; start: () => void }[] = [];
  private overridesRaw: string | null = null;
  private overrides = new Map<string, number>();
  private idleTimer: NodeJS.Timeout | null = null;
  readonly requestMemory: RequestMemory;

  constructor(
    private readonly settings: BrokerConfigStore,
    private readonly log: Logger,
  ) {
    this.requestMemory = new RequestMemory(settings.number('queued.max.request.bytes', -1));
  }

  private setting(name: string, fallback: number): number {
    return this.settings.number(name, fallback);
  }

  /**
   * Admits a new socket: `start` runs now, later (queued over max.connections), or never (the
   * socket is closed: over max.connections.per.ip, or the queue is full).
   */
  admit(socket: net.Socket, listenerName: string, start: () => void): void {
    if (this.atMaxConnections(listenerName)) {
      const backlog = Math.max(1, this.setting('socket.listen.backlog.size', 50));
      if (this.waiting.length >= backlog) {
        this.log.info('max.connections reached and the accept queue is full, closing the new connection', { listener: listenerName, remote: socket.remoteAddress, open: this.total });
        socket.destroy();
        return;
      }
      // Unread until a slot frees; a client that gives up meanwhile just leaves the queue.
      socket.pause();
      socket.on('error', () => undefined);
      const entry = { socket, listenerName, start };
      this.waiting.push(entry);
      socket.once('close', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
      });
      this.log.debug('max.connections reached, connection waits', { listener: listenerName, remote: socket.remoteAddress, waiting: this.waiting.length });
      return;
    }
    this.startCounted(socket, listenerName, start);
  }

  private startCounted(socket: net.Socket, listenerName: string, start: () => void): boolean {
    const ip = normalizeIp(socket.remoteAddress ?? '');
    const limit = this.perIpLimit(ip);
    const count = this.perIp.get(ip) ?? 0;
    if (count >= limit) {
      this.log.info('rejected connection: address already has the configured maximum of connections', { ip, max: limit });
      socket.destroy();
      return false;
    }
    this.perIp.set(ip, count + 1);
    this.perListener.set(listenerName, (this.perListener.get(listenerName) ?? 0) + 1);
    this.total++;
    start();
    return true;
  }

  /** A counted connection closed: frees its slot and starts the oldest waiting one that fits. */
  released(conn: { ip: string; listenerName: string }): void {
    this.total--;
    this.perListener.set(conn.listenerName, (this.perListener.get(conn.listenerName) ?? 1) - 1);
    const n = (this.perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(conn.ip);
    else this.perIp.set(conn.ip, n);
    for (;;) {
      const i = this.waiting.findIndex((w) => !w.socket.destroyed && !this.atMaxConnections(w.listenerName));
      if (i < 0) return;
      const [w] = this.waiting.splice(i, 1);
      if (this.startCounted(w.socket, w.listenerName, w.start)) {
        w.socket.resume();
        return;
      }
    }
  }

  private atMaxConnections(listenerName: string): boolean {
    if (this.total >= this.setting('max.connections', INT_MAX)) return true;
    const own = this.settings.get(`listener.name.${listenerName.toLowerCase()}.max.connections`);
    return own !== null && (this.perListener.get(listenerName) ?? 0) >= Number(own);
  }

  private perIpLimit(ip: string): number {
    const raw = this.settings.get('max.connections.per.ip.overrides') ?? '';
    if (raw !== this.overridesRaw) {
      this.overridesRaw = raw;
      this.overrides = this.loadOverrides(raw);
    }
    return this.overrides.get(ip) ?? this.setting('max.connections.per.ip', INT_MAX);
  }

  /** Parses the overrides; host names are resolved in the background and their addresses added. */
  private loadOverrides(raw: string): Map<string, number> {
    let parsed: Map<string, number>;
    try {
      parsed = parsePerIpOverrides(raw);
    } catch (err) {
      this.log.error('ignoring max.connections.per.ip.overrides', { error: (err as Error).message });
      return new Map();
    }
    const out = new Map<string, number>();
    for (const [host, n] of parsed) {
      if (net.isIP(host)) {
        out.set(host, n);
        continue;
      }
      dns.lookup(host, { all: true }, (err, addresses) => {
        if (err) return this.log.warn('cannot resolve a host of max.connections.per.ip.overrides', { host, error: err.message });
        // Only if the setting is still the one that named this host.
        if (this.overridesRaw === raw) for (const a of addresses) if (!out.has(normalizeIp(a.address))) out.set(normalizeIp(a.address), n);
      });
    }
    return out;
  }

  /**
   * Starts the idle check (connections.max.idle.ms) over `connections`: a connection whose
   * activity counter has not moved for longer than the limit, with no request in progress,
   * is closed (so within the limit plus one check interval).
   */
  startIdleCheck(connections: () => Iterable<LimitedConnection>): void {
    const idleMs = this.setting('connections.max.idle.ms', 600_000);
    if (idleMs < 0) return;
    const every = Math.min(30_000, Math.max(100, Math.floor(idleMs / 10)));
    const seen = new WeakMap<LimitedConnection, { activity: number; since: number }>();
    this.idleTimer = setInterval(() => {
      const now = Date.now();
      for (const c of connections()) {
        const last = seen.get(c);
        if (!last || last.activity !== c.activity || c.busy) seen.set(c, { activity: c.activity, since: now });
        else if (now - last.since >= idleMs) c.close(`idle for more than connections.max.idle.ms=${idleMs}`, true);
      }
    }, every);
    this.idleTimer.unref();
  }

  /** Stops the idle check and closes the connections still waiting for a slot. */
  stop(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    for (const w of this.waiting.splice(0)) w.socket.destroy();
  }

  get openConnections(): number {
    return this.total;
  }

  get waitingConnections(): number {
    return this.waiting.length;
  }
}

/**
 * queued.max.request.bytes: bytes of requests received (or being received) and not yet
 * handled, across every connection of the node. While the limit is held, a connection that
 * reaches the start of a new request stops reading from its socket and resumes once handled
 * requests bring the total back under, as Kafka's memory pool mutes its channels.
 * -1 (the default) or 0 turns it off: one boolean test per read.
 */
export class RequestMemory {
  readonly enabled: boolean;
  private used = 0;
  private readonly waiters = new Set<() => void>();

  constructor(readonly limit: number) {
    this.enabled = limit > 0;
  }

  /**
   * Reserves a whole request of `n` bytes once its size is known; false when the node already
   * holds the limit (the connection then stops reading until waitForRoom calls it back). As
   * Kafka's pool, a reservation may take the total past the limit: a started request is
   * always read to its end, so connections are only ever paused between requests.
   */
  reserve(n: number): boolean {
    if (this.used >= this.limit) return false;
    this.used += n;
    return true;
  }

  release(n: number): void {
    if (n <= 0) return;
    this.used -= n;
    if (this.used < this.limit && this.waiters.size > 0) {
      const resume = [...this.waiters];
      this.waiters.clear();
      for (const r of resume) r();
    }
  }

  /** Calls `resume` once the held bytes are back under the limit. */
  waitForRoom(resume: () => void): void {
    if (this.used < this.limit) resume();
    else this.waiters.add(resume);
  }

  forget(resume: () => void): void {
    this.waiters.delete(resume);
  }

  get heldBytes(): number {
    return this.used;
  }
}
