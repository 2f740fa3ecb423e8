/**
 * CreateTopics (key 19), v2-7.
 * Validates names (Kafka's rules and '.'/'_' collisions), partition counts, replication
 * factor (at most the brokers that are up, or -1 for the default), manual assignments
 * (consecutive partitions, known brokers, none repeated), and configs (known names, valid
 * values). Replicas are placed as Kafka places them (src/cluster/partition-leadership.ts).
 * validate_only checks everything and creates nothing. From v5 the answer lists the new
 * topic's effective configs with their source.
 * With the authorizer on: CREATE on the cluster or on the topic (else
 * TOPIC_AUTHORIZATION_FAILED); the new topic's configs are reported only with
 * DESCRIBE_CONFIGS on it (else topic_config_error_code TOPIC_AUTHORIZATION_FAILED).
 * As Kafka's controller, a request asking for more than MAX_PARTITIONS_PER_REQUEST partitions
 * in total is refused whole with POLICY_VIOLATION (one request must not open millions of logs).
 */
import {
  CreateTopicsApi,
  CreateTopicsRequest,
  CreateTopicsRequestTopics,
  CreateTopicsResponse,
  CreateTopicsResponseTopics,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import type { ClusterState } from '../cluster/cluster-state';
import { resolveTopicConfig, TOPIC_CONFIGS } from '../cluster/topic-config';
import { ZERO_UUID, clusterAllowed, topicAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';

type TopicResult = Encodable<CreateTopicsResponseTopics>;

/** Kafka's ReplicationControlManager.MAX_PARTITIONS_PER_BATCH. */
export const MAX_PARTITIONS_PER_REQUEST = 10_000;

export const createTopicsHandler: Handler<CreateTopicsRequest, Encodable<CreateTopicsResponse>> = {
  apiKey: CreateTopicsApi.key,
  minVersion: Math.max(2, CreateTopicsApi.minVersion),
  maxVersion: CreateTopicsApi.maxVersion,
  handle(ctx, req) {
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
    const topics: TopicResult[] = [];
    const clusterCreate = clusterAllowed(ctx, AclOperation.CREATE, false);
    const early = req.topics.map((t): TopicResult | null => {
      if ((counts.get(t.name) ?? 0) > 1) return error(t.name, ErrorCode.INVALID_REQUEST, `Create topics request contains multiple entries for the topic ${t.name}.`);
      // CREATE on the cluster covers every topic; otherwise CREATE on the topic itself.
      if (!clusterCreate && !topicAllowed(ctx, AclOperation.CREATE, t.name)) return error(t.name, ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.');
      return null;
    });
    // Counted as Kafka's controller counts them, over the topics that reach it.
    let total = 0;
    req.topics.forEach((t, i) => {
      if (early[i]) return;
      if (t.assignments.length > 0) total += t.assignments.length;
      else if (t.numPartitions === -1) total += ctx.cluster.config.numPartitions;
      else if (t.numPartitions > 0) total += t.numPartitions;
    });
    for (const [i, t] of req.topics.entries()) {
      const refused = early[i];
      if (refused) {
        topics.push(refused);
        continue;
      }
      if (total > MAX_PARTITIONS_PER_REQUEST) {
        topics.push(error(t.name, ErrorCode.POLICY_VIOLATION, 'Excessively large number of partitions per request.'));
        continue;
      }
      const result = createOne(ctx.cluster, t, req.validateOnly);
      // The configs of the new topic are only shown to a client that may DESCRIBE_CONFIGS it.
      if (result.errorCode === ErrorCode.NONE && !topicAllowed(ctx, AclOperation.DESCRIBE_CONFIGS, t.name, false)) {
        result.configs = null;
        result.topicConfigErrorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      }
      topics.push(result);
    }
    return { throttleTimeMs: 0, topics };
  },
};

function error(name: string, errorCode: number, errorMessage: string): TopicResult {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null };
}

function createOne(cluster: ClusterState, t: CreateTopicsRequestTopics, validateOnly: boolean): TopicResult {
  let numPartitions = t.numPartitions;
  let replicationFactor = t.replicationFactor;
  if (t.assignments.length > 0) {
    if (numPartitions !== -1 || replicationFactor !== -1) {
      return error(t.name, ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
    }
    const indexes = t.assignments.map((a) => a.partitionIndex).sort((a, b) => a - b);
    if (indexes.some((p, i) => p !== i)) {
      return error(t.name, ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence.');
    }
    numPartitions = t.assignments.length;
    replicationFactor = t.assignments[0].brokerIds.length;
  } else {
    if (numPartitions === -1) numPartitions = cluster.config.numPartitions;
    if (replicationFactor === -1) replicationFactor = cluster.config.defaultReplicationFactor;
    if (numPartitions <= 0) {
      return error(t.name, ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    }
  }
  const configs: Record<string, string> = {};
  for (const c of t.configs) {
    if (c.value === null) {
      return error(t.name, ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${c.name}`);
    }
    configs[c.name] = c.value;
  }
  let topicId = ZERO_UUID;
  try {
    const assignment = t.assignments.length > 0 ? [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => a.brokerIds) : undefined;
    const created = cluster.topics.create(t.name, numPartitions, configs, validateOnly, { replicationFactor, assignment });
    if (created) topicId = created.topicId;
  } catch (err) {
    if (err instanceof KafkaError) return error(t.name, err.code, err.message);
    throw err;
  }
  return {
    name: t.name,
    topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    numPartitions,
    replicationFactor,
    configs: TOPIC_CONFIGS.map((spec) => {
      const resolved = resolveTopicConfig(spec.name, configs, cluster.topics.brokerDefaults);
      return { name: spec.name, value: resolved.value, readOnly: false, configSource: resolved.source, isSensitive: false };
    }),
  };
}
