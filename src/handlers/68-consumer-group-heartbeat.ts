/**
 * ConsumerGroupHeartbeat (key 68), v0-1: the KIP-848 consumer group protocol. Joining
 * (epoch 0), heartbeating, reconciling and leaving (epoch -1, or -2 for a static member
 * coming back) all go through this one request; the broker computes assignments with its
 * server-side assignors ("uniform", the default, and "range"). v1 (KIP-1082): the client
 * chooses its member id. See src/coordinator/group/consumer-group-coordinator.ts for what
 * differs from Kafka (membership is not persisted across broker restarts).
 * With group.version finalized at 0 (UpdateFeatures) the protocol is off: UNSUPPORTED_VERSION.
 * With the authorizer on: READ on the group (else GROUP_AUTHORIZATION_FAILED) and DESCRIBE
 * on every subscribed topic name (else TOPIC_AUTHORIZATION_FAILED).
 */
import { shareCoordinator } from '../coordinator/share';
import { ConsumerGroupHeartbeatApi, ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { clientHost, topicCatalog, groupCoordinatorError } from './group-common';
import { groupAllowed, topicAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';

export const consumerGroupHeartbeatHandler: Handler<ConsumerGroupHeartbeatRequest, Encodable<ConsumerGroupHeartbeatResponse>> = {
  apiKey: ConsumerGroupHeartbeatApi.key,
  minVersion: ConsumerGroupHeartbeatApi.minVersion,
  maxVersion: ConsumerGroupHeartbeatApi.maxVersion,
  handle(ctx, req) {
    const refuse = (errorCode: number, errorMessage: string | null): Encodable<ConsumerGroupHeartbeatResponse> => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      memberId: null,
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      assignment: null,
    });
    // group.version 0 turns the consumer protocol off (UpdateFeatures), as in Kafka.
    if (ctx.cluster.features.level('group.version', ctx.node.registry) < 1) {
      return refuse(ErrorCode.UNSUPPORTED_VERSION, 'The version of API is not supported.');
    }
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (shareCoordinator(ctx.cluster).has(req.groupId)) return refuse(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return refuse(notCoordinator, null);
    // Subscribing to a topic needs DESCRIBE on it, as in Kafka.
    const hidden = (req.subscribedTopicNames ?? []).filter((t) => !topicAllowed(ctx, AclOperation.DESCRIBE, t));
    if (hidden.length > 0) return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `The member is not authorized to access topics: ${hidden.join(', ')}`);
    const result = groupCoordinator(ctx.cluster).consumerGroupHeartbeat(
      {
        groupId: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        instanceId: req.instanceId,
        rackId: req.rackId,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        subscribedTopicNames: req.subscribedTopicNames,
        subscribedTopicRegex: ctx.header.apiVersion >= 1 ? req.subscribedTopicRegex : null,
        serverAssignor: req.serverAssignor,
        topicPartitions: req.topicPartitions,
        clientId: ctx.header.clientId ?? '',
        clientHost: clientHost(ctx),
        apiVersion: ctx.header.apiVersion,
      },
      topicCatalog(ctx.cluster),
    );
    return {
      throttleTimeMs: 0,
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
      memberId: result.memberId,
      memberEpoch: result.memberEpoch,
      heartbeatIntervalMs: result.heartbeatIntervalMs,
      assignment: result.assignment === null ? null : { topicPartitions: result.assignment },
    };
  },
};
