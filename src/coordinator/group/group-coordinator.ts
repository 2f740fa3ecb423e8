/**
 * The classic group coordinator: JoinGroup/SyncGroup/Heartbeat/LeaveGroup rebalances, committed
 * offsets, and the admin operations on groups, following Kafka's group coordinator.
 *
 * Rebalance protocol, as Kafka runs it:
 *   1. A member joins (or leaves, or times out, or changes its metadata): the group moves to
 *      PreparingRebalance. Every known member must send JoinGroup again; Heartbeat answers
 *      REBALANCE_IN_PROGRESS to tell them. A JoinGroup request stays open (its promise
 *      resolves later) until the rebalance completes.
 *   2. The join completes when every member has rejoined, or when the rebalance timeout
 *      (the largest among members) ends: members that did not rejoin are removed. A group
 *      that was Empty waits group.initial.rebalance.delay.ms first (extended while new members
 *      keep arriving, up to the rebalance timeout). The generation id is bumped, the protocol
 *      is chosen by vote, and every waiting JoinGroup is answered; the leader gets all members'
 *      metadata.
 *   3. CompletingRebalance: the leader's SyncGroup carries the assignment. It is written to
 *      __consumer_offsets (GroupMetadata record) and then every waiting SyncGroup is answered
 *      with the member's own assignment; the group is Stable. Members that do not send
 *      SyncGroup within the rebalance timeout are removed and the group rebalances again.
 *   4. Stable: members heartbeat; a member silent for its session timeout is removed and the
 *      group rebalances.
 *
 * New members from JoinGroup v4 on first get MEMBER_ID_REQUIRED with an id to rejoin with
 * (KIP-394); the id is pending until that second join (or its session timeout). Static members
 * (group.instance.id, KIP-345) keep their place across restarts: a join under a known instance
 * id replaces the old member id (the old id is then FENCED_INSTANCE_ID) and, in a Stable group
 * with unchanged metadata, gets the current assignment back without a rebalance.
 *
 * Offsets: OffsetCommit with generation -1 comes from consumers that do not use group
 * management (or admin tools) and is accepted while the group is Empty (a "simple" group is
 * created if needed). Otherwise the member and generation must match.
 *
 * Durability: every change that Kafka logs is appended to __consumer_offsets before the
 * request is answered (GroupStore.append is synchronous). State in memory is what serves
 * requests; the log is replayed into it at start (replay()).
 *
 * Concurrency: everything runs on the broker's JS thread; no method yields between reading and
 * changing a group. Timers (session, rebalance, sync, initial delay) are unref'd.
 */
import * as crypto from 'crypto';
import { ErrorCode } from '../../protocol/errors';
import type { Logger } from '../../logging';
import { LogRecord } from './batch-codec';
import {
  ClassicGroup,
  CommittedOffset,
  EMPTY_BYTES,
  GroupState,
  JoinResult,
  Member,
  Protocol,
  SyncResult,
} from './classic-group';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeRecordKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
  GroupMetadataValue,
} from './records';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol';
import { ConsumerGroup } from './consumer-group';
import { decodeConsumerGroupKey } from './consumer-group-records';
import {
  ConsumerGroupCoordinator,
  ConsumerGroupDescription,
  ConsumerGroupSettings,
  ConsumerHeartbeatParams,
  ConsumerHeartbeatResult,
  DEFAULT_CONSUMER_GROUP_SETTINGS,
  TopicCatalog,
} from './consumer-group-coordinator';

export interface GroupCoordinatorConfig extends ConsumerGroupSettings {
  /** group.initial.rebalance.delay.ms (Kafka: 3000; Samsa: 0 so tests start fast). */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms. */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxGroupSize: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
}

export const DEFAULT_GROUP_CONFIG: GroupCoordinatorConfig = {
  ...DEFAULT_CONSUMER_GROUP_SETTINGS,
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 0x7fffffff,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
};

/** How long a member that joined during a rebalance may wait for it (Kafka's fixed 5 minutes). */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

/** Where the coordinator writes its records (the __consumer_offsets topic, or memory in tests). */
export interface GroupStore {
  /** Appends the records of one group as one batch, before the caller answers; throws on failure. */
  append(groupId: string, records: LogRecord[]): void;
}

export interface JoinGroupParams {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: Protocol[];
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+: a new dynamic member first gets MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  /** JoinGroup v9+: the static leader's rejoin may skip the assignment. */
  supportsSkipAssignment: boolean;
  reason: string | null;
}

export interface SyncGroupParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveGroupResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface OffsetCommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** v2-4 retention_time_ms; -1 = the broker's retention. */
  retentionTimeMs: number;
  apiVersion: number;
  offsets: OffsetToCommit[];
}

interface PendingTxnOffset {
  topic: string;
  partition: number;
  value: CommittedOffset;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: 'classic' | 'consumer';
}

/** A group of either kind (classic-group.ts, consumer-group.ts): one namespace for both. */
export type AnyGroup = ClassicGroup | ConsumerGroup;

function joinError(memberId: string, errorCode: number): JoinResult {
  return {
    errorCode,
    generationId: -1,
    protocolType: null,
    protocolName: null,
    leader: '',
    skipAssignment: false,
    memberId,
    members: [],
  };
}

function syncError(errorCode: number): SyncResult {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}

