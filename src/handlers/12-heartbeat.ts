/**
 * Heartbeat (key 12), v0-4.
 * Keeps a member's session alive. REBALANCE_IN_PROGRESS tells a member to rejoin;
 * ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID and FENCED_INSTANCE_ID (v3+, static members) that it
 * is no longer part of the generation. As in Kafka, a heartbeat between the join answer and
 * SyncGroup (CompletingRebalance) is accepted.
 * With the authorizer on, READ on the group is needed (else GROUP_AUTHORIZATION_FAILED).
 */
import { groupCoordinatorError } from './group-common';
import { HeartbeatApi, HeartbeatRequest, HeartbeatResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { groupAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';

export const heartbeatHandler: Handler<HeartbeatRequest, Encodable<HeartbeatResponse>> = {
  apiKey: HeartbeatApi.key,
  minVersion: HeartbeatApi.minVersion,
  maxVersion: HeartbeatApi.maxVersion,
  handle(ctx, req) {
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator };
    const groupInstanceId = ctx.header.apiVersion >= 3 ? req.groupInstanceId : null;
    const errorCode = groupCoordinator(ctx.cluster).heartbeat(req.groupId, req.memberId, groupInstanceId, req.generationId);
    return { throttleTimeMs: 0, errorCode };
  },
};
