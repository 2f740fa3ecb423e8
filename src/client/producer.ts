/**
 * A batching producer: records collect per partition into batches (up to batchBytes, or
 * lingerMs after the first record), each batch is compressed and sent to the partition's
 * leader with up to maxInFlight requests outstanding per partition. Keyed records go to
 * murmur2(key) % partitions (Kafka's default partitioner, so keys land where Java clients put
 * them); unkeyed records stick to one partition per batch and then move on.
 *
 * With idempotence the producer takes a producer id (InitProducerId) and numbers each
 * partition's batches; a resend after a lost answer is then deduplicated by the broker.
 */
import { KafkaClient, sleep } from './client';
import { Connection } from './connection';
import { ClientError, errorLabel, isRetriable } from './errors';
import { encodeBatch, OutRecord } from './records';

export interface ProducerOptions {
  /** 0 none, 1 leader, -1 all in-sync replicas. */
  acks?: number;
  /** Codec id: 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd. */
  compression?: number;
  idempotent?: boolean;
  batchBytes?: number;
  lingerMs?: number;
  maxInFlight?: number;
  /** Records held in memory before send() waits for acknowledgements. */
  bufferBytes?: number;
  timeoutMs?: number;
  retries?: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  open: OutRecord[];
  openBytes: number;
  timer: NodeJS.Timeout | null;
  /** Orders encoding and the write of each request, so batches go out in sequence order. */
  tail: Promise<void>;
  inflight: Set<Promise<void>>;
  nextSequence: number;
}

export interface ProduceStats {
  records: number;
  batches: number;
  bytes: number;
  /** Offset of the last acknowledged batch's first record, per topic:partition. */
  lastOffsets: Map<string, number>;
}

export class Producer {
  private parts = new Map<string, PartitionState>();
  private sticky = new Map<string, number>();
  private buffered = 0;
  private drainWaiters: (() => void)[] = [];
  private error: Error | null = null;
  private producerId: { id: number; epoch: number } | null = null;
  private readonly opts: Required<ProducerOptions>;
  readonly stats: ProduceStats = { records: 0, batches: 0, bytes: 0, lastOffsets: new Map() };

  constructor(
    readonly client: KafkaClient,
    opts: ProducerOptions = {},
  ) {
    this.opts = {
      acks: opts.acks ?? -1,
      compression: opts.compression ?? 0,
      idempotent: opts.idempotent ?? false,
      batchBytes: opts.batchBytes ?? 512 * 1024,
      lingerMs: opts.lingerMs ?? 5,
      maxInFlight: opts.idempotent ? Math.min(opts.maxInFlight ?? 5, 5) : (opts.maxInFlight ?? 5),
      bufferBytes: opts.bufferBytes ?? 32 * 1024 * 1024,
      timeoutMs: opts.timeoutMs ?? 30_000,
      retries: opts.retries ?? 5,
    };
    if (this.opts.idempotent && this.opts.acks !== -1) throw new ClientError('idempotence needs --acks all (-1)', { hint: 'drop --acks or pass --acks all' });
  }

  /** Queues one record; waits while too many bytes are unacknowledged. */
  async send(topic: string, record: OutRecord, partition: number | null = null): Promise<void> {
    if (this.error) throw this.error;
    if (this.opts.idempotent && !this.producerId) await this.initProducerId();
    const partitions = await this.client.partitions(topic);
    let p = partition;
    if (p === null) {
      if (record.key) p = toPositive(murmur2(record.key)) % partitions.length;
      else p = this.sticky.get(topic) ?? Math.floor(Math.random() * partitions.length);
    } else if (!partitions.some((x) => x.partition === p)) {
      throw new ClientError(`topic "${topic}" has no partition ${p} (it has ${partitions.length})`, { code: 3, hint: 'pick a partition below the count samsa topics describe shows' });
    }
    const state = this.state(topic, p);
    const size = 24 + (record.key?.length ?? 0) + (record.value?.length ?? 0) + (record.headers ?? []).reduce((n, h) => n + h.key.length + (h.value?.length ?? 0) + 4, 0);
    state.open.push(record);
    state.openBytes += size;
    this.buffered += size;
    if (state.openBytes >= this.opts.batchBytes) {
      this.seal(state);
      if (record.key === null && partition === null && partitions.length > 1) this.sticky.set(topic, (p + 1) % partitions.length);
    } else if (!state.timer) {
      state.timer = setTimeout(() => this.seal(state), this.opts.lingerMs);
    }
    while (this.buffered > this.opts.bufferBytes && !this.error) await new Promise<void>((r) => this.drainWaiters.push(r));
    if (this.error) throw this.error;
  }

