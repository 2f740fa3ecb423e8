/**
 * AlterPartitionReassignments (key 45), v0-1. With one broker the only possible assignment
 * of a partition is [this node], which it already has: asking for exactly that succeeds at
 * once (nothing to move). Kafka's checks and messages otherwise: an empty list, a repeated
 * broker or an unknown broker id is INVALID_REPLICA_ASSIGNMENT; cancelling (replicas null)
 * is NO_REASSIGNMENT_IN_PROGRESS since none ever runs; unknown partitions are
 * UNKNOWN_TOPIC_OR_PARTITION.
 * With the authorizer on, ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import {
  AlterPartitionReassignmentsApi,
  AlterPartitionReassignmentsRequest,
  AlterPartitionReassignmentsResponse,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import type { ClusterState } from '../cluster/cluster-state';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';
import { errorName } from '../protocol/errors';

export const alterPartitionReassignmentsHandler: Handler<AlterPartitionReassignmentsRequest, Encodable<AlterPartitionReassignmentsResponse>> = {
  apiKey: AlterPartitionReassignmentsApi.key,
  minVersion: AlterPartitionReassignmentsApi.minVersion,
  maxVersion: AlterPartitionReassignmentsApi.maxVersion,
  handle(ctx, req) {
    if (!clusterAllowed(ctx, AclOperation.ALTER)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return { throttleTimeMs: 0, allowReplicationFactorChange: req.allowReplicationFactorChange, errorCode, errorMessage: errorName(errorCode), responses: [] };
    }
    const responses = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, ...check(ctx.cluster, t.name, p.partitionIndex, p.replicas) })),
    }));
    return {
      throttleTimeMs: 0,
      allowReplicationFactorChange: req.allowReplicationFactorChange,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      responses,
    };
  },
};

function check(cluster: ClusterState, topic: string, index: number, replicas: number[] | null): { errorCode: number; errorMessage: string | null } {
  if (!cluster.topics.partition(topic, index)) {
    return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
  }
  if (replicas === null) {
    return { errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS, errorMessage: `No ongoing reassignment for partition ${topic}-${index}.` };
  }
  if (replicas.length === 0) {
    return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes an empty replica list.' };
  }
  const sorted = [...replicas].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    if (!cluster.nodeIds.has(sorted[i])) {
      return {
        errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
        errorMessage: `The manual partition assignment includes broker ${sorted[i]}, but no such broker is registered.`,
      };
    }
    if (i > 0 && sorted[i] === sorted[i - 1]) {
      return { errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: `The manual partition assignment includes the broker ${sorted[i]} more than once.` };
    }
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null };
}
