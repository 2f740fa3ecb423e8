/**
 * OffsetCommit (key 8), v2-10 (Kafka 4 dropped v0-1).
 * Checks the member and generation (generation -1: a consumer without group management or
 * an admin tool, accepted while the group has no members), stores every offset of the
 * request as one batch in __consumer_offsets, then answers. Metadata strings are kept
 * verbatim (null is stored as ""); longer than offset.metadata.max.bytes (4096) gets
 * OFFSET_METADATA_TOO_LARGE. v2-4 retention_time_ms sets an expire timestamp (stored as
 * OffsetCommitValue v1, as Kafka does). Partitions of unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION; v10 names topics by id (UNKNOWN_TOPIC_ID). From v9 a generation
 * for a group that does not exist is GROUP_ID_NOT_FOUND, before that ILLEGAL_GENERATION.
 * With the authorizer on: READ on the group (else every partition
 * GROUP_AUTHORIZATION_FAILED) and READ on each topic (else TOPIC_AUTHORIZATION_FAILED).
 */
import { groupCoordinatorError } from './group-common';
import {
  OffsetCommitApi,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetCommitResponseTopics,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import type { OffsetToCommit } from '../coordinator/group/group-coordinator';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed, topicAllowed } from './common';

export const offsetCommitHandler: Handler<OffsetCommitRequest, Encodable<OffsetCommitResponse>> = {
  apiKey: OffsetCommitApi.key,
  minVersion: Math.max(2, OffsetCommitApi.minVersion),
  maxVersion: OffsetCommitApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    const version = ctx.header.apiVersion;
    const byId = version >= 10;
    // Each response slot is either answered here (unknown topic) or by the coordinator.
    const topics: { name: string; topicId: string; partitions: { partitionIndex: number; errorCode: number }[] }[] = [];
    const toCommit: OffsetToCommit[] = [];
    const slots: { partitionIndex: number; errorCode: number }[] = [];
    // READ on the group, then READ on each topic (checked by name even when it does not exist).
    const groupRefused = !groupAllowed(ctx, AclOperation.READ, req.groupId);
    const notCoordinator = groupRefused ? ErrorCode.NONE : groupCoordinatorError(ctx, req.groupId);
    for (const t of req.topics) {
      const topic = byId ? cluster.topics.getById(t.topicId) : cluster.topics.get(t.name);
      const out = { name: topic?.name ?? t.name, topicId: t.topicId, partitions: [] as { partitionIndex: number; errorCode: number }[] };
      topics.push(out);
      const refused = groupRefused
        ? ErrorCode.GROUP_AUTHORIZATION_FAILED
        : notCoordinator !== ErrorCode.NONE
          ? notCoordinator
          : (topic || !byId) && !topicAllowed(ctx, AclOperation.READ, out.name)
          ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
          : ErrorCode.NONE;
      for (const p of t.partitions) {
        const slot = { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE as number };
        out.partitions.push(slot);
        if (refused !== ErrorCode.NONE) {
          slot.errorCode = refused;
          continue;
        }
        if (!topic) {
          slot.errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        if (!topic.partitions[p.partitionIndex]) {
          slot.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          continue;
        }
        toCommit.push({
          topic: topic.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata,
        });
        slots.push(slot);
      }
    }
    if (toCommit.length > 0) {
      const codes = groupCoordinator(cluster).commitOffsets({
        groupId: req.groupId,
        generationId: req.generationIdOrMemberEpoch,
        memberId: req.memberId,
        groupInstanceId: version >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: version <= 4 ? req.retentionTimeMs : -1,
        apiVersion: version,
        offsets: toCommit,
      });
      codes.forEach((code, i) => (slots[i].errorCode = code));
    }
    const response: Encodable<OffsetCommitResponseTopics>[] = topics;
    return { throttleTimeMs: 0, topics: response };
  },
};
