/**
 * ListPartitionReassignments (key 46), v0. No reassignment ever runs on a single broker
 * (AlterPartitionReassignments completes at once), so the list is always empty; topics
 * asked for that do not exist are left out, as Kafka does.
 */
import { ListPartitionReassignmentsApi, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';

export const listPartitionReassignmentsHandler: Handler<ListPartitionReassignmentsRequest, Encodable<ListPartitionReassignmentsResponse>> = {
  apiKey: ListPartitionReassignmentsApi.key,
  minVersion: ListPartitionReassignmentsApi.minVersion,
  maxVersion: ListPartitionReassignmentsApi.maxVersion,
  handle() {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, topics: [] };
  },
};
