/**
 * DescribeShareGroupOffsets (key 90), v0-1: each share partition's start offset (SPSO; -1
 * while the partition has no state) and, from v1, its lag: the records from SPSO to the log
 * end not yet acknowledged or archived. topics null lists every partition with state.
 * GROUP_ID_NOT_FOUND for an unknown group or a group of another type.
 * With the authorizer on: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED for it) and
 * on each topic (else TOPIC_AUTHORIZATION_FAILED for its partitions).
 */
import {
  DescribeShareGroupOffsetsApi,
  DescribeShareGroupOffsetsRequest,
  DescribeShareGroupOffsetsResponse,
  DescribeShareGroupOffsetsResponseGroups,
  DescribeShareGroupOffsetsResponseGroupsTopics,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { shareCoordinator } from '../coordinator/share';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed } from './common';
import { namedTopic } from './share-common';

export const describeShareGroupOffsetsHandler: Handler<DescribeShareGroupOffsetsRequest, Encodable<DescribeShareGroupOffsetsResponse>> = {
  apiKey: DescribeShareGroupOffsetsApi.key,
  minVersion: DescribeShareGroupOffsetsApi.minVersion,
  maxVersion: DescribeShareGroupOffsetsApi.maxVersion,
  handle(ctx, req) {
    const coordinator = shareCoordinator(ctx.cluster);
    const groups = req.groups.map((g): Encodable<DescribeShareGroupOffsetsResponseGroups> => {
      const fail = (errorCode: number, errorMessage: string | null) => ({ groupId: g.groupId, topics: [], errorCode, errorMessage });
      if (!groupAllowed(ctx, AclOperation.DESCRIBE, g.groupId)) return fail(ErrorCode.GROUP_AUTHORIZATION_FAILED, null);
      if (!coordinator.has(g.groupId)) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${g.groupId} not found.`);
      let wanted = g.topics;
      if (wanted === null) {
        const byName = new Map<string, number[]>();
        for (const s of coordinator.storedPartitions(g.groupId)) {
          const name = ctx.cluster.topics.getById(s.topicId)?.name;
          if (name === undefined) continue;
          byName.set(name, [...(byName.get(name) ?? []), s.partition].sort((a, b) => a - b));
        }
        wanted = [...byName].map(([topicName, partitions]) => ({ topicName, partitions }));
      }
      const topics = wanted.map((t): Encodable<DescribeShareGroupOffsetsResponseGroupsTopics> => {
        const { topic, topicId, errorFor } = namedTopic(ctx, t.topicName, AclOperation.DESCRIBE);
        return {
          topicName: t.topicName,
          topicId,
          partitions: t.partitions.map((p) => {
            const out = { partitionIndex: p, startOffset: -1, leaderEpoch: -1, lag: -1, errorCode: errorFor(p), errorMessage: null as string | null };
            if (topic && out.errorCode === ErrorCode.NONE) {
              const { startOffset, lag } = coordinator.describeOffset(g.groupId, topic.topicId, p);
              out.startOffset = startOffset;
              out.lag = lag;
              out.leaderEpoch = topic.partitions[p].leaderEpoch;
            }
            return out;
          }),
        };
      });
      return { groupId: g.groupId, topics, errorCode: ErrorCode.NONE, errorMessage: null };
    });
    return { throttleTimeMs: 0, groups };
  },
};
