/**
 * What a KIP-848 consumer group is assigned: the topics its members subscribe to (names, and
 * regexes once resolved), the server-side assignor most members ask for, and the target
 * assignment computed from them. Pure functions of the group and the topic catalog; the
 * coordinator (consumer-group-coordinator.ts) decides when to call them and logs the outcome.
 */
import { assign, ASSIGNORS, DEFAULT_ASSIGNOR } from './assignors';
import type { ConsumerGroup, ConsumerGroupMember } from './consumer-group';

/** What the coordinator needs to know about topics (from the broker's TopicManager). */
export interface TopicCatalog {
  byName(name: string): { topicId: string; partitions: number } | undefined;
  nameOf(topicId: string): string | undefined;
  /** Every non-internal topic name (for regular expression subscriptions). */
  names(): string[];
}

/** A subscription regex as Kafka matches it (the whole topic name); null when it does not compile. */
export function compileRegex(regex: string): RegExp | null {
  try {
    return new RegExp(`^(?:${regex})$`);
  } catch {
    return null;
  }
}

/** Id and partition count of every topic the group subscribes to, by name, in name order. */
export function subscriptionMetadata(group: ConsumerGroup, topics: TopicCatalog): Map<string, { topicId: string; partitions: number }> {
  const names = group.subscribedTopicNames();
  const regexes = [...group.members.values()].map((m) => m.subscribedTopicRegex).filter((r): r is string => r !== null && group.resolvedRegexes.has(r));
  if (regexes.length > 0) {
    const compiled = regexes.map(compileRegex).filter((r): r is RegExp => r !== null);
    for (const name of topics.names()) if (compiled.some((r) => r.test(name))) names.add(name);
  }
  const out = new Map<string, { topicId: string; partitions: number }>();
  for (const name of [...names].sort()) {
    const t = topics.byName(name);
    if (t) out.set(name, { topicId: t.topicId, partitions: t.partitions });
  }
  return out;
}

/** The subscribed topics of one member that exist (names, and matches of its regex once resolved). */
function memberTopics(group: ConsumerGroup, m: ConsumerGroupMember, metadata: Map<string, { topicId: string; partitions: number }>): Set<string> {
  const out = new Set<string>();
  for (const t of m.subscribedTopicNames) if (metadata.has(t)) out.add(t);
  const resolved = m.subscribedTopicRegex !== null && group.resolvedRegexes.has(m.subscribedTopicRegex);
  const r = resolved ? compileRegex(m.subscribedTopicRegex as string) : null;
  if (r) for (const name of metadata.keys()) if (r.test(name)) out.add(name);
  return out;
}

/** Recomputes the group's target assignment at its current group epoch. */
export function computeTargetAssignment(group: ConsumerGroup, topics: TopicCatalog): { assignor: string; members: number } {
  // The metadata may have been recorded by an earlier heartbeat; refresh it for this assignment.
  group.subscriptionMetadata = subscriptionMetadata(group, topics);
  const name = preferredAssignor(group);
  const members = [...group.members.values()].map((m) => ({
    memberId: m.memberId,
    topics: memberTopics(group, m, group.subscriptionMetadata),
    current: group.targetAssignment.get(m.memberId) ?? new Map<string, Set<number>>(),
  }));
  group.targetAssignment = assign(name, members, group.subscriptionMetadata);
  group.assignmentEpoch = group.groupEpoch;
  group.assignorName = name;
  return { assignor: name, members: members.length };
}

/** Topics the group's members subscribe to (names, and regex matches as of the last assignment). */
export function subscribedTopics(group: ConsumerGroup): Set<string> {
  const out = group.subscribedTopicNames();
  for (const m of group.members.values()) for (const t of memberTopics(group, m, group.subscriptionMetadata)) out.add(t);
  return out;
}

export function sameMetadata(
  a: Map<string, { topicId: string; partitions: number }>,
  b: Map<string, { topicId: string; partitions: number }>,
): boolean {
  if (a.size !== b.size) return false;
  for (const [name, t] of a) {
    const o = b.get(name);
    if (!o || o.topicId !== t.topicId || o.partitions !== t.partitions) return false;
  }
  return true;
}

/** The assignor most members ask for (ties: the first in ASSIGNORS order); the default when none asks. */
export function preferredAssignor(group: ConsumerGroup): string {
  const votes = new Map<string, number>();
  for (const m of group.members.values()) if (m.serverAssignor) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
  let best = DEFAULT_ASSIGNOR;
  let bestVotes = 0;
  for (const name of ASSIGNORS) {
    const v = votes.get(name) ?? 0;
    if (v > bestVotes) {
      best = name;
      bestVotes = v;
    }
  }
  return best;
}
