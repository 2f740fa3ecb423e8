/**
 * DeleteGroups (key 42), v0-2.
 * Deletes groups without members, with their committed offsets (tombstones in
 * __consumer_offsets). GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it
 * has members, INVALID_GROUP_ID for "". A share group goes with its share-partition state.
 * With the authorizer on, DELETE per group (else GROUP_AUTHORIZATION_FAILED).
 */
import { shareCoordinator } from '../coordinator/share';
import { groupCoordinatorError } from './group-common';
import { DeleteGroupsApi, DeleteGroupsRequest, DeleteGroupsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed } from './common';
import { ErrorCode } from '../protocol/errors';

export const deleteGroupsHandler: Handler<DeleteGroupsRequest, Encodable<DeleteGroupsResponse>> = {
  apiKey: DeleteGroupsApi.key,
  minVersion: DeleteGroupsApi.minVersion,
  maxVersion: DeleteGroupsApi.maxVersion,
  handle(ctx, req) {
    const coordinator = groupCoordinator(ctx.cluster);
    const shares = shareCoordinator(ctx.cluster);
    const seen = new Set<string>();
    const results: { groupId: string; errorCode: number }[] = [];
    for (const groupId of req.groupsNames) {
      if (seen.has(groupId)) continue; // Kafka answers each distinct group once
      seen.add(groupId);
      const allowed = groupAllowed(ctx, AclOperation.DELETE, groupId);
      const notCoordinator = allowed ? groupCoordinatorError(ctx, groupId) : ErrorCode.NONE;
      if (!allowed) results.push({ groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED });
      else if (notCoordinator !== ErrorCode.NONE) results.push({ groupId, errorCode: notCoordinator });
      else if (shares.has(groupId)) results.push({ groupId, errorCode: shares.deleteGroup(groupId) });
      else results.push({ groupId, errorCode: coordinator.deleteGroup(groupId) });
    }
    return { throttleTimeMs: 0, results };
  },
};
