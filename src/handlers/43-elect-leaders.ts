/**
 * ElectLeaders (key 43), v0-2. Preferred (0): the first replica becomes leader when it is up
 * and in sync (else PREFERRED_LEADER_NOT_AVAILABLE; ELECTION_NOT_NEEDED when it already
 * leads). Unclean (1): a partition without leader gets its first replica that is up, in sync
 * or not (ELECTION_NOT_NEEDED when it has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE when no
 * replica is up). Unknown partitions answer UNKNOWN_TOPIC_OR_PARTITION. With
 * topic_partitions null (all partitions) only partitions that needed an election are listed,
 * as Kafka does. Leader epochs advance (src/cluster/partition-leadership.ts).
 * election_type must be 0 (preferred) or 1 (unclean), else INVALID_REQUEST.
 * With the authorizer on, ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import {
  ElectLeadersApi,
  ElectLeadersRequest,
  ElectLeadersResponse,
  ElectLeadersResponseReplicaElectionResults,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const electLeadersHandler: Handler<ElectLeadersRequest, Encodable<ElectLeadersResponse>> = {
  apiKey: ElectLeadersApi.key,
  minVersion: ElectLeadersApi.minVersion,
  maxVersion: ElectLeadersApi.maxVersion,
  handle(ctx, req) {
    if (req.electionType !== 0 && req.electionType !== 1) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, replicaElectionResults: [] };
    }
    if (!clusterAllowed(ctx, AclOperation.ALTER)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      const replicaElectionResults = (req.topicPartitions ?? []).map((t) => ({
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage: null })),
      }));
      return { throttleTimeMs: 0, errorCode, replicaElectionResults };
    }
    const leadership = ctx.cluster.leadership;
    if (req.topicPartitions === null) {
      const candidates = req.electionType === 0 ? leadership.imbalanced() : ctx.cluster.topics.list().flatMap((t) => t.partitions.filter((p) => p.leader === -1));
      const byTopic = new Map<string, { partitionId: number; errorCode: number; errorMessage: string | null }[]>();
      for (const p of candidates) {
        const r = leadership.elect(p, req.electionType, false);
        if (r.errorCode === ErrorCode.ELECTION_NOT_NEEDED) continue;
        let list = byTopic.get(p.topic.name);
        if (!list) byTopic.set(p.topic.name, (list = []));
        list.push({ partitionId: p.index, ...r });
      }
      leadership.persist();
      ctx.cluster.waiters.wakeAll();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: [...byTopic].map(([topic, partitionResult]) => ({ topic, partitionResult })) };
    }
    let changed = false;
    const results: Encodable<ElectLeadersResponseReplicaElectionResults>[] = req.topicPartitions.map((t) => {
      const topic = ctx.cluster.topics.get(t.topic);
      return {
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => {
          if (!topic) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${t.topic}` };
          if (!topic.partitions[partitionId]) {
            return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${t.topic}-${partitionId}` };
          }
          const r = leadership.elect(topic.partitions[partitionId], req.electionType, false);
          changed ||= r.errorCode === ErrorCode.NONE;
          return { partitionId, ...r };
        }),
      };
    });
    if (changed) {
      leadership.persist();
      ctx.cluster.waiters.wakeAll();
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
  },
};
