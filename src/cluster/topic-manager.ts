/**
 * Topics and their partitions on this broker: creation, deletion, partition growth,
 * lookup by name or topic id, and the metadata file that makes them survive restarts.
 *
 * On disk (in the data dir):
 *   meta.properties   cluster.id, node.id and version, as Kafka writes it
 *   topics.json       {"version":1,"topics":[{"name","topicId","partitions","configs"}]},
 *                     replaced atomically (write to .tmp, fsync, rename) on every change
 *   <topic>-<n>/      one partition log per directory (see src/storage/)
 *
 * Partition logs open lazily: load() only reads topics.json, and a partition's log is opened
 * (and, after an unclean shutdown, recovered) on its first use: the first access to
 * `partition.log` (Produce, Fetch, ListOffsets, retention, the console...). Metadata needs no
 * log. After the broker listens, openInBackground() opens the rest a few at a time, so a
 * broker with many partitions accepts connections at once and still recovers every log soon.
 * A partition never opened keeps its directory as it was, clean-shutdown marker included.
 *
 * Concurrency: everything runs on the broker's single JS thread; a partition has exactly
 * one writer (the Produce handler calls append synchronously).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { PartitionLog } from '../storage/partition-log';
import { writeFileAtomic } from '../storage/file-io';
import { LogConfig } from '../storage/log-config';
import { Logger } from '../logging';
import { BrokerLayers, effectiveConfig, splitList, validateTopicConfigs } from './topic-config';

export interface Partition {
  readonly topic: Topic;
  readonly index: number;
  /** The partition's log, opened and recovered on first access (throws once the topic is deleted or the broker closed). */
  readonly log: PartitionLog;
  /** Whether the log was opened already: jobs with nothing to do for an unopened log check it first. */
  readonly isOpen: boolean;
  leaderEpoch: number;
}

/** A partition whose log opens on first access (see the module comment). */
class LazyPartition implements Partition {
  leaderEpoch = 0;
  private opened: PartitionLog | null = null;
  /** Set by delete/close: the log must not be opened (nor its directory created) any more. */
  retired: string | null = null;

  constructor(
    readonly topic: Topic,
    readonly index: number,
    private readonly openLog: (p: LazyPartition) => PartitionLog,
  ) {}

  get log(): PartitionLog {
    if (this.opened) return this.opened;
    if (this.retired) throw new Error(`partition ${this.topic.name}-${this.index} is ${this.retired}`);
    return (this.opened = this.openLog(this));
  }

  get isOpen(): boolean {
    return this.opened !== null;
  }
}

export interface Topic {
  readonly name: string;
  readonly topicId: string;
  readonly configs: Record<string, string>;
  readonly partitions: Partition[];
  readonly isInternal: boolean;
}

interface TopicsFile {
  version: 1;
  topics: { name: string; topicId: string; partitions: number; configs: Record<string, string> }[];
}

export const MAX_TOPIC_NAME_LENGTH = 249;

/** Kafka's internal topics: written only by the broker's coordinators, never by Produce. */
export const INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state', '__share_group_state']);
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules: 1-249 of [a-zA-Z0-9._-], and not "." or "..". */
export function topicNameError(name: string): string | null {
  if (name.length === 0) return 'Topic name is illegal, it can\'t be empty';
  if (name === '.' || name === '..') return 'Topic name cannot be "." or ".."';
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    return `Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name}`;
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
    return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  }
  return null;
}

/** Kafka treats '.' and '_' as the same in metric names, so such names may not coexist. */
function collisionKey(name: string): string {
  return name.replace(/\./g, '_');
}

function newTopicId(): string {
  // A random v4 UUID, never the all-zero or Kafka's reserved metadata id.
  for (;;) {
    const b = crypto.randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const id = b.toString('base64url');
    if (!id.startsWith('AAAAAAAAAAAAAAAAAAAA')) return id;
  }
}

/** The process's soft limit on open files (Linux /proc), or a conservative guess elsewhere. */
function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    // not Linux
  }
  return 1024;
}

export class TopicManager {
  private readonly byName = new Map<string, Topic>();
  private readonly byId = new Map<string, Topic>();
  private readonly topicsFile: string;
  private effective = new WeakMap<Topic, Map<string, string>>();
  /** Each topic's log settings as partitions open (dropped with `effective` on every config change). */
  private logConfigs = new WeakMap<Topic, LogConfig>();
  private closed = false;
  private background: NodeJS.Immediate | null = null;

  constructor(
    private readonly dataDir: string,
    /** Broker-level values behind every topic config: a plain record of static settings, or live layers (dynamic configs). */
    readonly brokerDefaults: BrokerLayers | Record<string, string>,
    private readonly log: Logger,
  ) {
    this.topicsFile = path.join(dataDir, 'topics.json');
  }

