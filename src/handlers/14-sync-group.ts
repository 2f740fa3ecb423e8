/**
 * SyncGroup (key 14), v0-5.
 * The leader sends the assignment; every member's SyncGroup is answered with its own part
 * once the leader's has been stored in __consumer_offsets (a follower's request waits until
 * then). Assignments are passed through byte for byte. v3 adds group.instance.id, v5 the
 * protocol type and name (checked against the group's: INCONSISTENT_GROUP_PROTOCOL).
 * With the authorizer on, READ on the group is needed (else GROUP_AUTHORIZATION_FAILED).
 */
import { groupCoordinatorError } from './group-common';
import { SyncGroupApi, SyncGroupRequest, SyncGroupResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { groupAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';

export const syncGroupHandler: Handler<SyncGroupRequest, Encodable<SyncGroupResponse>> = {
  apiKey: SyncGroupApi.key,
  minVersion: SyncGroupApi.minVersion,
  maxVersion: SyncGroupApi.maxVersion,
  async handle(ctx, req) {
    const version = ctx.header.apiVersion;
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
    }
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator, protocolType: null, protocolName: null, assignment: Buffer.alloc(0) };
    const result = await groupCoordinator(ctx.cluster).syncGroup({
      groupId: req.groupId,
      generationId: req.generationId,
      memberId: req.memberId,
      groupInstanceId: version >= 3 ? req.groupInstanceId : null,
      protocolType: version >= 5 ? req.protocolType : null,
      protocolName: version >= 5 ? req.protocolName : null,
      assignments: req.assignments,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      protocolType: result.protocolType,
      protocolName: result.protocolName,
      assignment: result.assignment,
    };
  },
};
