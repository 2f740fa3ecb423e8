/**
 * Client telemetry (KIP-714): what GetTelemetrySubscriptions and PushTelemetry do. Each client
 * instance (a uuid the broker hands out) gets the union of the subscriptions whose selectors
 * it matches: the requested metric prefixes, the shortest push interval, and a subscription id
 * that changes whenever that set does, so that a client pushing under an old id is told
 * UNKNOWN_SUBSCRIPTION_ID and asks again. Requests arriving faster than the push interval are
 * throttled (THROTTLING_QUOTA_EXCEEDED), as Kafka does; a terminating push is always taken
 * and is the client's last.
 *
 * Kafka hands pushed metrics to a receiver plugin; Samsa is its own receiver: the last push
 * of each client instance is decoded (src/telemetry/otlp-metrics.ts) and kept for the
 * Prometheus endpoint (samsa_client_telemetry_metric).
 */
import * as crypto from 'crypto';
import { ErrorCode } from '../protocol/errors';
import { decompress } from '../compression/codecs';
import { crc32c } from '@node-rs/crc32';
import { ClientMetricsSubscriptions, DEFAULT_PUSH_INTERVAL_MS, MatchSelector } from './client-metrics-subscriptions';
import type { MetricPoint } from './otlp-metrics';

/** Kafka's order: zstd, lz4, gzip, snappy. */
const ACCEPTED_COMPRESSION_TYPES = [4, 3, 1, 2];
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Client instances remembered at most (Kafka: 16384 per broker). */
const MAX_INSTANCES = 16384;
const MIN_EXPIRY_MS = 60_000;
/** Decompressed payloads beyond this many times telemetry.max.bytes are not decoded. */
const MAX_EXPANSION = 16;

/** What a client is matched on, from its requests and its connection. */
export type ClientIdentity = Record<MatchSelector, string>;

export interface TelemetrySubscriptionAnswer {
  errorCode: number;
  clientInstanceId: string;
  subscriptionId: number;
  acceptedCompressionTypes: number[];
  pushIntervalMs: number;
  telemetryMaxBytes: number;
  deltaTemporality: boolean;
  requestedMetrics: string[];
}

export interface ClientInstanceView {
  clientInstanceId: string;
  clientId: string;
  softwareName: string;
  softwareVersion: string;
  pushes: number;
  lastPushMs: number;
  points: MetricPoint[];
}

class ClientInstance {
  subscriptionId = 0;
  subscriptionVersion = -1;
  metrics: string[] = [];
  pushIntervalMs = DEFAULT_PUSH_INTERVAL_MS;
  lastGetMs = 0;
  lastPushMs = 0;
  /** A GetTelemetrySubscriptions answered since the last push (a flag: both may fall in one millisecond). */
  getSincePush = false;
  lastSeenMs = 0;
  terminating = false;
  lastError: number = ErrorCode.NONE;
  pushes = 0;
  points: MetricPoint[] = [];

  constructor(
    readonly id: string,
    readonly identity: ClientIdentity,
  ) {}
}

export class ClientTelemetry {
  private readonly instances = new Map<string, ClientInstance>();

  constructor(
    readonly subscriptions: ClientMetricsSubscriptions,
    private readonly maxBytes: () => number,
  ) {}

  getSubscriptions(requestedId: string, identity: Omit<ClientIdentity, 'client_instance_id'>, now = Date.now()): TelemetrySubscriptionAnswer {
    const id = requestedId && requestedId !== ZERO_UUID ? requestedId : this.newInstanceId();
    const instance = this.instance(id, identity, now);
    // A client asking again before its interval is throttled, unless its last push was refused
    // for a reason asking again cures.
    const last = Math.max(instance.lastGetMs, instance.lastPushMs);
    const retryAllowed = instance.lastError === ErrorCode.UNKNOWN_SUBSCRIPTION_ID || instance.lastError === ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
    const answer = {
      clientInstanceId: id,
      subscriptionId: instance.subscriptionId,
      acceptedCompressionTypes: ACCEPTED_COMPRESSION_TYPES,
      pushIntervalMs: instance.pushIntervalMs,
      telemetryMaxBytes: this.maxBytes(),
      deltaTemporality: true,
      requestedMetrics: instance.metrics,
    };
    if (last !== 0 && now - last < instance.pushIntervalMs && !retryAllowed) {
      return { ...answer, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED };
    }
    instance.lastGetMs = now;
    instance.getSincePush = true;
    instance.lastError = ErrorCode.NONE;
    return { ...answer, errorCode: ErrorCode.NONE };
  }

