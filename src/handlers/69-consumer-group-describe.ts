/**
 * ConsumerGroupDescribe (key 69), v0-1: KIP-848 groups with their epochs, assignor, and each
 * member's subscription, current and target assignment. GROUP_ID_NOT_FOUND for unknown
 * groups and for classic groups (described by DescribeGroups). v1 adds the member type
 * (1: a consumer group protocol member; Samsa does not mix classic members in). Authorized
 * operations are "everything": there are no ACLs.
 * With the authorizer on, DESCRIBE per group (else GROUP_AUTHORIZATION_FAILED); authorized
 * operations from the ACLs.
 */
import { shareCoordinator } from '../coordinator/share';
import {
  ConsumerGroupDescribeApi,
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
  ConsumerGroupDescribeResponseGroups,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { OPERATIONS_NOT_REQUESTED, groupAllowed } from './common';
import { groupOperations, topicCatalog, groupCoordinatorError } from './group-common';
import { AclOperation } from '../security/acl/acl-types';

const MEMBER_TYPE_CONSUMER = 1;

export const consumerGroupDescribeHandler: Handler<ConsumerGroupDescribeRequest, Encodable<ConsumerGroupDescribeResponse>> = {
  apiKey: ConsumerGroupDescribeApi.key,
  minVersion: ConsumerGroupDescribeApi.minVersion,
  maxVersion: ConsumerGroupDescribeApi.maxVersion,
  handle(ctx, req) {
    const coordinator = groupCoordinator(ctx.cluster);
    const topics = topicCatalog(ctx.cluster);
    const groups: Encodable<ConsumerGroupDescribeResponseGroups>[] = req.groupIds.map((groupId) => {
      if (!groupAllowed(ctx, AclOperation.DESCRIBE, groupId)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, groupId, groupState: '', authorizedOperations: OPERATIONS_NOT_REQUESTED };
      }
      const notCoordinator = groupCoordinatorError(ctx, groupId);
      if (notCoordinator !== ErrorCode.NONE) return { errorCode: notCoordinator, errorMessage: null, groupId, groupState: '', authorizedOperations: OPERATIONS_NOT_REQUESTED };
      const operations = req.includeAuthorizedOperations ? groupOperations(ctx, groupId) : OPERATIONS_NOT_REQUESTED;
      const d = coordinator.describeConsumerGroup(groupId, topics);
      if (d === null || d === 'classic') {
        return {
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: d === null && !shareCoordinator(ctx.cluster).has(groupId) ? `Group ${groupId} not found.` : `Group ${groupId} is not a consumer group.`,
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
        assignorName: d.assignorName,
        members: d.members.map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          rackId: m.rackId,
          memberEpoch: m.memberEpoch,
          clientId: m.clientId,
          clientHost: m.clientHost,
          subscribedTopicNames: m.subscribedTopicNames,
          subscribedTopicRegex: m.subscribedTopicRegex,
          assignment: { topicPartitions: m.assignment },
          targetAssignment: { topicPartitions: m.targetAssignment },
          memberType: MEMBER_TYPE_CONSUMER,
        })),
        authorizedOperations: operations,
      };
    });
    return { throttleTimeMs: 0, groups };
  },
};