  /** Reads the persisted topics; their partition logs open lazily (see the module comment). */
  load(): void {
    if (!fs.existsSync(this.topicsFile)) return;
    const file = JSON.parse(fs.readFileSync(this.topicsFile, 'utf8')) as TopicsFile;
    for (const t of file.topics) this.open(t.name, t.topicId, t.partitions, t.configs);
  }

  private open(name: string, topicId: string, partitionCount: number, configs: Record<string, string>): Topic {
    const topic: Topic = { name, topicId, configs, partitions: [], isInternal: INTERNAL_TOPICS.has(name) };
    for (let i = 0; i < partitionCount; i++) topic.partitions.push(this.openPartition(topic, i));
    this.byName.set(name, topic);
    this.byId.set(topicId, topic);
    return topic;
  }

  private openPartition(topic: Topic, index: number): Partition {
    return new LazyPartition(topic, index, (p) => this.openLog(p));
  }

  /** Opens (creating or recovering) a partition's log with the topic's config as it is now. */
  private openLog(p: Partition): PartitionLog {
    const name = `${p.topic.name}-${p.index}`;
    let config = this.logConfigs.get(p.topic);
    if (!config) this.logConfigs.set(p.topic, (config = this.logConfig(p.topic.configs)));
    return PartitionLog.open(path.join(this.dataDir, name), config, this.log.child({ partition: name }));
  }

  /**
   * Opens every partition not opened yet, a slice of at most `sliceMs` per turn of the event
   * loop so that requests are served meanwhile. A partition whose log fails to open is logged
   * and left for its first use to try again (and report the error there).
   */
  openInBackground(sliceMs = 5): void {
    if (this.background || this.closed) return;
    const pending: Partition[] = [];
    let open = 0;
    for (const t of this.byName.values()) {
      for (const p of t.partitions) {
        if (p.isOpen) open++;
        else pending.push(p);
      }
    }
    // An open log holds a descriptor per segment: leave half of the process's limit to
    // connections and to logs opened on use.
    const budget = Math.max(0, Math.floor(openFileLimit() / 2) - open);
    if (pending.length > budget) {
      this.log.warn('too many partitions to open in the background for the open-file limit; the rest open on first use', { partitions: pending.length, opening: budget });
      pending.length = budget;
    }
    if (pending.length === 0) return;
    const started = Date.now();
    let next = 0;
    let failed = 0;
    const step = () => {
      this.background = null;
      if (this.closed) return;
      const until = performance.now() + sliceMs;
      while (next < pending.length && performance.now() < until) {
        const p = pending[next++];
        if (p.isOpen || this.byName.get(p.topic.name) !== p.topic) continue;
        try {
          void p.log;
        } catch (err) {
          failed++;
          this.log.error('partition log failed to open', { partition: `${p.topic.name}-${p.index}`, error: (err as Error).message });
        }
      }
      if (next < pending.length) this.background = setImmediate(step);
      else this.log.info('partition logs opened in the background', { partitions: pending.length, failed, ms: Date.now() - started });
    };
    this.background = setImmediate(step);
  }

  logConfig(configs: Record<string, string>): LogConfig {
    const num = (name: string) => Number(effectiveConfig(name, configs, this.brokerDefaults));
    const policy = splitList(effectiveConfig('cleanup.policy', configs, this.brokerDefaults));
    const compact = policy.includes('compact');
    return {
      segmentBytes: num('segment.bytes'),
      // On compacted topics an open segment must not hold records past max.compaction.lag.ms (Kafka rolls for it too).
      segmentMs: compact ? Math.min(num('segment.ms'), num('max.compaction.lag.ms')) : num('segment.ms'),
      segmentIndexBytes: num('segment.index.bytes'),
      indexIntervalBytes: num('index.interval.bytes'),
      flushMessages: num('flush.messages'),
      flushMs: num('flush.ms'),
      messageTimestampType: effectiveConfig('message.timestamp.type', configs, this.brokerDefaults) as LogConfig['messageTimestampType'],
      fileDeleteDelayMs: num('file.delete.delay.ms'),
      deleteEnabled: policy.includes('delete'),
      compactEnabled: compact,
      retentionMs: num('retention.ms'),
      retentionBytes: num('retention.bytes'),
      deleteRetentionMs: num('delete.retention.ms'),
      minCleanableDirtyRatio: num('min.cleanable.dirty.ratio'),
      minCompactionLagMs: num('min.compaction.lag.ms'),
      maxCompactionLagMs: num('max.compaction.lag.ms'),
    };
  }

