/**
 * Admin operations over KafkaClient: topics, partitions, offsets, configs, groups, SCRAM
 * users, ACLs, cluster description, record deletion. Each returns plain data and throws a
 * ClientError (with the Kafka code) on a failed answer.
 */
import * as crypto from 'crypto';
import { KafkaClient, ZERO_UUID } from './client';
import { ClientError, check, errorLabel } from './errors';
import { saltPassword, ScramMechanism } from './scram';

export const EARLIEST = -2;
export const LATEST = -1;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export const RESOURCE_TYPES: Record<string, number> = { any: 1, topic: 2, group: 3, cluster: 4, 'transactional-id': 5, 'delegation-token': 6, user: 7, broker: 4 };
export const CONFIG_RESOURCE: Record<string, number> = { topic: 2, broker: 4, 'broker-logger': 8, 'client-metrics': 16, group: 32 };
export const ACL_OPERATIONS = ['unknown', 'any', 'all', 'read', 'write', 'create', 'delete', 'alter', 'describe', 'cluster-action', 'describe-configs', 'alter-configs', 'idempotent-write', 'create-tokens', 'describe-tokens', 'two-phase-commit'];
export const ACL_PATTERNS: Record<string, number> = { any: 1, match: 2, literal: 3, prefixed: 4 };
export const ACL_PERMISSIONS: Record<string, number> = { any: 1, deny: 2, allow: 3 };
export const SCRAM_MECHANISMS: Record<string, number> = { 'SCRAM-SHA-256': 1, 'SCRAM-SHA-512': 2 };

export const nameOf = (table: Record<string, number>, v: number) => Object.entries(table).find(([, x]) => x === v)?.[0] ?? String(v);

export class Admin {
  constructor(readonly client: KafkaClient) {}

  async listTopics(includeInternal = false) {
    const md = await this.client.metadata(null);
    return md.topics.filter((t) => includeInternal || !t.isInternal).sort((a, b) => a.name.localeCompare(b.name));
  }

  async createTopic(name: string, partitions: number, replicationFactor: number, configs: Record<string, string>, validateOnly = false) {
    const conn = await this.controller();
    const res = await conn.request(19, 5, {
      topics: [{ name, numPartitions: partitions, replicationFactor, assignments: [], configs: Object.entries(configs).map(([k, v]) => ({ name: k, value: v })) }],
      timeoutMs: 30_000,
      validateOnly,
    });
    const t = res.topics[0];
    check(t.errorCode, `cannot create topic "${name}"`, t.errorMessage);
    return { name, partitions: t.numPartitions ?? partitions, replicationFactor: t.replicationFactor ?? replicationFactor };
  }

  async deleteTopics(names: string[]) {
    const conn = await this.controller();
    const res = await conn.request(20, 5, { topics: names.map((name) => ({ name, topicId: ZERO_UUID })), topicNames: names, timeoutMs: 30_000 });
    for (const r of res.responses) check(r.errorCode, `cannot delete topic "${r.name}"`, r.errorMessage);
  }

  async createPartitions(topic: string, count: number) {
    const conn = await this.controller();
    const res = await conn.request(37, 2, { topics: [{ name: topic, count, assignments: null }], timeoutMs: 30_000, validateOnly: false });
    check(res.results[0].errorCode, `cannot grow topic "${topic}" to ${count} partitions`, res.results[0].errorMessage);
  }

