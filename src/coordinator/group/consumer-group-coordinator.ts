/**
 * ConsumerGroupHeartbeat and ConsumerGroupDescribe (KIP-848): the group coordinator side of
 * the "consumer" group protocol, where the broker computes assignments (server-side
 * assignors, assignors.ts) and each member's heartbeat carries its next assignment
 * (reconciliation, consumer-group.ts).
 *
 * One heartbeat, as Kafka handles it:
 *   1. validate the request (INVALID_REQUEST with a message, UNSUPPORTED_ASSIGNOR,
 *      INVALID_REGULAR_EXPRESSION);
 *   2. find the member: epoch 0 joins (a new member, a static member's new incarnation, or a
 *      member rejoining after being fenced); epoch > 0 must match the member's epoch
 *      (FENCED_MEMBER_EPOCH; the previous epoch is accepted when the member owns no more than
 *      its current assignment, a lost answer); epoch -1 leaves; epoch -2 leaves as a static
 *      member that will come back (its partitions stay reserved until its session ends);
 *   3. a new member, a changed subscription or assignor, or a change in the subscribed
 *      topics' partition counts bumps the group epoch;
 *   4. when the group epoch is ahead of the assignment epoch, the assignor computes a new
 *      target assignment for everyone;
 *   5. the member reconciles towards its target; its assignment is in the answer when it
 *      joined or when the assignment changed.
 * Sessions (heartbeats every heartbeatIntervalMs, expiry after consumerSessionTimeoutMs) and
 * revocations (within the member's rebalance timeout) fence members that fall silent.
 *
 * Durability: every change is written to __consumer_offsets in Kafka's record schemas
 * (consumer-group-records.ts) before the heartbeat is answered, and replayed on load, so
 * members carry on across a broker restart with their epochs and partitions. (Kafka applies
 * records to memory only once written; here memory changes first, and a failed write answers
 * COORDINATOR_NOT_AVAILABLE.) The subscribed topics' metadata is not stored: the first
 * heartbeat after a load re-reads it, which bumps the group epoch once (the sticky assignors
 * then move nothing).
 *
 * Differences from Kafka: a heartbeat (epoch > 0) from a member this coordinator never knew
 * (a group deleted meanwhile, or a log lost) is answered FENCED_MEMBER_EPOCH so that it
 * rejoins with epoch 0 (Kafka: UNKNOWN_MEMBER_ID, or GROUP_ID_NOT_FOUND for an unknown group,
 * which some clients treat as fatal); members this coordinator removed get UNKNOWN_MEMBER_ID,
 * as in Kafka. An empty
 * classic group (committed offsets only) becomes a consumer group on the first join, keeping
 * its offsets; classic and consumer members are not mixed in one group (a classic JoinGroup
 * to a non-empty consumer group is INCONSISTENT_GROUP_PROTOCOL). Regular expressions use
 * JavaScript syntax (Kafka: RE2J), matched against whole topic names.
 */
import type { StreamsGroup } from '../streams/streams-group';
import * as crypto from 'crypto';
import { ErrorCode } from '../../protocol/errors';
import type { Logger } from '../../logging';
import { ASSIGNORS } from './assignors';
import { compileRegex, computeTargetAssignment, preferredAssignor, sameMetadata, subscribedTopics, subscriptionMetadata, TopicCatalog } from './consumer-group-assignment';

export type { TopicCatalog } from './consumer-group-assignment';
import type { LogRecord } from './batch-codec';
import { ClassicGroup } from './classic-group';
import {
  CG_CURRENT_ASSIGNMENT,
  CG_MEMBER_METADATA,
  CG_METADATA,
  CG_TARGET_MEMBER,
  CG_TARGET_METADATA,
  ConsumerGroupRecordKey,
  decodeAssignmentEpochValue,
  decodeCurrentAssignmentValue,
  decodeGroupEpochValue,
  decodeMemberMetadataValue,
  decodeTargetMemberValue,
  encodeAssignmentEpochValue,
  encodeConsumerGroupKey,
  encodeCurrentAssignmentValue,
  encodeGroupEpochValue,
  encodeMemberMetadataValue,
  encodeTargetMemberValue,
} from './consumer-group-records';
import { encodeGroupMetadataKey } from './records';
import {
  ConsumerGroup,
  ConsumerGroupMember,
  copyPartitions,
  samePartitions,
  STATIC_LEFT_EPOCH,
  TopicPartitions,
} from './consumer-group';

