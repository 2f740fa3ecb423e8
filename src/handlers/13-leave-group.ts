/**
 * LeaveGroup (key 13), v0-5.
 * v0-2 remove one member (its error is the top-level error); v3+ remove a batch of members,
 * each with its own error, identified by member id or by group.instance.id (static members,
 * as admin tools remove them). A member leaving starts a rebalance at once.
 * With the authorizer on, READ on the group is needed (else GROUP_AUTHORIZATION_FAILED).
 */
import { groupCoordinatorError } from './group-common';
import { LeaveGroupApi, LeaveGroupRequest, LeaveGroupResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { groupAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';

export const leaveGroupHandler: Handler<LeaveGroupRequest, Encodable<LeaveGroupResponse>> = {
  apiKey: LeaveGroupApi.key,
  minVersion: LeaveGroupApi.minVersion,
  maxVersion: LeaveGroupApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, members: [] };
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator, members: [] };
    const leaving =
      version >= 3
        ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId }))
        : [{ memberId: req.memberId, groupInstanceId: null }];
    const result = groupCoordinator(ctx.cluster).leaveGroup(req.groupId, leaving);
    if (version >= 3) return { throttleTimeMs: 0, errorCode: result.errorCode, members: result.members };
    const memberError = result.members[0]?.errorCode ?? ErrorCode.NONE;
    return { throttleTimeMs: 0, errorCode: result.errorCode !== ErrorCode.NONE ? result.errorCode : memberError };
  },
};