  /** Offsets at `timestamp` (EARLIEST, LATEST or ms) per partition; -1 when none. */
  async listOffsets(parts: TopicPartition[], timestamp: number, isolationLevel = 0): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const results = await this.client.byLeader(
      parts,
      (conn, ps) =>
        conn.request(2, 7, {
          replicaId: -1,
          isolationLevel,
          timeoutMs: 30_000,
          topics: groupByTopic(ps).map(([name, list]) => ({ name, partitions: list.map((p) => ({ partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })) })),
        }),
      (res: any) => res.topics.flatMap((t: any) => t.partitions.map((p: any) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode }))),
    );
    for (const res of results as any[]) {
      for (const t of res.topics) {
        for (const p of t.partitions) {
          check(p.errorCode, `ListOffsets for ${t.name}-${p.partitionIndex}`);
          out.set(`${t.name}:${p.partitionIndex}`, p.offset);
        }
      }
    }
    return out;
  }

  /** Bytes on disk per partition (DescribeLogDirs from every broker), or null where unknown. */
  async partitionSizes(parts: TopicPartition[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const md = await this.client.metadata([]);
    await Promise.all(
      md.brokers.map(async (b) => {
        const conn = await this.client.broker(b.nodeId);
        if (!conn.supports(35)) return;
        const res = await conn.request(35, 4, { topics: groupByTopic(parts).map(([topic, ps]) => ({ topic, partitions: ps.map((p) => p.partition) })) }).catch(() => null);
        if (!res) return;
        for (const dir of res.results) for (const t of dir.topics) for (const p of t.partitions) out.set(`${t.name}:${p.partitionIndex}`, (out.get(`${t.name}:${p.partitionIndex}`) ?? 0) + p.partitionSize);
      }),
    );
    return out;
  }

  async describeConfigs(resourceType: number, name: string, keys: string[] | null = null) {
    const conn = resourceType === 4 && /^\d+$/.test(name) ? await this.client.broker(Number(name)) : await this.client.any();
    const res = await conn.request(32, 4, { resources: [{ resourceType, resourceName: name, configurationKeys: keys }], includeSynonyms: false, includeDocumentation: false });
    const r = res.results[0];
    check(r.errorCode, `cannot describe configs of ${nameOf(CONFIG_RESOURCE, resourceType)} "${name}"`, r.errorMessage);
    return (r.configs as any[]).map((c) => ({ name: c.name as string, value: c.value as string | null, source: CONFIG_SOURCES[c.configSource] ?? String(c.configSource), readOnly: c.readOnly as boolean, sensitive: c.isSensitive as boolean, isDefault: c.configSource === 5 }));
  }

  /** Incremental changes: set (op 0) and delete (op 1, back to default). */
  async alterConfigs(resourceType: number, name: string, set: Record<string, string>, remove: string[]) {
    const conn = resourceType === 4 && /^\d+$/.test(name) ? await this.client.broker(Number(name)) : await this.client.any();
    const configs = [...Object.entries(set).map(([k, v]) => ({ name: k, configOperation: 0, value: v })), ...remove.map((k) => ({ name: k, configOperation: 1, value: null }))];
    const res = await conn.request(44, 1, { resources: [{ resourceType, resourceName: name, configs }], validateOnly: false });
    const r = res.responses[0];
    check(r.errorCode, `cannot alter configs of ${nameOf(CONFIG_RESOURCE, resourceType)} "${name}"`, r.errorMessage);
  }

  async listGroups() {
    const md = await this.client.metadata([]);
    const all: { groupId: string; protocolType: string; state: string; type: string }[] = [];
    await Promise.all(
      md.brokers.map(async (b) => {
        const conn = await this.client.broker(b.nodeId);
        const res = await conn.request(16, 5, { statesFilter: [], typesFilter: [] });
        check(res.errorCode, `ListGroups on broker ${b.nodeId}`);
        for (const g of res.groups) all.push({ groupId: g.groupId, protocolType: g.protocolType, state: g.groupState ?? '', type: g.groupType ?? '' });
      }),
    );
    return all.sort((a, b) => a.groupId.localeCompare(b.groupId));
  }

  async describeGroup(groupId: string) {
    const conn = await this.client.coordinator(groupId);
    const res = await conn.request(15, 5, { groups: [groupId], includeAuthorizedOperations: false });
    const g = res.groups[0];
    check(g.errorCode, `cannot describe group "${groupId}"`, g.errorMessage);
    return {
      groupId: g.groupId as string,
      state: g.groupState as string,
      protocolType: g.protocolType as string,
      protocol: g.protocolData as string,
      members: (g.members as any[]).map((m) => ({
        memberId: m.memberId as string,
        clientId: m.clientId as string,
        clientHost: m.clientHost as string,
        assignment: g.protocolType === 'consumer' ? decodeAssignment(m.memberAssignment) : [],
      })),
    };
  }

  /** Committed offsets of a group (all its topics when `parts` is null). */
  async fetchOffsets(groupId: string, parts: TopicPartition[] | null = null): Promise<Map<string, number>> {
    const conn = await this.client.coordinator(groupId);
    const topics = parts === null ? null : groupByTopic(parts).map(([name, ps]) => ({ name, partitionIndexes: ps.map((p) => p.partition) }));
    const res = await conn.request(9, 7, { groupId, topics, groups: [], requireStable: false });
    check(res.errorCode, `cannot fetch offsets of group "${groupId}"`);
    const out = new Map<string, number>();
    for (const t of res.topics) for (const p of t.partitions) {
      check(p.errorCode, `offsets of group "${groupId}" for ${t.name}-${p.partitionIndex}`);
      if (p.committedOffset >= 0) out.set(`${t.name}:${p.partitionIndex}`, p.committedOffset);
    }
    return out;
  }

  /** Commits offsets as an admin (generation -1, no member): the group must be empty. */
  async commitOffsets(groupId: string, offsets: Map<string, number>, member?: { generationId: number; memberId: string }) {
    const conn = await this.client.coordinator(groupId);
    const parts = [...offsets].map(([k, offset]) => ({ ...splitKey(k), offset }));
    const res = await conn.request(8, 7, {
      groupId,
      generationIdOrMemberEpoch: member?.generationId ?? -1,
      memberId: member?.memberId ?? '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: groupByTopic(parts).map(([name, ps]) => ({
        name,
        topicId: ZERO_UUID,
        partitions: ps.map((p) => ({ partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: '' })),
      })),
    });
    for (const t of res.topics) for (const p of t.partitions) check(p.errorCode, `cannot commit offsets of group "${groupId}" for ${t.name}-${p.partitionIndex}`);
  }

  async deleteGroups(groupIds: string[]) {
    for (const g of groupIds) {
      const conn = await this.client.coordinator(g);
      const res = await conn.request(42, 2, { groupsNames: [g] });
      check(res.results[0].errorCode, `cannot delete group "${g}"`);
    }
  }

  async deleteRecords(parts: (TopicPartition & { offset: number })[]) {
    const out = new Map<string, number>();
    const results = await this.client.byLeader(
      parts,
      (conn, ps) => conn.request(21, 2, { timeoutMs: 30_000, topics: groupByTopic(ps).map(([name, list]) => ({ name, partitions: list.map((p) => ({ partitionIndex: p.partition, offset: p.offset })) })) }),
      (res: any) => res.topics.flatMap((t: any) => t.partitions.map((p: any) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode }))),
    );
    for (const res of results as any[]) for (const t of res.topics) for (const p of t.partitions) {
      check(p.errorCode, `cannot delete records of ${t.name}-${p.partitionIndex}`);
      out.set(`${t.name}:${p.partitionIndex}`, p.lowWatermark);
    }
    return out;
  }

  async describeUsers(names: string[] | null) {
    const conn = await this.controller();
    const res = await conn.request(50, 0, { users: names ? names.map((name) => ({ name })) : null });
    check(res.errorCode, 'cannot describe SCRAM users', res.errorMessage);
    return (res.results as any[]).map((r) => {
      check(r.errorCode, `user "${r.user}"`, r.errorMessage);
      return { user: r.user as string, credentials: (r.credentialInfos as any[]).map((c) => ({ mechanism: nameOf(SCRAM_MECHANISMS, c.mechanism), iterations: c.iterations as number })) };
    });
  }

  async upsertUser(name: string, mechanism: ScramMechanism, password: string, iterations = 8192) {
    const salt = crypto.randomBytes(32);
    const conn = await this.controller();
    const res = await conn.request(51, 0, { deletions: [], upsertions: [{ name, mechanism: SCRAM_MECHANISMS[mechanism], iterations, salt, saltedPassword: saltPassword(mechanism, password, salt, iterations) }] });
    check(res.results[0].errorCode, `cannot set ${mechanism} credentials of "${name}"`, res.results[0].errorMessage);
  }

  async deleteUser(name: string, mechanism: ScramMechanism) {
    const conn = await this.controller();
    const res = await conn.request(51, 0, { deletions: [{ name, mechanism: SCRAM_MECHANISMS[mechanism] }], upsertions: [] });
    check(res.results[0].errorCode, `cannot remove ${mechanism} credentials of "${name}"`, res.results[0].errorMessage);
  }

  async describeAcls(filter: AclFilter) {
    const conn = await this.client.any();
    const res = await conn.request(29, 3, {
      resourceTypeFilter: filter.resourceType,
      resourceNameFilter: filter.resourceName,
      patternTypeFilter: filter.patternType,
      principalFilter: filter.principal,
      hostFilter: filter.host,
      operation: filter.operation,
      permissionType: filter.permission,
    });
    check(res.errorCode, 'cannot list ACLs', res.errorMessage);
    return (res.resources as any[]).flatMap((r) =>
      (r.acls as any[]).map((a) => ({
        resourceType: nameOf(RESOURCE_TYPES, r.resourceType),
        resourceName: r.resourceName as string,
        patternType: nameOf(ACL_PATTERNS, r.patternType),
        principal: a.principal as string,
        host: a.host as string,
        operation: ACL_OPERATIONS[a.operation] ?? String(a.operation),
        permission: nameOf(ACL_PERMISSIONS, a.permissionType),
      })),
    );
  }

  async createAcls(acls: Acl[]) {
    const conn = await this.client.any();
    const res = await conn.request(30, 3, {
      creations: acls.map((a) => ({ resourceType: a.resourceType, resourceName: a.resourceName, resourcePatternType: a.patternType, principal: a.principal, host: a.host, operation: a.operation, permissionType: a.permission })),
    });
    for (const r of res.results) check(r.errorCode, 'cannot create ACL', r.errorMessage);
  }

  async deleteAcls(filter: AclFilter): Promise<number> {
    const conn = await this.client.any();
    const res = await conn.request(31, 3, {
      filters: [{ resourceTypeFilter: filter.resourceType, resourceNameFilter: filter.resourceName, patternTypeFilter: filter.patternType, principalFilter: filter.principal, hostFilter: filter.host, operation: filter.operation, permissionType: filter.permission }],
    });
    const r = res.filterResults[0];
    check(r.errorCode, 'cannot delete ACLs', r.errorMessage);
    return r.matchingAcls.length;
  }

  async describeCluster() {
    const conn = await this.client.any();
    if (conn.supports(60)) {
      const res = await conn.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false });
      check(res.errorCode, 'DescribeCluster', res.errorMessage);
      return { clusterId: res.clusterId as string, controllerId: res.controllerId as number, brokers: (res.brokers as any[]).map((b) => ({ nodeId: b.brokerId as number, host: b.host as string, port: b.port as number, rack: b.rack as string | null })) };
    }
    const md = await this.client.metadata([]);
    return { clusterId: md.clusterId ?? '', controllerId: md.controllerId, brokers: md.brokers };
  }

  /** Admin requests go to the controller as Kafka's admin client does (any broker forwards in KRaft). */
  /** DescribeClientQuotas: entities matching the filter with the limits set on them. */
  async describeQuotas(components: { entityType: string; matchType: number; match: string | null }[], strict: boolean) {
    const conn = await this.controller();
    const res = await conn.request(48, 1, { components, strict });
    check(res.errorCode, 'cannot describe client quotas', res.errorMessage);
    return ((res.entries ?? []) as any[]).map((e) => ({
      entity: (e.entity as any[]).map((x) => ({ type: x.entityType as string, name: x.entityName as string | null })),
      values: Object.fromEntries((e.values as any[]).map((v) => [v.key as string, v.value as number])),
    }));
  }

  /** AlterClientQuotas for one entity: `set` values, `remove` keys. */
  async alterQuotas(entity: { entityType: string; entityName: string | null }[], set: Record<string, number>, remove: string[], validateOnly = false) {
    const conn = await this.controller();
    const ops = [...Object.entries(set).map(([key, value]) => ({ key, value, remove: false })), ...remove.map((key) => ({ key, value: 0, remove: true }))];
    const res = await conn.request(49, 1, { entries: [{ entity, ops }], validateOnly });
    const r = res.entries[0];
    check(r.errorCode, 'cannot alter client quotas', r.errorMessage);
  }

  /** ElectLeaders (preferred or unclean) for the given partitions, or all when null. */
  async electLeaders(electionType: number, partitions: { topic: string; partitions: number[] }[] | null) {
    const conn = await this.controller();
    const res = await conn.request(43, 2, {
      electionType,
      topicPartitions: partitions === null ? null : partitions.map((p) => ({ topic: p.topic, partitions: p.partitions })),
      timeoutMs: 30000,
    });
    check(res.errorCode, 'cannot elect leaders');
    return (res.replicaElectionResults as any[]).flatMap((t) =>
      (t.partitionResult as any[]).map((p) => ({ topic: t.topic as string, partition: p.partitionId as number, errorCode: p.errorCode as number, errorMessage: p.errorMessage as string | null })),
    );
  }

  private async controller() {
    const md = await this.client.metadata([]);
    return md.controllerId >= 0 && md.brokers.some((b) => b.nodeId === md.controllerId) ? this.client.broker(md.controllerId) : this.client.any();
  }
}

