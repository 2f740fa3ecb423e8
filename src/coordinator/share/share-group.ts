/**
 * Share group membership (KIP-932): members join, heartbeat and leave through
 * ShareGroupHeartbeat; the group epoch rises whenever the members, their subscriptions or
 * the subscribed topics' partition counts change, and the server-side "simple" assignor
 * recomputes the assignment. Share groups need no revocation step (a partition may be read by
 * several members at once), so a member moves to the group epoch and its new assignment on
 * its next heartbeat.
 *
 * The simple assignor, per subscribed topic with P partitions and S subscribers (sorted by
 * member id): with S <= P the partitions are dealt round-robin (each member gets P/S or one
 * more); with S > P each member gets one partition, partition j % P for the j-th member, so
 * partitions are shared by several members.
 */
import type { TopicCatalog } from '../group/consumer-group-assignment';

export interface ShareMember {
  memberId: string;
  memberEpoch: number;
  clientId: string;
  clientHost: string;
  rackId: string | null;
  subscribedTopicNames: string[];
  /** topic id -> partitions, as last sent to the member. */
  assignment: Map<string, number[]>;
  sessionTimer: NodeJS.Timeout | null;
}

export class ShareGroup {
  readonly members = new Map<string, ShareMember>();
  /** The target assignment computed at `assignmentEpoch`. */
  target = new Map<string, Map<string, number[]>>();
  assignmentEpoch = 0;
  /** Partition counts of the subscribed topics when the target was computed. */
  private topicSignature = '';

  constructor(
    readonly groupId: string,
    public groupEpoch: number,
  ) {}

  get state(): 'Empty' | 'Stable' {
    return this.members.size === 0 ? 'Empty' : 'Stable';
  }

  subscribedTopicNames(): string[] {
    const names = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) names.add(t);
    return [...names].sort();
  }

  /**
   * Brings the target assignment up to date: the epoch rises once when `changed` (members or
   * subscriptions) or when the subscribed topics changed shape since the last computation.
   */
  refresh(topics: TopicCatalog, changed = false): void {
    const signature = this.subscribedTopicNames()
      .map((n) => {
        const t = topics.byName(n);
        return t ? `${n}:${t.topicId}:${t.partitions}` : `${n}:-`;
      })
      .join(',');
    if (signature !== this.topicSignature) {
      changed = true;
      this.topicSignature = signature;
    }
    if (changed) this.groupEpoch++;
    if (this.assignmentEpoch !== this.groupEpoch) {
      this.target = simpleAssignment(this, topics);
      this.assignmentEpoch = this.groupEpoch;
    }
  }
}

/** Kafka's simple share assignor, described in the module comment. */
export function simpleAssignment(group: ShareGroup, topics: TopicCatalog): Map<string, Map<string, number[]>> {
  const out = new Map<string, Map<string, number[]>>();
  const memberIds = [...group.members.keys()].sort();
  for (const id of memberIds) out.set(id, new Map());
  for (const name of group.subscribedTopicNames()) {
    const topic = topics.byName(name);
    if (!topic || topic.partitions === 0) continue;
    const subscribers = memberIds.filter((id) => group.members.get(id)!.subscribedTopicNames.includes(name));
    const give = (memberId: string, partition: number) => {
      const byTopic = out.get(memberId)!;
      const list = byTopic.get(topic.topicId) ?? [];
      list.push(partition);
      byTopic.set(topic.topicId, list);
    };
    if (subscribers.length <= topic.partitions) {
      for (let p = 0; p < topic.partitions; p++) give(subscribers[p % subscribers.length], p);
    } else {
      subscribers.forEach((id, j) => give(id, j % topic.partitions));
    }
  }
  return out;
}

export function sameAssignment(a: Map<string, number[]>, b: Map<string, number[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [t, ps] of a) {
    const other = b.get(t);
    if (!other || other.length !== ps.length || other.some((p, i) => p !== ps[i])) return false;
  }
  return true;
}
