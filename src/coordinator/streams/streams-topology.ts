/**
 * Resolving a streams group's topology against the cluster's topics (KIP-1071): how many
 * tasks each subtopology has, how many partitions its internal topics need, and what keeps
 * the group from being ready.
 *
 * - A subtopology has as many tasks as the largest partition count among the topics it reads
 *   (source topics, regex matches, repartition source topics).
 * - A repartition topic without a partition count takes the task count of the subtopologies
 *   that write to it (largest), resolved until nothing changes; copartitioned topics must
 *   agree, and unknown ones among them take the group's count.
 * - Changelog topics have one partition per task of their subtopology.
 * - Missing source topics make the group not ready (MISSING_SOURCE_TOPICS); missing internal
 *   topics are returned for the coordinator to create.
 */
import type { ConfiguredTopology, Subtopology, TopicInfo, Topology } from './streams-group';
import { StreamsStatus } from './streams-group';

/** What the resolver needs to know of the cluster's topics. */
export interface StreamsTopicCatalog {
  /** Partition count of an existing topic, else undefined. */
  partitions(topic: string): number | undefined;
  /** Every topic name (for source topic regexes). */
  names(): string[];
}

export function configureTopology(topology: Topology, topics: StreamsTopicCatalog): ConfiguredTopology & { missingInternal: TopicInfo[] } {
  const statuses: { statusCode: number; statusDetail: string }[] = [];
  const repartitionCounts = new Map<string, number>();
  for (const s of topology.subtopologies) {
    for (const r of s.repartitionSourceTopics) if (r.partitions > 0) repartitionCounts.set(r.name, r.partitions);
  }
  const regexMatches = new Map<string, string[]>();
  const all = topics.names().filter((n) => !n.startsWith('__'));
  for (const s of topology.subtopologies) {
    const matched: string[] = [];
    for (const pattern of s.sourceTopicRegex) {
      try {
        const re = new RegExp(`^(?:${pattern})$`);
        matched.push(...all.filter((n) => re.test(n)));
      } catch {
        // Validated at heartbeat time; an invalid one matches nothing here.
      }
    }
    regexMatches.set(s.subtopologyId, [...new Set(matched)].sort());
  }

  const missingSources: string[] = [];
  for (const s of topology.subtopologies) {
    for (const t of s.sourceTopics) if (topics.partitions(t) === undefined && !repartitionCounts.has(t) && !isRepartition(topology, t)) missingSources.push(t);
  }

  // The partition count of a topic a subtopology reads, as far as known.
  const inputCount = (t: string): number | undefined => repartitionCounts.get(t) ?? topics.partitions(t);
  const taskCountOf = (s: Subtopology): number | undefined => {
    let max: number | undefined;
    for (const t of [...s.sourceTopics, ...(regexMatches.get(s.subtopologyId) ?? []), ...s.repartitionSourceTopics.map((r) => r.name)]) {
      const n = inputCount(t);
      if (n === undefined) return undefined;
      max = Math.max(max ?? 0, n);
    }
    return max;
  };

  // Repartition topics of unknown size take the task count of the subtopologies writing them.
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of topology.subtopologies) {
      const n = taskCountOf(s);
      if (n === undefined) continue;
      for (const sink of s.repartitionSinkTopics) {
        if (!isRepartition(topology, sink)) continue;
        const fixed = declaredPartitions(topology, sink);
        const next = fixed > 0 ? fixed : Math.max(repartitionCounts.get(sink) ?? 0, n);
        if (repartitionCounts.get(sink) !== next) {
          repartitionCounts.set(sink, next);
          changed = true;
        }
      }
    }
  }

  // Copartition groups: every member topic must have the same count.
  for (const s of topology.subtopologies) {
    for (const group of s.copartitionGroups) {
      const names = [
        ...group.sourceTopics.map((i) => s.sourceTopics[i]),
        ...group.sourceTopicRegex.flatMap((i) => (s.sourceTopicRegex[i] !== undefined ? regexMatches.get(s.subtopologyId) ?? [] : [])),
        ...group.repartitionSourceTopics.map((i) => s.repartitionSourceTopics[i]?.name),
      ].filter((n): n is string => typeof n === 'string');
      const known = names.map((n) => topics.partitions(n)).filter((n): n is number => n !== undefined);
      const counts = new Set(known);
      if (counts.size > 1) {
        statuses.push({ statusCode: StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS, statusDetail: `Following topics do not have the same number of partitions: [${names.join(', ')}]` });
        continue;
      }
      const n = known[0];
      if (n === undefined) continue;
      for (const r of group.repartitionSourceTopics.map((i) => s.repartitionSourceTopics[i])) {
        if (r && declaredPartitions(topology, r.name) <= 0) repartitionCounts.set(r.name, n);
      }
    }
  }

  if (missingSources.length > 0) {
    statuses.push({ statusCode: StreamsStatus.MISSING_SOURCE_TOPICS, statusDetail: `Source topics ${[...new Set(missingSources)].join(', ')} are missing.` });
  }

  const taskCounts = new Map<string, number>();
  const inputTopics = new Map<string, string[]>();
  const internalTopics: TopicInfo[] = [];
  for (const s of topology.subtopologies) {
    const n = taskCountOf(s);
    taskCounts.set(s.subtopologyId, n ?? 0);
    inputTopics.set(s.subtopologyId, [...s.sourceTopics, ...(regexMatches.get(s.subtopologyId) ?? []), ...s.repartitionSourceTopics.map((r) => r.name)]);
    for (const r of s.repartitionSourceTopics) {
      const count = repartitionCounts.get(r.name);
      if (count !== undefined) internalTopics.push({ ...r, partitions: count });
    }
    for (const c of s.stateChangelogTopics) if (n !== undefined) internalTopics.push({ ...c, partitions: c.partitions > 0 ? c.partitions : n });
  }
  const missingInternal = internalTopics.filter((t) => topics.partitions(t.name) === undefined);
  for (const t of internalTopics) {
    const actual = topics.partitions(t.name);
    if (actual !== undefined && actual !== t.partitions) {
      statuses.push({ statusCode: StreamsStatus.INCORRECTLY_PARTITIONED_TOPICS, statusDetail: `Internal topic ${t.name} has ${actual} partitions, expected ${t.partitions}.` });
    }
  }
  const inputPartitions = new Map<string, number>();
  for (const ts of inputTopics.values()) {
    for (const t of ts) {
      const n = inputCount(t);
      if (n !== undefined) inputPartitions.set(t, n);
    }
  }
  const ready = statuses.length === 0 && [...taskCounts.values()].every((n) => n > 0);
  return { taskCounts, inputTopics, inputPartitions, internalTopics, statuses, ready, missingInternal };
}

