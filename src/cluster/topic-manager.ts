/**
 * Topics and their partitions on this broker: creation, deletion, partition growth,
 * lookup by name or topic id, and the metadata file that makes them survive restarts.
 *
 * On disk (in the data dir):
 *   meta.properties   cluster.id, node.id and version, as Kafka writes it
 *   topics.json       {"version":1,"topics":[{"name","topicId","partitions","configs",
 *                     "replicas":[[node,...],...],"leaders":[node,...],"leaderEpochs":[n,...]}]},
 *                     replaced atomically (write to .tmp, fsync, rename) on every change;
 *                     the last three are per partition (missing in files of older versions:
 *                     every partition on the first node, epoch 0)
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
import { openFilesLimit } from './fd-monitor';

export interface Partition {
  readonly topic: Topic;
  readonly index: number;
  /** The partition's log, opened and recovered on first access (throws once the topic is deleted or the broker closed). */
  readonly log: PartitionLog;
  /** Whether the log was opened already: jobs with nothing to do for an unopened log check it first. */
  readonly isOpen: boolean;
  /** Bumped on every leadership change (src/cluster/partition-leadership.ts); never goes back. */
  leaderEpoch: number;
  /** Replica node ids, the preferred leader first. */
  replicas: number[];
  /** In-sync replicas: the replicas that are up while a leader is (shared storage: caught up at once). */
  isr: number[];
  /** The node leading the partition; -1 when no in-sync replica is up. */
  leader: number;
}

