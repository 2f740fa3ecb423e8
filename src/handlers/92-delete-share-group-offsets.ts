/**
 * DeleteShareGroupOffsets (key 92), v0: forgets the share-partition state of whole topics
 * for a group (the next fetch starts again by share.auto.offset.reset). The group must exist
 * (GROUP_ID_NOT_FOUND) and have no members (NON_EMPTY_GROUP).
 * With the authorizer on: DELETE on the group and READ on each topic.
 */
import { DeleteShareGroupOffsetsApi, DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { shareCoordinator } from '../coordinator/share';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed } from './common';
import { namedTopic } from './share-common';

export const deleteShareGroupOffsetsHandler: Handler<DeleteShareGroupOffsetsRequest, Encodable<DeleteShareGroupOffsetsResponse>> = {
  apiKey: DeleteShareGroupOffsetsApi.key,
  minVersion: DeleteShareGroupOffsetsApi.minVersion,
  maxVersion: DeleteShareGroupOffsetsApi.maxVersion,
  handle(ctx, req) {
    const fail = (errorCode: number, errorMessage: string | null): Encodable<DeleteShareGroupOffsetsResponse> => ({ throttleTimeMs: 0, errorCode, errorMessage, responses: [] });
    if (!groupAllowed(ctx, AclOperation.DELETE, req.groupId)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const coordinator = shareCoordinator(ctx.cluster);
    const check = coordinator.offsetsAdminError(req.groupId, true);
    if (check.errorCode !== ErrorCode.NONE) return fail(check.errorCode, check.errorMessage);
    const stored = coordinator.storedPartitions(req.groupId);
    const responses = req.topics.map((t) => {
      const { topic, topicId, errorFor } = namedTopic(ctx, t.topicName, AclOperation.READ);
      const errorCode = errorFor(null);
      if (!topic || errorCode !== ErrorCode.NONE) return { topicName: t.topicName, topicId, errorCode, errorMessage: null };
      for (const s of stored) if (s.topicId === topic.topicId) coordinator.dropState(req.groupId, s.topicId, s.partition);
      return { topicName: t.topicName, topicId: topic.topicId, errorCode: ErrorCode.NONE, errorMessage: null };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
};
