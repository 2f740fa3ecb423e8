/**
 * DeleteTopics (key 20), v1-6: by name (v0-5 list, v6 entries with a name) or by topic id (v6).
 * The partition directories are removed at once; segment files still being sent to a
 * fetching client stay readable until that response is written (see PartitionLog.deleteAll).
 */
import { DeleteTopicsApi, DeleteTopicsRequest, DeleteTopicsResponse, DeleteTopicsResponseResponses } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { Broker } from '../broker';
import { ZERO_UUID } from './common';

type Result = Encodable<DeleteTopicsResponseResponses>;

export const deleteTopicsHandler: Handler<DeleteTopicsRequest, Encodable<DeleteTopicsResponse>> = {
  apiKey: DeleteTopicsApi.key,
  minVersion: Math.max(1, DeleteTopicsApi.minVersion),
  maxVersion: DeleteTopicsApi.maxVersion,
  handle(ctx, req) {
    const entries =
      ctx.header.apiVersion >= 6
        ? req.topics.map((t) => ({ name: t.name, topicId: t.topicId }))
        : req.topicNames.map((name) => ({ name: name as string | null, topicId: ZERO_UUID }));
    const responses = entries.map((e) => deleteOne(ctx.broker, e.name, e.topicId));
    return { throttleTimeMs: 0, responses };
  },
};

function deleteOne(broker: Broker, name: string | null, topicId: string): Result {
  const hasId = topicId !== ZERO_UUID;
  if (name !== null && hasId) {
    return { name, topicId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Only one of topic name or topic id may be set.' };
  }
  if (hasId) {
    const topic = broker.topics.getById(topicId);
    if (!topic) return { name: null, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.' };
    broker.topics.delete(topic);
    return { name: topic.name, topicId, errorCode: ErrorCode.NONE, errorMessage: null };
  }
  const topic = name !== null ? broker.topics.get(name) : undefined;
  if (!topic) {
    return { name, topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
  }
  broker.topics.delete(topic);
  return { name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null };
}
