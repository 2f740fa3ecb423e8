/**
 * The classic group protocol: JoinGroup/SyncGroup/Heartbeat/LeaveGroup rebalances, member
 * sessions, and the GroupMetadata record that stores a classic group's generation and
 * assignment. Committed offsets (committed-offsets.ts) use its member checks and sessions.
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
 */
import * as crypto from 'crypto';
import { ErrorCode } from '../../protocol/errors';
import { ClassicGroup, EMPTY_BYTES, JoinResult, Member, Protocol, SyncResult } from './classic-group';
import { encodeGroupMetadataKey, encodeGroupMetadataValue, GroupMetadataValue } from './records';
import { GroupCoordinatorPart } from './group-context';

/** How long a member that joined during a rebalance may wait for it (Kafka's fixed 5 minutes). */
const NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000;

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

export class ClassicGroupProtocol extends GroupCoordinatorPart {
  /** Coordinator shutdown: the group's timers stop and its waiting requests are answered COORDINATOR_NOT_AVAILABLE. */
  closeGroup(group: ClassicGroup): void {
    this.clearGroupTimers(group);
    for (const m of group.members.values()) {
      this.clearSession(m);
      this.answerJoin(m, joinError(m.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
      this.answerSync(m, syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
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
    // A streams group's id is not for classic members (Kafka: INCONSISTENT_GROUP_PROTOCOL).
    if (found?.kind === 'streams') return Promise.resolve(joinError(p.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
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
  validateMember(group: ClassicGroup, memberId: string, groupInstanceId: string | null, generationId: number): number {
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

  scheduleSession(group: ClassicGroup, member: Member, timeoutMs: number): void {
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

  clearGroupTimers(group: ClassicGroup): void {
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
}