export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permission: number;
}
export type Acl = AclFilter & { resourceName: string; principal: string; host: string };

const CONFIG_SOURCES: Record<number, string> = { 0: 'unknown', 1: 'dynamic-topic', 2: 'dynamic-broker', 3: 'dynamic-default-broker', 4: 'static-broker', 5: 'default', 6: 'dynamic-broker-logger', 7: 'client-metrics', 8: 'dynamic-group' };

export function groupByTopic<P extends TopicPartition>(parts: P[]): [string, P[]][] {
  const m = new Map<string, P[]>();
  for (const p of parts) {
    if (!m.has(p.topic)) m.set(p.topic, []);
    m.get(p.topic)!.push(p);
  }
  return [...m];
}

export function splitKey(k: string): TopicPartition {
  const i = k.lastIndexOf(':');
  return { topic: k.slice(0, i), partition: Number(k.slice(i + 1)) };
}

/** ConsumerProtocolAssignment: version int16, [topic string, [partition int32]], user data. */
export function decodeAssignment(b: Buffer | null): TopicPartition[] {
  if (!b || b.length < 6) return [];
  const out: TopicPartition[] = [];
  let pos = 2;
  const n = b.readInt32BE(pos);
  pos += 4;
  for (let i = 0; i < n; i++) {
    const len = b.readInt16BE(pos);
    const topic = b.toString('utf8', pos + 2, pos + 2 + len);
    pos += 2 + len;
    const count = b.readInt32BE(pos);
    pos += 4;
    for (let k = 0; k < count; k++, pos += 4) out.push({ topic, partition: b.readInt32BE(pos) });
  }
  return out;
}

