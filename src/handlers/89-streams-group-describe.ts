/**
 * StreamsGroupDescribe (key 89), v0: KIP-1071 groups with their epochs, the topology as
 * resolved (internal topics with their partition counts), and each member's process,
 * endpoint, task offsets, current and target assignment. GROUP_ID_NOT_FOUND for unknown
 * groups and for groups of another kind.
 * With the authorizer on, DESCRIBE per group (else GROUP_AUTHORIZATION_FAILED) and on every
 * topic its topology names (else TOPIC_AUTHORIZATION_FAILED, as Kafka); authorized operations
 * from the ACLs when asked.
 */
import { StreamsGroupDescribeApi, StreamsGroupDescribeRequest, StreamsGroupDescribeResponse, StreamsGroupDescribeResponseGroups } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { OPERATIONS_NOT_REQUESTED, authorizerOf, groupAllowed, topicAllowed } from './common';
import { groupOperations } from './group-common';
import { AclOperation } from '../security/acl/acl-types';

export const streamsGroupDescribeHandler: Handler<StreamsGroupDescribeRequest, Encodable<StreamsGroupDescribeResponse>> = {
  apiKey: StreamsGroupDescribeApi.key,
  minVersion: StreamsGroupDescribeApi.minVersion,
  maxVersion: StreamsGroupDescribeApi.maxVersion,
  handle(ctx, req) {
    const coordinator = groupCoordinator(ctx.cluster);
    const groups: Encodable<StreamsGroupDescribeResponseGroups>[] = req.groupIds.map((groupId) => {
      if (!groupAllowed(ctx, AclOperation.DESCRIBE, groupId)) {
        return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, groupId, groupState: '', members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED };
      }
      const operations = req.includeAuthorizedOperations ? groupOperations(ctx, groupId) : OPERATIONS_NOT_REQUESTED;
      const d = coordinator.describeStreamsGroup(groupId);
      if (d === null || d === 'other') {
        return {
          errorCode: ErrorCode.GROUP_ID_NOT_FOUND,
          errorMessage: d === null ? `Group ${groupId} not found.` : `Group ${groupId} is not a streams group.`,
          groupId,
          groupState: 'Dead',
          members: [],
          authorizedOperations: operations,
        };
      }
      if (authorizerOf(ctx) && d.topology) {
        // Kafka hides a group whose topology names a topic the caller may not describe.
        const named = d.topology.subtopologies.flatMap((s) => [...s.sourceTopics, ...s.repartitionSinkTopics, ...s.repartitionSourceTopics.map((t) => t.name), ...s.stateChangelogTopics.map((t) => t.name)]);
        if ([...new Set(named)].some((t) => !topicAllowed(ctx, AclOperation.DESCRIBE, t))) {
          return {
            errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
            errorMessage: 'The described group uses topics that the client is not authorized to describe.',
            groupId,
            groupState: '',
            members: [],
            authorizedOperations: OPERATIONS_NOT_REQUESTED,
          };
        }
      }
      return { errorCode: ErrorCode.NONE, errorMessage: null, ...d, authorizedOperations: operations };
    });
    return { throttleTimeMs: 0, groups };
  },
};
