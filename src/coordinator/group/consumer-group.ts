/**
 * A KIP-848 consumer group (ConsumerGroupHeartbeat): the coordinator assigns partitions itself
 * and hands them to each member through its heartbeats, revoking before re-assigning.
 *
 * Epochs, as in Kafka:
 *   - groupEpoch moves on every change of membership, subscriptions or subscribed topic
 *     metadata;
 *   - assignmentEpoch is the group epoch the current target assignment was computed for;
 *   - each member's memberEpoch is the assignment epoch it has caught up with.
 *
 * Reconciliation of one member towards its target (Kafka's CurrentAssignmentBuilder):
 *   assigned' = assigned ∩ target; revoke = assigned − target; new = target − assigned.
 *   - something to revoke: state unrevoked_partitions, epoch unchanged; the member is told
 *     to keep only assigned' and must report (owned partitions in a heartbeat) that it let
 *     the rest go before it moves on;
 *   - else the member moves to the assignment epoch and gets the new partitions nobody else
 *     still owns; the ones another member has not released yet wait
 *     (unreleased_partitions) until it does;
 *   - else stable.
 * partitionEpochs records which partitions a member owns (assigned or pending revocation), so
 * a partition is never given to two members at once.
 */
import { GroupBase } from './group-base';
import type { TopicPartitions } from './assignors';

export type { TopicPartitions } from './assignors';

export type MemberState = 'stable' | 'unrevoked_partitions' | 'unreleased_partitions';
export type ConsumerGroupState = 'Empty' | 'Assigning' | 'Reconciling' | 'Stable';

/** memberEpoch of a static member that left temporarily (ConsumerGroupHeartbeat epoch -2). */
export const STATIC_LEFT_EPOCH = -2;

export class ConsumerGroupMember {
  memberEpoch = 0;
  previousMemberEpoch = -1;
  state: MemberState = 'stable';
  assigned: TopicPartitions = new Map();
  pendingRevocation: TopicPartitions = new Map();
  sessionTimer: NodeJS.Timeout | null = null;
  rebalanceTimer: NodeJS.Timeout | null = null;

  constructor(
    public memberId: string,
    public instanceId: string | null,
    public rackId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public subscribedTopicNames: string[],
    public subscribedTopicRegex: string | null,
    public serverAssignor: string | null,
  ) {}
}

export function copyPartitions(tp: TopicPartitions): TopicPartitions {
  return new Map([...tp].map(([k, v]) => [k, new Set(v)]));
}

export function samePartitions(a: TopicPartitions, b: TopicPartitions): boolean {
  const nonEmpty = (m: TopicPartitions) => [...m].filter(([, s]) => s.size > 0);
  const x = nonEmpty(a);
  const y = nonEmpty(b);
  if (x.length !== y.length) return false;
  for (const [topicId, s] of x) {
    const o = b.get(topicId);
    if (!o || o.size !== s.size) return false;
    for (const p of s) if (!o.has(p)) return false;
  }
  return true;
}

const key = (topicId: string, partition: number) => `${topicId}\u0000${partition}`;
const MAX_DEPARTED = 10_000;

export class ConsumerGroup extends GroupBase {
  readonly kind = 'consumer' as const;
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** instance id -> member id of static members. */
  readonly staticMembers = new Map<string, string>();
  /** member id -> target assignment. */
  targetAssignment = new Map<string, TopicPartitions>();
  /** Partitions owned by a member (assigned or pending revocation) -> that member's epoch. */
  private readonly partitionEpochs = new Map<string, number>();
  /** Subscribed topic name -> id and partition count, as of the last assignment. */
  subscriptionMetadata = new Map<string, { topicId: string; partitions: number }>();
  /** The assignor of the last target assignment. */
  assignorName = 'uniform';
  /** Ids of members this coordinator removed (recent ones): they get UNKNOWN_MEMBER_ID, others FENCED_MEMBER_EPOCH. */
  readonly departed = new Set<string>();
  /**
   * Subscription regexes resolved at least once. As in Kafka, a new regex is resolved after
   * the heartbeat that brought it (named topics are assigned first); its topics then come
   * with a new group epoch. Once resolved it is matched at every assignment.
   */
  readonly resolvedRegexes = new Set<string>();

  get state(): ConsumerGroupState {
    if (this.members.size === 0) return 'Empty';
    if (this.groupEpoch > this.assignmentEpoch) return 'Assigning';
    for (const m of this.members.values()) {
      if (m.memberEpoch === STATIC_LEFT_EPOCH) continue;
      if (m.state !== 'stable' || m.memberEpoch !== this.assignmentEpoch) return 'Reconciling';
    }
    return 'Stable';
  }