  /**
   * Replaces a topic's config overrides (AlterConfigs and the result of an incremental
   * change): validates the whole set (names, values, relations between configs), then unless
   * validateOnly persists it and applies it to every partition log at once.
   */
  setConfigs(topic: Topic, configs: Record<string, string>, validateOnly = false): void {
    validateTopicConfigs(configs, this.brokerDefaults);
    if (validateOnly) return;
    const own = topic.configs as Record<string, string>;
    for (const k of Object.keys(own)) delete own[k];
    Object.assign(own, configs);
    this.effective.delete(topic);
    this.logConfigs.delete(topic);
    this.persist();
    this.reconfigure(topic);
    this.log.info('topic configs changed', { topic: topic.name, configs });
  }

  /** Re-derives the log settings of every partition (after a broker-level config change). */
  reconfigureAll(): void {
    this.effective = new WeakMap();
    this.logConfigs = new WeakMap();
    for (const t of this.byName.values()) this.reconfigure(t);
  }

  private reconfigure(topic: Topic): void {
    const cfg = this.logConfig(topic.configs);
    // An unopened log takes the config in force when it opens.
    for (const p of topic.partitions) if (p.isOpen && !p.log.isClosed) p.log.updateConfig(cfg);
  }

  /** Effective value of a topic config (cached per topic; the cache is dropped on every config change). */
  config(topic: Topic, name: string): string {
    let values = this.effective.get(topic);
    if (!values) this.effective.set(topic, (values = new Map()));
    let v = values.get(name);
    if (v === undefined) {
      v = effectiveConfig(name, topic.configs, this.brokerDefaults);
      values.set(name, v);
    }
    return v;
  }

  get(name: string): Topic | undefined {
    return this.byName.get(name);
  }

  getById(topicId: string): Topic | undefined {
    return this.byId.get(topicId);
  }

  partition(name: string, index: number): Partition | undefined {
    return this.byName.get(name)?.partitions[index];
  }

  list(): Topic[] {
    return [...this.byName.values()];
  }

  /**
   * Validates and (unless validateOnly) creates a topic. Throws KafkaError with Kafka's
   * code and message for every refusal.
   */
  create(name: string, numPartitions: number, configs: Record<string, string>, validateOnly = false): Topic | null {
    const nameError = topicNameError(name);
    if (nameError) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
    if (this.byName.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${name}' already exists.`);
    const key = collisionKey(name);
    for (const other of this.byName.keys()) {
      if (collisionKey(other) === key) {
        throw new KafkaError(
          ErrorCode.INVALID_TOPIC_EXCEPTION,
          `Topic '${name}' collides with existing topic: ${other}`,
        );
      }
    }
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    }
    validateTopicConfigs(configs, this.brokerDefaults);
    if (validateOnly) return null;
    const topic = this.open(name, newTopicId(), numPartitions, { ...configs });
    this.persist();
    this.log.info('topic created', { topic: name, partitions: numPartitions, topicId: topic.topicId });
    return topic;
  }

  addPartitions(name: string, totalCount: number, validateOnly = false): void {
    const topic = this.byName.get(name);
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
    const current = topic.partitions.length;
    if (totalCount < current) {
      throw new KafkaError(
        ErrorCode.INVALID_PARTITIONS,
        `The topic ${name} currently has ${current} partition(s); ${totalCount} would not be an increase.`,
      );
    }
    if (totalCount === current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
    }
    if (validateOnly) return;
    for (let i = current; i < totalCount; i++) topic.partitions.push(this.openPartition(topic, i));
    this.persist();
  }

  delete(topic: Topic): void {
    this.byName.delete(topic.name);
    this.byId.delete(topic.topicId);
    this.persist();
    for (const p of topic.partitions) {
      if (p.isOpen) p.log.deleteAll();
      else {
        (p as LazyPartition).retired = 'deleted';
        fs.rmSync(path.join(this.dataDir, `${topic.name}-${p.index}`), { recursive: true, force: true });
      }
    }
    this.log.info('topic deleted', { topic: topic.name });
  }

  /** Applies flush.ms to every partition (called periodically by the broker). */
  maybeFlushAll(): void {
    const now = Date.now();
    for (const t of this.byName.values()) for (const p of t.partitions) if (p.isOpen) p.log.maybeFlush(now);
  }

  /** Closes the opened logs (each writes its clean-shutdown marker); unopened ones stay as they are on disk. */
  close(): void {
    this.closed = true;
    if (this.background) clearImmediate(this.background);
    this.background = null;
    for (const t of this.byName.values()) {
      for (const p of t.partitions) {
        if (p.isOpen) p.log.close();
        else (p as LazyPartition).retired = 'closed';
      }
    }
  }

  private persist(): void {
    const file: TopicsFile = {
      version: 1,
      topics: [...this.byName.values()].map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.length,
        configs: t.configs,
      })),
    };
    writeFileAtomic(this.topicsFile, JSON.stringify(file, null, 1));
  }
}
