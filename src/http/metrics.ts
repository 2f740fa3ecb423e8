/**
 * Prometheus metrics of one broker (served at /metrics by src/http/server.ts).
 *
 * Each broker has its own prom-client Registry: tests run several brokers in one process and
 * the global registry would mix them. The request path only increments counters (children
 * cached per topic / API so no label hashing happens per request); everything that describes
 * state (log sizes, offsets, lag, connections, parked fetches) is read when Prometheus
 * scrapes, in `collect()` callbacks.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Broker } from '../broker';
import type { FetchRequest, FetchResponse } from '../protocol/generated';
import { API_CODECS } from '../protocol/generated';
import type { Encodable } from '../protocol/encodable';
import { errorName } from '../protocol/errors';
import { loadedGroupCoordinator } from '../coordinator/group';

type Inc = { inc(v?: number): void };
type Observe = { observe(v: number): void };

interface TopicCounters {
  messages: Inc;
  bytes: Inc;
}

/** Plain running totals, for the console's throughput sparkline (no registry round trip). */
export interface Totals {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly totals: Totals = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
  private readonly messagesIn: Counter<'topic'>;
  private readonly bytesIn: Counter<'topic'>;
  private readonly messagesOut: Counter<'topic'>;
  private readonly bytesOut: Counter<'topic'>;
  private readonly requests: Counter<'api' | 'version'>;
  private readonly latency: Histogram<'api'>;
  private readonly errors: Counter<'api' | 'error'>;
  private readonly connectionsAccepted: Counter<'listener'>;
  private readonly inByTopic = new Map<string, TopicCounters>();
  private readonly outByTopic = new Map<string, TopicCounters>();
  /** apiKey * 256 + version -> children. */
  private readonly perApi = new Map<number, { requests: Inc; latency: Observe; api: string }>();

