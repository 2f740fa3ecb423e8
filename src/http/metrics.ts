/**
 * Prometheus metrics of one broker (served at /metrics by src/http/server.ts).
 *
 * Each broker has its own prom-client Registry: tests run several brokers in one process and
 * the global registry would mix them. The request path only adds to plain numbers (see
 * `scraped`); everything that describes state (log sizes, offsets, lag, connections, parked
 * fetches) is read when Prometheus scrapes, in `collect()` callbacks.
 *
 * prom-client (tens of milliseconds to load) is required when the registry is first asked
 * for: the broker does so once its Kafka listeners are open (src/broker.ts), the counting
 * above needs none of it.
 */
import type { Registry } from 'prom-client';
import type { Broker } from '../broker';
import type { FetchRequest, FetchResponse } from '../protocol/generated';
import { API_CODECS } from '../protocol/generated';
import type { Encodable } from '../protocol/encodable';
import { errorName } from '../protocol/errors';

/** Running sums per topic: plain numbers on the request path, turned into samples at scrape time. */
interface TopicStats {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

/** Requests of one API version. */
interface VersionStats {
  api: string;
  version: string;
  count: number;
}

/** Latency histogram of one API: counts per bucket (not cumulative), sum and count. */
interface LatencyStats {
  api: string;
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** Running totals, for the console's throughput sparkline. */
export interface Totals {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

interface SampleValue {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * A metric whose samples are computed when scraped. prom-client's own Counter/Histogram hash
 * their label set on every increment (about 0.5 us for a histogram observation); these keep
 * the request path at a map lookup and a few additions.
 */
function scraped(registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => SampleValue[]): void {
  registry.registerMetric({
    name,
    help,
    type,
    get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
  } as unknown as Parameters<Registry['registerMetric']>[0]);
}

type PromClient = typeof import('prom-client');

export class BrokerMetrics {
  private promRegistry: Registry | null = null;
  readonly totals: Totals = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
  private readonly byTopic = new Map<string, TopicStats>();
  /** apiKey * 256 + version -> requests. */
  private readonly byVersion = new Map<number, VersionStats>();
  private readonly latency = new Map<number, LatencyStats>();
  /** api NUL error name -> count. */
  private readonly errors = new Map<string, number>();
  private readonly accepted = new Map<string, number>();

  constructor(private readonly broker: Broker) {}

  /** prom-client's registry of this broker's metrics, built on first use. */
  get registry(): Registry {
    return (this.promRegistry ??= this.buildRegistry());
  }

  private buildRegistry(): Registry {
    const prom = require('prom-client') as PromClient;
    const registry = new prom.Registry();
    const perTopic = (field: keyof TopicStats) => () => [...this.byTopic].map(([topic, s]) => ({ value: s[field], labels: { topic } }));
    scraped(registry, 'samsa_topic_messages_in_total', 'Records appended by Produce (and the console), per topic', 'counter', perTopic('messagesIn'));
    scraped(registry, 'samsa_topic_bytes_in_total', 'Record batch bytes appended by Produce (and the console), per topic', 'counter', perTopic('bytesIn'));
    scraped(
      registry,
      'samsa_topic_messages_out_total',
      "Offsets handed out by Fetch past the fetch offset, per topic: exact when a response runs to the end of the log (a consumer at the tail), else estimated from the partition's bytes per offset (Fetch never parses records)",
      'counter',
      perTopic('messagesOut'),
    );
    scraped(registry, 'samsa_topic_bytes_out_total', 'Record bytes returned by Fetch, per topic', 'counter', perTopic('bytesOut'));
    scraped(registry, 'samsa_requests_total', 'Requests handled, per API and version', 'counter', () => [...this.byVersion.values()].map((v) => ({ value: v.count, labels: { api: v.api, version: v.version } })));
    scraped(registry, 'samsa_request_duration_seconds', 'Time from a decoded request to its response handed to the socket (long-poll waits included), per API', 'histogram', () => {
      const out: SampleValue[] = [];
      for (const l of this.latency.values()) {
        let cumulative = 0;
        LATENCY_BUCKETS.forEach((le, i) => {
          cumulative += l.buckets[i];
          out.push({ value: cumulative, labels: { api: l.api, le: String(le) }, metricName: 'samsa_request_duration_seconds_bucket' });
        });
        out.push({ value: l.count, labels: { api: l.api, le: '+Inf' }, metricName: 'samsa_request_duration_seconds_bucket' });
        out.push({ value: l.sum, labels: { api: l.api }, metricName: 'samsa_request_duration_seconds_sum' });
        out.push({ value: l.count, labels: { api: l.api }, metricName: 'samsa_request_duration_seconds_count' });
      }
      return out;
    });
    scraped(registry, 'samsa_request_errors_total', 'Error codes in responses (top level and per partition), per API and error', 'counter', () =>
      [...this.errors].map(([k, value]) => ({ value, labels: { api: k.slice(0, k.indexOf('\u0000')), error: k.slice(k.indexOf('\u0000') + 1) } })),
    );
    scraped(registry, 'samsa_connections_accepted_total', 'Client connections accepted, per listener (rate() gives the connection rate)', 'counter', () =>
      [...this.accepted].map(([listener, value]) => ({ value, labels: { listener } })),
    );
    this.stateMetrics(prom, [registry]);
    prom.collectDefaultMetrics({ register: registry, prefix: 'samsa_' });
    return registry;
  }