export class GroupCoordinator {
  private readonly groups = new Map<string, AnyGroup>();
  /** KIP-848 groups (ConsumerGroupHeartbeat); shares `groups` with the classic protocol. */
  readonly consumerGroups: ConsumerGroupCoordinator;
  /** TxnOffsetCommit offsets not yet committed or aborted: producerId -> group -> `topic\0partition` -> offset. */
  private readonly pendingTxnOffsets = new Map<number, Map<string, Map<string, PendingTxnOffset>>>();
  private expirationTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly config: GroupCoordinatorConfig,
    private readonly store: GroupStore,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {
    this.consumerGroups = new ConsumerGroupCoordinator(this.groups, config, log, clock, () => this.closed, (groupId, records) =>
      this.store.append(groupId, records),
    );
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
      if (g.kind === 'consumer') {
        this.consumerGroups.clearTimers(g);
        continue;
      }
      this.clearGroupTimers(g);
      for (const m of g.members.values()) {
        this.clearSession(m);
        this.answerJoin(m, joinError(m.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
        this.answerSync(m, syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
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
    if (g.kind === 'classic') return 'classic';
    return this.consumerGroups.describe(g, topics);
  }

  // ================================================================ JoinGroup

  joinGroup(p: JoinGroupParams): Promise<JoinResult> {
    if (this.closed) return Promise.resolve(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (p.groupId === '') return Promise.resolve(joinError(p.memberId, ErrorCode.INVALID_GROUP_ID));
    if (p.sessionTimeoutMs < this.config.minSessionTimeoutMs || p.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return Promise.resolve(joinError(p.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const isUnknownMember = p.memberId === '';
    let found = this.groups.get(p.groupId);
    if (found?.kind === 'consumer') {
      if (found.members.size > 0) return Promise.resolve(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      // An empty KIP-848 group becomes a classic group, keeping its offsets.
      try {
        this.store.append(p.groupId, this.consumerGroups.groupTombstones(p.groupId));
      } catch (err) {
        this.log.warn('could not store the change of group protocol', { group: p.groupId, error: String(err) });
        return Promise.resolve(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
      const classic = new ClassicGroup(p.groupId, this.clock());
      classic.takeOffsetsFrom(found);
      this.consumerGroups.clearTimers(found);
      this.groups.set(p.groupId, classic);
      found = classic;
    }
    let group = found;
    if (!group) {
      // A member id for a group that does not exist: it was deleted, or expired, or this is a stale client.
      if (!isUnknownMember) return Promise.resolve(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(p.groupId, this.clock());
      this.groups.set(p.groupId, group);
    }
    const result = isUnknownMember ? this.joinNewMember(group, p) : this.joinKnownMember(group, p);
    // A join may be the one the rebalance was waiting for.
    this.maybeCompleteJoin(group);
    this.dropIfUnused(group);
    return result;
  }

  private joinNewMember(group: ClassicGroup, p: JoinGroupParams): Promise<JoinResult> {
    if (group.is('Dead')) return Promise.resolve(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols.map((x) => x.name))) {
      return Promise.resolve(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const existingStatic = group.staticMemberId(p.groupInstanceId);
    if (existingStatic === undefined && group.members.size + group.pendingMembers.size >= this.config.maxGroupSize) {
      return Promise.resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    const newMemberId = `${p.groupInstanceId ?? p.clientId}-${crypto.randomUUID()}`;
    if (p.groupInstanceId !== null) {
      if (existingStatic !== undefined) return this.replaceStaticMember(group, existingStatic, newMemberId, p);
      return this.addMemberAndRebalance(group, newMemberId, p);
    }
    if (p.requireKnownMemberId) {
      // KIP-394: hand out the id first; the member joins with it, which proves it got the answer.
      const timer = setTimeout(() => this.expirePendingMember(group, newMemberId), p.sessionTimeoutMs);
      timer.unref();
      group.pendingMembers.set(newMemberId, timer);
      return Promise.resolve(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    return this.addMemberAndRebalance(group, newMemberId, p);
  }

  private joinKnownMember(group: ClassicGroup, p: JoinGroupParams): Promise<JoinResult> {
    if (group.is('Dead')) return Promise.resolve(joinError(p.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (!group.supportsProtocols(p.protocolType, p.protocols.map((x) => x.name))) {
      return Promise.resolve(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const pending = group.pendingMembers.get(p.memberId);
    if (pending !== undefined) {
      clearTimeout(pending);
      group.pendingMembers.delete(p.memberId);
      return this.addMemberAndRebalance(group, p.memberId, p);
    }
    if (group.isStaticMemberFenced(p.memberId, p.groupInstanceId)) {
      return Promise.resolve(joinError(p.memberId, ErrorCode.FENCED_INSTANCE_ID));
    }
    const member = group.members.get(p.memberId);
    if (!member) return Promise.resolve(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    switch (group.state) {
      case 'PreparingRebalance':
        return this.updateMemberAndRebalance(group, member, p, 'member rejoined');
      case 'CompletingRebalance':
        // The member lost the join answer: send it again unless its metadata changed.
        if (member.matches(p.protocols)) return Promise.resolve(this.currentJoinResult(group, member, false));
        return this.updateMemberAndRebalance(group, member, p, 'member changed its metadata');
      case 'Stable':
        if (group.isLeader(member.memberId)) return this.updateMemberAndRebalance(group, member, p, 'leader rejoined');
        if (!member.matches(p.protocols)) return this.updateMemberAndRebalance(group, member, p, 'member changed its metadata');
        return Promise.resolve(this.currentJoinResult(group, member, false));
      default:
        return Promise.resolve(joinError(p.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private currentJoinResult(group: ClassicGroup, member: Member, forLeader: boolean): JoinResult {
    const isLeader = forLeader || group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: isLeader ? this.memberMetadata(group) : [],
    };
  }

  private memberMetadata(group: ClassicGroup): JoinResult['members'] {
    const protocol = group.protocolName;
    if (protocol === null) return [];
    return [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.metadataFor(protocol),
    }));
  }

  private waitForJoin(member: Member): Promise<JoinResult> {
    // A member sending JoinGroup again (on another connection) supersedes its earlier request.
    this.answerJoin(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    return new Promise<JoinResult>((resolve) => (member.joinWaiter = resolve));
  }

  private addMemberAndRebalance(group: ClassicGroup, memberId: string, p: JoinGroupParams): Promise<JoinResult> {
    const member = new Member(
      memberId,
      p.groupInstanceId,
      p.clientId,
      p.clientHost,
      p.sessionTimeoutMs,
      p.rebalanceTimeoutMs,
      p.protocolType,
      p.protocols,
    );
    member.isNew = true;
    member.supportsSkipAssignment = p.supportsSkipAssignment;
    // Members that arrive during the initial delay of a new group extend it.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true;
    group.add(member);
    const result = this.waitForJoin(member);
    this.scheduleSession(group, member, NEW_MEMBER_JOIN_TIMEOUT_MS);
    this.maybePrepareRebalance(group, `member ${memberId} joined${p.reason ? ` (${p.reason})` : ''}`);
    return result;
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: Member, p: JoinGroupParams, why: string): Promise<JoinResult> {
    member.protocols = p.protocols;
    member.protocolType = p.protocolType;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    member.supportsSkipAssignment = p.supportsSkipAssignment;
    const result = this.waitForJoin(member);
    this.maybePrepareRebalance(group, `${why}: ${member.memberId}${p.reason ? ` (${p.reason})` : ''}`);
    return result;
  }

  private replaceStaticMember(group: ClassicGroup, oldMemberId: string, newMemberId: string, p: JoinGroupParams): Promise<JoinResult> {
    const instanceId = p.groupInstanceId as string;
    const leaderBefore = group.leaderId;
    const old = group.members.get(oldMemberId) as Member;
    // The old incarnation's open requests learn that they are fenced.
    this.answerJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.answerSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const previous = {
      protocols: old.protocols,
      sessionTimeoutMs: old.sessionTimeoutMs,
      rebalanceTimeoutMs: old.rebalanceTimeoutMs,
    };
    const member = group.replaceStaticMember(instanceId, oldMemberId, newMemberId);
    member.protocols = p.protocols;
    member.protocolType = p.protocolType;
    member.sessionTimeoutMs = p.sessionTimeoutMs;
    member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    member.supportsSkipAssignment = p.supportsSkipAssignment;
    this.scheduleSession(group, member, member.sessionTimeoutMs);
    this.log.info('static member rejoined with a new member id', { group: group.groupId, instanceId, oldMemberId, newMemberId });
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== null && group.selectProtocol() === group.protocolName) {
          // Same protocol next time: no rebalance. Persist the new member id; answer at once.
          try {
            this.storeGroup(group);
          } catch (err) {
            // Undo, so that the log and memory agree.
            group.replaceStaticMember(instanceId, newMemberId, oldMemberId);
            Object.assign(member, previous);
            this.log.warn('could not store the group after a static member rejoined', { group: group.groupId, error: String(err) });
            return Promise.resolve(joinError('', ErrorCode.COORDINATOR_NOT_AVAILABLE));
          }
          const isLeader = group.isLeader(newMemberId);
          if (isLeader && p.supportsSkipAssignment) {
            // KIP-814: the leader learns the members but keeps the current assignment.
            return Promise.resolve({ ...this.currentJoinResult(group, member, true), skipAssignment: true });
          }
          // Older clients are answered as a follower (the leader id they see is the previous one),
          // so they do not compute an assignment; SyncGroup returns the one stored.
          return Promise.resolve({ ...this.currentJoinResult(group, member, false), leader: leaderBefore ?? '', members: [] });
        }
        const result = this.waitForJoin(member);
        this.maybePrepareRebalance(group, `static member ${instanceId} rejoined with other protocols`);
        return result;
      }
      case 'CompletingRebalance': {
        // The leader may be assigning to the old member id: start over.
        const result = this.waitForJoin(member);
        this.prepareRebalance(group, `static member ${instanceId} rejoined during the sync phase`);
        return result;
      }
      case 'PreparingRebalance':
        return this.waitForJoin(member);
      default:
        return Promise.resolve(joinError('', ErrorCode.UNKNOWN_SERVER_ERROR));
    }
  }

  private expirePendingMember(group: ClassicGroup, memberId: string): void {
    if (!group.pendingMembers.delete(memberId)) return;
    this.log.info('pending member did not rejoin within its session timeout', { group: group.groupId, memberId });
    if (group.is('PreparingRebalance')) this.maybeCompleteJoin(group);
    this.dropIfUnused(group);
  }

  // ================================================================ rebalance

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.canRebalance) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    const now = this.clock();
    if (group.is('CompletingRebalance')) {
      // Assignments of the aborted generation are void; members waiting in SyncGroup must rejoin.
      for (const m of group.members.values()) {
        m.assignment = EMPTY_BYTES;
        this.answerSync(m, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      }
    }
    this.clearSyncTimer(group);
    group.pendingSync.clear();
    const wasEmpty = group.is('Empty');
    group.transitionTo('PreparingRebalance', now);
    this.log.info('preparing to rebalance group', { group: group.groupId, generation: group.generationId, reason });
    if (wasEmpty) {
      const delay = Math.min(this.config.initialRebalanceDelayMs, group.rebalanceTimeoutMs);
      group.initialDelayRemainingMs = Math.max(group.rebalanceTimeoutMs - this.config.initialRebalanceDelayMs, 0);
      this.startJoinTimer(group, delay, () => this.onInitialDelayEnd(group));
    } else {
      group.initialDelayRemainingMs = null;
      this.startJoinTimer(group, group.rebalanceTimeoutMs, () => this.completeJoin(group));
      this.maybeCompleteJoin(group);
    }
  }

  private onInitialDelayEnd(group: ClassicGroup): void {
    const remaining = group.initialDelayRemainingMs ?? 0;
    if (group.newMemberAdded && remaining > 0) {
      group.newMemberAdded = false;
      const delay = Math.min(this.config.initialRebalanceDelayMs, remaining);
      group.initialDelayRemainingMs = Math.max(remaining - this.config.initialRebalanceDelayMs, 0);
      this.startJoinTimer(group, delay, () => this.onInitialDelayEnd(group));
      return;
    }
    this.completeJoin(group);
  }

  private startJoinTimer(group: ClassicGroup, ms: number, fn: () => void): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = setTimeout(() => {
      group.joinTimer = null;
      if (!this.closed) fn();
    }, ms);
    group.joinTimer.unref();
  }

  /** Completes the join phase early once everyone has rejoined (not during the initial delay). */
  private maybeCompleteJoin(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.initialDelayRemainingMs === null && group.allMembersJoined) {
      this.completeJoin(group);
    }
  }

  private completeJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance')) return;
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
    group.initialDelayRemainingMs = null;
    group.newMemberAdded = false;
    for (const m of [...group.members.values()]) {
      if (!m.isAwaitingJoin) {
        this.log.info('member did not rejoin in time, removing it', { group: group.groupId, memberId: m.memberId });
        this.removeMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
      }
    }
    const now = this.clock();
    group.generationId++;
    if (group.members.size === 0) {
      group.protocolName = null;
      group.transitionTo('Empty', now);
      this.log.info('group is empty', { group: group.groupId, generation: group.generationId });
      try {
        this.storeGroup(group);
      } catch (err) {
        this.log.warn('could not store the empty group', { group: group.groupId, error: String(err) });
      }
      this.dropIfUnused(group);
      return;
    }
    group.protocolName = group.selectProtocol();
    group.transitionTo('CompletingRebalance', now);
    this.log.info('group rebalanced', {
      group: group.groupId,
      generation: group.generationId,
      protocol: group.protocolName,
      members: group.members.size,
      leader: group.leaderId,
    });
    const leaderMembers = this.memberMetadata(group);
    for (const m of group.members.values()) {
      const isLeader = group.isLeader(m.memberId);
      this.answerJoin(m, {
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        skipAssignment: false,
        memberId: m.memberId,
        members: isLeader ? leaderMembers : [],
      });
      m.isNew = false;
      this.scheduleSession(group, m, m.sessionTimeoutMs);
      group.pendingSync.add(m.memberId);
    }
    const generation = group.generationId;
    this.clearSyncTimer(group);
    group.syncTimer = setTimeout(() => this.onSyncTimeout(group, generation), group.rebalanceTimeoutMs);
    group.syncTimer.unref();
  }

  private onSyncTimeout(group: ClassicGroup, generation: number): void {
    group.syncTimer = null;
    if (this.closed || generation !== group.generationId) return;
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return;
    if (group.pendingSync.size === 0) return;
    const missing = [...group.pendingSync];
    this.log.info('members did not send SyncGroup in time, removing them', { group: group.groupId, members: missing });
    for (const id of missing) {
      const m = group.members.get(id);
      if (m) this.removeMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
    }
    this.prepareRebalance(group, 'members did not sync');
  }

  // ================================================================ SyncGroup

  syncGroup(p: SyncGroupParams): Promise<SyncResult> {
    if (this.closed) return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (p.groupId === '') return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    const group = this.group(p.groupId);
    if (!group) return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    const error = this.validateMember(group, p.memberId, p.groupInstanceId, p.generationId);
    if (error !== ErrorCode.NONE) return Promise.resolve(syncError(error));
    if ((p.protocolType !== null && p.protocolType !== group.protocolType) || (p.protocolName !== null && p.protocolName !== group.protocolName)) {
      return Promise.resolve(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    const member = group.members.get(p.memberId) as Member;
    switch (group.state) {
      case 'Empty':
        return Promise.resolve(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case 'PreparingRebalance':
        return Promise.resolve(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case 'CompletingRebalance': {
        this.answerSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        const result = new Promise<SyncResult>((resolve) => (member.syncWaiter = resolve));
        group.pendingSync.delete(member.memberId);
        this.scheduleSession(group, member, member.sessionTimeoutMs);
        if (group.isLeader(member.memberId)) this.applyLeaderAssignment(group, p.assignments);
        return result;
      }
      case 'Stable':
        group.pendingSync.delete(member.memberId);
        this.scheduleSession(group, member, member.sessionTimeoutMs);
        return Promise.resolve({
          errorCode: ErrorCode.NONE,
          protocolType: group.protocolType,
          protocolName: group.protocolName,
          assignment: member.assignment,
        });
      default:
        return Promise.resolve(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private applyLeaderAssignment(group: ClassicGroup, assignments: { memberId: string; assignment: Buffer }[]): void {
    const byMember = new Map<string, Buffer>();
    for (const a of assignments) byMember.set(a.memberId, a.assignment);
    const previous = new Map<string, Buffer>();
    for (const m of group.members.values()) {
      previous.set(m.memberId, m.assignment);
      // Copied: the request frame the bytes point into is not ours to keep.
      m.assignment = Buffer.from(byMember.get(m.memberId) ?? EMPTY_BYTES);
    }
    try {
      this.storeGroup(group);
    } catch (err) {
      this.log.warn('could not store the group assignment', { group: group.groupId, error: String(err) });
      for (const m of group.members.values()) {
        m.assignment = EMPTY_BYTES;
        this.answerSync(m, syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
      }
      this.prepareRebalance(group, 'assignment could not be stored');
      return;
    }
    group.transitionTo('Stable', this.clock());
    this.log.info('group is stable', { group: group.groupId, generation: group.generationId, members: group.members.size });
    for (const m of group.members.values()) {
      this.answerSync(m, {
        errorCode: ErrorCode.NONE,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        assignment: m.assignment,
      });
    }
  }

  // ================================================================ Heartbeat

  heartbeat(groupId: string, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.group(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    const error = this.validateMember(group, memberId, groupInstanceId, generationId);
    if (error !== ErrorCode.NONE) return error;
    const member = group.members.get(memberId) as Member;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'PreparingRebalance':
        this.scheduleSession(group, member, member.sessionTimeoutMs);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'CompletingRebalance':
      case 'Stable':
        // Members may heartbeat between their join answer and SyncGroup: a normal heartbeat.
        this.scheduleSession(group, member, member.sessionTimeoutMs);
        return ErrorCode.NONE;
      default:
        return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  /** The checks shared by SyncGroup, Heartbeat and generation-based OffsetCommit, in Kafka's order. */
  private validateMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null, generationId: number): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupInstanceId !== null) {
      const current = group.staticMemberId(groupInstanceId);
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID;
    }
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  // ================================================================ sessions

  private scheduleSession(group: ClassicGroup, member: Member, timeoutMs: number): void {
    this.clearSession(member);
    member.sessionTimer = setTimeout(() => this.onSessionExpired(group, member), timeoutMs);
    member.sessionTimer.unref();
  }

  private clearSession(member: Member): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
  }

  private onSessionExpired(group: ClassicGroup, member: Member): void {
    member.sessionTimer = null;
    if (this.closed || group.members.get(member.memberId) !== member) return;
    // A member waiting in JoinGroup or SyncGroup cannot heartbeat: its wait counts as one.
    // New members waiting in their first join are bounded by NEW_MEMBER_JOIN_TIMEOUT_MS.
    if (!member.isNew && (member.isAwaitingJoin || member.isAwaitingSync)) {
      this.scheduleSession(group, member, member.sessionTimeoutMs);
      return;
    }
    this.log.info('member session expired, removing it', {
      group: group.groupId,
      memberId: member.memberId,
      sessionTimeoutMs: member.sessionTimeoutMs,
    });
    this.removeMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID);
    this.afterMembersLeft(group, `member ${member.memberId} session expired`);
  }

  private removeMember(group: ClassicGroup, member: Member, errorForWaiters: number): void {
    this.clearSession(member);
    this.answerJoin(member, joinError(member.memberId, errorForWaiters));
    this.answerSync(member, syncError(errorForWaiters));
    group.remove(member.memberId);
  }

  private afterMembersLeft(group: ClassicGroup, reason: string): void {
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group, reason);
        break;
      case 'PreparingRebalance':
        this.maybeCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  private answerJoin(member: Member, r: JoinResult): void {
    const w = member.joinWaiter;
    member.joinWaiter = null;
    if (w) w(r);
  }

  private answerSync(member: Member, r: SyncResult): void {
    const w = member.syncWaiter;
    member.syncWaiter = null;
    if (w) w(r);
  }

  private clearSyncTimer(group: ClassicGroup): void {
    if (group.syncTimer) clearTimeout(group.syncTimer);
    group.syncTimer = null;
  }

  private clearGroupTimers(group: ClassicGroup): void {
    if (group.joinTimer) clearTimeout(group.joinTimer);
    group.joinTimer = null;
    this.clearSyncTimer(group);
    for (const t of group.pendingMembers.values()) clearTimeout(t);
    group.pendingMembers.clear();
  }

  // ================================================================ LeaveGroup

  leaveGroup(groupId: string, leaving: LeavingMember[]): LeaveGroupResult {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const group = this.group(groupId);
    if (!group) {
      return { errorCode: ErrorCode.NONE, members: leaving.map((l) => ({ ...l, errorCode: ErrorCode.UNKNOWN_MEMBER_ID })) };
    }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    const results: LeaveGroupResult['members'] = [];
    let removed = 0;
    let pendingRemoved = 0;
    for (const l of leaving) {
      let errorCode: number = ErrorCode.NONE;
      if (l.groupInstanceId !== null) {
        const current = group.staticMemberId(l.groupInstanceId);
        if (current === undefined) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else if (l.memberId !== '' && l.memberId !== current) errorCode = ErrorCode.FENCED_INSTANCE_ID;
        else {
          this.removeMember(group, group.members.get(current) as Member, ErrorCode.UNKNOWN_MEMBER_ID);
          removed++;
        }
      } else if (group.pendingMembers.has(l.memberId)) {
        clearTimeout(group.pendingMembers.get(l.memberId));
        group.pendingMembers.delete(l.memberId);
        pendingRemoved++;
      } else {
        const m = group.members.get(l.memberId);
        if (!m) errorCode = ErrorCode.UNKNOWN_MEMBER_ID;
        else {
          this.removeMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID);
          removed++;
        }
      }
      if (errorCode === ErrorCode.NONE) {
        this.log.info('member left the group', { group: groupId, memberId: l.memberId, groupInstanceId: l.groupInstanceId });
      }
      results.push({ memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode });
    }
    if (removed > 0) this.afterMembersLeft(group, 'members left the group');
    else if (pendingRemoved > 0) this.maybeCompleteJoin(group);
    this.dropIfUnused(group);
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // ================================================================ offsets

  /**
   * Commits offsets; returns one error code per entry of `p.offsets` (same order). The caller
   * has already answered partitions of unknown topics and leaves them out.
   */
  commitOffsets(p: OffsetCommitParams): number[] {
    const all = (code: number) => p.offsets.map(() => code);
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    let group = this.groups.get(p.groupId);
    let created = false;
    if (!group) {
      if (p.generationId >= 0) {
        // v9+ tells the client the group is gone; older versions keep Kafka's ILLEGAL_GENERATION.
        return all(p.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      // A consumer without group management (or an admin tool): a "simple" group just holds offsets.
      group = new ClassicGroup(p.groupId, this.clock());
      created = true;
    }
    const error = group.kind === 'classic' ? this.validateOffsetCommit(group, p) : this.validateConsumerGroupCommit(group, p, false);
    if (error !== ErrorCode.NONE) return all(error);
    if (group.kind === 'classic' && (p.generationId >= 0 || p.memberId !== '')) {
      const member = group.members.get(p.memberId);
      if (member) this.scheduleSession(group, member, member.sessionTimeoutMs);
    }
    const now = this.clock();
    const expireTimestamp = p.retentionTimeMs >= 0 ? now + p.retentionTimeMs : -1;
    const codes: number[] = [];
    const records: LogRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    for (const o of p.offsets) {
      const metadata = o.metadata ?? '';
      if (metadata.length > this.config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      const value: CommittedOffset = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp,
      };
      records.push({ key: encodeOffsetCommitKey(p.groupId, o.topic, o.partition), value: encodeOffsetCommitValue(value) });
      accepted.push({ topic: o.topic, partition: o.partition, value });
      codes.push(ErrorCode.NONE);
    }
    if (records.length > 0) {
      try {
        this.store.append(p.groupId, records);
      } catch (err) {
        this.log.warn('could not store committed offsets', { group: p.groupId, error: String(err) });
        return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
      }
    }
    if (created) this.groups.set(p.groupId, group);
    for (const a of accepted) group.setOffset(a.topic, a.partition, a.value);
    return codes;
  }

  /**
   * A KIP-848 group's commit check: member epoch -1 (admin tools, consumers without group
   * management) only while the group has no members; otherwise the member must exist, use
   * OffsetCommit v9+ (transactional commits excepted) and send its current epoch
   * (STALE_MEMBER_EPOCH).
   */
  private validateConsumerGroupCommit(group: ConsumerGroup, p: OffsetCommitParams, transactional: boolean): number {
    if (p.generationId < 0 && group.members.size === 0) return ErrorCode.NONE;
    if (transactional && p.generationId < 0 && p.memberId === '' && p.groupInstanceId === null) return ErrorCode.NONE;
    const member = group.members.get(p.memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!transactional && p.apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (p.generationId !== member.memberEpoch) return transactional ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /**
   * OffsetFetch v9+ sends the member id and epoch of a KIP-848 member: checked as Kafka does
   * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). Classic groups and requests without them pass.
   */
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    const group = this.groups.get(groupId);
    if (!group || group.kind !== 'consumer') return ErrorCode.NONE;
    if (memberId === null && memberEpoch < 0) return ErrorCode.NONE;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  private validateOffsetCommit(group: ClassicGroup, p: OffsetCommitParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // generation -1 from a client outside group management: only while nobody manages the group.
    if (p.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
      const error = this.validateMember(group, p.memberId, p.groupInstanceId, p.generationId);
      if (error !== ErrorCode.NONE) return error;
    } else if (!group.is('Empty')) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has its new generation but no assignment yet.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * Committed offsets of a group: for the requested partitions (-1 where none), or all of them
   * when `topics` is null. An unknown group has no offsets (not an error, as in Kafka).
   */
  fetchOffsets(groupId: string, topics: { topic: string; partitions: number[] }[] | null, requireStable = false): FetchedOffset[] {
    const group = this.groups.get(groupId);
    const out: FetchedOffset[] = [];
    if (requireStable && topics !== null) {
      // KIP-447: a partition with a pending transactional commit answers UNSTABLE_OFFSET_COMMIT.
      const unstable = topics.map((t) => ({ topic: t.topic, partitions: t.partitions.filter((p) => this.hasPendingTxnOffset(groupId, t.topic, p)) }));
      if (unstable.some((t) => t.partitions.length > 0)) {
        const stable = topics.map((t, i) => ({ topic: t.topic, partitions: t.partitions.filter((p) => !unstable[i].partitions.includes(p)) }));
        const byKey = new Map(this.fetchOffsets(groupId, stable).map((o) => [`${o.topic}\u0000${o.partition}`, o]));
        for (const t of topics) {
          for (const partition of t.partitions) {
            out.push(
              byKey.get(`${t.topic}\u0000${partition}`) ?? {
                topic: t.topic,
                partition,
                offset: -1,
                leaderEpoch: -1,
                metadata: '',
                errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
              },
            );
          }
        }
        return out;
      }
    }
    if (topics === null) {
      if (!group) return out;
      for (const [topic, byPartition] of group.offsets) {
        for (const [partition, o] of byPartition) {
          out.push({ topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE });
        }
      }
      return out;
    }
    for (const t of topics) {
      for (const partition of t.partitions) {
        const o = group?.offset(t.topic, partition);
        out.push(
          o
            ? { topic: t.topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE }
            : { topic: t.topic, partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
        );
      }
    }
    return out;
  }

  // ================================================================ transactional offsets

  /**
   * TxnOffsetCommit: validates like OffsetCommit, except that a commit without member
   * information is accepted whatever the group's state (Kafka's rule for transactional
   * commits), hands the records to `write` (the transaction coordinator appends them to the
   * group's partition as a transactional batch of the producer) and keeps the offsets
   * pending until completeTransaction(). Returns one error code per entry of `p.offsets`.
   */
  stageTransactionalOffsets(p: OffsetCommitParams, producerId: number, write: (records: LogRecord[]) => void): number[] {
    const all = (code: number) => p.offsets.map(() => code);
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const group = this.groups.get(p.groupId);
    if (group?.kind === 'consumer') {
      const error = this.validateConsumerGroupCommit(group, p, true);
      if (error !== ErrorCode.NONE) return all(error);
    } else if (group) {
      if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
        const error = this.validateMember(group, p.memberId, p.groupInstanceId, p.generationId);
        if (error !== ErrorCode.NONE) return all(error);
      }
    } else if (p.generationId >= 0) {
      return all(ErrorCode.ILLEGAL_GENERATION);
    }
    const now = this.clock();
    const codes: number[] = [];
    const records: LogRecord[] = [];
    const accepted: PendingTxnOffset[] = [];
    for (const o of p.offsets) {
      const metadata = o.metadata ?? '';
      if (metadata.length > this.config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      const value: CommittedOffset = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata, commitTimestamp: now, expireTimestamp: -1 };
      records.push({ key: encodeOffsetCommitKey(p.groupId, o.topic, o.partition), value: encodeOffsetCommitValue(value) });
      accepted.push({ topic: o.topic, partition: o.partition, value });
      codes.push(ErrorCode.NONE);
    }
    if (records.length > 0) {
      try {
        write(records);
      } catch (err) {
        this.log.warn('could not store transactional offsets', { group: p.groupId, error: String(err) });
        return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
      }
    }
    for (const a of accepted) this.addPendingTxnOffset(producerId, p.groupId, a);
    return codes;
  }

  /** The producer's transaction ended (its marker is in the log): its pending offsets become committed, or are dropped. */
  completeTransaction(producerId: number, commit: boolean): void {
    const byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) return;
    this.pendingTxnOffsets.delete(producerId);
    if (!commit) return;
    for (const [groupId, offsets] of byGroup) {
      let group = this.groups.get(groupId);
      if (!group) this.groups.set(groupId, (group = new ClassicGroup(groupId, this.clock())));
      for (const o of offsets.values()) group.setOffset(o.topic, o.partition, o.value);
    }
  }

  /** Load: a transactional offset record whose transaction had not ended when the log was written. */
  replayPendingTransactional(producerId: number, key: Buffer, value: Buffer | null): void {
    const k = decodeRecordKey(key);
    if (k.type !== 'offset' || value === null) return;
    this.addPendingTxnOffset(producerId, k.group, { topic: k.topic, partition: k.partition, value: decodeOffsetCommitValue(value) });
  }

  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    for (const byGroup of this.pendingTxnOffsets.values()) {
      if (byGroup.get(groupId)?.has(`${topic}\u0000${partition}`)) return true;
    }
    return false;
  }

  private addPendingTxnOffset(producerId: number, groupId: string, o: PendingTxnOffset): void {
    let byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) this.pendingTxnOffsets.set(producerId, (byGroup = new Map()));
    let offsets = byGroup.get(groupId);
    if (!offsets) byGroup.set(groupId, (offsets = new Map()));
    offsets.set(`${o.topic}\u0000${o.partition}`, o);
  }

  /**
   * OffsetDelete: removes committed offsets of partitions the group does not consume.
   * Returns a group-level error, or per-partition errors (same order as `partitions`).
   */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): { errorCode: number; partitions: number[] } {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, partitions: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] };
    const group = this.groups.get(groupId);
    if (!group || (group.kind === 'classic' && group.is('Dead'))) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let subscribed: Set<string> | null = null;
    if (group.kind === 'consumer') {
      if (group.members.size > 0) subscribed = this.consumerGroups.subscribedTopics(group);
    } else if (!group.is('Empty')) {
      if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
      subscribed = group.subscribedTopics();
      if (subscribed === null) return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    }
    const codes: number[] = [];
    const records: LogRecord[] = [];
    const deleted: { topic: string; partition: number }[] = [];
    for (const tp of partitions) {
      if (subscribed?.has(tp.topic)) {
        codes.push(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
        continue;
      }
      codes.push(ErrorCode.NONE);
      if (group.offset(tp.topic, tp.partition)) {
        records.push({ key: encodeOffsetCommitKey(groupId, tp.topic, tp.partition), value: null });
        deleted.push(tp);
      }
    }
    if (records.length > 0) {
      try {
        this.store.append(groupId, records);
      } catch (err) {
        this.log.warn('could not delete offsets', { group: groupId, error: String(err) });
        return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, partitions: [] };
      }
    }
    for (const tp of deleted) group.deleteOffset(tp.topic, tp.partition);
    return { errorCode: ErrorCode.NONE, partitions: codes };
  }

  // ================================================================ admin

  /** DescribeGroups: null for unknown groups and for KIP-848 groups (see groupKind). */
  describeGroup(groupId: string): GroupDescription | null {
    const group = this.group(groupId);
    if (!group || group.is('Dead')) return null;
    const stable = group.is('Stable');
    const protocol = group.protocolName;
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable && protocol !== null ? protocol : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable && protocol !== null ? m.metadataFor(protocol) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Groups matching the filters (case-insensitive; an empty filter matches everything). */
  listGroups(states: string[], types: string[]): GroupListing[] {
    const stateSet = new Set(states.map((s) => s.toLowerCase()));
    const typeSet = new Set(types.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      if (g.kind === 'classic' && g.is('Dead')) continue;
      if (stateSet.size > 0 && !stateSet.has(g.state.toLowerCase())) continue;
      if (typeSet.size > 0 && !typeSet.has(g.kind)) continue;
      const protocolType = g.kind === 'consumer' ? CONSUMER_PROTOCOL_TYPE : g.protocolType ?? '';
      out.push({ groupId: g.groupId, protocolType, state: g.state, type: g.kind });
    }
    return out;
  }

  groupKind(groupId: string): 'classic' | 'consumer' | null {
    return this.groups.get(groupId)?.kind ?? null;
  }

  deleteGroup(groupId: string): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (!group || (group.kind === 'classic' && group.is('Dead'))) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.kind === 'consumer' ? group.members.size > 0 : !group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const records: LogRecord[] = [];
    for (const [topic, byPartition] of group.offsets) {
      for (const partition of byPartition.keys()) records.push({ key: encodeOffsetCommitKey(groupId, topic, partition), value: null });
    }
    records.push({ key: encodeGroupMetadataKey(groupId), value: null });
    if (group.kind === 'consumer') records.push(...this.consumerGroups.groupTombstones(groupId));
    try {
      this.store.append(groupId, records);
    } catch (err) {
      this.log.warn('could not delete group', { group: groupId, error: String(err) });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    this.markDead(group);
    this.log.info('group deleted', { group: groupId });
    return ErrorCode.NONE;
  }

  private markDead(group: AnyGroup): void {
    if (group.kind === 'consumer') this.consumerGroups.clearTimers(group);
    else {
      this.clearGroupTimers(group);
      group.transitionTo('Dead', this.clock());
    }
    group.offsets.clear();
    this.groups.delete(group.groupId);
  }

  /** A group created by a failed first request (no members, no offsets, never stored) is forgotten. */
  private dropIfUnused(group: ClassicGroup): void {
    if (group.is('Empty') && group.generationId === 0 && group.members.size === 0 && group.pendingMembers.size === 0 && !group.hasOffsets) {
      this.clearGroupTimers(group);
      this.groups.delete(group.groupId);
    }
  }

  // ================================================================ persistence

  private groupMetadataValue(group: ClassicGroup): GroupMetadataValue {
    const protocol = group.protocolName;
    return {
      protocolType: group.protocolType ?? '',
      generation: group.generationId,
      protocol,
      leader: group.leaderId,
      currentStateTimestamp: group.currentStateTimestamp,
      members:
        protocol === null
          ? []
          : [...group.members.values()].map((m) => ({
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              rebalanceTimeout: m.rebalanceTimeoutMs,
              sessionTimeout: m.sessionTimeoutMs,
              subscription: m.metadataFor(protocol),
              assignment: m.assignment,
            })),
    };
  }

  private storeGroup(group: ClassicGroup): void {
    this.store.append(group.groupId, [
      { key: encodeGroupMetadataKey(group.groupId), value: encodeGroupMetadataValue(this.groupMetadataValue(group)) },
    ]);
  }

  /**
   * Applies one record of __consumer_offsets while loading (latest value per key wins, a null
   * value deletes). Call finishLoading() after the last one.
   */
  replay(key: Buffer, value: Buffer | null): void {
    const k = decodeRecordKey(key);
    if (k.type === 'other') {
      const ck = decodeConsumerGroupKey(key);
      if (ck) this.consumerGroups.replay(ck, value);
      return;
    }
    if (k.type === 'offset') {
      if (value === null) {
        this.groups.get(k.group)?.deleteOffset(k.topic, k.partition);
        return;
      }
      const v = decodeOffsetCommitValue(value);
      let group = this.groups.get(k.group);
      if (!group) this.groups.set(k.group, (group = new ClassicGroup(k.group, v.commitTimestamp)));
      group.setOffset(k.topic, k.partition, v);
      return;
    }
    if (value === null) {
      // Group deleted: its offsets were tombstoned just before.
      const group = this.group(k.group);
      if (group) {
        group.members.clear();
        group.staticMembers.clear();
        group.generationId = 0;
        group.protocolType = null;
        group.protocolName = null;
        group.leaderId = null;
        if (!group.hasOffsets) this.groups.delete(k.group);
      }
      return;
    }
    const v = decodeGroupMetadataValue(value);
    const found = this.groups.get(k.group);
    const now = this.clock();
    let group: ClassicGroup;
    if (found?.kind === 'classic') group = found;
    else {
      group = new ClassicGroup(k.group, now);
      if (found) group.takeOffsetsFrom(found);
      this.groups.set(k.group, group);
    }
    group.members.clear();
    group.staticMembers.clear();
    group.generationId = v.generation;
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.protocolName = v.protocol;
    group.leaderId = v.leader;
    group.currentStateTimestamp = v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : now;
    for (const sm of v.members) {
      const m = new Member(
        sm.memberId,
        sm.groupInstanceId,
        sm.clientId,
        sm.clientHost,
        sm.sessionTimeout,
        sm.rebalanceTimeout,
        v.protocolType,
        [{ name: v.protocol ?? '', metadata: sm.subscription }],
      );
      m.assignment = sm.assignment;
      group.add(m);
    }
    group.leaderId = v.leader;
    group.state = group.members.size > 0 ? 'Stable' : 'Empty';
  }

  /** After the replay: loaded members get a fresh session (they must heartbeat to stay). */
  finishLoading(): void {
    for (const g of this.groups.values()) {
      if (g.kind !== 'classic') continue;
      for (const m of g.members.values()) this.scheduleSession(g, m, m.sessionTimeoutMs);
    }
    this.consumerGroups.finishLoading();
  }

  // ================================================================ expiration

  /** Drops offsets past their retention (Kafka's rules, KIP-211) and groups left with nothing. */
  expireOffsets(now: number = this.clock()): void {
    if (this.closed) return;
    const retention = this.config.offsetsRetentionMs;
    for (const group of [...this.groups.values()]) {
      let baseOf: ((o: CommittedOffset) => number) | null = null;
      let keep: Set<string> = new Set();
      if (group.kind === 'consumer') {
        if (group.members.size === 0) baseOf = () => group.currentStateTimestamp;
        else {
          baseOf = (o) => o.commitTimestamp;
          keep = this.consumerGroups.subscribedTopics(group);
        }
      } else if (group.protocolType !== null && group.is('Empty')) {
        baseOf = () => group.currentStateTimestamp;
      } else if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.is('Stable')) {
        const subscribed = group.subscribedTopics();
        if (subscribed !== null) {
          baseOf = (o) => o.commitTimestamp;
          keep = subscribed;
        }
      } else if (group.protocolType === null) {
        baseOf = (o) => o.commitTimestamp;
      }
      if (baseOf === null) continue;
      const records: LogRecord[] = [];
      const expired: { topic: string; partition: number }[] = [];
      for (const [topic, byPartition] of group.offsets) {
        if (keep.has(topic)) continue;
        for (const [partition, o] of byPartition) {
          const gone = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - baseOf(o) >= retention;
          if (gone) {
            records.push({ key: encodeOffsetCommitKey(group.groupId, topic, partition), value: null });
            expired.push({ topic, partition });
          }
        }
      }
      // An empty group left without offsets is gone (Kafka: transitions to Dead, tombstoned).
      const empty = group.kind === 'consumer' ? group.members.size === 0 : group.is('Empty') && group.pendingMembers.size === 0;
      const becomesDead = empty && records.length === group.offsetCount;
      if (becomesDead) records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
      if (records.length === 0) continue;
      try {
        this.store.append(group.groupId, records);
      } catch (err) {
        this.log.warn('could not expire offsets', { group: group.groupId, error: String(err) });
        continue;
      }
      for (const tp of expired) group.deleteOffset(tp.topic, tp.partition);
      this.log.info('expired committed offsets', { group: group.groupId, partitions: expired.length });
      if (becomesDead) this.markDead(group);
    }
  }
}
