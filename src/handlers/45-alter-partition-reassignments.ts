/**
 * AlterPartitionReassignments (key 45), v0-1. A reassignment completes at once: the new
 * replicas share the storage, so they are caught up when added. The replica set becomes the
 * one asked for, the ISR its replicas that are up, and the leader moves (epoch bump) only when
 * it is no longer a replica. Kafka's checks and messages: an empty list, a repeated broker or
 * an unknown broker id is INVALID_REPLICA_ASSIGNMENT; a changed replication factor with
 * allow_replication_factor_change false (v1) is INVALID_REPLICATION_FACTOR; cancelling
 * (replicas null) is NO_REASSIGNMENT_IN_PROGRESS since none is ever pending; unknown
 * partitions are UNKNOWN_TOPIC_OR_PARTITION.
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
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, ...reassign(ctx.cluster, t.name, p.partitionIndex, p.replicas, ctx.header.apiVersion < 1 || req.allowReplicationFactorChange) })),
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

function reassign(cluster: ClusterState, topic: string, index: number, replicas: number[] | null, allowRfChange: boolean): { errorCode: number; errorMessage: string | null } {
  const checked = check(cluster, topic, index, replicas);
  if (checked.errorCode !== ErrorCode.NONE) return checked;
  const partition = cluster.topics.partition(topic, index)!;
  if (!allowRfChange && replicas!.length !== partition.replicas.length) {
    return {
      errorCode: ErrorCode.INVALID_REPLICATION_FACTOR,
      errorMessage: `The replication factor is changed from ${partition.replicas.length} to ${replicas!.length} but allowReplicationFactorChange is false.`,
    };
  }
  cluster.leadership.reassign(partition, [...replicas!]);
  cluster.waiters.wakeAll();
  return checked;
}

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
