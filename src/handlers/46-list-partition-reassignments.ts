/**
 * ListPartitionReassignments (key 46), v0. AlterPartitionReassignments completes at once
 * (replicas share the storage, nothing to copy), so no reassignment is ever pending and the
 * list is always empty; topics
 * asked for that do not exist are left out, as Kafka does.
 * With the authorizer on, DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { ListPartitionReassignmentsApi, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';
import { errorName } from '../protocol/errors';

export const listPartitionReassignmentsHandler: Handler<ListPartitionReassignmentsRequest, Encodable<ListPartitionReassignmentsResponse>> = {
  apiKey: ListPartitionReassignmentsApi.key,
  minVersion: ListPartitionReassignmentsApi.minVersion,
  maxVersion: ListPartitionReassignmentsApi.maxVersion,
  handle(ctx) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: errorName(ErrorCode.CLUSTER_AUTHORIZATION_FAILED), topics: [] };
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
  },
};
