/**
 * Server-side partition assignors of KIP-848 consumer groups: "uniform" (Kafka's default)
 * and "range". The coordinator runs one whenever the group epoch moves past the target
 * assignment epoch (a member joined or left, a subscription or a subscribed topic's
 * partition count changed). Both are deterministic: the same input gives the same output.
 *
 * uniform: spreads all subscribed partitions as evenly as the subscriptions allow. It is
 *   sticky: a partition stays with its current target owner while that member is still
 *   subscribed and under its fair share (ceil(eligible partitions / eligible members) per
 *   topic set, computed globally); the rest go one by one to the eligible member with the
 *   fewest partitions (ties: member id order). With identical subscriptions the counts
 *   differ by at most one. Kafka's uniform assignor optimises heterogeneous subscriptions
 *   further (and can use racks); this one is greedy there.
 * range: per topic, the subscribed members in member id order each take a contiguous range
 *   of partitions, the first (partitions % members) one more, as the classic RangeAssignor
 *   does. Not sticky.
 */

/** topic id -> partitions. */
export type TopicPartitions = Map<string, Set<number>>;

export interface AssignorMember {
  memberId: string;
  /** Subscribed topic names (names with metadata only; unknown topics are left out by the caller). */
  topics: Set<string>;
  /** The member's current target assignment (for stickiness). */
  current: TopicPartitions;
}

export interface AssignorTopic {
  topicId: string;
  partitions: number;
}

export const DEFAULT_ASSIGNOR = 'uniform';
export const ASSIGNORS = ['uniform', 'range'];

export function assign(
  name: string,
  members: AssignorMember[],
  topics: Map<string, AssignorTopic>,
): Map<string, TopicPartitions> {
  return name === 'range' ? rangeAssign(members, topics) : uniformAssign(members, topics);
}

function add(target: TopicPartitions, topicId: string, partition: number): void {
  let s = target.get(topicId);
  if (!s) target.set(topicId, (s = new Set()));
  s.add(partition);
}

export function rangeAssign(members: AssignorMember[], topics: Map<string, AssignorTopic>): Map<string, TopicPartitions> {
  const out = new Map<string, TopicPartitions>(members.map((m) => [m.memberId, new Map()]));
  const sortedMembers = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  for (const name of [...topics.keys()].sort()) {
    const t = topics.get(name) as AssignorTopic;
    const subscribers = sortedMembers.filter((m) => m.topics.has(name));
    if (subscribers.length === 0) continue;
    const base = Math.floor(t.partitions / subscribers.length);
    const extra = t.partitions % subscribers.length;
    let next = 0;
    subscribers.forEach((m, i) => {
      const n = base + (i < extra ? 1 : 0);
      for (let k = 0; k < n; k++) add(out.get(m.memberId) as TopicPartitions, t.topicId, next++);
    });
  }
  return out;
}

export function uniformAssign(members: AssignorMember[], topics: Map<string, AssignorTopic>): Map<string, TopicPartitions> {
  const out = new Map<string, TopicPartitions>(members.map((m) => [m.memberId, new Map()]));
  const count = new Map<string, number>(members.map((m) => [m.memberId, 0]));
  const sortedMembers = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
  const byId = new Map<string, string>(); // topic id -> name
  for (const [name, t] of topics) byId.set(t.topicId, name);

  // Every subscribed partition, in topic name then partition order.
  const partitions: { name: string; topicId: string; partition: number }[] = [];
  for (const name of [...topics.keys()].sort()) {
    if (!members.some((m) => m.topics.has(name))) continue;
    const t = topics.get(name) as AssignorTopic;
    for (let p = 0; p < t.partitions; p++) partitions.push({ name, topicId: t.topicId, partition: p });
  }
  const subscribedMembers = members.filter((m) => partitions.some((x) => m.topics.has(x.name)));
  const quota = subscribedMembers.length === 0 ? 0 : Math.ceil(partitions.length / subscribedMembers.length);

  // 1. Sticky: keep current owners that are still subscribed, up to the quota.
  const taken = new Set<string>();
  for (const m of sortedMembers) {
    const kept: { topicId: string; partition: number }[] = [];
    for (const [topicId, ps] of m.current) {
      const name = byId.get(topicId);
      if (name === undefined || !m.topics.has(name)) continue;
      const t = topics.get(name) as AssignorTopic;
      for (const p of ps) if (p < t.partitions) kept.push({ topicId, partition: p });
    }
    kept.sort((a, b) => (a.topicId === b.topicId ? a.partition - b.partition : a.topicId < b.topicId ? -1 : 1));
    for (const k of kept) {
      const key = `${k.topicId}\u0000${k.partition}`;
      if (taken.has(key) || (count.get(m.memberId) as number) >= quota) continue;
      taken.add(key);
      add(out.get(m.memberId) as TopicPartitions, k.topicId, k.partition);
      count.set(m.memberId, (count.get(m.memberId) as number) + 1);
    }
  }
  // 2. Everything else to the least loaded eligible member.
  for (const x of partitions) {
    const key = `${x.topicId}\u0000${x.partition}`;
    if (taken.has(key)) continue;
    let best: AssignorMember | null = null;
    for (const m of sortedMembers) {
      if (!m.topics.has(x.name)) continue;
      if (best === null || (count.get(m.memberId) as number) < (count.get(best.memberId) as number)) best = m;
    }
    if (!best) continue;
    taken.add(key);
    add(out.get(best.memberId) as TopicPartitions, x.topicId, x.partition);
    count.set(best.memberId, (count.get(best.memberId) as number) + 1);
  }
  // 3. Balance: while some member holds two more than another that could take one of its partitions, move one.
  for (let moved = true; moved; ) {
    moved = false;
    for (const from of sortedMembers) {
      for (const to of sortedMembers) {
        if ((count.get(from.memberId) as number) - (count.get(to.memberId) as number) < 2) continue;
        const fromParts = out.get(from.memberId) as TopicPartitions;
        const candidate = [...fromParts.entries()]
          .filter(([topicId]) => to.topics.has(byId.get(topicId) as string))
          .flatMap(([topicId, ps]) => [...ps].map((p) => ({ topicId, p })))
          .sort((a, b) => (a.topicId === b.topicId ? b.p - a.p : a.topicId < b.topicId ? 1 : -1))[0];
        if (!candidate) continue;
        (fromParts.get(candidate.topicId) as Set<number>).delete(candidate.p);
        if ((fromParts.get(candidate.topicId) as Set<number>).size === 0) fromParts.delete(candidate.topicId);
        add(out.get(to.memberId) as TopicPartitions, candidate.topicId, candidate.p);
        count.set(from.memberId, (count.get(from.memberId) as number) - 1);
        count.set(to.memberId, (count.get(to.memberId) as number) + 1);
        moved = true;
      }
    }
  }
  return out;
}