export function encodeAssignment(parts: TopicPartition[]): Buffer {
  const topics = groupByTopic(parts);
  const size = 2 + 4 + topics.reduce((n, [t, ps]) => n + 2 + Buffer.byteLength(t) + 4 + 4 * ps.length, 0) + 4;
  const b = Buffer.alloc(size);
  let pos = b.writeInt16BE(0, 0);
  pos = b.writeInt32BE(topics.length, pos);
  for (const [t, ps] of topics) {
    pos = b.writeInt16BE(Buffer.byteLength(t), pos);
    pos += b.write(t, pos);
    pos = b.writeInt32BE(ps.length, pos);
    for (const p of ps) pos = b.writeInt32BE(p.partition, pos);
  }
  b.writeInt32BE(-1, pos); // no user data
  return b;
}

/** ConsumerProtocolSubscription v0: version, [topic], user data (null). */
export function encodeSubscription(topics: string[]): Buffer {
  const size = 2 + 4 + topics.reduce((n, t) => n + 2 + Buffer.byteLength(t), 0) + 4;
  const b = Buffer.alloc(size);
  let pos = b.writeInt16BE(0, 0);
  pos = b.writeInt32BE(topics.length, pos);
  for (const t of topics) {
    pos = b.writeInt16BE(Buffer.byteLength(t), pos);
    pos += b.write(t, pos);
  }
  b.writeInt32BE(-1, pos);
  return b;
}

export function decodeSubscription(b: Buffer): string[] {
  const out: string[] = [];
  let pos = 2;
  const n = b.readInt32BE(pos);
  pos += 4;
  for (let i = 0; i < n; i++) {
    const len = b.readInt16BE(pos);
    out.push(b.toString('utf8', pos + 2, pos + 2 + len));
    pos += 2 + len;
  }
  return out;
}

export { errorLabel, ClientError };
