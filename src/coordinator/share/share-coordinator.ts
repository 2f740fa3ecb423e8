/**
 * The share-group coordinator of one broker (KIP-932): share groups and their members
 * (share-group.ts), the delivery state of every share partition (share-partition.ts), share
 * sessions (share-sessions.ts) and the durable state (share-state-store.ts). The request
 * handlers 76-79, 83-87 and 90-92 call it; ListGroups, DescribeGroups and DeleteGroups ask it
 * about share groups.
 *
 * Deleted topics: their share state is dropped when the coordinator next loads (start-up);
 * until then it is only never read, since state is keyed by topic id.
 *
 * Durability: every change to a share partition's state (acquisition, acknowledgement, lock
 * expiry, reset) is written to the store before the request is answered; the group and its
 * epoch are stored too. Members and share sessions live in memory only: after a restart the
 * group is Empty, members rejoin, and records that were acquired are Available again with the
 * delivery counts they had, as in Kafka.
 *
 * Concurrency: everything runs on the JS thread; no method yields between reading and
 * changing state. Lock expiry is applied lazily whenever a share partition is touched;
 * session timers are unref'd.
 */
import type { Logger } from '../../logging';
import type { PartitionLog, ShareReadBatch } from '../../storage/partition-log';
import { ErrorCode } from '../../protocol/errors';
import type { TopicCatalog } from '../group/consumer-group-assignment';
import { AcquiredRange, completedCount, PersistedShareState, SharePartition, ShareLimits, StateBatch } from './share-partition';
import { sameAssignment, ShareGroup, ShareMember } from './share-group';
import { partitionKey, ShareStateStore } from './share-state-store';
import { ShareSessions } from './share-sessions';

export interface ShareCoordinatorConfig {
  sessionTimeoutMs(groupId: string): number;
  heartbeatIntervalMs(groupId: string): number;
  lockDurationMs(groupId: string): number;
  autoOffsetReset(groupId: string): string;
  readCommitted(groupId: string): boolean;
  deliveryCountLimit(groupId: string): number;
  maxRecordLocks(groupId: string): number;
  maxGroupSize(): number;
}

/** The logs the coordinator reads, by topic id. */
export interface ShareLogs {
  log(topicId: string, partition: number): PartitionLog | undefined;
  lastStableOffset(log: PartitionLog): number;
  /** Whether a data batch belongs to an aborted transaction. */
  isAborted(log: PartitionLog, batch: ShareReadBatch): boolean;
  topicName(topicId: string): string | undefined;
  /** Wakes share fetches long-polling the partition (records became available). */
  wake(topicId: string, partition: number): void;
}

export interface ShareHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  rackId: string | null;
  subscribedTopicNames: string[] | null;
  clientId: string;
  clientHost: string;
}

export interface ShareHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export interface ShareGroupDescription {
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  members: {
    memberId: string;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    assignment: { topicId: string; topicName: string; partitions: number[] }[];
  }[];
}

/** What one partition yields to a share fetch: acquired ranges and the stored batches holding them. */
export interface ShareFetchPart {
  acquired: AcquiredRange[];
  regions: { fd: number; position: number; length: number }[];
  bytes: number;
}

export const SIMPLE_ASSIGNOR = 'simple';

