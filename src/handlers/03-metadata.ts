/**
 * Metadata (key 3), v0-13.
 * Brokers are the nodes that are up; each partition has its replicas, ISR, leader and
 * leader epoch (src/cluster/partition-leadership.ts), replicas of nodes that are down as
 * offline replicas, and LEADER_NOT_AVAILABLE with leader -1 when no in-sync replica is up.
 * The controller id is the lowest node that is up. Topics that do not
 * exist are created when the request allows it (v4+ flag; always for v0-3) and the broker's
 * auto-create setting is on; as a Kafka 4 (KRaft) broker, the request that creates a topic is
 * answered UNKNOWN_TOPIC_OR_PARTITION for it (retriable) and the next one describes it.
 * With the authorizer on, as Kafka: all-topics requests leave out topics the client may not
 * DESCRIBE; named topics without DESCRIBE answer TOPIC_AUTHORIZATION_FAILED (by id: with no
 * name); auto-creation needs CREATE on the cluster or the topic (else
 * TOPIC_AUTHORIZATION_FAILED); authorized operations come from the ACLs (the cluster's are 0
 * without DESCRIBE on it). With it off they are "everything".
 */
import { MetadataApi, MetadataRequest, MetadataResponse, MetadataResponseTopics, MetadataResponseTopicsPartitions } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import { Topic } from '../cluster/topic-manager';
import { authorizerOf, clusterOperations, OPERATIONS_NOT_REQUESTED, topicOperations } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export const metadataHandler: Handler<MetadataRequest, Encodable<MetadataResponse>> = {
  apiKey: MetadataApi.key,
  minVersion: MetadataApi.minVersion,
  maxVersion: MetadataApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    const version = ctx.header.apiVersion;
    const allowAutoCreate = (version < 4 || req.allowAutoTopicCreation) && cluster.config.autoCreateTopics;
    const includeTopicOps = req.includeTopicAuthorizedOperations;
    const authz = authorizerOf(ctx);
    const describe = (t: Topic) => describeTopic(ctx, t, includeTopicOps);
    const mayDescribe = (name: string, logIfDenied: boolean) =>
      !authz || authz.authorize(ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name, logIfDenied);
    const refused = (name: string | null, topicId: string): Encodable<MetadataResponseTopics> => ({
      errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      name,
      topicId,
      isInternal: false,
      partitions: [],
    });
    const topics: Encodable<MetadataResponseTopics>[] = [];
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    if (all) {
      for (const t of cluster.topics.list()) if (mayDescribe(t.name, false)) topics.push(describe(t));
    } else {
      for (const requested of req.topics ?? []) {
        // Before v10 requests carry no topic id: an empty name is just an (invalid) name.
        if (requested.name == null || (requested.name === '' && version >= 10)) {
          const t = requested.topicId !== ZERO_UUID ? cluster.topics.getById(requested.topicId) : undefined;
          // Answer names are nullable from v12; before that "no name" goes on the wire as "".
          const noName = version >= 12 ? null : '';
          // Topic ids are not secret, so Kafka answers TOPIC_AUTHORIZATION_FAILED with no name.
          topics.push(
            !t
              ? { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: noName, topicId: requested.topicId, partitions: [] }
              : mayDescribe(t.name, true)
                ? describe(t)
                : refused(noName, t.topicId),
          );
          continue;
        }
        const name = requested.name;
        if (!mayDescribe(name, true)) {
          topics.push(refused(name, ZERO_UUID));
          continue;
        }
        let t = cluster.topics.get(name);
        // Auto-creation needs CREATE on the cluster or on the topic.
        if (!t && allowAutoCreate && authz && !authz.authorizeCluster(ctx.connection, AclOperation.CREATE, false) && !authz.authorize(ctx.connection, AclOperation.CREATE, ResourceType.TOPIC, name)) {
          topics.push(refused(name, ZERO_UUID));
          continue;
        }
        if (!t && allowAutoCreate) {
          let code: number = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          try {
            cluster.topics.create(name, cluster.config.numPartitions, {});
          } catch (err) {
            code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
          }
          topics.push({ errorCode: code, name, isInternal: false, partitions: [] });
          continue;
        }
        topics.push(
          t
            ? describe(t)
            : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] },
        );
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: liveBrokers(ctx),
      clusterId: cluster.clusterId,
      controllerId: controllerId(ctx),
      topics,
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? clusterOperations(ctx) : OPERATIONS_NOT_REQUESTED,
    };
  },
};

/** The nodes that are up, with their endpoints on the listener the request came in on. */
export function liveBrokers(ctx: RequestContext): { nodeId: number; host: string; port: number; rack: null }[] {
  const { cluster } = ctx;
  if (!cluster.multiNode) return [{ nodeId: ctx.node.id, ...ctx.node.advertisedEndpoint(ctx.connection.listenerName), rack: null }];
  const out: { nodeId: number; host: string; port: number; rack: null }[] = [];
  for (const id of [...cluster.leadership.live].sort((a, b) => a - b)) {
    const node = cluster.nodes.get(id);
    if (node) out.push({ nodeId: id, ...node.advertisedEndpoint(ctx.connection.listenerName), rack: null });
  }
  return out;
}

/** KRaft brokers report some live broker as the controller: the lowest one here. */
export function controllerId(ctx: RequestContext): number {
  let min = ctx.node.id;
  for (const id of ctx.cluster.leadership.live) if (id < min) min = id;
  return min;
}

function describeTopic(ctx: RequestContext, t: Topic, includeOps: boolean): Encodable<MetadataResponseTopics> {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.isInternal,
    // One node: cached entries (it leads everything). Several: leaders, ISR and offline replicas as they are now.
    partitions: ctx.cluster.multiNode ? liveEntries(ctx, t) : partitionEntries(t, ctx.node.id),
    topicAuthorizedOperations: includeOps ? topicOperations(ctx, t.name) : OPERATIONS_NOT_REQUESTED,
  };
}

type PartitionEntry = Encodable<MetadataResponseTopicsPartitions> & { leaderEpoch: number };

/**
 * The partition entries of a topic, kept between requests: with 100k partitions, building
 * them anew for every Metadata request cost more than encoding them (mostly garbage
 * collection). Rebuilt when the node or the partition count changes; a changed leader epoch
 * updates its entry in place. The encoder only reads them.
 */
const entriesCache = new WeakMap<Topic, { node: number; entries: PartitionEntry[] }>();
const NO_REPLICAS: number[] = [];

/** A simulated cluster's partitions as Metadata reports them: leader, epoch, replicas, ISR, offline replicas. */
function liveEntries(ctx: RequestContext, t: Topic): PartitionEntry[] {
  const live = ctx.cluster.leadership.live;
  return t.partitions.map((p) => ({
    errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
    partitionIndex: p.index,
    leaderId: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    offlineReplicas: p.replicas.filter((r) => !live.has(r)),
  }));
}

function partitionEntries(t: Topic, node: number): PartitionEntry[] {
  let cached = entriesCache.get(t);
  if (!cached || cached.node !== node || cached.entries.length !== t.partitions.length) {
    const replicas = [node];
    cached = {
      node,
      entries: t.partitions.map((p) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: p.index,
        leaderId: node,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: replicas,
        isrNodes: replicas,
        offlineReplicas: NO_REPLICAS,
      })),
    };
    entriesCache.set(t, cached);
  }
  const { entries } = cached;
  for (let i = 0; i < entries.length; i++) if (entries[i].leaderEpoch !== t.partitions[i].leaderEpoch) entries[i].leaderEpoch = t.partitions[i].leaderEpoch;
  return entries;
}
