/**
 * DeleteGroups (key 42), v0-2.
 * Deletes groups without members, with their committed offsets (tombstones in
 * __consumer_offsets). GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it
 * has members, INVALID_GROUP_ID for "".
 */
import { DeleteGroupsApi, DeleteGroupsRequest, DeleteGroupsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';

export const deleteGroupsHandler: Handler<DeleteGroupsRequest, Encodable<DeleteGroupsResponse>> = {
  apiKey: DeleteGroupsApi.key,
  minVersion: DeleteGroupsApi.minVersion,
  maxVersion: DeleteGroupsApi.maxVersion,
  handle(ctx, req) {
    const coordinator = groupCoordinator(ctx.broker);
    const seen = new Set<string>();
    const results: { groupId: string; errorCode: number }[] = [];
    for (const groupId of req.groupsNames) {
      if (seen.has(groupId)) continue; // Kafka answers each distinct group once
      seen.add(groupId);
      results.push({ groupId, errorCode: coordinator.deleteGroup(groupId) });
    }
    return { throttleTimeMs: 0, results };
  },
};