/** A refused heartbeat: no member id, epoch 0, no assignment. */
export function heartbeatFailure(errorCode: number, errorMessage: string | null): ShareHeartbeatResult {
  return { errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

export class ShareCoordinator {
  private readonly groups = new Map<string, ShareGroup>();
  private readonly partitions = new Map<string, SharePartition>();
  readonly sessions = new ShareSessions();
  private closed = false;

  constructor(
    private readonly config: ShareCoordinatorConfig,
    private readonly store: ShareStateStore,
    private readonly logs: ShareLogs,
    private readonly log: Logger,
    /** The kind of a non-share group with this id, if the group coordinator has one. */
    private readonly otherGroupKind: (groupId: string) => string | null,
    private readonly clock: () => number = Date.now,
  ) {
    for (const [groupId, epoch] of store.groups) this.groups.set(groupId, new ShareGroup(groupId, epoch));
    // State of topics deleted since it was written goes, as Kafka deletes it with the topic.
    for (const p of [...store.partitions.values()]) {
      if (logs.topicName(p.topicId) === undefined) store.putPartition(p.groupId, p.topicId, p.partition, null);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const g of this.groups.values()) for (const m of g.members.values()) if (m.sessionTimer) clearTimeout(m.sessionTimer);
    this.store.close();
  }

  // ================================================================ membership

  heartbeat(p: ShareHeartbeatParams, topics: TopicCatalog): ShareHeartbeatResult {
    const interval = this.config.heartbeatIntervalMs(p.groupId);
    const fail = heartbeatFailure;
    if (this.closed) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, null);
    if (p.groupId === '') return fail(ErrorCode.INVALID_REQUEST, 'GroupId can\'t be empty.');
    if (p.memberId === '') return fail(ErrorCode.INVALID_REQUEST, 'MemberId can\'t be empty.');
    if (p.memberEpoch < -1) return fail(ErrorCode.INVALID_REQUEST, `MemberEpoch is ${p.memberEpoch}, but must be greater than or equal to -1.`);
    if (p.memberEpoch === 0 && (p.subscribedTopicNames === null || p.subscribedTopicNames.length === 0)) {
      return fail(ErrorCode.INVALID_REQUEST, 'SubscribedTopicNames must be set in first request.');
    }
    const other = this.otherGroupKind(p.groupId);
    if (other !== null) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a share group.`);
    let group = this.groups.get(p.groupId);
    if (p.memberEpoch === -1) {
      const m = group?.members.get(p.memberId);
      if (!group || !m) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      this.removeMember(group, m, 'left');
      return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: p.memberId, memberEpoch: -1, heartbeatIntervalMs: interval, assignment: null };
    }
    let member = group?.members.get(p.memberId);
    let changed = false;
    if (p.memberEpoch === 0) {
      if (!group) {
        group = new ShareGroup(p.groupId, 0);
        this.groups.set(p.groupId, group);
      }
      if (!member) {
        if (group.members.size >= this.config.maxGroupSize()) {
          return fail(ErrorCode.GROUP_MAX_SIZE_REACHED, `The share group has reached its maximum capacity of ${this.config.maxGroupSize()} members.`);
        }
        member = {
          memberId: p.memberId,
          memberEpoch: 0,
          clientId: p.clientId,
          clientHost: p.clientHost,
          rackId: p.rackId,
          subscribedTopicNames: [],
          assignment: new Map(),
          sessionTimer: null,
        };
        group.members.set(p.memberId, member);
        changed = true;
      }
    } else {
      if (!group || !member) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      if (p.memberEpoch !== member.memberEpoch) {
        return fail(ErrorCode.FENCED_MEMBER_EPOCH, `The share group member has a different epoch (${p.memberEpoch}) than the one known by the coordinator (${member.memberEpoch}).`);
      }
    }
    if (p.rackId !== null) member.rackId = p.rackId;
    if (p.subscribedTopicNames !== null) {
      const names = [...new Set(p.subscribedTopicNames)].sort();
      if (names.join('\0') !== member.subscribedTopicNames.join('\0')) {
        member.subscribedTopicNames = names;
        changed = true;
      }
    }
    group.refresh(topics, changed);
    this.store.putGroup(group.groupId, group.groupEpoch);
    this.armSessionTimer(group, member);
    const target = group.target.get(member.memberId) ?? new Map<string, number[]>();
    let assignment: ShareHeartbeatResult['assignment'] = null;
    if (p.memberEpoch === 0 || member.memberEpoch !== group.assignmentEpoch || !sameAssignment(member.assignment, target)) {
      member.assignment = target;
      assignment = [...target].map(([topicId, partitions]) => ({ topicId, partitions: [...partitions] }));
    }
    member.memberEpoch = group.assignmentEpoch;
    return { errorCode: ErrorCode.NONE, errorMessage: null, memberId: member.memberId, memberEpoch: member.memberEpoch, heartbeatIntervalMs: interval, assignment };
  }

  private armSessionTimer(group: ShareGroup, member: ShareMember): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = setTimeout(() => {
      if (group.members.get(member.memberId) === member) this.removeMember(group, member, 'session timed out');
    }, this.config.sessionTimeoutMs(group.groupId));
    member.sessionTimer.unref();
  }

  /** Removes a member: its share sessions close and the records it held become available. */
  private removeMember(group: ShareGroup, member: ShareMember, reason: string): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    group.members.delete(member.memberId);
    group.groupEpoch++;
    this.store.putGroup(group.groupId, group.groupEpoch);
    this.sessions.remove(group.groupId, member.memberId);
    this.releaseMember(group.groupId, member.memberId);
    this.log.info('share group member removed', { group: group.groupId, member: member.memberId, reason });
  }

  /** Releases what a member holds in every share partition of the group. */
  releaseMember(groupId: string, memberId: string, only?: Set<string>): void {
    for (const [key, sp] of this.partitions) {
      const [g, topicId, partition] = JSON.parse(key) as [string, string, number];
      if (g !== groupId || (only && !only.has(`${topicId}:${partition}`))) continue;
      if (!sp.releaseMember(memberId, this.limits(groupId))) continue;
      this.save(groupId, topicId, partition, sp);
      this.logs.wake(topicId, partition);
    }
  }

  describe(groupId: string, topics: TopicCatalog): ShareGroupDescription | 'other' | null {
    const group = this.groups.get(groupId);
    if (!group) return this.otherGroupKind(groupId) !== null ? 'other' : null;
    group.refresh(topics);
    return {
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: [...m.subscribedTopicNames],
        assignment: [...m.assignment].map(([topicId, partitions]) => ({ topicId, topicName: topics.nameOf(topicId) ?? '', partitions: [...partitions] })),
      })),
    };
  }

  /** Share groups for ListGroups. */
  list(): { groupId: string; state: string }[] {
    return [...this.groups.values()].map((g) => ({ groupId: g.groupId, state: g.state }));
  }

  has(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  /** DeleteGroups on a share group: NON_EMPTY_GROUP while it has members; its state goes too. */
  deleteGroup(groupId: string): number {
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.members.size > 0) return ErrorCode.NON_EMPTY_GROUP;
    for (const stored of this.store.ofGroup(groupId)) this.dropState(groupId, stored.topicId, stored.partition);
    for (const key of [...this.partitions.keys()]) if ((JSON.parse(key) as unknown[])[0] === groupId) this.partitions.delete(key);
    this.groups.delete(groupId);
    this.store.putGroup(groupId, null);
    this.log.info('share group deleted', { group: groupId });
    return ErrorCode.NONE;
  }

  // ================================================================ share partitions

  limits(groupId: string): ShareLimits {
    return { lockDurationMs: this.config.lockDurationMs(groupId), deliveryCountLimit: this.config.deliveryCountLimit(groupId) };
  }

  /** The share partition, loaded from the store or initialized by share.auto.offset.reset. */
  private partition(groupId: string, topicId: string, partition: number, log: PartitionLog): SharePartition {
    const key = partitionKey(groupId, topicId, partition);
    let sp = this.partitions.get(key);
    if (!sp) {
      const stored = this.store.get(groupId, topicId, partition);
      sp = stored && stored.startOffset >= 0 ? SharePartition.fromPersisted(stored) : new SharePartition(this.initialOffset(groupId, log), stored?.stateEpoch ?? 0);
      this.partitions.set(key, sp);
      if (!stored || stored.startOffset < 0) this.save(groupId, topicId, partition, sp);
      this.ensureGroup(groupId);
    }
    const now = this.clock();
    const moved = sp.followLogStart(log.logStartOffset);
    if (sp.expireLocks(now, this.limits(groupId)) || moved) this.save(groupId, topicId, partition, sp);
    return sp;
  }

  private initialOffset(groupId: string, log: PartitionLog): number {
    const reset = this.config.autoOffsetReset(groupId);
    if (reset === 'earliest') return log.logStartOffset;
    const duration = /^by_duration:(.+)$/.exec(reset);
    if (duration) {
      const ms = isoDurationMs(duration[1]);
      const found = ms === null ? null : log.offsetForTimestamp(this.clock() - ms);
      return found ? found.offset : log.logEndOffset;
    }
    return log.logEndOffset;
  }

  private save(groupId: string, topicId: string, partition: number, sp: SharePartition): void {
    this.store.putPartition(groupId, topicId, partition, sp.persisted());
  }

  /**
   * Acquires records of one partition for a member: Available in-flight records first
   * (redeliveries), then new batches from SPEO, up to `maxRecords` (batch-aligned unless
   * `strict`) and `maxBytes`, within the in-flight limit. Returns the acquired ranges and the
   * stored batches that hold them, unchanged.
   */
  acquire(groupId: string, memberId: string, topicId: string, partition: number, log: PartitionLog, maxRecords: number, maxBytes: number, strict: boolean): ShareFetchPart {
    const sp = this.partition(groupId, topicId, partition, log);
    const limits = this.limits(groupId);
    const now = this.clock();
    const out: ShareFetchPart = { acquired: [], regions: [], bytes: 0 };
    const window = `${sp.startOffset}:${sp.endOffset}`;
    let count = 0;
    let lastBase = -1;
    const take = (ranges: AcquiredRange[]) => {
      for (const r of ranges) {
        out.acquired.push(r);
        count += r.lastOffset - r.firstOffset + 1;
      }
    };
    const addRegion = (b: { baseOffset: number; region: { fd: number; position: number; length: number } }) => {
      if (b.baseOffset === lastBase) return;
      lastBase = b.baseOffset;
      out.regions.push(b.region);
      out.bytes += b.region.length;
    };
    // Redeliveries: each Available offset is sent in the stored batch that holds it.
    for (let o = sp.nextAvailable(sp.startOffset); o >= 0 && count < maxRecords && (out.bytes === 0 || out.bytes < maxBytes); ) {
      const [batch] = log.readWholeBatches(o, 1);
      if (!batch) break;
      const ranges = sp.acquireInFlight(memberId, o, batch.lastOffset, strict ? maxRecords - count : Number.MAX_SAFE_INTEGER, now, limits);
      if (ranges.length > 0) {
        take(ranges);
        addRegion(batch);
      }
      o = sp.nextAvailable(batch.lastOffset + 1);
    }
    // New records from SPEO.
    // read_committed: up to the last stable offset; batches of aborted transactions are archived like markers.
    const readCommitted = this.config.readCommitted(groupId);
    const maxOffset = readCommitted ? this.logs.lastStableOffset(log) : log.logEndOffset;
    const lockRoom = () => this.config.maxRecordLocks(groupId) - sp.inFlight;
    if (count < maxRecords && lockRoom() > 0 && sp.endOffset < maxOffset) {
      const budget = out.bytes === 0 ? maxBytes : Math.max(0, maxBytes - out.bytes);
      const batches = budget > 0 ? log.readWholeBatches(Math.max(sp.endOffset, log.logStartOffset), budget, maxOffset) : [];
      for (const b of batches) {
        if (count >= maxRecords || lockRoom() <= 0) break;
        const room = Math.min(lockRoom(), strict ? maxRecords - count : Number.MAX_SAFE_INTEGER);
        const skip = b.control || (readCommitted && b.transactional && this.logs.isAborted(log, b));
        const ranges = sp.acquireNew(memberId, b.baseOffset, b.lastOffset, skip, Math.max(1, room), now, limits);
        if (ranges.length > 0) {
          take(ranges);
          addRegion(b);
        }
      }
    }
    // Written only when something changed: a long poll passes here on every wake-up.
    if (count > 0 || window !== `${sp.startOffset}:${sp.endOffset}`) this.save(groupId, topicId, partition, sp);
    return out;
  }

  /** Applies one acknowledgement batch; returns its error code. */
  acknowledge(groupId: string, memberId: string, topicId: string, partition: number, log: PartitionLog, firstOffset: number, lastOffset: number, types: number[]): number {
    const sp = this.partition(groupId, topicId, partition, log);
    const err = sp.acknowledge(memberId, firstOffset, lastOffset, types, this.clock(), this.limits(groupId));
    if (err !== ErrorCode.NONE) return err;
    this.save(groupId, topicId, partition, sp);
    if (sp.hasAvailable()) this.logs.wake(topicId, partition);
    return err;
  }

  /** Whether any session partition has Available records (after lock expiry), and the next lock expiry. */
  readiness(groupId: string, parts: { topicId: string; partition: number; log: PartitionLog }[]): { available: boolean; nextExpiry: number } {
    let next = Infinity;
    for (const p of parts) {
      const sp = this.partition(groupId, p.topicId, p.partition, p.log);
      if (sp.hasAvailable()) return { available: true, nextExpiry: next };
      next = Math.min(next, sp.nextLockExpiry());
    }
    return { available: false, nextExpiry: next };
  }

  // ================================================================ offsets admin (90-92)

  /** DescribeShareGroupOffsets for one partition: SPSO (-1 when uninitialized) and the lag. */
  describeOffset(groupId: string, topicId: string, partition: number): { startOffset: number; lag: number } {
    const sp = this.partitions.get(partitionKey(groupId, topicId, partition));
    const state = sp ? null : this.store.get(groupId, topicId, partition);
    const startOffset = sp ? sp.startOffset : state ? state.startOffset : -1;
    if (startOffset < 0) return { startOffset: -1, lag: -1 };
    const log = this.logs.log(topicId, partition);
    const done = sp ? sp.doneInFlight() : completedCount(state!.stateBatches);
    const lag = log ? Math.max(0, log.logEndOffset - startOffset - done) : -1;
    return { startOffset, lag };
  }

  /** (topic id, partition) pairs with stored state for a group. */
  storedPartitions(groupId: string): { topicId: string; partition: number }[] {
    return this.store.ofGroup(groupId).map((s) => ({ topicId: s.topicId, partition: s.partition }));
  }

  /** Group-level check of AlterShareGroupOffsets / DeleteShareGroupOffsets. */
  offsetsAdminError(groupId: string, mustExist: boolean): { errorCode: number; errorMessage: string | null } {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: null };
    if (this.otherGroupKind(groupId) !== null) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a share group.` };
    const group = this.groups.get(groupId);
    if (!group && mustExist) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
    if (group && group.members.size > 0) return { errorCode: ErrorCode.NON_EMPTY_GROUP, errorMessage: 'The group is not empty.' };
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  }

  /** A group that has share state but no member yet (fetched or altered first) exists, Empty, so that it is listed. */
  private ensureGroup(groupId: string): void {
    if (this.groups.has(groupId) || this.otherGroupKind(groupId) !== null) return;
    this.groups.set(groupId, new ShareGroup(groupId, 0));
    this.store.putGroup(groupId, 0);
  }

  /** AlterShareGroupOffsets for one partition: SPSO moves to `offset`, nothing in flight. */
  alterOffset(groupId: string, topicId: string, partition: number, offset: number): void {
    this.ensureGroup(groupId);
    const key = partitionKey(groupId, topicId, partition);
    const stored = this.store.get(groupId, topicId, partition);
    const sp = this.partitions.get(key) ?? new SharePartition(offset, stored?.stateEpoch ?? 0);
    sp.resetTo(offset);
    this.partitions.set(key, sp);
    this.save(groupId, topicId, partition, sp);
  }

  /** DeleteShareGroupOffsets / DeleteShareGroupState: forgets a partition's state. */
  dropState(groupId: string, topicId: string, partition: number): void {
    this.partitions.delete(partitionKey(groupId, topicId, partition));
    this.store.putPartition(groupId, topicId, partition, null);
  }

  // ================================================================ share-group state APIs (83-87)

  /** The state as ReadShareGroupState reports it; undefined when the partition has none. */
  readState(groupId: string, topicId: string, partition: number): PersistedShareState | undefined {
    return this.partitions.get(partitionKey(groupId, topicId, partition))?.persisted() ?? this.store.get(groupId, topicId, partition);
  }

  /** InitializeShareGroupState / WriteShareGroupState: FENCED_STATE_EPOCH for an older state epoch. */
  writeState(groupId: string, topicId: string, partition: number, state: PersistedShareState, initialize: boolean): number {
    const current = this.readState(groupId, topicId, partition);
    if (current && state.stateEpoch < current.stateEpoch) return ErrorCode.FENCED_STATE_EPOCH;
    if (!validBatches(state.startOffset, state.stateBatches, this.config.maxRecordLocks(groupId))) return ErrorCode.INVALID_REQUEST;
    this.partitions.delete(partitionKey(groupId, topicId, partition));
    this.store.putPartition(groupId, topicId, partition, initialize ? { ...state, stateBatches: [] } : state);
    return ErrorCode.NONE;
  }
}

/** State batches must be ordered, inside the in-flight window a share partition may hold. */
function validBatches(startOffset: number, batches: StateBatch[], maxLocks: number): boolean {
  let prev = startOffset - 1;
  for (const b of batches) {
    if (b.firstOffset > b.lastOffset || b.firstOffset <= prev || b.deliveryCount < 0) return false;
    if (b.lastOffset - startOffset >= Math.max(maxLocks, 1) * 10) return false;
    prev = b.lastOffset;
  }
  return true;
}

/** Milliseconds of an ISO-8601 duration as share.auto.offset.reset takes it (PnDTnHnMnS); null if malformed. */
export function isoDurationMs(text: string): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (!m || text === 'P' || text.endsWith('T')) return null;
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(s ?? 0) * 1000);
}
