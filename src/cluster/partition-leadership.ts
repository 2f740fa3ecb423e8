/**
 * Replicas, ISR and leaders of every partition, kept true as nodes of the simulated cluster
 * stop and start. All nodes share one storage, so a replica that is up is always caught up:
 * it joins the ISR as soon as the partition has a leader, and acks=all waits for nothing.
 *
 * Rules, as a KRaft controller applies them:
 *  - placement of new partitions: Kafka's rack-unaware round robin over the nodes that are up
 *    (first replica at (partition + start) % n, the others shifted), so leaders spread;
 *  - a node that stops leaves every ISR (never the last member, as Kafka keeps the last one),
 *    and the partitions it led move to the next replica in the ISR that is up, or to no
 *    leader (-1) when none is;
 *  - a node that starts rejoins the ISR of partitions that have a leader; a partition without
 *    leader whose remaining ISR member comes back is led by it again; leadership otherwise
 *    stays where it is until a preferred election or an explicit move;
 *  - every leader change bumps the leader epoch (also to -1, as KRaft does) and a new leader's
 *    epoch is recorded with the log end offset in the partition's epoch history
 *    (src/storage/leader-epoch-checkpoint.ts), which OffsetForLeaderEpoch answers from.
 * Changes are persisted once per operation (topics.json: replicas, leaders, epochs).
 */
import { ErrorCode, KafkaError } from '../protocol/errors';
import { LeaderEpochCheckpoint } from '../storage/leader-epoch-checkpoint';
import type { Partition, ReplicaPlacement, TopicManager } from './topic-manager';
import { INTERNAL_TOPICS } from './topic-manager';
import type { Logger } from '../logging';

/** What an election or a move did to one partition. */
export interface ElectionResult {
  errorCode: number;
  errorMessage: string | null;
}

export class PartitionLeadership implements ReplicaPlacement {
  /** Nodes that are up (listening). */
  readonly live: Set<number>;
  readonly fallbackReplicas: number[];
  private topicsRef: TopicManager | null = null;
  private readonly histories = new WeakMap<Partition, LeaderEpochCheckpoint>();

  constructor(
    /** Every node of the cluster, up or not, in id order. */
    readonly nodeIds: readonly number[],
    private readonly defaultRf: number,
    private readonly log: Logger,
  ) {
    this.live = new Set(nodeIds);
    this.fallbackReplicas = [nodeIds[0]];
  }

  set topics(t: TopicManager) {
    this.topicsRef = t;
  }

  private get allPartitions(): Partition[] {
    const out: Partition[] = [];
    for (const t of this.topicsRef?.list() ?? []) out.push(...t.partitions);
    return out;
  }

  // ------------------------------------------------------------------ placement

  defaultReplicationFactor(topic: string): number {
    return INTERNAL_TOPICS.has(topic) ? Math.min(3, this.live.size || 1) : this.defaultRf;
  }

