/**
 * DeleteTopics (key 20), v1-6: by name (v0-5 list, v6 entries with a name) or by topic id (v6).
 * The partition directories are removed at once; segment files still being sent to a
 * fetching client stay readable until that response is written (see PartitionLog.deleteAll).
 * With the authorizer on, DELETE on each topic (else TOPIC_AUTHORIZATION_FAILED; checked
 * by name before existence).
 */
import { DeleteTopicsApi, DeleteTopicsRequest, DeleteTopicsResponse, DeleteTopicsResponseResponses } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import type { ClusterState } from '../cluster/cluster-state';
import { ZERO_UUID, topicAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';
import type { RequestContext } from '../server/handler-registry';

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
    const responses = entries.map((e) => deleteOne(ctx, e.name, e.topicId));
    return { throttleTimeMs: 0, responses };
  },
};

function deleteOne(ctx: RequestContext, name: string | null, topicId: string): Result {
  const { cluster } = ctx;
  const refused = (n: string) => !topicAllowed(ctx, AclOperation.DELETE, n);
  const hasId = topicId !== ZERO_UUID;
  if (name !== null && hasId) {
    return { name, topicId, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Only one of topic name or topic id may be set.' };
  }
  if (hasId) {
    const topic = cluster.topics.getById(topicId);
    if (!topic) return { name: null, topicId, errorCode: ErrorCode.UNKNOWN_TOPIC_ID, errorMessage: 'This server does not host this topic ID.' };
    if (refused(topic.name)) return { name: null, topicId, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
    cluster.topics.delete(topic);
    return { name: topic.name, topicId, errorCode: ErrorCode.NONE, errorMessage: null };
  }
  if (name !== null && refused(name)) return { name, topicId: ZERO_UUID, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: 'Authorization failed.' };
  const topic = name !== null ? cluster.topics.get(name) : undefined;
  if (!topic) {
    return { name, topicId: ZERO_UUID, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'This server does not host this topic-partition.' };
  }
  cluster.topics.delete(topic);
  return { name: topic.name, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null };
}