  /** Sends everything queued and waits for every acknowledgement; throws the first failure. */
  async flush(): Promise<ProduceStats> {
    for (const s of this.parts.values()) this.seal(s);
    for (const s of this.parts.values()) {
      await s.tail;
      await Promise.all([...s.inflight]);
    }
    if (this.error) throw this.error;
    return this.stats;
  }

  private state(topic: string, partition: number): PartitionState {
    const k = `${topic}:${partition}`;
    let s = this.parts.get(k);
    if (!s) {
      s = { topic, partition, open: [], openBytes: 0, timer: null, tail: Promise.resolve(), inflight: new Set(), nextSequence: 0 };
      this.parts.set(k, s);
    }
    return s;
  }

  private async initProducerId(): Promise<void> {
    const conn = await this.client.any();
    const res = await conn.request(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    if (res.errorCode !== 0) throw new ClientError(`InitProducerId failed: ${errorLabel(res.errorCode)}`, { code: res.errorCode });
    this.producerId ??= { id: res.producerId, epoch: res.producerEpoch };
  }

  private seal(s: PartitionState): void {
    if (s.timer) {
      clearTimeout(s.timer);
      s.timer = null;
    }
    if (s.open.length === 0) return;
    const records = s.open;
    const bytes = s.openBytes;
    s.open = [];
    s.openBytes = 0;
    const seq = s.nextSequence;
    s.nextSequence = (s.nextSequence + records.length) % 2 ** 31;
    s.tail = s.tail.then(async () => {
      if (this.error) return this.release(bytes);
      try {
        const pid = this.producerId;
        const batch = await encodeBatch(records, this.opts.compression, pid && { producerId: pid.id, producerEpoch: pid.epoch, baseSequence: seq });
        while (s.inflight.size >= this.opts.maxInFlight) await Promise.race(s.inflight);
        const done = this.produce(s, batch, records.length).then(
          () => this.release(bytes),
          (err) => {
            this.error ??= err;
            this.release(bytes);
          },
        );
        s.inflight.add(done);
        void done.then(() => s.inflight.delete(done));
      } catch (err) {
        this.error ??= err as Error;
        this.release(bytes);
      }
    });
  }

  private release(bytes: number): void {
    this.buffered -= bytes;
    if (this.buffered <= this.opts.bufferBytes || this.error) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const r of w) r();
    }
  }

  private async produce(s: PartitionState, batch: Buffer, count: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let conn: Connection;
      try {
        conn = await this.client.broker(await this.client.leaderFor(s.topic, s.partition, attempt > 0));
      } catch (err) {
        if (attempt < this.opts.retries && !(err instanceof ClientError && err.code === 3)) {
          await sleep(100 * (attempt + 1));
          continue;
        }
        throw err;
      }
      const body = {
        transactionalId: null,
        acks: this.opts.acks,
        timeoutMs: this.opts.timeoutMs,
        topicData: [{ name: s.topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitionData: [{ index: s.partition, records: batch }] }],
      };
      // The write happens synchronously inside request(), so batches leave in sealing order.
      const res = await conn.request(0, 11, body, { noResponse: this.opts.acks === 0 });
      if (this.opts.acks === 0) return this.count(s, batch, count, -1);
      const p = res.responses[0].partitionResponses[0];
      if (p.errorCode === 0 || p.errorCode === 46 /* DUPLICATE_SEQUENCE_NUMBER: already written */) return this.count(s, batch, count, p.baseOffset);
      if (isRetriable(p.errorCode) && attempt < this.opts.retries) {
        await sleep(100 * (attempt + 1));
        continue;
      }
      throw new ClientError(`produce to ${s.topic}-${s.partition} failed: ${errorLabel(p.errorCode)}${p.errorMessage ? ` - ${p.errorMessage}` : ''}`, { code: p.errorCode });
    }
  }

  private count(s: PartitionState, batch: Buffer, count: number, baseOffset: number): void {
    this.stats.records += count;
    this.stats.batches++;
    this.stats.bytes += batch.length;
    if (baseOffset >= 0) this.stats.lastOffsets.set(`${s.topic}:${s.partition}`, baseOffset + count - 1);
  }
}

/** Kafka's murmur2 (seed 0x9747b28c), as its default partitioner hashes keys. */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const len = data.length;
  let h = (0x9747b28c ^ len) | 0;
  const whole = len & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = len & 3;
  if (rest === 3) h ^= data[whole + 2] << 16;
  if (rest >= 2) h ^= data[whole + 1] << 8;
  if (rest >= 1) {
    h ^= data[whole];
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export const toPositive = (n: number) => n & 0x7fffffff;
