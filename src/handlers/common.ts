/** Small helpers shared by several API handlers. */
import type { ClusterState } from '../cluster/cluster-state';
import { Partition } from '../cluster/topic-manager';
import { ErrorCode } from '../protocol/errors';
import type { RequestContext } from '../server/handler-registry';
import type { Authorizer } from '../security/acl/authorizer';

/** Kafka's value for "authorized operations were not requested". */
export const OPERATIONS_NOT_REQUESTED = -2147483648;

// Bit sets of Kafka's AclOperation codes: READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7,
// DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11, IDEMPOTENT_WRITE 12,
// CREATE_TOKENS 13, DESCRIBE_TOKENS 14. Without ACLs every client may do everything.
const bits = (...ops: number[]) => ops.reduce((acc, op) => acc | (1 << op), 0);
export const ALL_TOPIC_OPERATIONS = bits(3, 4, 5, 6, 7, 8, 10, 11);
export const ALL_CLUSTER_OPERATIONS = bits(5, 7, 8, 9, 10, 11, 12, 13, 14);

/**
 * The authorizer when ACLs are enforced, else null. Handlers call this once per request and
 * skip every check when it is null, so the hot paths pay one boolean test with ACLs off.
 */
export function authorizerOf(ctx: RequestContext): Authorizer | null {
  return ctx.cluster.acls.enabled ? ctx.cluster.acls : null;
}

/** Whether the connection may do `operation` (AclOperation code) on a group; always with ACLs off. */
export function groupAllowed(ctx: RequestContext, operation: number, groupId: string, logIfDenied = true): boolean {
  return !ctx.cluster.acls.enabled || ctx.cluster.acls.authorize(ctx.connection, operation, 3, groupId, logIfDenied);
}

/** Whether the connection may do `operation` on a topic; always with ACLs off. */
export function topicAllowed(ctx: RequestContext, operation: number, name: string, logIfDenied = true): boolean {
  return !ctx.cluster.acls.enabled || ctx.cluster.acls.authorize(ctx.connection, operation, 2, name, logIfDenied);
}

/** Whether the connection may do `operation` on a transactional id; always with ACLs off. */
export function txnAllowed(ctx: RequestContext, operation: number, transactionalId: string, logIfDenied = true): boolean {
  return !ctx.cluster.acls.enabled || ctx.cluster.acls.authorize(ctx.connection, operation, 5, transactionalId, logIfDenied);
}

/** Whether the connection may do `operation` on the cluster; always with ACLs off. */
export function clusterAllowed(ctx: RequestContext, operation: number, logIfDenied = true): boolean {
  return !ctx.cluster.acls.enabled || ctx.cluster.acls.authorizeCluster(ctx.connection, operation, logIfDenied);
}

/**
 * Whether the connection may describe or alter (DESCRIBE_CONFIGS / ALTER_CONFIGS) the
 * configs of a config resource: NONE, or Kafka's error for it. Topics and groups are
 * checked by name; brokers, broker loggers and client metrics on the cluster.
 */
export function configResourceRefusal(ctx: RequestContext, operation: number, configResourceType: number, name: string): number {
  const authz = ctx.cluster.acls;
  if (!authz.enabled) return ErrorCode.NONE;
  switch (configResourceType) {
    case 2:
      return authz.authorize(ctx.connection, operation, 2, name) ? ErrorCode.NONE : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    case 32:
      return authz.authorize(ctx.connection, operation, 3, name) ? ErrorCode.NONE : ErrorCode.GROUP_AUTHORIZATION_FAILED;
    default:
      return authz.authorizeCluster(ctx.connection, operation) ? ErrorCode.NONE : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  }
}

/** A topic's authorized operations: everything with ACLs off, else what the ACLs allow. */
export function topicOperations(ctx: RequestContext, name: string): number {
  return ctx.cluster.acls.enabled ? ctx.cluster.acls.authorizedOperations(ctx.connection, 2, name) : ALL_TOPIC_OPERATIONS;
}

/** The cluster's authorized operations; Kafka reports 0 to a client without DESCRIBE on it. */
export function clusterOperations(ctx: RequestContext): number {
  const authz = ctx.cluster.acls;
  if (!authz.enabled) return ALL_CLUSTER_OPERATIONS;
  return authz.authorizeCluster(ctx.connection, 8, false) ? authz.authorizedOperations(ctx.connection, 4, 'kafka-cluster') : 0;
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/**
 * Checks a client's current leader epoch against the partition's (KIP-320):
 * older -> FENCED_LEADER_EPOCH, newer -> UNKNOWN_LEADER_EPOCH, -1 means "not known".
 */
export function leaderEpochError(partition: Partition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch === -1) return ErrorCode.NONE;
  if (currentLeaderEpoch < partition.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (currentLeaderEpoch > partition.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}

/** Resolves a (name, topic id) pair as requests give it: by id from the version that uses ids. */
export function findPartition(
  cluster: ClusterState,
  byId: boolean,
  name: string,
  topicId: string,
  index: number,
): { partition?: Partition; error: number; name: string } {
  const topic = byId ? cluster.topics.getById(topicId) : cluster.topics.get(name);
  if (!topic) return { error: byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name };
  const partition = topic.partitions[index];
  if (!partition) return { error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name: topic.name };
  return { partition, error: ErrorCode.NONE, name: topic.name };
}

/**
 * Where to find a partition's leader, for answers to a node that does not lead it (KIP-951:
 * Produce v10+ and Fetch v12+ carry the current leader per partition and the endpoints of
 * the nodes named). Built only on that error path.
 */
export class LeaderHints {
  private readonly ids = new Set<number>();

  constructor(private readonly ctx: RequestContext) {}

  /** The partition's current leader and epoch; remembers the node for endpoints(). */
  of(partition: Partition): { leaderId: number; leaderEpoch: number } {
    if (partition.leader >= 0) this.ids.add(partition.leader);
    return { leaderId: partition.leader, leaderEpoch: partition.leaderEpoch };
  }

  get empty(): boolean {
    return this.ids.size === 0;
  }

  /** Endpoints of the leaders named, on the listener the request came in on. */
  endpoints(): { nodeId: number; host: string; port: number; rack: null }[] {
    const out: { nodeId: number; host: string; port: number; rack: null }[] = [];
    for (const id of [...this.ids].sort((a, b) => a - b)) {
      const node = this.ctx.cluster.nodes.get(id);
      if (node) out.push({ nodeId: id, ...node.advertisedEndpoint(this.ctx.connection.listenerName), rack: null });
    }
    return out;
  }
}