  constructor(private readonly broker: Broker) {
    const registers = [this.registry];
    const topicCounter = (name: string, help: string) => new Counter({ name, help, labelNames: ['topic'] as const, registers });
    this.messagesIn = topicCounter('samsa_topic_messages_in_total', 'Records appended by Produce (and the console), per topic');
    this.bytesIn = topicCounter('samsa_topic_bytes_in_total', 'Record batch bytes appended by Produce (and the console), per topic');
    this.messagesOut = topicCounter(
      'samsa_topic_messages_out_total',
      'Offsets handed out by Fetch past the fetch offset, per topic: exact when a response runs to the high watermark (a consumer at the tail), else estimated from the partition\'s bytes per offset (Fetch never parses records)',
    );
    this.bytesOut = topicCounter('samsa_topic_bytes_out_total', 'Record bytes returned by Fetch, per topic');
    this.requests = new Counter({ name: 'samsa_requests_total', help: 'Requests handled, per API and version', labelNames: ['api', 'version'] as const, registers });
    this.latency = new Histogram({
      name: 'samsa_request_duration_seconds',
      help: 'Time from a decoded request to its response handed to the socket (long-poll waits included), per API',
      labelNames: ['api'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.errors = new Counter({ name: 'samsa_request_errors_total', help: 'Error codes in responses (top level and per partition), per API and error', labelNames: ['api', 'error'] as const, registers });
    this.connectionsAccepted = new Counter({ name: 'samsa_connections_accepted_total', help: 'Client connections accepted, per listener (rate() gives the connection rate)', labelNames: ['listener'] as const, registers });
    this.stateMetrics(registers);
    collectDefaultMetrics({ register: this.registry, prefix: 'samsa_' });
  }

  produced(topic: string, records: number, bytes: number): void {
    let c = this.inByTopic.get(topic);
    if (!c) this.inByTopic.set(topic, (c = { messages: this.messagesIn.labels(topic), bytes: this.bytesIn.labels(topic) }));
    c.messages.inc(records);
    c.bytes.inc(bytes);
    this.totals.messagesIn += records;
    this.totals.bytesIn += bytes;
  }

  /** Counts what a finished Fetch returns (called once per response, not per long-poll pass). */
  fetched(byId: boolean, req: FetchRequest, res: Encodable<FetchResponse>): void {
    const topics = this.broker.topics;
    const responses = res.responses ?? [];
    for (let ti = 0; ti < responses.length; ti++) {
      const r = responses[ti];
      const topic = byId ? topics.getById(r.topicId ?? '') : topics.get(r.topic ?? '');
      if (!topic) continue;
      const parts = r.partitions ?? [];
      for (let pi = 0; pi < parts.length; pi++) {
        const p = parts[pi];
        const records = p.records as { length: number; chunks?: { fd: number; position: number; length: number }[] } | null;
        if (!records || records.length === 0 || !records.chunks) continue;
        const partition = topic.partitions[p.partitionIndex as number];
        const fetchOffset = req.topics[ti]?.partitions[pi]?.fetchOffset;
        if (!partition || fetchOffset === undefined) continue;
        const n = offsetsReturned(partition.log, records, fetchOffset, req.isolationLevel === 1 ? (p.lastStableOffset as number) : (p.highWatermark as number));
        let c = this.outByTopic.get(topic.name);
        if (!c) this.outByTopic.set(topic.name, (c = { messages: this.messagesOut.labels(topic.name), bytes: this.bytesOut.labels(topic.name) }));
        c.messages.inc(n);
        c.bytes.inc(records.length);
        this.totals.messagesOut += n;
        this.totals.bytesOut += records.length;
      }
    }
  }

  /** One request done: `started` is performance.now() when it was decoded; body null when nothing was answered. */
  request(apiKey: number, version: number, started: number, body: unknown): void {
    const key = apiKey * 256 + version;
    let c = this.perApi.get(key);
    if (!c) {
      const api = API_CODECS[apiKey]?.name ?? `api_${apiKey}`;
      c = { requests: this.requests.labels(api, String(version)), latency: this.latency.labels(api), api };
      this.perApi.set(key, c);
    }
    c.requests.inc();
    c.latency.observe((performance.now() - started) / 1000);
    if (body !== null && typeof body === 'object') this.countErrors(c.api, body as Record<string, unknown>);
  }

  connectionAccepted(listener: string): void {
    this.connectionsAccepted.labels(listener).inc();
  }

  /** Walks response objects for non-zero errorCode fields; record payloads and buffers are skipped. */
  private countErrors(api: string, o: Record<string, unknown>): void {
    const code = o.errorCode;
    if (typeof code === 'number' && code !== 0) this.errors.labels(api, errorName(code)).inc();
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
  private stateMetrics(registers: Registry[]): void {
    const broker = this.broker;
    const partitionLabels = ['topic', 'partition'] as const;
    const eachPartition = (fn: (topic: string, partition: string, log: import('../storage/partition-log').PartitionLog) => void) => {
      for (const t of broker.topics.list()) for (const p of t.partitions) if (!p.log.isClosed) fn(t.name, String(p.index), p.log);
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
      const gc = loadedGroupCoordinator(broker);
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
          const log = broker.topics.partition(t, p)?.log;
          if (log && !log.isClosed) this.labels(g, t, String(p)).set(Math.max(0, log.logEndOffset - committed));
        });
      },
    });
    new Gauge({
      name: 'samsa_connections',
      help: 'Open client connections',
      registers,
      collect() {
        this.set(broker.openConnections);
      },
    });
    new Gauge({
      name: 'samsa_fetch_purgatory_size',
      help: 'Fetch requests parked in long poll, waiting for data or max_wait_ms',
      registers,
      collect() {
        this.set(broker.waiters.parked);
      },
    });
    new Gauge({
      name: 'samsa_fetch_purgatory_watched_partitions',
      help: 'Partitions that parked fetches wait on',
      registers,
      collect() {
        this.set(broker.waiters.watchedPartitions);
      },
    });
    new Counter({
      name: 'samsa_network_sent_bytes_total',
      help: 'Response bytes sent, by path: zero_copy (sendfile(2) from segment files) or copy (through the socket\'s own writes)',
      labelNames: ['path'] as const,
      registers,
      collect() {
        const sent = broker.sentBytes();
        this.reset();
        this.labels('zero_copy').inc(sent.zeroCopy);
        this.labels('copy').inc(sent.copied);
      },
    });
    const totals = broker.maintenance.totals;
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