  private topicStats(topic: string): TopicStats {
    let s = this.byTopic.get(topic);
    if (!s) this.byTopic.set(topic, (s = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 }));
    return s;
  }

  produced(topic: string, records: number, bytes: number): void {
    const s = this.topicStats(topic);
    s.messagesIn += records;
    s.bytesIn += bytes;
    this.totals.messagesIn += records;
    this.totals.bytesIn += bytes;
  }

  /** Counts what a finished Fetch returns (called once per response, not per long-poll pass). */
  fetched(byId: boolean, req: FetchRequest, res: Encodable<FetchResponse>): void {
    const topics = this.broker.cluster.topics;
    const responses = res.responses ?? [];
    for (let ti = 0; ti < responses.length; ti++) {
      const r = responses[ti];
      const parts = r.partitions ?? [];
      let topic: ReturnType<typeof topics.get> | null = null;
      for (let pi = 0; pi < parts.length; pi++) {
        const p = parts[pi];
        const records = p.records as { length: number; chunks?: { fd: number; position: number; length: number }[] } | null;
        if (!records || records.length === 0 || !records.chunks) continue;
        topic ??= (byId ? topics.getById(r.topicId ?? '') : topics.get(r.topic ?? '')) ?? null;
        if (!topic) break;
        const partition = topic.partitions[p.partitionIndex as number];
        const fetchOffset = req.topics[ti]?.partitions[pi]?.fetchOffset;
        if (!partition || fetchOffset === undefined) continue;
        const n = offsetsReturned(partition.log, records, fetchOffset, req.isolationLevel === 1 ? (p.lastStableOffset as number) : (p.highWatermark as number));
        const s = this.topicStats(topic.name);
        s.messagesOut += n;
        s.bytesOut += records.length;
        this.totals.messagesOut += n;
        this.totals.bytesOut += records.length;
      }
    }
  }

  /** One request done: `started` is performance.now() when it was decoded; body null when nothing was answered. */
  request(apiKey: number, version: number, started: number, body: unknown): void {
    const seconds = (performance.now() - started) / 1000;
    const key = apiKey * 256 + version;
    let v = this.byVersion.get(key);
    if (!v) this.byVersion.set(key, (v = { api: API_CODECS[apiKey]?.name ?? `api_${apiKey}`, version: String(version), count: 0 }));
    v.count++;
    let l = this.latency.get(apiKey);
    if (!l) this.latency.set(apiKey, (l = { api: v.api, buckets: new Float64Array(LATENCY_BUCKETS.length), sum: 0, count: 0 }));
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    if (i < LATENCY_BUCKETS.length) l.buckets[i]++;
    l.sum += seconds;
    l.count++;
    if (body !== null && typeof body === 'object') this.countErrors(v.api, body as Record<string, unknown>);
  }

