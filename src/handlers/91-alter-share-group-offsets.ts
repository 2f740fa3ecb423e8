/**
 * AlterShareGroupOffsets (key 91), v0: moves share partitions' start offsets (SPSO); the
 * in-flight state of each altered partition is dropped, so delivery resumes at the new
 * offset. The group must have no members (NON_EMPTY_GROUP); a group id not yet known is
 * created as an empty share group, so offsets can be set before the first member joins.
 * With the authorizer on: READ on the group and on each topic.
 */
import { AlterShareGroupOffsetsApi, AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { shareCoordinator } from '../coordinator/share';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed } from './common';
import { namedTopic } from './share-common';

export const alterShareGroupOffsetsHandler: Handler<AlterShareGroupOffsetsRequest, Encodable<AlterShareGroupOffsetsResponse>> = {
  apiKey: AlterShareGroupOffsetsApi.key,
  minVersion: AlterShareGroupOffsetsApi.minVersion,
  maxVersion: AlterShareGroupOffsetsApi.maxVersion,
  handle(ctx, req) {
    const fail = (errorCode: number, errorMessage: string | null): Encodable<AlterShareGroupOffsetsResponse> => ({ throttleTimeMs: 0, errorCode, errorMessage, responses: [] });
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
    const coordinator = shareCoordinator(ctx.cluster);
    const check = coordinator.offsetsAdminError(req.groupId, false);
    if (check.errorCode !== ErrorCode.NONE) return fail(check.errorCode, check.errorMessage);
    const responses = req.topics.map((t) => {
      const { topic, topicId, errorFor } = namedTopic(ctx, t.topicName, AclOperation.READ);
      return {
        topicName: t.topicName,
        topicId,
        partitions: t.partitions.map((p) => {
          let errorCode = errorFor(p.partitionIndex);
          if (errorCode === ErrorCode.NONE && p.startOffset < 0) errorCode = ErrorCode.INVALID_REQUEST;
          if (topic && errorCode === ErrorCode.NONE) coordinator.alterOffset(req.groupId, topic.topicId, p.partitionIndex, p.startOffset);
          return { partitionIndex: p.partitionIndex, errorCode, errorMessage: null };
        }),
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, responses };
  },
};
