/**
 * The group coordinator of one broker: the single entry point the request handlers
 * (src/handlers) and the transaction coordinator (src/coordinator/txn) call. It owns the
 * groups and hands the work to its parts, each in its own file:
 *   - classic-group-protocol.ts: JoinGroup/SyncGroup/Heartbeat/LeaveGroup rebalances;
 *   - consumer-group-coordinator.ts: ConsumerGroupHeartbeat/ConsumerGroupDescribe (KIP-848);
 *   - committed-offsets.ts: OffsetCommit/OffsetFetch/OffsetDelete, TxnOffsetCommit, expiration;
 *   - group-admin.ts: ListGroups, DescribeGroups, DeleteGroups;
 *   - group-loader.ts: replay of __consumer_offsets at start.
 *
 * Durability: every change that Kafka logs is appended to __consumer_offsets before the
 * request is answered (GroupStore.append is synchronous). State in memory is what serves
 * requests; the log is replayed into it at start (replay()).
 *
 * Concurrency: everything runs on the broker's JS thread; no method yields between reading and
 * changing a group. Timers (session, rebalance, sync, initial delay) are unref'd.
 */
import type { Logger } from '../../logging';
import { ErrorCode } from '../../protocol/errors';
import type { LogRecord } from './batch-codec';
import type { ClassicGroup, JoinResult, SyncResult } from './classic-group';
import {
  ConsumerGroupCoordinator,
  ConsumerGroupDescription,
  ConsumerHeartbeatParams,
  ConsumerHeartbeatResult,
  TopicCatalog,
} from './consumer-group-coordinator';
import { AnyGroup, GroupContext, GroupCoordinatorConfig, GroupStore } from './group-context';
import { ClassicGroupProtocol, JoinGroupParams, LeaveGroupResult, LeavingMember, SyncGroupParams } from './classic-group-protocol';
import { CommittedOffsets, FetchedOffset, OffsetCommitParams } from './committed-offsets';
import { GroupAdmin, GroupDescription, GroupListing } from './group-admin';
import { GroupLoader } from './group-loader';
import { StreamsGroupCoordinator, StreamsHeartbeatParams, StreamsHeartbeatResult, StreamsTopics } from '../streams/streams-group-coordinator';

export { DEFAULT_GROUP_CONFIG } from './group-context';
export type { AnyGroup, GroupCoordinatorConfig, GroupStore } from './group-context';
export type { JoinGroupParams, LeaveGroupResult, LeavingMember, SyncGroupParams } from './classic-group-protocol';
export type { FetchedOffset, OffsetCommitParams, OffsetToCommit } from './committed-offsets';
export type { GroupDescription, GroupListing } from './group-admin';

