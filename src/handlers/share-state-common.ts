/**
 * The share-group state APIs (keys 83-87) share one shape: a group and (topic id, partition)
 * pairs in, one result per pair out. In Kafka share-partition leaders send them to the share
 * coordinator; on one node both are this broker, so they read and write the same state the
 * share coordinator keeps. They need CLUSTER_ACTION on the cluster with the authorizer on
 * (else CLUSTER_AUTHORIZATION_FAILED for every partition). An empty group id answers
 * INVALID_REQUEST; a topic id that names no topic UNKNOWN_TOPIC_OR_PARTITION.
 */
import { ErrorCode } from '../protocol/errors';
import type { RequestContext } from '../server/handler-registry';
import { shareCoordinator, ShareCoordinator } from '../coordinator/share';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export interface StateResult {
  errorCode: number;
  errorMessage: string | null;
}

export function forEachStatePartition<P extends { partition: number }, R extends object>(
  ctx: RequestContext,
  req: { groupId: string; topics: { topicId: string; partitions: P[] }[] },
  empty: R,
  apply: (coordinator: ShareCoordinator, topicId: string, p: P) => StateResult & Partial<R>,
): { results: { topicId: string; partitions: (StateResult & R & { partition: number })[] }[] } {
  const allowed = clusterAllowed(ctx, AclOperation.CLUSTER_ACTION);
  const coordinator = shareCoordinator(ctx.cluster);
  const results = req.topics.map((t) => ({
    topicId: t.topicId,
    partitions: t.partitions.map((p) => {
      let r: StateResult & Partial<R>;
      if (!allowed) r = { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null } as StateResult & Partial<R>;
      else if (req.groupId === '') r = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Group id must be set.' } as StateResult & Partial<R>;
      else if (!ctx.cluster.topics.getById(t.topicId)?.partitions[p.partition]) {
        r = { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The topic or partition does not exist.' } as StateResult & Partial<R>;
      } else r = apply(coordinator, t.topicId, p);
      return { ...empty, ...r, partition: p.partition } as StateResult & R & { partition: number };
    }),
  }));
  return { results };
}
