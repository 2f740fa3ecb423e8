/**
 * StreamsGroupHeartbeat (key 88), v0: the KIP-1071 streams rebalance protocol. Kafka Streams
 * instances join with their topology (epoch 0), heartbeat, report the tasks they run, and
 * leave (epoch -1, -2 for a static member); the broker resolves the topology, creates the
 * missing internal (repartition and changelog) topics and assigns active and standby tasks.
 * See src/coordinator/streams/streams-group-coordinator.ts for the protocol and for what
 * differs from Kafka.
 * With the authorizer on, as Kafka: READ on the group (else GROUP_AUTHORIZATION_FAILED) and
 * DESCRIBE on every topic the topology names (else TOPIC_AUTHORIZATION_FAILED); creating an
 * internal topic needs CREATE on the cluster or on that topic (without it the topic is not
 * created and the group reports it missing).
 */
import { StreamsGroupHeartbeatApi, StreamsGroupHeartbeatRequest, StreamsGroupHeartbeatResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { shareCoordinator } from '../coordinator/share';
import { clientHost } from './group-common';
import { authorizerOf, groupAllowed, topicAllowed } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import type { StreamsTopics } from '../coordinator/streams/streams-group-coordinator';
import type { Topology } from '../coordinator/streams/streams-group';

export const streamsGroupHeartbeatHandler: Handler<StreamsGroupHeartbeatRequest, Encodable<StreamsGroupHeartbeatResponse>> = {
  apiKey: StreamsGroupHeartbeatApi.key,
  minVersion: StreamsGroupHeartbeatApi.minVersion,
  maxVersion: StreamsGroupHeartbeatApi.maxVersion,
  handle(ctx, req) {
    const refuse = (errorCode: number, errorMessage: string | null): Encodable<StreamsGroupHeartbeatResponse> => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      memberId: '',
      memberEpoch: 0,
      heartbeatIntervalMs: 0,
      acceptableRecoveryLag: 0,
      taskOffsetIntervalMs: 0,
      status: null,
      activeTasks: null,
      standbyTasks: null,
      warmupTasks: null,
      endpointInformationEpoch: 0,
      partitionsByUserEndpoint: null,
    });
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return refuse(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    if (shareCoordinator(ctx.cluster).has(req.groupId)) return refuse(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a streams group.`);
    const topology: Topology | null = req.topology
      ? {
          epoch: req.topology.epoch,
          subtopologies: req.topology.subtopologies.map((s) => ({
            subtopologyId: s.subtopologyId,
            sourceTopics: s.sourceTopics,
            sourceTopicRegex: s.sourceTopicRegex,
            stateChangelogTopics: s.stateChangelogTopics,
            repartitionSinkTopics: s.repartitionSinkTopics,
            repartitionSourceTopics: s.repartitionSourceTopics,
            copartitionGroups: s.copartitionGroups,
          })),
        }
      : null;
    if (topology && authorizerOf(ctx)) {
      const named = topology.subtopologies.flatMap((s) => [...s.sourceTopics, ...s.repartitionSinkTopics, ...s.repartitionSourceTopics.map((t) => t.name), ...s.stateChangelogTopics.map((t) => t.name)]);
      const hidden = [...new Set(named)].filter((t) => !topicAllowed(ctx, AclOperation.DESCRIBE, t));
      if (hidden.length > 0) return refuse(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `The member is not authorized to access topics: ${hidden.join(', ')}`);
    }
    const result = groupCoordinator(ctx.cluster).streamsGroupHeartbeat(
      {
        groupId: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        endpointInformationEpoch: req.endpointInformationEpoch,
        instanceId: req.instanceId,
        rackId: req.rackId,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        topology,
        activeTasks: req.activeTasks,
        standbyTasks: req.standbyTasks,
        warmupTasks: req.warmupTasks,
        processId: req.processId,
        userEndpoint: req.userEndpoint,
        clientTags: req.clientTags,
        taskOffsets: req.taskOffsets,
        taskEndOffsets: req.taskEndOffsets,
        shutdownApplication: req.shutdownApplication,
        clientId: ctx.header.clientId ?? '',
        clientHost: clientHost(ctx),
      },
      streamsTopics(ctx),
    );
    return { throttleTimeMs: 0, ...result };
  },
};

function streamsTopics(ctx: RequestContext): StreamsTopics {
  const topics = ctx.cluster.topics;
  return {
    partitions: (name) => topics.get(name)?.partitions.length,
    names: () => topics.list().map((t) => t.name),
    create(t) {
      const authz = authorizerOf(ctx);
      if (authz && !authz.authorizeCluster(ctx.connection, AclOperation.CREATE, false) && !authz.authorize(ctx.connection, AclOperation.CREATE, ResourceType.TOPIC, t.name)) {
        throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Not authorized to create internal topic ${t.name}`);
      }
      topics.create(t.name, t.partitions, Object.fromEntries(t.topicConfigs.map((c) => [c.key, c.value])));
    },
  };
}
