/**
 * OffsetFetch (key 9), v1-10 (Kafka 4 dropped v0).
 * Committed offsets of a group: of the listed partitions (-1 and "" where nothing is
 * committed), or all of them when the topic list is null (v2+). v8+ fetch several groups at
 * once; v10 names topics by id (UNKNOWN_TOPIC_ID per partition for an unknown id). A group
 * that does not exist simply has no offsets. require_stable (v7+) answers
 * UNSTABLE_OFFSET_COMMIT for listed partitions with a pending transactional commit
 * (TxnOffsetCommit of a transaction not yet ended; KIP-447). v9's member id and epoch
 * identify a KIP-848 member: checked for consumer groups (UNKNOWN_MEMBER_ID,
 * STALE_MEMBER_EPOCH as the group's error), ignored for classic groups (as in Kafka).
 * With the authorizer on: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED); listed
 * topics need DESCRIBE (else TOPIC_AUTHORIZATION_FAILED per partition), all-topics answers
 * leave such topics out.
 */
import { groupCoordinatorError } from './group-common';
import {
  OffsetFetchApi,
  OffsetFetchRequest,
  OffsetFetchResponse,
  OffsetFetchResponseGroups,
  OffsetFetchResponseTopics,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { ZERO_UUID, groupAllowed, topicAllowed } from './common';
import { AclOperation } from '../security/acl/acl-types';

interface PartitionOut {
  partitionIndex: number;
  committedOffset: number;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

interface TopicOut {
  name: string;
  topicId: string;
  partitions: PartitionOut[];
}

function fetchGroup(
  ctx: RequestContext,
  groupId: string,
  requested: { name: string; topicId: string; partitionIndexes: number[] }[] | null,
  byId: boolean,
  requireStable = false,
): TopicOut[] {
  const { cluster } = ctx;
  const coordinator = groupCoordinator(cluster);
  if (requested === null) {
    const byTopic = new Map<string, TopicOut>();
    for (const o of coordinator.fetchOffsets(groupId, null)) {
      let t = byTopic.get(o.topic);
      // All-topics answers leave out the topics the client may not DESCRIBE.
      if (!t && !topicAllowed(ctx, AclOperation.DESCRIBE, o.topic, false)) continue;
      if (!t) {
        const topicId = cluster.topics.get(o.topic)?.topicId;
        if (byId && !topicId) continue; // the topic is gone: it has no id to report
        byTopic.set(o.topic, (t = { name: o.topic, topicId: topicId ?? ZERO_UUID, partitions: [] }));
      }
      t.partitions.push({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode: o.errorCode,
      });
    }
    return [...byTopic.values()];
  }
  const out: TopicOut[] = [];
  for (const asked of requested) {
    let t = asked;
    if (byId) {
      const topic = cluster.topics.getById(t.topicId);
      if (!topic) {
        out.push({
          name: '',
          topicId: t.topicId,
          partitions: t.partitionIndexes.map((p) => ({
            partitionIndex: p,
            committedOffset: -1,
            committedLeaderEpoch: -1,
            metadata: '',
            errorCode: ErrorCode.UNKNOWN_TOPIC_ID,
          })),
        });
        continue;
      }
      t = { ...t, name: topic.name };
    }
    if (!topicAllowed(ctx, AclOperation.DESCRIBE, t.name)) {
      out.push({ name: t.name, topicId: t.topicId, partitions: t.partitionIndexes.map((p) => failedPartition(p, ErrorCode.TOPIC_AUTHORIZATION_FAILED)) });
      continue;
    }
    const offsets = coordinator.fetchOffsets(groupId, [{ topic: t.name, partitions: t.partitionIndexes }], requireStable);
    out.push({
      name: t.name,
      topicId: t.topicId,
      partitions: offsets.map((o) => ({
        partitionIndex: o.partition,
        committedOffset: o.offset,
        committedLeaderEpoch: o.leaderEpoch,
        metadata: o.metadata,
        errorCode: o.errorCode,
      })),
    });
  }
  return out;
}

function failedPartition(partitionIndex: number, errorCode: number): PartitionOut {
  return { partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode };
}

export const offsetFetchHandler: Handler<OffsetFetchRequest, Encodable<OffsetFetchResponse>> = {
  apiKey: OffsetFetchApi.key,
  minVersion: Math.max(1, OffsetFetchApi.minVersion),
  maxVersion: OffsetFetchApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    const version = ctx.header.apiVersion;
    if (version >= 8) {
      const coordinator = groupCoordinator(cluster);
      const groups: Encodable<OffsetFetchResponseGroups>[] = req.groups.map((g) => {
        // v9+: a KIP-848 member's id and epoch are checked (classic groups ignore them).
        if (!groupAllowed(ctx, AclOperation.DESCRIBE, g.groupId)) return { groupId: g.groupId, topics: [], errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
        const notCoordinator = groupCoordinatorError(ctx, g.groupId);
        if (notCoordinator !== ErrorCode.NONE) return { groupId: g.groupId, topics: [], errorCode: notCoordinator };
        const error = version >= 9 ? coordinator.validateOffsetFetch(g.groupId, g.memberId, g.memberEpoch) : ErrorCode.NONE;
        if (error !== ErrorCode.NONE) return { groupId: g.groupId, topics: [], errorCode: error };
        return {
        groupId: g.groupId,
        topics: fetchGroup(
          ctx,
          g.groupId,
          g.topics === null ? null : g.topics.map((t) => ({ name: t.name, topicId: t.topicId, partitionIndexes: t.partitionIndexes })),
          version >= 10,
          req.requireStable,
        ),
        errorCode: ErrorCode.NONE,
        };
      });
      return { throttleTimeMs: 0, groups };
    }
    const requested =
      req.topics === null ? null : req.topics.map((t) => ({ name: t.name, topicId: ZERO_UUID, partitionIndexes: t.partitionIndexes }));
    if (!groupAllowed(ctx, AclOperation.DESCRIBE, req.groupId)) {
      // v1 has no top-level error code: the requested partitions carry it.
      const code = ErrorCode.GROUP_AUTHORIZATION_FAILED;
      const topics = version < 2 ? (requested ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => failedPartition(p, code)) })) : [];
      return { throttleTimeMs: 0, topics, errorCode: code };
    }
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) {
      const topics = version < 2 ? (requested ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => failedPartition(p, notCoordinator)) })) : [];
      return { throttleTimeMs: 0, topics, errorCode: notCoordinator };
    }
    const topics: Encodable<OffsetFetchResponseTopics>[] = fetchGroup(ctx, req.groupId, requested, false, version >= 7 && req.requireStable).map((t) => ({
      name: t.name,
      partitions: t.partitions,
    }));
    return { throttleTimeMs: 0, topics, errorCode: ErrorCode.NONE };
  },
};