  async push(
    req: { clientInstanceId: string; subscriptionId: number; terminating: boolean; compressionType: number; metrics: Buffer },
    identity: Omit<ClientIdentity, 'client_instance_id'>,
    now = Date.now(),
  ): Promise<number> {
    if (!req.clientInstanceId || req.clientInstanceId === ZERO_UUID) return ErrorCode.INVALID_REQUEST;
    const instance = this.instance(req.clientInstanceId, identity, now);
    const refused = this.checkPush(instance, req, now);
    instance.terminating ||= req.terminating;
    if (refused !== ErrorCode.NONE) {
      instance.lastError = refused;
      return refused;
    }
    if (req.metrics.length > 0) {
      try {
        // Bounded before anything expands: a push may not grow past MAX_EXPANSION times telemetry.max.bytes.
        const raw = req.compressionType === 0 ? req.metrics : await decompress(req.compressionType, req.metrics, this.maxBytes() * MAX_EXPANSION);
        // The OTLP decoder is required with the first push, not at broker start.
        instance.points = (require('./otlp-metrics') as typeof import('./otlp-metrics')).decodeMetricsData(raw);
      } catch {
        instance.lastError = ErrorCode.INVALID_RECORD;
        return ErrorCode.INVALID_RECORD;
      }
    }
    instance.pushes++;
    instance.lastError = ErrorCode.NONE;
    return ErrorCode.NONE;
  }

  /** Client instances that pushed, with their last metrics (for the metrics endpoint). */
  pushed(): ClientInstanceView[] {
    const out: ClientInstanceView[] = [];
    for (const i of this.instances.values()) {
      if (i.pushes === 0) continue;
      out.push({
        clientInstanceId: i.id,
        clientId: i.identity.client_id,
        softwareName: i.identity.client_software_name,
        softwareVersion: i.identity.client_software_version,
        pushes: i.pushes,
        lastPushMs: i.lastPushMs,
        points: i.points,
      });
    }
    return out;
  }

  private checkPush(instance: ClientInstance, req: { subscriptionId: number; terminating: boolean; compressionType: number; metrics: Buffer }, now: number): number {
    if (instance.terminating) return ErrorCode.INVALID_REQUEST;
    // The first push after a GetTelemetrySubscriptions is taken at once (clients jitter the
    // interval); later ones must keep to it, except the terminating one.
    if (!instance.getSincePush && now - instance.lastPushMs < instance.pushIntervalMs && !req.terminating) return ErrorCode.THROTTLING_QUOTA_EXCEEDED;
    instance.lastPushMs = now;
    instance.getSincePush = false;
    if (req.subscriptionId !== instance.subscriptionId) return ErrorCode.UNKNOWN_SUBSCRIPTION_ID;
    if (req.compressionType < 0 || req.compressionType > 4) return ErrorCode.UNSUPPORTED_COMPRESSION_TYPE;
    if (req.metrics.length > this.maxBytes()) return ErrorCode.TELEMETRY_TOO_LARGE;
    return ErrorCode.NONE;
  }

  /** The instance, created or re-evaluated against the subscriptions when they changed. */
  private instance(id: string, identity: Omit<ClientIdentity, 'client_instance_id'>, now: number): ClientInstance {
    this.expire(now);
    let instance = this.instances.get(id);
    if (!instance) {
      if (this.instances.size >= MAX_INSTANCES) this.instances.delete(this.instances.keys().next().value as string);
      instance = new ClientInstance(id, { ...identity, client_instance_id: id });
      this.instances.set(id, instance);
    }
    if (instance.subscriptionVersion !== this.subscriptions.version) this.evaluate(instance);
    instance.lastSeenMs = now;
    // Most recently used last, so that the oldest is evicted first.
    this.instances.delete(id);
    this.instances.set(id, instance);
    return instance;
  }

  private evaluate(instance: ClientInstance): void {
    let interval = DEFAULT_PUSH_INTERVAL_MS;
    const metrics = new Set<string>();
    let all = false;
    for (const s of this.subscriptions.all()) {
      if (!s.match.every(([selector, regex]) => regex.test(instance.identity[selector]))) continue;
      for (const m of s.metrics) metrics.add(m);
      all ||= s.metrics.includes('*');
      interval = Math.min(interval, s.intervalMs);
    }
    instance.metrics = all ? ['*'] : [...metrics].sort();
    instance.pushIntervalMs = interval;
    instance.subscriptionVersion = this.subscriptions.version;
    // Changes with the metric set and interval, and differs between instances.
    const digest = crc32c(Buffer.from(`${instance.metrics.join(',')}|${interval}`, 'utf8'));
    instance.subscriptionId = (digest ^ Buffer.from(instance.id, 'base64url').readInt32BE(0)) | 0;
  }

  private expire(now: number): void {
    for (const [id, i] of this.instances) {
      if (now - i.lastSeenMs <= Math.max(MIN_EXPIRY_MS, 3 * i.pushIntervalMs)) break;
      this.instances.delete(id);
    }
  }

  private newInstanceId(): string {
    let id: string;
    do id = crypto.randomBytes(16).toString('base64url');
    while (this.instances.has(id) || id === ZERO_UUID);
    return id;
  }
}
