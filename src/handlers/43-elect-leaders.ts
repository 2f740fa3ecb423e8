/**
 * ElectLeaders (key 43), v0-2. This broker is the only replica and already leads every
 * partition, so no election is ever needed: each partition asked for answers
 * ELECTION_NOT_NEEDED (unknown ones UNKNOWN_TOPIC_OR_PARTITION); with topic_partitions null
 * (all partitions) the answer is empty, since Kafka leaves out partitions that need nothing.
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
    const results: Encodable<ElectLeadersResponseReplicaElectionResults>[] = (req.topicPartitions ?? []).map((t) => {
      const topic = ctx.cluster.topics.get(t.topic);
      return {
        topic: t.topic,
        partitionResult: t.partitions.map((partitionId) => {
          if (!topic) return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such topic as ${t.topic}` };
          if (!topic.partitions[partitionId]) {
            return { partitionId, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `No such partition as ${t.topic}-${partitionId}` };
          }
          return { partitionId, errorCode: ErrorCode.ELECTION_NOT_NEEDED, errorMessage: 'Leader election not needed for topic partition.' };
        }),
      };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, replicaElectionResults: results };
  },
};