const LEAVE_EPOCH = -1;

export interface ConsumerHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: { topicId: string; partitions: number[] }[] | null;
  clientId: string;
  clientHost: string;
  /** v1+ (KIP-1082): the client chooses its member id. */
  apiVersion: number;
}

export interface ConsumerHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: { topicId: string; partitions: number[] }[] | null;
}

export interface ConsumerGroupSettings {
  /** group.consumer.session.timeout.ms */
  consumerSessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms */
  consumerHeartbeatIntervalMs: number;
  /** group.consumer.max.size */
  consumerMaxSize: number;
  /** A group's own consumer.session.timeout.ms / consumer.heartbeat.interval.ms (GROUP configs), when it has them. */
  perGroup?: (groupId: string) => { sessionTimeoutMs: number; heartbeatIntervalMs: number };
}

export const DEFAULT_CONSUMER_GROUP_SETTINGS: ConsumerGroupSettings = {
  consumerSessionTimeoutMs: 45_000,
  consumerHeartbeatIntervalMs: 5_000,
  consumerMaxSize: 0x7fffffff,
};

export interface DescribedPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface ConsumerGroupDescription {
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: DescribedPartitions[];
    targetAssignment: DescribedPartitions[];
  }[];
}

type AnyGroup = ClassicGroup | ConsumerGroup | StreamsGroup;

function fail(errorCode: number, errorMessage: string | null = null, memberId: string | null = null): ConsumerHeartbeatResult {
  return { errorCode, errorMessage, memberId, memberEpoch: -1, heartbeatIntervalMs: 0, assignment: null };
}

function toWire(tp: TopicPartitions): { topicId: string; partitions: number[] }[] {
  return [...tp]
    .filter(([, s]) => s.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, s]) => ({ topicId, partitions: [...s].sort((a, b) => a - b) }));
}

function fromWire(tps: { topicId: string; partitions: number[] }[]): TopicPartitions {
  const out: TopicPartitions = new Map();
  for (const t of tps) {
    const s = out.get(t.topicId) ?? new Set<number>();
    for (const p of t.partitions) s.add(p);
    out.set(t.topicId, s);
  }
  return out;
}

function isSubset(owned: TopicPartitions, of: TopicPartitions): boolean {
  for (const [topicId, ps] of owned) {
    const s = of.get(topicId);
    for (const p of ps) if (!s?.has(p)) return false;
  }
  return true;
}

/** A Kafka-style random member id: a v4 UUID in base64url (22 characters). */
function newMemberId(): string {
  return crypto.randomBytes(16).toString('base64url');
}

export class ConsumerGroupCoordinator {
  constructor(
    private readonly groups: Map<string, AnyGroup>,
    private readonly settings: ConsumerGroupSettings,
    private readonly log: Logger,
    private readonly clock: () => number,
    private readonly isClosed: () => boolean,
    /** Appends one group's records as one batch (throws on failure). */
    private readonly persist: (groupId: string, records: LogRecord[]) => void = () => undefined,
  ) {}

  // ================================================================ records

  private memberMetadataRecord(group: ConsumerGroup, m: ConsumerGroupMember): LogRecord {
    return {
      key: encodeConsumerGroupKey(CG_MEMBER_METADATA, group.groupId, m.memberId),
      value: encodeMemberMetadataValue({
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        rebalanceTimeoutMs: m.rebalanceTimeoutMs,
        serverAssignor: m.serverAssignor,
      }),
    };
  }

  private currentAssignmentRecord(group: ConsumerGroup, m: ConsumerGroupMember): LogRecord {
    return {
      key: encodeConsumerGroupKey(CG_CURRENT_ASSIGNMENT, group.groupId, m.memberId),
      value: encodeCurrentAssignmentValue({
        memberEpoch: m.memberEpoch,
        previousMemberEpoch: m.previousMemberEpoch,
        state: m.state,
        assigned: m.assigned,
        pendingRevocation: m.pendingRevocation,
      }),
    };
  }

  private groupEpochRecord(group: ConsumerGroup): LogRecord {
    return { key: encodeConsumerGroupKey(CG_METADATA, group.groupId), value: encodeGroupEpochValue(group.groupEpoch) };
  }