  connectionAccepted(listener: string): void {
    this.accepted.set(listener, (this.accepted.get(listener) ?? 0) + 1);
  }

  /** Walks response objects for non-zero errorCode fields; record payloads and buffers are skipped. */
  private countErrors(api: string, o: Record<string, unknown>): void {
    const code = o.errorCode;
    if (typeof code === 'number' && code !== 0) {
      const k = `${api}\u0000${errorName(code)}`;
      this.errors.set(k, (this.errors.get(k) ?? 0) + 1);
    }
    for (const k in o) {
      const v = o[k];
      if (!Array.isArray(v)) continue;
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x !== null && typeof x === 'object' && !Buffer.isBuffer(x)) this.countErrors(api, x as Record<string, unknown>);
      }
    }
  }

  /** Gauges and counters read from the broker's state at scrape time. */
  private stateMetrics({ Counter, Gauge }: PromClient, registers: Registry[]): void {
    const broker = this.broker;
    const partitionLabels = ['topic', 'partition'] as const;
    const eachPartition = (fn: (topic: string, partition: string, log: import('../storage/partition-log').PartitionLog) => void) => {
      for (const t of broker.cluster.topics.list()) for (const p of t.partitions) if (!p.log.isClosed) fn(t.name, String(p.index), p.log);
    };
    new Gauge({
      name: 'samsa_log_size_bytes',
      help: 'Bytes of the partition\'s segment files',
      labelNames: partitionLabels,
      registers,
      collect() {
        this.reset();
        eachPartition((t, p, log) => this.labels(t, p).set(log.size));
      },
    });
    new Gauge({
      name: 'samsa_log_segments',
      help: 'Segments of the partition',
      labelNames: partitionLabels,
      registers,
      collect() {
        this.reset();
        eachPartition((t, p, log) => this.labels(t, p).set(log.segmentCount));
      },
    });
    new Gauge({
      name: 'samsa_log_start_offset',
      help: 'First offset of the partition',
      labelNames: partitionLabels,
      registers,
      collect() {
        this.reset();
        eachPartition((t, p, log) => this.labels(t, p).set(log.logStartOffset));
      },
    });
    new Gauge({
      name: 'samsa_log_end_offset',
      help: 'Next offset of the partition (the high watermark: one replica)',
      labelNames: partitionLabels,
      registers,
      collect() {
        this.reset();
        eachPartition((t, p, log) => this.labels(t, p).set(log.logEndOffset));
      },
    });
    const groupOffsets = (fn: (group: string, topic: string, partition: number, committed: number) => void) => {
      // Only a coordinator already loaded by a client: a scrape must not load __consumer_offsets.
      const gc = (require('../coordinator/group') as typeof import('../coordinator/group')).loadedGroupCoordinator(broker.cluster);
      if (!gc || gc.isClosed) return;
      for (const g of gc.listGroups([], [])) {
        const group = gc.anyGroup(g.groupId);
        if (!group) continue;
        for (const [topic, byPartition] of group.offsets) for (const [partition, o] of byPartition) fn(g.groupId, topic, partition, o.offset);
      }
    };
    new Gauge({
      name: 'samsa_consumergroup_committed_offset',
      help: 'Committed offset per group and partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
      collect() {
        this.reset();
        groupOffsets((g, t, p, committed) => this.labels(g, t, String(p)).set(committed));
      },
    });
    new Gauge({
      name: 'samsa_consumergroup_lag',
      help: 'Log end offset minus the committed offset, per group and partition',
      labelNames: ['group', 'topic', 'partition'] as const,
      registers,
      collect() {
        this.reset();
        groupOffsets((g, t, p, committed) => {
          const log = broker.cluster.topics.partition(t, p)?.log;
          if (log && !log.isClosed) this.labels(g, t, String(p)).set(Math.max(0, log.logEndOffset - committed));
        });
      },
    });
    // KIP-714: the last metrics each client instance pushed, under the client's own metric names.
    new Gauge({
      name: 'samsa_client_telemetry_metric',
      help: 'Last value of each metric a client pushed (PushTelemetry), by client instance and metric name',
      labelNames: ['client_instance_id', 'client_id', 'client_software_name', 'metric'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of broker.cluster.telemetry.pushed()) {
          for (const p of c.points) {
            const attrs = Object.entries(p.attributes).map(([k, v]) => `${k}=${v}`).join(',');
            this.labels(c.clientInstanceId, c.clientId, c.softwareName, attrs ? `${p.name}{${attrs}}` : p.name).set(p.value);
          }
        }
      },
    });
    new Gauge({
      name: 'samsa_client_telemetry_pushes',
      help: 'Metric pushes accepted per client instance',
      labelNames: ['client_instance_id', 'client_id'] as const,
      registers,
      collect() {
        this.reset();
        for (const c of broker.cluster.telemetry.pushed()) this.labels(c.clientInstanceId, c.clientId).set(c.pushes);
      },
    });
    new Gauge({
      name: 'samsa_connections',
      help: 'Open client connections',
      registers,
      collect() {
        this.set(broker.node.openConnections);
      },
    });
    new Gauge({
      name: 'samsa_fetch_purgatory_size',
      help: 'Fetch requests parked in long poll, waiting for data or max_wait_ms',
      registers,
      collect() {
        this.set(broker.cluster.waiters.parked);
      },
    });
    new Gauge({
      name: 'samsa_fetch_purgatory_watched_partitions',
      help: 'Partitions that parked fetches wait on',
      registers,
      collect() {
        this.set(broker.cluster.waiters.watchedPartitions);
      },
    });
    new Counter({
      name: 'samsa_network_sent_bytes_total',
      help: 'Response bytes sent, by path: zero_copy (sendfile(2) from segment files) or copy (through the socket\'s own writes)',
      labelNames: ['path'] as const,
      registers,
      collect() {
        const sent = broker.node.sentBytes();
        this.reset();
        this.labels('zero_copy').inc(sent.zeroCopy);
        this.labels('copy').inc(sent.copied);
      },
    });
    const totals = broker.cluster.maintenance.totals;
    const fromTotals = (name: string, help: string, read: () => number) =>
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    fromTotals('samsa_log_cleaner_cleanings_total', 'Partition cleanings finished by the log cleaner', () => totals.cleanings);
    fromTotals('samsa_log_cleaner_read_bytes_total', 'Bytes the log cleaner read', () => totals.bytesRead);
    fromTotals('samsa_log_cleaner_written_bytes_total', 'Bytes the log cleaner wrote', () => totals.bytesWritten);
    fromTotals('samsa_log_retention_deleted_segments_total', 'Segments deleted by retention (time, size, log start offset)', () => totals.retentionDeletedSegments);
  }
}

/**
 * How many offsets past fetchOffset a Fetch response hands out. When the returned bytes run
 * to the end of the active segment the answer is exact (upper - fetchOffset); otherwise the
 * range stops inside the log and is estimated from the partition's average bytes per offset,
 * since reading the last returned batch header would cost I/O on every fetch.
 */
function offsetsReturned(
  log: import('../storage/partition-log').PartitionLog,
  records: { length: number; chunks?: { fd: number; position: number; length: number }[] },
  fetchOffset: number,
  upper: number,
): number {
  const segs = log.allSegments();
  const active = segs[segs.length - 1];
  const region = records.chunks![0];
  if (active && region && region.fd === active.fd && region.position + region.length === active.size) return Math.max(0, upper - fetchOffset);
  const offsets = log.logEndOffset - log.logStartOffset;
  const size = log.size;
  if (size <= 0 || offsets <= 0) return 0;
  return Math.min(Math.max(0, upper - fetchOffset), Math.round((records.length * offsets) / size));
}