export class GroupCoordinator {
  private readonly groups = new Map<string, AnyGroup>();
  /** KIP-848 groups (ConsumerGroupHeartbeat); shares `groups` with the classic protocol. */
  readonly consumerGroups: ConsumerGroupCoordinator;
  /** KIP-1071 streams groups (StreamsGroupHeartbeat); also in `groups`. */
  readonly streamsGroups: StreamsGroupCoordinator;
  private readonly classic: ClassicGroupProtocol;
  private readonly offsets: CommittedOffsets;
  private readonly admin: GroupAdmin;
  private readonly loader: GroupLoader;
  private expirationTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly config: GroupCoordinatorConfig,
    private readonly store: GroupStore,
    log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.consumerGroups = new ConsumerGroupCoordinator(this.groups, config, log, clock, () => this.closed, (groupId, records) =>
      this.store.append(groupId, records),
    );
    this.streamsGroups = new StreamsGroupCoordinator(this.groups, config.streamsPerGroup, log, clock, (groupId, records) => this.store.append(groupId, records));
    const ctx: GroupContext = {
      groups: this.groups,
      config,
      store,
      log,
      clock,
      consumerGroups: this.consumerGroups,
      streamsGroups: this.streamsGroups,
      isClosed: () => this.closed,
    };
    this.classic = new ClassicGroupProtocol(ctx);
    this.admin = new GroupAdmin(ctx, this.classic);
    this.offsets = new CommittedOffsets(ctx, this.classic, (group) => this.admin.markDead(group));
    this.loader = new GroupLoader(ctx, this.classic);
  }

  /** Starts the periodic offset expiration. */
  start(): void {
    if (this.expirationTimer || this.config.offsetsRetentionCheckIntervalMs <= 0) return;
    this.expirationTimer = setInterval(() => this.expireOffsets(), this.config.offsetsRetentionCheckIntervalMs);
    this.expirationTimer.unref();
  }

  /** Stops every timer; pending JoinGroup/SyncGroup requests are answered COORDINATOR_NOT_AVAILABLE. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.expirationTimer) clearInterval(this.expirationTimer);
    for (const g of this.groups.values()) {
      if (g.kind === 'consumer') this.consumerGroups.clearTimers(g);
      else if (g.kind === 'streams') this.streamsGroups.clearTimers(g);
      else this.classic.closeGroup(g);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A classic group (undefined for unknown ids and for KIP-848 groups). */
  group(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.kind === 'classic' ? g : undefined;
  }

  /** A group of either kind. */
  anyGroup(groupId: string): AnyGroup | undefined {
    return this.groups.get(groupId);
  }

  consumerGroupHeartbeat(p: ConsumerHeartbeatParams, topics: TopicCatalog): ConsumerHeartbeatResult {
    return this.consumerGroups.heartbeat(p, topics);
  }

  /** ConsumerGroupDescribe: null for unknown groups, 'classic' for classic ones. */
  describeConsumerGroup(groupId: string, topics: TopicCatalog): ConsumerGroupDescription | 'classic' | null {
    const g = this.groups.get(groupId);
    if (!g) return null;
    if (g.kind !== 'consumer') return 'classic';
    return this.consumerGroups.describe(g, topics);
  }

  streamsGroupHeartbeat(p: StreamsHeartbeatParams, topics: StreamsTopics): StreamsHeartbeatResult {
    if (this.closed) return this.streamsGroups.refused(p, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    return this.streamsGroups.heartbeat(p, topics);
  }

  /** StreamsGroupDescribe: null for unknown groups, 'other' for groups of another kind. */
  describeStreamsGroup(groupId: string): ReturnType<StreamsGroupCoordinator['describe']> | 'other' | null {
    const g = this.groups.get(groupId);
    if (!g) return null;
    if (g.kind !== 'streams') return 'other';
    return this.streamsGroups.describe(g);
  }

  // ================================================================ classic protocol

  joinGroup(p: JoinGroupParams): Promise<JoinResult> {
    return this.classic.joinGroup(p);
  }

  syncGroup(p: SyncGroupParams): Promise<SyncResult> {
    return this.classic.syncGroup(p);
  }

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    return this.classic.heartbeat(groupId, memberId, groupInstanceId, generationId);
  }

  leaveGroup(groupId: string, leaving: LeavingMember[]): LeaveGroupResult {
    return this.classic.leaveGroup(groupId, leaving);
  }

  // ================================================================ offsets

  /** See CommittedOffsets.commitOffsets: one error code per entry of `p.offsets`. */
  commitOffsets(p: OffsetCommitParams): number[] {
    return this.offsets.commitOffsets(p);
  }

  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    return this.offsets.validateOffsetFetch(groupId, memberId, memberEpoch);
  }

  fetchOffsets(groupId: string, topics: { topic: string; partitions: number[] }[] | null, requireStable = false): FetchedOffset[] {
    return this.offsets.fetchOffsets(groupId, topics, requireStable);
  }

  stageTransactionalOffsets(p: OffsetCommitParams, producerId: number, write: (records: LogRecord[]) => void): number[] {
    return this.offsets.stageTransactionalOffsets(p, producerId, write);
  }

  completeTransaction(producerId: number, commit: boolean): void {
    this.offsets.completeTransaction(producerId, commit);
  }

  replayPendingTransactional(producerId: number, key: Buffer, value: Buffer | null): void {
    this.offsets.replayPendingTransactional(producerId, key, value);
  }

  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    return this.offsets.hasPendingTxnOffset(groupId, topic, partition);
  }

  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): { errorCode: number; partitions: number[] } {
    return this.offsets.deleteOffsets(groupId, partitions);
  }

  expireOffsets(now: number = this.clock()): void {
    this.offsets.expireOffsets(now);
  }

  // ================================================================ admin

  describeGroup(groupId: string): GroupDescription | null {
    return this.admin.describeGroup(groupId);
  }

  listGroups(states: string[], types: string[]): GroupListing[] {
    return this.admin.listGroups(states, types);
  }

  groupKind(groupId: string): 'classic' | 'consumer' | 'streams' | null {
    return this.admin.groupKind(groupId);
  }

  deleteGroup(groupId: string): number {
    return this.admin.deleteGroup(groupId);
  }

  // ================================================================ loading

  replay(key: Buffer, value: Buffer | null): void {
    this.loader.replay(key, value);
  }

  finishLoading(): void {
    this.loader.finishLoading();
  }
}