  /** Tombstones of a member's three records, in the order Kafka writes them. */
  private memberTombstones(group: ConsumerGroup, memberId: string): LogRecord[] {
    return [CG_CURRENT_ASSIGNMENT, CG_TARGET_MEMBER, CG_MEMBER_METADATA].map((t) => ({
      key: encodeConsumerGroupKey(t, group.groupId, memberId),
      value: null,
    }));
  }

  /** Tombstones of the group-level records (the group has no members left). */
  groupTombstones(groupId: string): LogRecord[] {
    return [CG_TARGET_METADATA, CG_METADATA].map((t) => ({ key: encodeConsumerGroupKey(t, groupId), value: null }));
  }

  private write(group: ConsumerGroup, records: LogRecord[]): boolean {
    if (records.length === 0) return true;
    try {
      this.persist(group.groupId, records);
      return true;
    } catch (err) {
      this.log.warn('could not store consumer group records', { group: group.groupId, error: String(err) });
      return false;
    }
  }

  // ================================================================ heartbeat

  heartbeat(p: ConsumerHeartbeatParams, topics: TopicCatalog): ConsumerHeartbeatResult {
    if (this.isClosed()) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const invalid = this.validate(p);
    if (invalid) return invalid;

    let group: ConsumerGroup;
    const existing = this.groups.get(p.groupId);
    if (existing?.kind === 'classic') {
      if (!existing.is('Empty') || existing.members.size > 0 || existing.pendingMembers.size > 0) {
        return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`);
      }
      // An empty classic group (offsets only) becomes a consumer group and keeps its offsets.
      group = new ConsumerGroup(p.groupId, this.clock());
      group.takeOffsetsFrom(existing);
      this.groups.set(p.groupId, group);
      this.write(group, [{ key: encodeGroupMetadataKey(p.groupId), value: null }]);
      this.log.info('empty classic group converted to a consumer group', { group: p.groupId });
    } else if (existing?.kind === 'streams') {
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a consumer group.`);
    } else if (existing) {
      group = existing;
    } else {
      if (p.memberEpoch !== 0) return this.unknownMember(null, p);
      group = new ConsumerGroup(p.groupId, this.clock());
      this.groups.set(p.groupId, group);
    }

    if (p.memberEpoch === LEAVE_EPOCH || p.memberEpoch === STATIC_LEFT_EPOCH) return this.leave(group, p);
    const records: LogRecord[] = [];

    let member: ConsumerGroupMember;
    let bump = false;
    const stateBefore = group.state;
    const groupEpochBefore = group.groupEpoch;
    const assignmentEpochBefore = group.assignmentEpoch;
    const targetsBefore = group.targetAssignment;
    if (p.memberEpoch === 0) {
      const joined = this.join(group, p);
      if ('errorCode' in joined) return joined;
      member = joined.member;
      bump = joined.isNew;
      if (joined.replacedId !== null) {
        records.push(...this.memberTombstones(group, joined.replacedId));
        const target = group.targetAssignment.get(member.memberId);
        if (target) records.push({ key: encodeConsumerGroupKey(CG_TARGET_MEMBER, group.groupId, member.memberId), value: encodeTargetMemberValue(target) });
      }
    } else {
      const m = group.members.get(p.memberId);
      if (!m) return this.unknownMember(group, p);
      if (m.memberEpoch === STATIC_LEFT_EPOCH) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} left the group.`);
      if (p.instanceId !== null && m.instanceId !== p.instanceId) {
        return fail(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${p.instanceId} is not the one of member ${p.memberId}.`);
      }
      const owned = p.topicPartitions === null ? null : fromWire(p.topicPartitions);
      if (p.memberEpoch > m.memberEpoch || (p.memberEpoch < m.memberEpoch && (p.memberEpoch !== m.previousMemberEpoch || (owned !== null && !isSubset(owned, m.assigned))))) {
        return fail(
          ErrorCode.FENCED_MEMBER_EPOCH,
          `The consumer group member has a ${p.memberEpoch > m.memberEpoch ? 'greater' : 'smaller'} member epoch (${p.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`,
        );
      }
      member = m;
    }
    const assignedBefore = copyPartitions(member.assigned);
    const metadataBefore = this.memberMetadataRecord(group, member).value as Buffer;
    const currentBefore = this.currentAssignmentRecord(group, member).value as Buffer;

    // Subscriptions and settings.
    member.clientId = p.clientId;
    member.clientHost = p.clientHost;
    if (p.rackId !== null) member.rackId = p.rackId;
    if (p.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    if (p.subscribedTopicNames !== null) {
      const next = [...new Set(p.subscribedTopicNames)].sort();
      if (next.join('\u0000') !== member.subscribedTopicNames.join('\u0000')) {
        member.subscribedTopicNames = next;
        bump = true;
      }
    }
    if (p.subscribedTopicRegex !== null) {
      const regex = p.subscribedTopicRegex === '' ? null : p.subscribedTopicRegex;
      if (regex !== member.subscribedTopicRegex) {
        member.subscribedTopicRegex = regex;
        bump = true;
        if (regex !== null && !group.resolvedRegexes.has(regex)) this.resolveRegexLater(group, regex);
      }
    }
    if (p.serverAssignor !== null && p.serverAssignor !== member.serverAssignor) {
      member.serverAssignor = p.serverAssignor;
      bump = true;
    }
    // Subscribed topics' metadata (a topic created, deleted or grown counts as a change).
    const metadata = subscriptionMetadata(group, topics);
    if (!sameMetadata(metadata, group.subscriptionMetadata)) {
      group.subscriptionMetadata = metadata;
      bump = true;
    }
    if (bump) this.bumpGroupEpoch(group);
    if (group.groupEpoch > group.assignmentEpoch) this.computeTargetAssignment(group, topics);

    group.reconcile(member, p.topicPartitions === null ? null : fromWire(p.topicPartitions));
    this.scheduleSession(group, member);
    this.scheduleRevocationDeadline(group, member);
    if (group.state !== stateBefore) group.currentStateTimestamp = this.clock();

    // What changed goes to the log, in Kafka's order, before the answer.
    const metadataRecord = this.memberMetadataRecord(group, member);
    if (p.memberEpoch === 0 || !(metadataRecord.value as Buffer).equals(metadataBefore)) records.push(metadataRecord);
    if (group.groupEpoch !== groupEpochBefore) records.push(this.groupEpochRecord(group));
    if (group.assignmentEpoch !== assignmentEpochBefore) {
      for (const [memberId, tp] of group.targetAssignment) {
        const before = targetsBefore.get(memberId);
        if (!before || !samePartitions(before, tp)) {
          records.push({ key: encodeConsumerGroupKey(CG_TARGET_MEMBER, group.groupId, memberId), value: encodeTargetMemberValue(tp) });
        }
      }
      records.push({ key: encodeConsumerGroupKey(CG_TARGET_METADATA, group.groupId), value: encodeAssignmentEpochValue(group.assignmentEpoch) });
    }
    const current = this.currentAssignmentRecord(group, member);
    if (p.memberEpoch === 0 || !(current.value as Buffer).equals(currentBefore)) records.push(current);
    if (!this.write(group, records)) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE);

    const changed = !samePartitions(assignedBefore, member.assigned);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: member.memberId,
      memberEpoch: member.memberEpoch,
      heartbeatIntervalMs: this.timing(group.groupId).heartbeatIntervalMs,
      assignment: p.memberEpoch === 0 || changed ? toWire(member.assigned) : null,
    };
  }

  /**
   * A heartbeat (epoch > 0) from a member this coordinator does not know. One it removed
   * itself gets Kafka's UNKNOWN_MEMBER_ID. One it never saw comes from before a broker
   * restart (membership is not persisted): FENCED_MEMBER_EPOCH, which every client answers by
   * rejoining with epoch 0 (some treat UNKNOWN_MEMBER_ID as fatal or retry it unchanged).
   */
  private unknownMember(group: ConsumerGroup | null, p: ConsumerHeartbeatParams): ConsumerHeartbeatResult {
    if (group?.departed.has(p.memberId)) {
      return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
    }
    return fail(
      ErrorCode.FENCED_MEMBER_EPOCH,
      `Member ${p.memberId} of group ${p.groupId} is not known to this coordinator (it restarted); the member must rejoin.`,
    );
  }

  private validate(p: ConsumerHeartbeatParams): ConsumerHeartbeatResult | null {
    const bad = (msg: string) => fail(ErrorCode.INVALID_REQUEST, msg);
    if (p.groupId === '') return bad("GroupId can't be empty.");
    if (p.instanceId === '') return bad("InstanceId can't be empty.");
    if (p.rackId === '') return bad("RackId can't be empty.");
    if (p.apiVersion >= 1 && p.memberId === '') return bad("MemberId can't be empty.");
    if (p.memberEpoch > 0 || p.memberEpoch === LEAVE_EPOCH) {
      if (p.memberId === '') return bad("MemberId can't be empty.");
    } else if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1) return bad('RebalanceTimeoutMs must be provided in first request.');
      if (p.topicPartitions === null || p.topicPartitions.length > 0) return bad('TopicPartitions must be empty when (re-)joining.');
      const names = p.subscribedTopicNames !== null && p.subscribedTopicNames.length > 0;
      const regex = p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== '';
      if (!names && !regex) return bad('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
    } else if (p.memberEpoch === STATIC_LEFT_EPOCH) {
      if (p.memberId === '') return bad("MemberId can't be empty.");
      if (p.instanceId === null) return bad("InstanceId can't be null.");
    } else {
      return bad('MemberEpoch is invalid.');
    }
    if (p.serverAssignor !== null && !ASSIGNORS.includes(p.serverAssignor)) {
      return fail(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${p.serverAssignor} is not supported. Supported assignors: ${ASSIGNORS.join(', ')}.`);
    }
    if (p.subscribedTopicRegex !== null && p.subscribedTopicRegex !== '' && compileRegex(p.subscribedTopicRegex) === null) {
      return fail(ErrorCode.INVALID_REGULAR_EXPRESSION, `SubscribedTopicRegex ${p.subscribedTopicRegex} is not a valid regular expression.`);
    }
    return null;
  }

  private join(
    group: ConsumerGroup,
    p: ConsumerHeartbeatParams,
  ): { member: ConsumerGroupMember; isNew: boolean; replacedId: string | null } | ConsumerHeartbeatResult {
    const memberId = p.memberId !== '' ? p.memberId : newMemberId();
    if (p.instanceId !== null) {
      const currentId = group.staticMembers.get(p.instanceId);
      if (currentId !== undefined && currentId !== memberId) {
        const current = group.members.get(currentId) as ConsumerGroupMember;
        if (current.memberEpoch !== STATIC_LEFT_EPOCH) {
          return fail(
            ErrorCode.UNRELEASED_INSTANCE_ID,
            `Static member ${currentId} with instance id ${p.instanceId} is not released yet; it must leave first.`,
          );
        }
        // The static member comes back: same place, same partitions.
        const m = group.replaceMemberId(currentId, memberId);
        group.updateMember(m, m.state, 0, m.assigned, m.pendingRevocation);
        this.log.info('static member rejoined', { group: group.groupId, instanceId: p.instanceId, memberId });
        return { member: m, isNew: false, replacedId: currentId };
      }
    }
    const existing = group.members.get(memberId);
    if (existing) {
      // Rejoining (after being fenced, or a lost answer): it owns nothing now.
      group.updateMember(existing, 'stable', 0, new Map(), new Map());
      return { member: existing, isNew: false, replacedId: null };
    }
    if (group.members.size >= this.settings.consumerMaxSize) {
      return fail(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${this.settings.consumerMaxSize} members.`);
    }
    const m = new ConsumerGroupMember(
      memberId,
      p.instanceId,
      p.rackId,
      p.clientId,
      p.clientHost,
      p.rebalanceTimeoutMs,
      [],
      null,
      null,
    );
    group.addMember(m);
    this.log.info('member joined consumer group', { group: group.groupId, memberId, instanceId: p.instanceId });
    return { member: m, isNew: true, replacedId: null };
  }

  private leave(group: ConsumerGroup, p: ConsumerHeartbeatParams): ConsumerHeartbeatResult {
    let m = group.members.get(p.memberId);
    if (!m && p.instanceId !== null) {
      const id = group.staticMembers.get(p.instanceId);
      if (id !== undefined) m = group.members.get(id);
    }
    if (!m) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`, p.memberId);
    if (p.instanceId !== null && m.instanceId !== p.instanceId) {
      return fail(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${p.instanceId} is not the one of member ${m.memberId}.`, p.memberId);
    }
    if (m.memberId !== p.memberId) {
      return fail(ErrorCode.FENCED_INSTANCE_ID, `Static member ${p.instanceId} is now member ${m.memberId}.`, p.memberId);
    }
    const before = group.state;
    let ok: boolean;
    if (p.memberEpoch === STATIC_LEFT_EPOCH) {
      // Keeps its partitions reserved until it comes back or its session ends.
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = STATIC_LEFT_EPOCH;
      this.clearRevocationDeadline(m);
      this.scheduleSession(group, m);
      ok = this.write(group, [this.currentAssignmentRecord(group, m)]);
      this.log.info('static member left temporarily', { group: group.groupId, memberId: m.memberId, instanceId: m.instanceId });
    } else {
      ok = this.removeMember(group, m, 'left the group');
    }
    if (group.state !== before) group.currentStateTimestamp = this.clock();
    if (!ok) return fail(ErrorCode.COORDINATOR_NOT_AVAILABLE, null, p.memberId);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: p.memberId,
      memberEpoch: p.memberEpoch,
      heartbeatIntervalMs: 0,
      assignment: null,
    };
  }

  /** Removes a member (left, fenced or silent) and writes that down; false when the write failed. */
  private removeMember(group: ConsumerGroup, m: ConsumerGroupMember, why: string): boolean {
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    m.sessionTimer = null;
    this.clearRevocationDeadline(m);
    group.removeMember(m.memberId);
    this.bumpGroupEpoch(group);
    group.currentStateTimestamp = this.clock();
    this.log.info('member removed from consumer group', { group: group.groupId, memberId: m.memberId, reason: why, groupEpoch: group.groupEpoch });
    return this.write(group, [...this.memberTombstones(group, m.memberId), this.groupEpochRecord(group)]);
  }

  // ================================================================ load

  /** Applies one consumer group record while loading (latest value per key wins, null deletes). */
  replay(key: ConsumerGroupRecordKey, value: Buffer | null): void {
    let group: ConsumerGroup;
    const existing = this.groups.get(key.group);
    if (existing?.kind === 'consumer') group = existing;
    else {
      if (value === null) return; // nothing to delete
      group = new ConsumerGroup(key.group, this.clock());
      if (existing) group.takeOffsetsFrom(existing);
      this.groups.set(key.group, group);
    }
    const member = (memberId: string): ConsumerGroupMember => {
      let m = group.members.get(memberId);
      if (!m) {
        m = new ConsumerGroupMember(memberId, null, null, '', '', -1, [], null, null);
        group.addMember(m);
      }
      return m;
    };
    switch (key.type) {
      case CG_METADATA:
        if (value === null) {
          // The group was deleted (or became classic): only its offsets may remain.
          this.groups.delete(key.group);
          if (group.hasOffsets) {
            const classic = new ClassicGroup(key.group, this.clock());
            classic.takeOffsetsFrom(group);
            this.groups.set(key.group, classic);
          }
          return;
        }
        group.groupEpoch = decodeGroupEpochValue(value);
        return;
      case CG_TARGET_METADATA:
        if (value !== null) group.assignmentEpoch = decodeAssignmentEpochValue(value);
        return;
      case CG_MEMBER_METADATA: {
        if (value === null) {
          group.removeMember(key.memberId); // remembered as departed: it gets UNKNOWN_MEMBER_ID
          return;
        }
        const v = decodeMemberMetadataValue(value);
        const m = member(key.memberId);
        if (m.instanceId !== v.instanceId) {
          if (m.instanceId !== null) group.staticMembers.delete(m.instanceId);
          m.instanceId = v.instanceId;
          if (v.instanceId !== null) group.staticMembers.set(v.instanceId, m.memberId);
        }
        m.rackId = v.rackId;
        m.clientId = v.clientId;
        m.clientHost = v.clientHost;
        m.subscribedTopicNames = v.subscribedTopicNames;
        m.subscribedTopicRegex = v.subscribedTopicRegex;
        m.rebalanceTimeoutMs = v.rebalanceTimeoutMs;
        m.serverAssignor = v.serverAssignor;
        return;
      }
      case CG_TARGET_MEMBER:
        if (value === null) group.targetAssignment.delete(key.memberId);
        else group.targetAssignment.set(key.memberId, decodeTargetMemberValue(value));
        return;
      case CG_CURRENT_ASSIGNMENT: {
        if (value === null) return; // the member metadata tombstone removes the member
        const v = decodeCurrentAssignmentValue(value);
        const m = member(key.memberId);
        group.updateMember(m, v.state, v.memberEpoch, v.assigned, v.pendingRevocation);
        m.previousMemberEpoch = v.previousMemberEpoch;
        return;
      }
    }
  }

  /** After the load: members get a fresh session; a revocation in progress gets its deadline again. */
  finishLoading(): void {
    for (const g of this.groups.values()) {
      if (g.kind !== 'consumer') continue;
      g.assignorName = preferredAssignor(g);
      for (const m of g.members.values()) {
        // Regexes stored with the group were resolved before the restart.
        if (m.subscribedTopicRegex !== null) g.resolvedRegexes.add(m.subscribedTopicRegex);
        this.scheduleSession(g, m);
        this.scheduleRevocationDeadline(g, m);
      }
    }
  }

  /**
   * Resolves a new subscription regex after the current heartbeat is answered, as Kafka does
   * in the background: members get the regex's topics at their next heartbeat.
   */
  private resolveRegexLater(group: ConsumerGroup, regex: string): void {
    setImmediate(() => {
      if (this.isClosed() || group.resolvedRegexes.has(regex)) return;
      // The next heartbeat sees the regex's topics in the subscription metadata, which moves
      // the group epoch and gives the members their new assignment.
      group.resolvedRegexes.add(regex);
      this.log.info('subscription regex resolved', { group: group.groupId, regex });
    });
  }

  private bumpGroupEpoch(group: ConsumerGroup): void {
    group.groupEpoch = Math.max(group.groupEpoch, group.assignmentEpoch) + 1;
  }

  private computeTargetAssignment(group: ConsumerGroup, topics: TopicCatalog): void {
    const { assignor, members } = computeTargetAssignment(group, topics);
    this.log.info('consumer group target assignment', { group: group.groupId, epoch: group.assignmentEpoch, assignor, members });
  }

  /** Topics the group's members subscribe to (names, and regex matches as of the last assignment). */
  subscribedTopics(group: ConsumerGroup): Set<string> {
    return subscribedTopics(group);
  }

  // ================================================================ timers

  /** Session timeout and heartbeat interval in force for a group (its GROUP configs, else the broker's). */
  private timing(groupId: string): { sessionTimeoutMs: number; heartbeatIntervalMs: number } {
    return (
      this.settings.perGroup?.(groupId) ?? {
        sessionTimeoutMs: this.settings.consumerSessionTimeoutMs,
        heartbeatIntervalMs: this.settings.consumerHeartbeatIntervalMs,
      }
    );
  }

  private scheduleSession(group: ConsumerGroup, m: ConsumerGroupMember): void {
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    m.sessionTimer = setTimeout(() => {
      m.sessionTimer = null;
      if (this.isClosed() || group.members.get(m.memberId) !== m) return;
      this.removeMember(group, m, 'session timeout');
    }, this.timing(group.groupId).sessionTimeoutMs);
    m.sessionTimer.unref();
  }

  /** A member asked to revoke partitions must do so within its rebalance timeout. */
  private scheduleRevocationDeadline(group: ConsumerGroup, m: ConsumerGroupMember): void {
    if (m.state !== 'unrevoked_partitions') {
      this.clearRevocationDeadline(m);
      return;
    }
    if (m.rebalanceTimer) return;
    const epoch = m.memberEpoch;
    m.rebalanceTimer = setTimeout(() => {
      m.rebalanceTimer = null;
      if (this.isClosed() || group.members.get(m.memberId) !== m) return;
      if (m.state === 'unrevoked_partitions' && m.memberEpoch === epoch) this.removeMember(group, m, 'did not revoke its partitions within the rebalance timeout');
    }, m.rebalanceTimeoutMs);
    m.rebalanceTimer.unref();
  }

  private clearRevocationDeadline(m: ConsumerGroupMember): void {
    if (m.rebalanceTimer) clearTimeout(m.rebalanceTimer);
    m.rebalanceTimer = null;
  }

  /** Stops the timers of a group (deletion, shutdown). */
  clearTimers(group: ConsumerGroup): void {
    for (const m of group.members.values()) {
      if (m.sessionTimer) clearTimeout(m.sessionTimer);
      m.sessionTimer = null;
      this.clearRevocationDeadline(m);
    }
  }

  // ================================================================ describe

  describe(group: ConsumerGroup, topics: TopicCatalog): ConsumerGroupDescription {
    const describe = (tp: TopicPartitions): DescribedPartitions[] =>
      toWire(tp).map((t) => ({ topicId: t.topicId, topicName: topics.nameOf(t.topicId) ?? '', partitions: t.partitions }));
    return {
      groupId: group.groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: group.assignorName,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: describe(m.assigned),
        targetAssignment: describe(group.targetAssignment.get(m.memberId) ?? new Map()),
      })),
    };
  }
}