  /** Topic names any member subscribes to by name. */
  subscribedTopicNames(): Set<string> {
    const out = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) out.add(t);
    return out;
  }

  partitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(key(topicId, partition)) ?? -1;
  }

  addMember(m: ConsumerGroupMember): void {
    this.members.set(m.memberId, m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, m.memberId);
  }

  /** Removes a member and frees its partitions. */
  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const m = this.members.get(memberId);
    if (!m) return undefined;
    this.releaseAll(m);
    this.members.delete(memberId);
    this.targetAssignment.delete(memberId);
    this.departed.add(memberId);
    if (this.departed.size > MAX_DEPARTED) this.departed.delete(this.departed.values().next().value as string);
    if (m.instanceId !== null && this.staticMembers.get(m.instanceId) === memberId) this.staticMembers.delete(m.instanceId);
    return m;
  }

  /** A static member's new incarnation takes over the old one's place, epoch and partitions. */
  replaceMemberId(oldId: string, newId: string): ConsumerGroupMember {
    const m = this.members.get(oldId) as ConsumerGroupMember;
    this.members.delete(oldId);
    m.memberId = newId;
    this.members.set(newId, m);
    if (m.instanceId !== null) this.staticMembers.set(m.instanceId, newId);
    const target = this.targetAssignment.get(oldId);
    this.targetAssignment.delete(oldId);
    if (target) this.targetAssignment.set(newId, target);
    return m;
  }

  /** Sets a member's owned partitions and epoch, keeping partitionEpochs in step. */
  updateMember(m: ConsumerGroupMember, state: MemberState, epoch: number, assigned: TopicPartitions, pending: TopicPartitions): void {
    this.releaseAll(m);
    if (epoch !== m.memberEpoch) {
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = epoch;
    }
    m.state = state;
    m.assigned = assigned;
    m.pendingRevocation = pending;
    for (const [topicId, ps] of assigned) for (const p of ps) this.partitionEpochs.set(key(topicId, p), epoch);
    for (const [topicId, ps] of pending) for (const p of ps) this.partitionEpochs.set(key(topicId, p), epoch);
  }

  private releaseAll(m: ConsumerGroupMember): void {
    for (const tp of [m.assigned, m.pendingRevocation]) {
      for (const [topicId, ps] of tp) for (const p of ps) this.partitionEpochs.delete(key(topicId, p));
    }
  }

  /**
   * Moves a member towards its target assignment (see the module comment). `owned` is what
   * the member reported in this heartbeat (null: not reported, i.e. unchanged).
   */
  reconcile(m: ConsumerGroupMember, owned: TopicPartitions | null): void {
    switch (m.state) {
      case 'stable':
        if (m.memberEpoch !== this.assignmentEpoch) this.computeNext(m);
        return;
      case 'unrevoked_partitions':
        if (owned === null || ownsAny(owned, m.pendingRevocation)) return;
        // Revoked: those partitions are free now.
        this.updateMember(m, m.state, m.memberEpoch, m.assigned, new Map());
        this.computeNext(m);
        return;
      case 'unreleased_partitions':
        this.computeNext(m);
        return;
    }
  }

  private computeNext(m: ConsumerGroupMember): void {
    const target = this.targetAssignment.get(m.memberId) ?? new Map<string, Set<number>>();
    const assigned: TopicPartitions = new Map();
    const revoke: TopicPartitions = new Map();
    const toAssign: TopicPartitions = new Map();
    let unreleased = false;
    for (const topicId of new Set([...target.keys(), ...m.assigned.keys()])) {
      const t = target.get(topicId) ?? new Set<number>();
      const cur = m.assigned.get(topicId) ?? new Set<number>();
      const keep = new Set([...cur].filter((p) => t.has(p)));
      const gone = new Set([...cur].filter((p) => !t.has(p)));
      const wanted = new Set<number>();
      for (const p of t) {
        if (keep.has(p)) continue;
        if (this.partitionEpoch(topicId, p) !== -1) unreleased = true;
        else wanted.add(p);
      }
      if (keep.size > 0) assigned.set(topicId, keep);
      if (gone.size > 0) revoke.set(topicId, gone);
      if (wanted.size > 0) toAssign.set(topicId, wanted);
    }
    if (revoke.size > 0) {
      this.updateMember(m, 'unrevoked_partitions', m.memberEpoch, assigned, revoke);
      return;
    }
    for (const [topicId, ps] of toAssign) {
      const s = assigned.get(topicId) ?? new Set<number>();
      for (const p of ps) s.add(p);
      assigned.set(topicId, s);
    }
    this.updateMember(m, unreleased ? 'unreleased_partitions' : 'stable', this.assignmentEpoch, assigned, new Map());
  }
}

function ownsAny(owned: TopicPartitions, partitions: TopicPartitions): boolean {
  for (const [topicId, ps] of owned) {
    const s = partitions.get(topicId);
    if (!s) continue;
    for (const p of ps) if (s.has(p)) return true;
  }
  return false;
}
