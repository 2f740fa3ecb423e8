/**
 * Which node coordinates a group or a transactional id: the leader of the partition of
 * __consumer_offsets / __transaction_state the key hashes to (Java's String.hashCode, made
 * non-negative, modulo the partition count), as Kafka places them. The coordinators' state is
 * shared by every node of the process, so a coordinator "moves" when that partition's leader
 * does; clients see NOT_COORDINATOR and find it again.
 */
import type { ClusterState } from './cluster-state';
import type { Partition } from './topic-manager';
import { ErrorCode } from '../protocol/errors';
import { ensureOffsetsTopic, OFFSETS_TOPIC } from '../coordinator/group';
import { offsetsPartitionFor } from '../coordinator/group/offsets-topic';

export type CoordinatorKind = 'group' | 'transaction';

/** The partition whose leader coordinates `key` (the topic is created when missing, as Kafka's FindCoordinator does). */
export function coordinatorPartition(cluster: ClusterState, kind: CoordinatorKind, key: string): Partition {
  const topic =
    kind === 'group'
      ? (ensureOffsetsTopic(cluster), cluster.topics.get(OFFSETS_TOPIC)!)
      : cluster.txn.stateTopic();
  return topic.partitions[offsetsPartitionFor(key, topic.partitions.length)];
}

/**
 * NONE when the node that received a request coordinates `key`, else NOT_COORDINATOR (also
 * when no node does: FindCoordinator says COORDINATOR_NOT_AVAILABLE then). A cluster of one
 * node coordinates everything.
 */
export function coordinatorError(cluster: ClusterState, nodeId: number, kind: CoordinatorKind, key: string): number {
  if (!cluster.multiNode) return ErrorCode.NONE;
  const leader = coordinatorPartition(cluster, kind, key).leader;
  return leader === nodeId ? ErrorCode.NONE : ErrorCode.NOT_COORDINATOR;
}