/** Where partitions go; src/cluster/partition-leadership.ts decides it from the nodes that are up. */
export interface ReplicaPlacement {
  /** Replica lists for `count` new partitions numbered from `first` (KafkaError when impossible). */
  assign(count: number, replicationFactor: number, first: number, existing: readonly Partition[]): number[][];
  /** Checks a manual assignment (KafkaError INVALID_REPLICA_ASSIGNMENT when it names unknown or repeated nodes). */
  validate(assignment: number[][]): void;
  /** Leader and ISR of a partition with these replicas, from the nodes that are up (a stored leader kept if it is). */
  initialState(replicas: number[], storedLeader: number): { leader: number; isr: number[] };
  /** Records a new leader epoch in the partition's epoch history. */
  leaderElected(partition: Partition): void;
  /** Replication factor of a topic created without one (internal topics take min(3, nodes)). */
  defaultReplicationFactor(topic: string): number;
  /** Replicas of partitions in a topics.json written before replicas were stored. */
  readonly fallbackReplicas: number[];
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
    public replicas: number[],
    public isr: number[],
    public leader: number,
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
  topics: {
    name: string;
    topicId: string;
    partitions: number;
    configs: Record<string, string>;
    replicas?: number[][];
    leaders?: number[];
    leaderEpochs?: number[];
  }[];
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
    readonly placement: ReplicaPlacement,
  ) {
    this.topicsFile = path.join(dataDir, 'topics.json');
  }

  /** Reads the persisted topics; their partition logs open lazily (see the module comment). */
  load(): void {
    if (!fs.existsSync(this.topicsFile)) return;
    const file = JSON.parse(fs.readFileSync(this.topicsFile, 'utf8')) as TopicsFile;
    let changed = false;
    try {
      for (const t of file.topics) {
        const topic = this.open(t.name, t.topicId, t.partitions, t.configs, (i) => t.replicas?.[i] ?? this.placement.fallbackReplicas, t.leaders);
        for (const p of topic.partitions) {
          // Leader epochs never go back: a leader that is not up any more is replaced with a bump.
          const storedLeader = t.leaders?.[p.index] ?? -1;
          p.leaderEpoch = t.leaderEpochs?.[p.index] ?? 0;
          if (t.leaders !== undefined && p.leader !== storedLeader) {
            p.leaderEpoch++;
            this.placement.leaderElected(p);
            changed = true;
          }
        }
      }
    } catch (err) {
      this.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
      // Every segment keeps its .log open (as in Kafka): say what the data dir needs.
      const segments = countSegmentFiles(this.dataDir);
      throw new Error(
        `too many open files while opening the partitions (${(err as Error).message}): the data dir has ${segments} segments, ` +
          `each kept open, and the open files limit is ${openFilesLimit() ?? 'unknown'}; raise it (ulimit -n) above ${segments + 200}`,
      );
    }
    if (changed) this.persist();
  }

  private open(name: string, topicId: string, partitionCount: number, configs: Record<string, string>, replicasOf: (i: number) => number[], storedLeaders?: number[]): Topic {
    const topic: Topic = { name, topicId, configs, partitions: [], isInternal: INTERNAL_TOPICS.has(name) };
    for (let i = 0; i < partitionCount; i++) topic.partitions.push(this.openPartition(topic, i, replicasOf(i), storedLeaders?.[i] ?? -1));
    this.register(topic);
    return topic;
  }

  private register(topic: Topic): void {
    const { name, topicId } = topic;
    this.byName.set(name, topic);
    this.byId.set(topicId, topic);
  }

  /**
   * Opens partitions `from`..`to`-1 of a topic being created or grown, then runs `commit`
   * (persisting topics.json). All or nothing: when the disk refuses (ENOSPC, EMFILE...), the
   * partitions opened so far are closed and removed, and the request is answered
   * KAFKA_STORAGE_ERROR with the reason.
   */
  private openNew(topic: Topic, from: number, to: number, replicasOf: (i: number) => number[], commit: () => void): void {
    const opened: Partition[] = [];
    try {
      for (let i = from; i < to; i++) opened.push(this.openPartition(topic, i, replicasOf(i)));
      topic.partitions.push(...opened);
      commit();
    } catch (err) {
      topic.partitions.splice(from);
      try {
        for (const p of opened) p.log.deleteAll(0);
        // The partition that failed to open may have left its directory.
        if (from + opened.length < to) fs.rmSync(path.join(this.dataDir, `${topic.name}-${from + opened.length}`), { recursive: true, force: true });
      } catch {
        // Best effort: the original error is the one to report.
      }
      this.log.error('could not create partitions', { topic: topic.name, from, to, error: (err as Error).message });
      if (err instanceof KafkaError) throw err;
      throw new KafkaError(ErrorCode.KAFKA_STORAGE_ERROR, `Could not create partitions ${from}-${to - 1} of ${topic.name}: ${(err as Error).message}`);
    }
  }

  private openPartition(topic: Topic, index: number, replicas: number[], storedLeader = -1): Partition {
    const { leader, isr } = this.placement.initialState(replicas, storedLeader);
    return new LazyPartition(topic, index, (p) => this.openLog(p), replicas, isr, leader);
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
      maxMessageBytes: num('max.message.bytes'),
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
  create(
    name: string,
    numPartitions: number,
    configs: Record<string, string>,
    validateOnly = false,
    replication: { replicationFactor?: number; assignment?: number[][] } = {},
  ): Topic | null {
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
    let assignment = replication.assignment;
    if (assignment) this.placement.validate(assignment);
    else assignment = this.placement.assign(numPartitions, replication.replicationFactor ?? this.placement.defaultReplicationFactor(name), 0, []);
    if (validateOnly) return null;
    const replicas = assignment;
    const topic: Topic = { name, topicId: newTopicId(), configs: { ...configs }, partitions: [], isInternal: INTERNAL_TOPICS.has(name) };
    this.openNew(topic, 0, numPartitions, (i) => replicas[i], () => {
      this.register(topic);
      try {
        this.persist();
      } catch (err) {
        this.byName.delete(name);
        this.byId.delete(topic.topicId);
        throw err;
      }
    });
    this.log.info('topic created', { topic: name, partitions: numPartitions, topicId: topic.topicId });
    return topic;
  }

  addPartitions(name: string, totalCount: number, validateOnly = false, assignment?: number[][]): void {
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
    if (assignment) this.placement.validate(assignment);
    // New partitions keep the topic's replication factor, placed as Kafka places them.
    const replicas = assignment ?? this.placement.assign(totalCount - current, topic.partitions[0].replicas.length, current, topic.partitions);
    if (validateOnly) return;
    this.openNew(topic, current, totalCount, (i) => replicas[i - current], () => this.persist());
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
    for (const t of this.byName.values()) {
      for (const p of t.partitions) {
        if (!p.isOpen) continue;
        try {
          p.log.maybeFlush(now);
        } catch (err) {
          // A failing disk must not stop the timer (or the process); the next tick tries again.
          this.log.error('periodic flush failed', { partition: `${t.name}-${p.index}`, error: (err as Error).message });
        }
      }
    }
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

  /** Writes topics.json (after a leadership or replica change, say). */
  persist(): void {
    const file: TopicsFile = {
      version: 1,
      topics: [...this.byName.values()].map((t) => ({
        name: t.name,
        topicId: t.topicId,
        partitions: t.partitions.length,
        configs: t.configs,
        replicas: t.partitions.map((p) => p.replicas),
        leaders: t.partitions.map((p) => p.leader),
        leaderEpochs: t.partitions.map((p) => p.leaderEpoch),
      })),
    };
    // One line per topic: per-partition lists stay compact with thousands of partitions.
    writeFileAtomic(this.topicsFile, `{"version":1,"topics":[\n${file.topics.map((t) => JSON.stringify(t)).join(',\n')}\n]}\n`);
  }
}

/** Number of `.log` segment files under the data dir's partition directories. */
function countSegmentFiles(dataDir: string): number {
  let n = 0;
  for (const d of fs.readdirSync(dataDir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    try {
      n += fs.readdirSync(path.join(dataDir, d.name)).filter((f) => f.endsWith('.log')).length;
    } catch {
      // Unreadable: not counted.
    }
  }
  return n;
}
