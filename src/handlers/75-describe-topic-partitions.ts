/**
 * DescribeTopicPartitions (key 75), v0 (KIP-966): topics and their partitions, paged.
 * Topics are answered in name order (all topics when none are named); at most
 * response_partition_limit partitions (capped at 2000, Kafka's default
 * max.request.partition.size.limit) per response, and next_cursor says where to go on.
 * The cursor's topic and partition are where the page starts. This broker leads every
 * partition; replicas and ISR are [this node]; eligible leader replicas are empty.
 * Topics that do not exist answer UNKNOWN_TOPIC_OR_PARTITION.
 * With the authorizer on, as Kafka: all-topics answers leave out topics without DESCRIBE,
 * named ones without it answer TOPIC_AUTHORIZATION_FAILED; authorized operations from ACLs.
 */
import {
  DescribeTopicPartitionsApi,
  DescribeTopicPartitionsRequest,
  DescribeTopicPartitionsResponse,
  DescribeTopicPartitionsResponseTopics,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { authorizerOf, topicOperations, ZERO_UUID } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';

const MAX_PARTITIONS_PER_RESPONSE = 2000;

export const describeTopicPartitionsHandler: Handler<DescribeTopicPartitionsRequest, Encodable<DescribeTopicPartitionsResponse>> = {
  apiKey: DescribeTopicPartitionsApi.key,
  minVersion: DescribeTopicPartitionsApi.minVersion,
  maxVersion: DescribeTopicPartitionsApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    let budget = Math.max(1, Math.min(req.responsePartitionLimit, MAX_PARTITIONS_PER_RESPONSE));
    const authz = authorizerOf(ctx);
    const all = req.topics.length === 0;
    let names = all ? cluster.topics.list().map((t) => t.name) : [...new Set(req.topics.map((t) => t.name))];
    // Listing all topics leaves out those the client may not DESCRIBE; named ones are refused.
    if (authz && all) names = names.filter((n) => authz.authorize(ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, n, false));
    names.sort();
    const cursor = req.cursor;
    const start = cursor ? names.findIndex((n) => n >= cursor.topicName) : 0;
    const topics: Encodable<DescribeTopicPartitionsResponseTopics>[] = [];
    let nextCursor: { topicName: string; partitionIndex: number } | null = null;
    for (let i = start < 0 ? names.length : start; i < names.length; i++) {
      const name = names[i];
      if (authz && !all && !authz.authorize(ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name)) {
        topics.push({ errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, name, topicId: ZERO_UUID, isInternal: false, partitions: [] });
        continue;
      }
      const topic = cluster.topics.get(name);
      if (!topic) {
        topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, isInternal: false, partitions: [] });
        continue;
      }
      if (budget === 0) {
        nextCursor = { topicName: name, partitionIndex: 0 };
        break;
      }
      const first = cursor && name === cursor.topicName ? Math.max(0, cursor.partitionIndex) : 0;
      const take = topic.partitions.slice(first, first + budget);
      budget -= take.length;
      topics.push({
        errorCode: ErrorCode.NONE,
        name,
        topicId: topic.topicId,
        isInternal: topic.isInternal,
        partitions: take.map((p) => ({
          errorCode: p.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
          partitionIndex: p.index,
          leaderId: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: p.replicas,
          isrNodes: p.isr,
          eligibleLeaderReplicas: [],
          lastKnownElr: [],
          offlineReplicas: p.replicas.filter((r) => !ctx.cluster.leadership.live.has(r)),
        })),
        topicAuthorizedOperations: topicOperations(ctx, name),
      });
      if (first + take.length < topic.partitions.length) {
        nextCursor = { topicName: name, partitionIndex: first + take.length };
        break;
      }
    }
    return { throttleTimeMs: 0, topics, nextCursor };
  },
};