  assign(count: number, replicationFactor: number, first: number, existing: readonly Partition[]): number[][] {
    const brokers = [...this.live].sort((a, b) => a - b);
    if (replicationFactor <= 0) {
      throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
    }
    if (replicationFactor > brokers.length) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${replicationFactor} time(s): The target replication factor of ${replicationFactor} cannot be reached because only ${brokers.length} broker(s) are registered.`,
      );
    }
    const n = brokers.length;
    // New partitions of an existing topic continue from where its first partition started, as Kafka does.
    const firstLeader = existing.length > 0 ? brokers.indexOf(existing[0].replicas[0]) : -1;
    const startIndex = firstLeader >= 0 ? firstLeader : Math.floor(Math.random() * n);
    let shift = firstLeader >= 0 ? firstLeader : Math.floor(Math.random() * n);
    const out: number[][] = [];
    for (let i = 0, p = first; i < count; i++, p++) {
      if (p > 0 && p % n === 0) shift++;
      const head = (p + startIndex) % n;
      const replicas = [brokers[head]];
      for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokers[(head + 1 + ((shift + j) % (n - 1))) % n]);
      out.push(replicas);
    }
    return out;
  }

  validate(assignment: number[][]): void {
    for (const replicas of assignment) {
      if (replicas.length !== assignment[0].length) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes a partition with ${replicas.length} replica(s), but this is not consistent with previous partitions, which have ${assignment[0].length} replica(s).`,
        );
      }
      if (replicas.length === 0) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
      }
      const seen = new Set<number>();
      for (const id of replicas) {
        if (!this.nodeIds.includes(id)) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${id}, but no such broker is registered.`);
        }
        if (seen.has(id)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${id} more than once.`);
        seen.add(id);
      }
    }
  }

  initialState(replicas: number[], storedLeader: number): { leader: number; isr: number[] } {
    const up = replicas.filter((id) => this.live.has(id));
    if (up.length === 0) return { leader: -1, isr: [replicas[0]] };
    return { leader: up.includes(storedLeader) ? storedLeader : up[0], isr: up };
  }

  // ------------------------------------------------------------------ epoch history

  /** The partition's leader epoch history (loaded on first use). */
  history(p: Partition): LeaderEpochCheckpoint {
    let h = this.histories.get(p);
    if (!h) this.histories.set(p, (h = LeaderEpochCheckpoint.load(p.log.dir)));
    return h;
  }

  leaderElected(p: Partition): void {
    if (p.leader < 0) return;
    // A produce being written was stamped with the old epoch: it lands before the new one starts.
    if (p.isOpen) p.log.settleWrites();
    this.history(p).assign(p.leaderEpoch, p.log.logEndOffset);
  }

  private setLeader(p: Partition, leader: number): void {
    if (p.leader === leader) return;
    p.leader = leader;
    p.leaderEpoch++;
    this.leaderElected(p);
  }

  // ------------------------------------------------------------------ node lifecycle

  /** A node stopped: it leaves every ISR, and what it led moves on. Returns the partitions whose leader changed. */
  nodeStopped(id: number): Partition[] {
    this.live.delete(id);
    const moved: Partition[] = [];
    for (const p of this.allPartitions) {
      if (!p.replicas.includes(id)) continue;
      if (p.isr.length > 1 && p.isr.includes(id)) p.isr = p.isr.filter((x) => x !== id);
      if (p.leader === id) {
        this.setLeader(p, this.firstUp(p.replicas, p.isr));
        moved.push(p);
      }
    }
    this.persist();
    this.log.info('broker stopped', { node: id, leadersMoved: moved.length });
    return moved;
  }

  /** A node started: it catches up at once and rejoins the ISR; partitions without a leader that it can lead get it. */
  nodeStarted(id: number): void {
    this.live.add(id);
    for (const p of this.allPartitions) {
      if (!p.replicas.includes(id)) continue;
      if (p.leader === -1) {
        if (!p.isr.includes(id)) continue;
        this.setLeader(p, id);
        p.isr = p.replicas.filter((x) => this.live.has(x));
      } else if (!p.isr.includes(id)) {
        p.isr = p.replicas.filter((x) => p.isr.includes(x) || x === id);
      }
    }
    this.persist();
    this.log.info('broker started', { node: id });
  }

  private firstUp(replicas: number[], among: number[]): number {
    for (const r of replicas) if (among.includes(r) && this.live.has(r)) return r;
    return -1;
  }

  // ------------------------------------------------------------------ elections and moves

  /** Preferred (type 0) or unclean (type 1) election of one partition, answered as Kafka's ElectLeaders. */
  elect(p: Partition, electionType: number, persist = true): ElectionResult {
    const result = electionType === 0 ? this.electPreferred(p) : this.electUnclean(p);
    if (persist && result.errorCode === ErrorCode.NONE) this.persist();
    return result;
  }

  private electPreferred(p: Partition): ElectionResult {
    const preferred = p.replicas[0];
    if (p.leader === preferred) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
    if (!this.live.has(preferred) || !p.isr.includes(preferred)) {
      return { errorCode: ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, errorMessage: `Failed to elect leader for partition ${p.topic.name}-${p.index} under strategy PreferredReplicaPartitionLeaderElectionStrategy` };
    }
    this.setLeader(p, preferred);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  private electUnclean(p: Partition): ElectionResult {
    if (p.leader !== -1) return { errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
    const candidate = p.replicas.find((r) => this.live.has(r));
    if (candidate === undefined) {
      return { errorCode: ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE, errorMessage: `Failed to elect leader for partition ${p.topic.name}-${p.index} under strategy UncleanPartitionLeaderElectionStrategy` };
    }
    this.setLeader(p, candidate);
    p.isr = p.replicas.filter((x) => this.live.has(x));
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /** Partitions whose leader is not their preferred replica (ElectLeaders with all partitions, auto rebalance). */
  imbalanced(): Partition[] {
    return this.allPartitions.filter((p) => p.leader !== p.replicas[0]);
  }

  /** Moves a partition's leadership to `nodeId`, which must be an in-sync replica that is up. */
  moveLeader(p: Partition, nodeId: number): void {
    if (!p.replicas.includes(nodeId)) {
      throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Broker ${nodeId} is not a replica of ${p.topic.name}-${p.index} (replicas ${p.replicas.join(',')})`);
    }
    if (!this.live.has(nodeId) || !p.isr.includes(nodeId)) {
      throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `Broker ${nodeId} is not up and in sync for ${p.topic.name}-${p.index}`);
    }
    if (p.leader === nodeId) return;
    this.setLeader(p, nodeId);
    this.persist();
  }

  /**
   * Reassignment: the replica set becomes `replicas` at once (the new replicas are caught up on
   * shared storage); the leader stays if it is still a replica and up, else the first new one up.
   */
  reassign(p: Partition, replicas: number[]): void {
    p.replicas = replicas;
    const up = replicas.filter((x) => this.live.has(x));
    p.isr = up.length > 0 ? up : [replicas[0]];
    if (!up.includes(p.leader)) this.setLeader(p, up.length > 0 ? up[0] : -1);
    this.persist();
  }

  persist(): void {
    this.topicsRef?.persist();
  }
}
