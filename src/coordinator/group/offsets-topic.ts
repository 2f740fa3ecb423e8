/**
 * The coordinator's durable copy: the internal topic __consumer_offsets, as Kafka keeps it.
 *
 *   - Created on first use (as Kafka does on the first FindCoordinator) with
 *     cleanup.policy=compact and segment.bytes=100 MiB (offsets.topic.segment.bytes). Samsa
 *     defaults to 10 partitions instead of Kafka's 50 (offsets.topic.num.partitions): each
 *     partition is a directory with open segment files, and one broker gains nothing from more.
 *   - A group's records go to partition abs(javaHashCode(groupId)) % partitions, Kafka's
 *     choice, so tools that compute a group's partition find it.
 *   - Each write is one uncompressed v2 batch (all offsets of one OffsetCommit together),
 *     appended before the request is answered. Appends land in the page cache like every
 *     other Samsa write: they survive a broker crash (SIGKILL), not a machine crash unless
 *     flush settings say so.
 *   - Load reads every partition from its start and hands each record to the coordinator
 *     (latest value per key wins; a null value deletes). Transactional batches are applied
 *     when their commit marker is read and dropped on abort. Samsa does not compact logs
 *     yet, so the log keeps every commit and the load reads them all.
 */
import * as fs from 'fs';
import type { Logger } from '../../logging';
import type { Partition, Topic, TopicManager } from '../../cluster/topic-manager';
import type { PartitionWaiters } from '../../server/partition-waiters';
import { encodeRecordBatch, LogRecord, readRecordBatches } from './batch-codec';
import type { GroupStore } from './group-context';

export const OFFSETS_TOPIC = '__consumer_offsets';
export const DEFAULT_OFFSETS_TOPIC_PARTITIONS = 10;
const OFFSETS_TOPIC_CONFIGS = { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) };
const LOAD_READ_BYTES = 4 * 1024 * 1024;

/** Java's String.hashCode over UTF-16 code units, as Kafka uses to place a group. */
export function javaStringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

export function offsetsPartitionFor(groupId: string, partitions: number): number {
  return (javaStringHash(groupId) & 0x7fffffff) % partitions;
}

export class OffsetsTopicStore implements GroupStore {
  private topic: Topic | null = null;

  constructor(
    private readonly topics: TopicManager,
    private readonly numPartitions: number,
    private readonly waiters: PartitionWaiters | null,
    private readonly log: Logger,
  ) {}

  /** The topic, created if missing. */
  ensureTopic(): Topic {
    if (this.topic && this.topics.get(OFFSETS_TOPIC) === this.topic) return this.topic;
    let t = this.topics.get(OFFSETS_TOPIC);
    if (!t) {
      t = this.topics.create(OFFSETS_TOPIC, this.numPartitions, { ...OFFSETS_TOPIC_CONFIGS }) as Topic;
      this.log.info('created the offsets topic', { topic: OFFSETS_TOPIC, partitions: this.numPartitions });
    }
    this.topic = t;
    return t;
  }

  partitionFor(groupId: string): Partition {
    const t = this.ensureTopic();
    return t.partitions[offsetsPartitionFor(groupId, t.partitions.length)];
  }

  append(groupId: string, records: LogRecord[]): void {
    const partition = this.partitionFor(groupId);
    const batch = encodeRecordBatch(records, { timestamp: Date.now() });
    partition.log.append(batch, partition.leaderEpoch);
    this.waiters?.notify(partition.topic.name, partition.index);
  }

  /**
   * Replays the existing topic (if any) into `apply`; returns the number of records read.
   * Records of transactions still open at the end of the log go to `applyPending`.
   */
  load(apply: (key: Buffer, value: Buffer | null) => void, applyPending?: (producerId: number, key: Buffer, value: Buffer | null) => void): number {
    const t = this.topics.get(OFFSETS_TOPIC);
    if (!t) return 0;
    this.topic = t;
    let count = 0;
    for (const p of t.partitions) count += this.loadPartition(p, apply, applyPending);
    return count;
  }

  private loadPartition(
    p: Partition,
    apply: (key: Buffer, value: Buffer | null) => void,
    applyPending?: (producerId: number, key: Buffer, value: Buffer | null) => void,
  ): number {
    const log = p.log;
    let next = log.logStartOffset;
    const end = log.logEndOffset;
    let count = 0;
    // Records of open transactions, by producer id, until their marker arrives.
    const pendingTxn = new Map<number, LogRecord[]>();
    while (next < end) {
      const res = log.read(next, LOAD_READ_BYTES);
      if (res.errorCode !== 0 || res.length === 0) break;
      const buf = Buffer.concat(
        res.regions.map((r) => {
          const b = Buffer.allocUnsafe(r.length);
          const n = fs.readSync(r.fd, b, 0, r.length, r.position);
          return b.subarray(0, n);
        }),
      );
      let progressed = false;
      for (const batch of readRecordBatches(buf)) {
        const h = batch.header;
        const last = h.baseOffset + h.lastOffsetDelta;
        if (last < next) continue;
        progressed = true;
        next = last + 1;
        if (batch.compressed) {
          this.log.warn('skipping a compressed batch in the offsets topic', { partition: p.index, offset: h.baseOffset });
          continue;
        }
        if (h.isControl) {
          // Control record key: version int16, type int16 (0 = abort, 1 = commit).
          const key = batch.records[0]?.key;
          const commit = key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === 1;
          const held = pendingTxn.get(h.producerId) ?? [];
          pendingTxn.delete(h.producerId);
          if (commit) for (const r of held) if (r.key) (apply(r.key, r.value), count++);
          continue;
        }
        for (const r of batch.records) {
          if (r.offset < log.logStartOffset || !r.key) continue;
          if (h.isTransactional) {
            let held = pendingTxn.get(h.producerId);
            if (!held) pendingTxn.set(h.producerId, (held = []));
            held.push(r);
            continue;
          }
          try {
            apply(r.key, r.value);
            count++;
          } catch (err) {
            this.log.warn('skipping an unreadable record in the offsets topic', {
              partition: p.index,
              offset: r.offset,
              error: String(err),
            });
          }
        }
      }
      if (!progressed) break;
    }
    if (applyPending) for (const [producerId, held] of pendingTxn) for (const r of held) if (r.key) applyPending(producerId, r.key, r.value);
    return count;
  }
}
