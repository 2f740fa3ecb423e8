/**
 * ShareGroupDescribe (key 77), v1: share groups with their epochs, the "simple" assignor and
 * each member's subscription and assignment. GROUP_ID_NOT_FOUND for unknown groups and for
 * groups of another type.
 * With the authorizer on, DESCRIBE per group (else GROUP_AUTHORIZATION_FAILED); authorized
 * operations from the ACLs.
 */
import { ShareGroupDescribeApi, ShareGroupDescribeRequest, ShareGroupDescribeResponse, ShareGroupDescribeResponseGroups } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { shareCoordinator, SIMPLE_ASSIGNOR } from '../coordinator/share';
import { AclOperation } from '../security/acl/acl-types';
import { OPERATIONS_NOT_REQUESTED, groupAllowed } from './common';
import { groupOperations, topicCatalog } from './group-common';

export const shareGroupDescribeHandler: Handler<ShareGroupDescribeRequest, Encodable<ShareGroupDescribeResponse>> = {
  apiKey: ShareGroupDescribeApi.key,
  minVersion: Math.max(1, ShareGroupDescribeApi.minVersion),
  maxVersion: ShareGroupDescribeApi.maxVersion,
  handle(ctx, req) {
    const coordinator = shareCoordinator(ctx.cluster);
    const topics = topicCatalog(ctx.cluster);
    const groups: Encodable<ShareGroupDescribeResponseGroups>[] = req.groupIds.map((groupId) => {
      if (!groupAllowed(ctx, AclOperation.DESCRIBE, groupId)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, groupId, groupState: '', authorizedOperations: OPERATIONS_NOT_REQUESTED };
      }
      const operations = req.includeAuthorizedOperations ? groupOperations(ctx, groupId) : OPERATIONS_NOT_REQUESTED;
      const d = coordinator.describe(groupId, topics);
      if (d === null || d === 'other') {
        return {
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: d === null ? `Group ${groupId} not found.` : `Group ${groupId} is not a share group.`,
          groupId,
          groupState: 'Dead',
          authorizedOperations: operations,
        };
      }
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: d.groupState,
        groupEpoch: d.groupEpoch,
        assignmentEpoch: d.assignmentEpoch,
        assignorName: SIMPLE_ASSIGNOR,
        members: d.members.map((m) => ({ ...m, assignment: { topicPartitions: m.assignment } })),
        authorizedOperations: operations,
      };
    });
    return { throttleTimeMs: 0, groups };
  },
};
