/**
 * JoinGroup (key 11), v0-9.
 * The answer comes when the rebalance completes (the handler's promise resolves then); the
 * connection processes nothing else meanwhile, as in Kafka. v0 has no rebalance timeout (the
 * session timeout serves as one). From v4 a member without an id first gets
 * MEMBER_ID_REQUIRED and an id to rejoin with. v5 adds static membership (group.instance.id),
 * v7 the protocol type and name in the answer, v8 a reason, v9 skipAssignment for a static
 * leader rejoining a stable group. See src/coordinator/group/group-coordinator.ts.
 * With the authorizer on, READ on the group is needed (else GROUP_AUTHORIZATION_FAILED).
 */
import { shareCoordinator } from '../coordinator/share';
import { JoinGroupApi, JoinGroupRequest, JoinGroupResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { clientHost, groupCoordinatorError } from './group-common';
import { groupAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';

export const joinGroupHandler: Handler<JoinGroupRequest, Encodable<JoinGroupResponse>> = {
  apiKey: JoinGroupApi.key,
  minVersion: JoinGroupApi.minVersion,
  maxVersion: JoinGroupApi.maxVersion,
  async handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const refuse = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, generationId: -1, protocolType: null, protocolName: version < 7 ? '' : null, leader: '', skipAssignment: false, memberId: '', members: [] });
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    // A share group's id cannot be joined with the classic protocol (Kafka's answer).
    if (shareCoordinator(ctx.cluster).has(req.groupId)) return refuse(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return refuse(notCoordinator);
    const result = await groupCoordinator(ctx.cluster).joinGroup({
      groupId: req.groupId,
      memberId: req.memberId,
      groupInstanceId: version >= 5 ? req.groupInstanceId : null,
      sessionTimeoutMs: req.sessionTimeoutMs,
      rebalanceTimeoutMs: version >= 1 && req.rebalanceTimeoutMs >= 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
      protocolType: req.protocolType,
      // Copied: the request frame is not ours to keep.
      protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
      clientId: ctx.header.clientId ?? '',
      clientHost: clientHost(ctx),
      requireKnownMemberId: version >= 4,
      supportsSkipAssignment: version >= 9,
      reason: req.reason,
    });
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      generationId: result.generationId,
      protocolType: result.protocolType,
      // Not nullable before v7: Kafka sends "" there.
      protocolName: result.protocolName ?? (version < 7 ? '' : null),
      leader: result.leader,
      skipAssignment: result.skipAssignment,
      memberId: result.memberId,
      members: result.members,
    };
  },
};
