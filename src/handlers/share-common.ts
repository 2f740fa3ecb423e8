/**
 * What ShareFetch (78) and ShareAcknowledge (79) have in common: the request checks, share
 * session epochs, ACLs, and applying acknowledgement batches to share partitions.
 */
import { ErrorCode } from '../protocol/errors';
import type { RequestContext } from '../server/handler-registry';
import type { PartitionLog } from '../storage/partition-log';
import { shareCoordinator, ShareCoordinator } from '../coordinator/share';
import { AckType } from '../coordinator/share/share-partition';
import { FINAL_EPOCH, INITIAL_EPOCH, ShareSession } from '../coordinator/share/share-sessions';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed, topicAllowed, ZERO_UUID } from './common';

export interface AckBatch {
  firstOffset: number;
  lastOffset: number;
  acknowledgeTypes: number[];
}

export interface AckPartition {
  topicId: string;
  partitionIndex: number;
  batches: AckBatch[];
}

export interface PartitionOutcome {
  topicId: string;
  partitionIndex: number;
  errorCode: number;
  errorMessage: string | null;
}

/** Kafka's leader fields for the single broker: itself, at the partition's leader epoch. */
export function currentLeader(ctx: RequestContext, topicId: string, partition: number): { leaderId: number; leaderEpoch: number } {
  const p = ctx.cluster.topics.getById(topicId)?.partitions[partition];
  return p ? { leaderId: ctx.node.id, leaderEpoch: p.leaderEpoch } : { leaderId: -1, leaderEpoch: -1 };
}

/** The log of a partition named by topic id, or the error for it (READ on the topic with the authorizer on). */
export function shareLog(ctx: RequestContext, topicId: string, partition: number): { log?: PartitionLog; errorCode: number } {
  const topic = ctx.cluster.topics.getById(topicId);
  if (!topic) return { errorCode: ErrorCode.UNKNOWN_TOPIC_ID };
  if (!topicAllowed(ctx, AclOperation.READ, topic.name)) return { errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED };
  const p = topic.partitions[partition];
  if (!p) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
  return { log: p.log, errorCode: ErrorCode.NONE };
}

/**
 * Checks shared by both requests; a top-level error or null. READ on the group with the
 * authorizer on. `fetch` is false for ShareAcknowledge, which may not open a session.
 */
export function shareRequestError(
  ctx: RequestContext,
  groupId: string | null,
  memberId: string | null,
  epoch: number,
  acks: AckPartition[],
  fetch: boolean,
): { errorCode: number; errorMessage: string | null } | null {
  if (groupId === null || groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: 'Group id must be set.' };
  if (!groupAllowed(ctx, AclOperation.READ, groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null };
  if (memberId === null || memberId === '' || memberId.length > 36) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Member id must be set (at most 36 characters).' };
  if (epoch < FINAL_EPOCH) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH, errorMessage: null };
  if (epoch === INITIAL_EPOCH && acks.some((p) => p.batches.length > 0)) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Acknowledge data present on initial share fetch request.' };
  }
  if (!fetch && epoch === INITIAL_EPOCH) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH, errorMessage: null };
  const renewAllowed = ctx.header.apiVersion >= 2;
  if (acks.some((p) => p.batches.some((b) => b.acknowledgeTypes.some((t) => t === AckType.RENEW && !renewAllowed)))) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Renew acknowledgements need version 2.' };
  }
  return null;
}

/** Applies acknowledgements; one outcome per partition that carried any. */
export function applyAcks(ctx: RequestContext, coordinator: ShareCoordinator, groupId: string, memberId: string, acks: AckPartition[]): PartitionOutcome[] {
  const out: PartitionOutcome[] = [];
  for (const a of acks) {
    if (a.batches.length === 0) continue;
    const { log, errorCode } = shareLog(ctx, a.topicId, a.partitionIndex);
    const outcome: PartitionOutcome = { topicId: a.topicId, partitionIndex: a.partitionIndex, errorCode, errorMessage: null };
    out.push(outcome);
    if (!log) continue;
    for (const b of a.batches) {
      const err = coordinator.acknowledge(groupId, memberId, a.topicId, a.partitionIndex, log, b.firstOffset, b.lastOffset, b.acknowledgeTypes);
      if (err !== ErrorCode.NONE && outcome.errorCode === ErrorCode.NONE) outcome.errorCode = err;
    }
  }
  return out;
}

/**
 * Session handling for a request: opens, continues or closes the member's share session.
 * Returns the session (null after a close) or a top-level error. A closed or replaced
 * session releases what the member held.
 */
export function useSession(
  coordinator: ShareCoordinator,
  groupId: string,
  memberId: string,
  epoch: number,
): { errorCode: number; session: ShareSession | null } {
  if (epoch === INITIAL_EPOCH) {
    if (coordinator.sessions.get(groupId, memberId)) coordinator.releaseMember(groupId, memberId);
    const session = coordinator.sessions.open(groupId, memberId);
    return session ? { errorCode: ErrorCode.NONE, session } : { errorCode: ErrorCode.SHARE_SESSION_LIMIT_REACHED, session: null };
  }
  const { errorCode, session } = coordinator.sessions.advance(groupId, memberId, epoch);
  if (errorCode !== ErrorCode.NONE || !session) return { errorCode, session: null };
  return { errorCode, session };
}

/** Closes a session after its final request's acknowledgements: the member's other records are released. */
export function closeSession(coordinator: ShareCoordinator, groupId: string, memberId: string): void {
  coordinator.sessions.remove(groupId, memberId);
  coordinator.releaseMember(groupId, memberId);
}

export function coordinatorOf(ctx: RequestContext): ShareCoordinator {
  return shareCoordinator(ctx.cluster);
}

export { FINAL_EPOCH, INITIAL_EPOCH };

/** Partition entries keyed "topicId:partition", grouped by topic id in insertion order. */
export function groupByTopic<T>(entries: Map<string, T>): { topicId: string; partitions: T[] }[] {
  const byTopic = new Map<string, T[]>();
  for (const [key, e] of entries) {
    const topicId = key.slice(0, key.lastIndexOf(':'));
    const list = byTopic.get(topicId) ?? [];
    list.push(e);
    byTopic.set(topicId, list);
  }
  return [...byTopic].map(([topicId, partitions]) => ({ topicId, partitions }));
}

/**
 * A topic named in the share-group offsets APIs (90-92): the topic if the connection may do
 * `operation` on it, its id for the answer (zero when refused or unknown), and the error for
 * a partition index: TOPIC_AUTHORIZATION_FAILED, UNKNOWN_TOPIC_OR_PARTITION or NONE.
 */
export function namedTopic(ctx: RequestContext, name: string, operation: number) {
  const allowed = topicAllowed(ctx, operation, name);
  const topic = allowed ? ctx.cluster.topics.get(name) : undefined;
  return {
    topic,
    topicId: topic ? topic.topicId : ZERO_UUID,
    errorFor(partition: number | null): number {
      if (!allowed) return ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      if (!topic || (partition !== null && !topic.partitions[partition])) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      return ErrorCode.NONE;
    },
  };
}