function isRepartition(topology: Topology, name: string): boolean {
  return topology.subtopologies.some((s) => s.repartitionSourceTopics.some((r) => r.name === name));
}

function declaredPartitions(topology: Topology, name: string): number {
  for (const s of topology.subtopologies) for (const r of s.repartitionSourceTopics) if (r.name === name) return r.partitions;
  return 0;
}

/**
 * Checks a topology as Kafka does before accepting it; returns a message for
 * STREAMS_INVALID_TOPOLOGY, or null.
 */
export function topologyError(topology: Topology): string | null {
  const ids = new Set<string>();
  for (const s of topology.subtopologies) {
    if (ids.has(s.subtopologyId)) return `Duplicate subtopology id ${s.subtopologyId}.`;
    ids.add(s.subtopologyId);
    for (const pattern of s.sourceTopicRegex) {
      try {
        new RegExp(pattern);
      } catch {
        return `Invalid source topic regex ${pattern} in subtopology ${s.subtopologyId}.`;
      }
    }
    if (s.sourceTopics.length + s.sourceTopicRegex.length + s.repartitionSourceTopics.length === 0) {
      return `Subtopology ${s.subtopologyId} has no source topics.`;
    }
  }
  // A repartition sink must be a repartition source of some subtopology.
  for (const s of topology.subtopologies) {
    for (const sink of s.repartitionSinkTopics) {
      if (!isRepartition(topology, sink)) return `Repartition sink topic ${sink} is not a repartition source topic of any subtopology.`;
    }
  }
  return null;
}
