/**
 * DescribeGroups (key 15), v0-6.
 * State, protocol type, and members of each group. As in Kafka, the selected protocol and
 * the members' metadata and assignments are reported only while the group is Stable. A group
 * that does not exist, or is a KIP-848 consumer group or a share group, is reported as state "Dead"; from v6
 * with GROUP_ID_NOT_FOUND and a message. Authorized operations (v3+) are "everything": there are no ACLs.
 * With the authorizer on, DESCRIBE per group (else GROUP_AUTHORIZATION_FAILED); authorized
 * operations from the ACLs.
 */
import { shareCoordinator } from '../coordinator/share';
import {
  DescribeGroupsApi,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  DescribeGroupsResponseGroups,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { OPERATIONS_NOT_REQUESTED, groupAllowed } from './common';
import { groupOperations, groupCoordinatorError } from './group-common';
import { AclOperation } from '../security/acl/acl-types';

export const describeGroupsHandler: Handler<DescribeGroupsRequest, Encodable<DescribeGroupsResponse>> = {
  apiKey: DescribeGroupsApi.key,
  minVersion: DescribeGroupsApi.minVersion,
  maxVersion: DescribeGroupsApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const coordinator = groupCoordinator(ctx.cluster);
    const groups: Encodable<DescribeGroupsResponseGroups>[] = req.groups.map((groupId) => {
      if (!groupAllowed(ctx, AclOperation.DESCRIBE, groupId)) {
        const errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return { errorCode, errorMessage: null, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED };
      }
      const notCoordinator = groupCoordinatorError(ctx, groupId);
      if (notCoordinator !== ErrorCode.NONE) {
        return { errorCode: notCoordinator, errorMessage: null, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED };
      }
      const operations = req.includeAuthorizedOperations ? groupOperations(ctx, groupId) : OPERATIONS_NOT_REQUESTED;
      const d = coordinator.describeGroup(groupId);
      if (!d) {
        // Consumer (KIP-848), streams and share groups have their own describe APIs.
        const kind = coordinator.groupKind(groupId);
        const other = (kind !== null && kind !== 'classic') || shareCoordinator(ctx.cluster).has(groupId);
        const message = other ? `Group ${groupId} is not a classic group.` : `Group ${groupId} not found.`;
        return {
          errorCode: version >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.NONE,
          errorMessage: version >= 6 ? message : null,
          groupId,
          groupState: 'Dead',
          protocolType: '',
          protocolData: '',
          members: [],
          authorizedOperations: operations,
        };
      }
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        groupId,
        groupState: d.state,
        protocolType: d.protocolType,
        protocolData: d.protocolData,
        members: d.members.map((m) => ({
          memberId: m.memberId,
          groupInstanceId: m.groupInstanceId,
          clientId: m.clientId,
          clientHost: m.clientHost,
          memberMetadata: m.metadata,
          memberAssignment: m.assignment,
        })),
        authorizedOperations: operations,
      };
    });
    return { throttleTimeMs: 0, groups };
  },
};
