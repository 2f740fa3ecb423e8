/**
 * ShareGroupHeartbeat (key 76), v1 (v0 was Kafka 4.0's early access): share group
 * membership (KIP-932). The member chooses its id; epoch 0 joins (with a subscription),
 * -1 leaves, anything else must be the member's current epoch (else FENCED_MEMBER_EPOCH).
 * The assignment comes from the server-side simple assignor and is sent when it changes.
 * See src/coordinator/share/ for what differs from Kafka (members are not persisted).
 * With the authorizer on: READ on the group (else GROUP_AUTHORIZATION_FAILED) and DESCRIBE on
 * every subscribed topic name (else TOPIC_AUTHORIZATION_FAILED).
 */
import { ShareGroupHeartbeatApi, ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { shareCoordinator } from '../coordinator/share';
import { heartbeatFailure, ShareHeartbeatResult } from '../coordinator/share/share-coordinator';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed, topicAllowed } from './common';
import { clientHost, topicCatalog } from './group-common';

export const shareGroupHeartbeatHandler: Handler<ShareGroupHeartbeatRequest, Encodable<ShareGroupHeartbeatResponse>> = {
  apiKey: ShareGroupHeartbeatApi.key,
  minVersion: Math.max(1, ShareGroupHeartbeatApi.minVersion),
  maxVersion: ShareGroupHeartbeatApi.maxVersion,
  handle(ctx, req) {
    const refuse = (errorCode: number, errorMessage: string | null) => toResponse(heartbeatFailure(errorCode, errorMessage));
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const hidden = (req.subscribedTopicNames ?? []).filter((t) => !topicAllowed(ctx, AclOperation.DESCRIBE, t));
    if (hidden.length > 0) return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `The member is not authorized to access topics: ${hidden.join(', ')}`);
    const r: ShareHeartbeatResult = shareCoordinator(ctx.cluster).heartbeat(
      {
        groupId: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        rackId: req.rackId,
        subscribedTopicNames: req.subscribedTopicNames,
        clientId: ctx.header.clientId ?? '',
        clientHost: clientHost(ctx),
      },
      topicCatalog(ctx.cluster),
    );
    return toResponse(r);
  },
};

function toResponse(r: ShareHeartbeatResult): Encodable<ShareGroupHeartbeatResponse> {
  const { assignment, ...rest } = r;
  return { throttleTimeMs: 0, ...rest, assignment: assignment === null ? null : { topicPartitions: assignment } };
}
