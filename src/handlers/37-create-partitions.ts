/**
 * CreatePartitions (key 37), v0-3: grows a topic to `count` partitions, placed as Kafka
 * places them with the topic's replication factor, or as manually assigned (known brokers). validate_only checks without changing anything.
 * With the authorizer on, ALTER on each topic (else TOPIC_AUTHORIZATION_FAILED).
 * One request adds at most MAX_PARTITIONS_PER_REQUEST partitions (Kafka's controller bounds
 * the records of one operation likewise); a topic that would go past it gets POLICY_VIOLATION.
 */
import { CreatePartitionsApi, CreatePartitionsRequest, CreatePartitionsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { topicAllowed } from './common';
import { errorName } from '../protocol/errors';
import { MAX_PARTITIONS_PER_REQUEST } from './19-create-topics';

export const createPartitionsHandler: Handler<CreatePartitionsRequest, Encodable<CreatePartitionsResponse>> = {
  apiKey: CreatePartitionsApi.key,
  minVersion: CreatePartitionsApi.minVersion,
  maxVersion: CreatePartitionsApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    let budget = MAX_PARTITIONS_PER_REQUEST;
    const seen = new Map<string, number>();
    for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
    const results = req.topics.map((t) => {
      if ((seen.get(t.name) ?? 0) > 1) {
        return { name: t.name, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Duplicate topic in request.' };
      }
      if (!topicAllowed(ctx, AclOperation.ALTER, t.name)) return { name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: errorName(ErrorCode.TOPIC_AUTHORIZATION_FAILED) };
      const topic = cluster.topics.get(t.name);
      if (!topic) {
        return { name: t.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `The topic '${t.name}' does not exist.` };
      }
      if (t.assignments !== null) {
        const added = t.count - topic.partitions.length;
        if (t.assignments.length !== added) {
          return {
            name: t.name,
            errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT,
            errorMessage: `Increasing the number of partitions by ${added} but ${t.assignments.length} assignments provided.`,
          };
        }
      }
      const adding = t.count - topic.partitions.length;
      if (adding > budget) return { name: t.name, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: 'Excessively large number of partitions per request.' };
      try {
        cluster.topics.addPartitions(t.name, t.count, req.validateOnly, t.assignments?.map((a) => a.brokerIds));
        if (adding > 0) budget -= adding;
        return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
      } catch (err) {
        if (err instanceof KafkaError) return { name: t.name, errorCode: err.code, errorMessage: err.message };
        throw err;
      }
    });
    return { throttleTimeMs: 0, results };
  },
};
