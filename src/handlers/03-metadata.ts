/**
 * Metadata (key 3), v0-13.
 * One broker leads every partition; replicas and ISR are [this node]. Topics that do not
 * exist are created on the spot when the request allows it (v4+ flag; always for v0-3)
 * and the broker's auto-create setting is on, so the answer already describes them
 * (Kafka answers LEADER_NOT_AVAILABLE first and the client retries).
 * Authorized operations are reported as "everything" when asked for: there are no ACLs.
 */
import { MetadataApi, MetadataRequest, MetadataResponse, MetadataResponseTopics } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { Broker } from '../broker';
import { Topic } from '../cluster/topic-manager';
import { ALL_TOPIC_OPERATIONS, ALL_CLUSTER_OPERATIONS, OPERATIONS_NOT_REQUESTED } from './common';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export const metadataHandler: Handler<MetadataRequest, Encodable<MetadataResponse>> = {
  apiKey: MetadataApi.key,
  minVersion: MetadataApi.minVersion,
  maxVersion: MetadataApi.maxVersion,
  handle(ctx, req) {
    const { broker } = ctx;
    const version = ctx.header.apiVersion;
    const allowAutoCreate = (version < 4 || req.allowAutoTopicCreation) && broker.config.autoCreateTopics;
    const includeTopicOps = req.includeTopicAuthorizedOperations;
    const topics: Encodable<MetadataResponseTopics>[] = [];
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    const all = req.topics === null || (version === 0 && req.topics.length === 0);
    if (all) {
      for (const t of broker.topics.list()) topics.push(describeTopic(broker, t, includeTopicOps));
    } else {
      for (const requested of req.topics ?? []) {
        if (requested.name == null || requested.name === '') {
          const t = requested.topicId !== ZERO_UUID ? broker.topics.getById(requested.topicId) : undefined;
          topics.push(
            t
              ? describeTopic(broker, t, includeTopicOps)
              : { errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: requested.topicId, partitions: [] },
          );
          continue;
        }
        const name = requested.name;
        let t = broker.topics.get(name);
        if (!t && allowAutoCreate) {
          try {
            t = broker.topics.create(name, broker.config.numPartitions, {}) ?? undefined;
          } catch (err) {
            const code = err instanceof KafkaError ? err.code : ErrorCode.UNKNOWN_SERVER_ERROR;
            topics.push({ errorCode: code, name, partitions: [] });
            continue;
          }
        }
        topics.push(
          t
            ? describeTopic(broker, t, includeTopicOps)
            : { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, partitions: [] },
        );
      }
    }
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: broker.config.nodeId, ...broker.advertisedEndpoint(ctx.connection.listenerName), rack: null }],
      clusterId: broker.clusterId,
      controllerId: broker.config.nodeId,
      topics,
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? ALL_CLUSTER_OPERATIONS : OPERATIONS_NOT_REQUESTED,
    };
  },
};

function describeTopic(broker: Broker, t: Topic, includeOps: boolean): Encodable<MetadataResponseTopics> {
  const node = broker.config.nodeId;
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.isInternal,
    partitions: t.partitions.map((p) => ({
      errorCode: ErrorCode.NONE,
      partitionIndex: p.index,
      leaderId: node,
      leaderEpoch: p.leaderEpoch,
      replicaNodes: [node],
      isrNodes: [node],
      offlineReplicas: [],
    })),
    topicAuthorizedOperations: includeOps ? ALL_TOPIC_OPERATIONS : OPERATIONS_NOT_REQUESTED,
  };
}
