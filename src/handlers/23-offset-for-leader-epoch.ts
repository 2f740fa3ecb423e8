/**
 * OffsetForLeaderEpoch (key 23), v2-4. Answered by the partition's leader (others:
 * NOT_LEADER_OR_FOLLOWER) from its leader epoch history (src/storage/leader-epoch-checkpoint.ts):
 * the current epoch ends at the log end offset, an older one where the next epoch started
 * (with the largest known epoch not above it), a newer one is unknown (-1/-1), as Kafka's
 * leader epoch cache answers.
 * With the authorizer on, topics need DESCRIBE (else TOPIC_AUTHORIZATION_FAILED).
 */
import { OffsetForLeaderEpochApi, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { authorizerOf, leaderEpochError } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';

export const offsetForLeaderEpochHandler: Handler<OffsetForLeaderEpochRequest, Encodable<OffsetForLeaderEpochResponse>> = {
  apiKey: OffsetForLeaderEpochApi.key,
  minVersion: Math.max(2, OffsetForLeaderEpochApi.minVersion),
  maxVersion: OffsetForLeaderEpochApi.maxVersion,
  handle(ctx, req) {
    const authz = authorizerOf(ctx);
    const topics = req.topics.map((t) => {
      if (authz && !authz.authorize(ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic)) {
        const errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        return { topic: t.topic, partitions: t.partitions.map((p) => ({ partition: p.partition, errorCode, leaderEpoch: -1, endOffset: -1 })) };
      }
      const topic = ctx.cluster.topics.get(t.topic);
      return {
        topic: t.topic,
        partitions: t.partitions.map((p) => {
          const partition = topic?.partitions[p.partition];
          if (!partition) return { partition: p.partition, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, leaderEpoch: -1, endOffset: -1 };
          if (partition.leader !== ctx.node.id) return { partition: p.partition, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, leaderEpoch: -1, endOffset: -1 };
          const epochError = leaderEpochError(partition, p.currentLeaderEpoch);
          if (epochError !== ErrorCode.NONE) return { partition: p.partition, errorCode: epochError, leaderEpoch: -1, endOffset: -1 };
          if (p.leaderEpoch === partition.leaderEpoch) {
            return { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: partition.leaderEpoch, endOffset: partition.log.logEndOffset };
          }
          if (p.leaderEpoch > partition.leaderEpoch) return { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: -1, endOffset: -1 };
          const found = ctx.cluster.leadership.history(partition).endOffsetFor(p.leaderEpoch, partition.log.logEndOffset);
          return { partition: p.partition, errorCode: ErrorCode.NONE, leaderEpoch: found.epoch, endOffset: found.endOffset };
        }),
      };
    });
    return { throttleTimeMs: 0, topics };
  },
};
