/**
 * ListOffsets (key 2), v1-11 (v0, removed in Kafka 4, is refused with UNSUPPORTED_VERSION).
 * Special timestamps: -1 latest, -2 earliest, -3 max timestamp (v7+: the first record with the
 * log's largest timestamp and its batch's leader epoch, as Kafka 3.8+), -4 earliest local
 * (v8+, equal to earliest: no tiered storage), -5 earliest pending upload (v9+, none: -1).
 * A timestamp >= 0 finds the first record stamped at or after it: the time index locates
 * the batch, which is then read and decompressed (src/storage/timestamp-lookup.ts).
 * Isolation level (v2+): under read_committed, latest is the last stable offset instead of
 * the high watermark, and a timestamp lookup only finds offsets below the LSO, as in Kafka.
 * Partitions this node does not lead answer NOT_LEADER_OR_FOLLOWER (simulated cluster).
 * With the authorizer on, topics need DESCRIBE (else TOPIC_AUTHORIZATION_FAILED).
 */
import {
  ListOffsetsApi,
  ListOffsetsRequest,
  ListOffsetsRequestTopicsPartitions,
  ListOffsetsResponse,
  ListOffsetsResponseTopics,
  ListOffsetsResponseTopicsPartitions,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { Partition, Topic } from '../cluster/topic-manager';
import { authorizerOf, leaderEpochError } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import { maxTimestampRecord, offsetForTimestampExact } from '../storage/timestamp-lookup';
import type { ProducerStates } from '../storage/producer-states';

const LATEST = -1;
const EARLIEST = -2;
const MAX_TIMESTAMP = -3;
const EARLIEST_LOCAL = -4;
const EARLIEST_PENDING_UPLOAD = -5;

type PartitionResult = Encodable<ListOffsetsResponseTopicsPartitions>;

export const listOffsetsHandler: Handler<ListOffsetsRequest, Encodable<ListOffsetsResponse>> = {
  apiKey: ListOffsetsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, ListOffsetsApi.minVersion),
  maxVersion: ListOffsetsApi.maxVersion,
  async handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const readCommitted = version >= 2 && req.isolationLevel === 1 ? ctx.cluster.producerStates : null;
    const topics: Encodable<ListOffsetsResponseTopics>[] = [];
    const authz = authorizerOf(ctx);
    for (const t of req.topics) {
      const partitions: PartitionResult[] = [];
      if (authz && !authz.authorize(ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name)) {
        for (const p of t.partitions) partitions.push({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, oldStyleOffsets: [] });
        topics.push({ name: t.name, partitions });
        continue;
      }
      const topic = ctx.cluster.topics.get(t.name);
      for (const p of t.partitions) partitions.push(await answerPartition(ctx.node.id, topic, p, version, readCommitted));
      topics.push({ name: t.name, partitions });
    }
    return { throttleTimeMs: 0, topics };
  },
};

async function answerPartition(
  nodeId: number,
  topic: Topic | undefined,
  p: ListOffsetsRequestTopicsPartitions,
  version: number,
  readCommitted: ProducerStates | null,
): Promise<PartitionResult> {
  const partition = topic?.partitions[p.partitionIndex];
  if (!partition) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, oldStyleOffsets: [] };
  if (partition.leader !== nodeId) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, oldStyleOffsets: [] };
  const epochError = leaderEpochError(partition, p.currentLeaderEpoch);
  if (epochError !== ErrorCode.NONE) return { partitionIndex: p.partitionIndex, errorCode: epochError, oldStyleOffsets: [] };
  const found = await lookup(partition, p.timestamp, version, readCommitted ? readCommitted.of(partition.log).lastStableOffset : Infinity);
  if (typeof found === 'number') return { partitionIndex: p.partitionIndex, errorCode: found, oldStyleOffsets: [] };
  return {
    partitionIndex: p.partitionIndex,
    errorCode: ErrorCode.NONE,
    oldStyleOffsets: found.offset >= 0 ? [found.offset] : [],
    timestamp: found.timestamp,
    offset: found.offset,
    leaderEpoch: found.offset < 0 ? -1 : found.leaderEpoch ?? partition.leaderEpoch,
  };
}

/** `lastStable`: the read_committed bound (Infinity under read_uncommitted). */
async function lookup(
  partition: Partition,
  timestamp: number,
  version: number,
  lastStable: number,
): Promise<{ offset: number; timestamp: number; leaderEpoch?: number } | number> {
  const log = partition.log;
  switch (timestamp) {
    case LATEST:
      return { offset: Math.min(log.logEndOffset, lastStable), timestamp: -1 };
    case EARLIEST:
      return { offset: log.logStartOffset, timestamp: -1 };
    case MAX_TIMESTAMP:
      if (version < 7) return ErrorCode.UNSUPPORTED_VERSION;
      return log.logEndOffset > log.logStartOffset ? maxTimestampRecord(log) : { offset: -1, timestamp: -1 };
    case EARLIEST_LOCAL:
      if (version < 8) return ErrorCode.UNSUPPORTED_VERSION;
      return { offset: log.logStartOffset, timestamp: -1 };
    case EARLIEST_PENDING_UPLOAD:
      if (version < 9) return ErrorCode.UNSUPPORTED_VERSION;
      return { offset: -1, timestamp: -1 };
    default:
      if (timestamp < 0) return ErrorCode.INVALID_REQUEST;
      const found = await offsetForTimestampExact(log, timestamp);
      return found && found.offset < lastStable ? found : { offset: -1, timestamp: -1 };
  }
}
