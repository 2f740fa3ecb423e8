/**
 * OffsetDelete (key 47), v0.
 * Deletes committed offsets of a group. Allowed while the group is Empty, or for topics its
 * members do not subscribe to (consumer protocol groups: GROUP_SUBSCRIBED_TO_TOPIC per
 * partition otherwise; other protocol types with members: NON_EMPTY_GROUP). Unknown group:
 * GROUP_ID_NOT_FOUND; partitions of unknown topics: UNKNOWN_TOPIC_OR_PARTITION.
 * With the authorizer on: DELETE on the group (else GROUP_AUTHORIZATION_FAILED), READ per
 * topic (else TOPIC_AUTHORIZATION_FAILED).
 */
import { groupCoordinatorError } from './group-common';
import { OffsetDeleteApi, OffsetDeleteRequest, OffsetDeleteResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed, topicAllowed } from './common';

export const offsetDeleteHandler: Handler<OffsetDeleteRequest, Encodable<OffsetDeleteResponse>> = {
  apiKey: OffsetDeleteApi.key,
  minVersion: OffsetDeleteApi.minVersion,
  maxVersion: OffsetDeleteApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    if (!groupAllowed(ctx, AclOperation.DELETE, req.groupId)) return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, throttleTimeMs: 0, topics: [] };
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return { errorCode: notCoordinator, throttleTimeMs: 0, topics: [] };
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number })),
    }));
    const asked: { topic: string; partition: number }[] = [];
    const slots: { errorCode: number }[] = [];
    topics.forEach((t) => {
      const topic = cluster.topics.get(t.name);
      const readable = topicAllowed(ctx, AclOperation.READ, t.name);
      for (const slot of t.partitions) {
        if (!readable) {
          slot.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          continue;
        }
        if (!topic || !topic.partitions[slot.partitionIndex]) {
          slot.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        asked.push({ topic: t.name, partition: slot.partitionIndex });
        slots.push(slot);
      }
    });
    const result = groupCoordinator(cluster).deleteOffsets(req.groupId, asked);
    if (result.errorCode !== ErrorCode.NONE) return { errorCode: result.errorCode, throttleTimeMs: 0, topics: [] };
    result.partitions.forEach((code, i) => (slots[i].errorCode = code));
    return { errorCode: ErrorCode.NONE, throttleTimeMs: 0, topics };
  },
};
