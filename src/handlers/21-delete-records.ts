/**
 * DeleteRecords (key 21), v0-2: moves a partition's log start offset forward. The new start
 * is written durably (partition.state) before the answer, segments wholly below it are
 * deleted at once, and fetches below it get OFFSET_OUT_OF_RANGE. Offset -1 means the high
 * watermark (the log end: there is one replica); anything below 0 or past the high watermark
 * is OFFSET_OUT_OF_RANGE; a topic without cleanup.policy=delete is POLICY_VIOLATION, as in
 * Kafka. low_watermark is the start offset after the request (unchanged when the offset was
 * already below it). timeout_ms is not needed: the answer never waits.
 * With the authorizer on, DELETE on each topic (else TOPIC_AUTHORIZATION_FAILED).
 * Partitions this node does not lead answer NOT_LEADER_OR_FOLLOWER (simulated cluster).
 */
import {
  DeleteRecordsApi,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  DeleteRecordsResponseTopicsPartitions,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import type { ClusterState } from '../cluster/cluster-state';
import { AclOperation } from '../security/acl/acl-types';
import { topicAllowed } from './common';

const HIGH_WATERMARK = -1;

type PartitionResult = Encodable<DeleteRecordsResponseTopicsPartitions>;

export const deleteRecordsHandler: Handler<DeleteRecordsRequest, Encodable<DeleteRecordsResponse>> = {
  apiKey: DeleteRecordsApi.key,
  minVersion: DeleteRecordsApi.minVersion,
  maxVersion: DeleteRecordsApi.maxVersion,
  handle(ctx, req) {
    const topics = req.topics.map((t) => ({
      name: t.name,
      partitions: topicAllowed(ctx, AclOperation.DELETE, t.name)
        ? t.partitions.map((p) => deleteBefore(ctx.cluster, ctx.node.id, t.name, p.partitionIndex, p.offset))
        : t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
    }));
    return { throttleTimeMs: 0, topics };
  },
};

function deleteBefore(cluster: ClusterState, nodeId: number, topicName: string, index: number, offset: number): PartitionResult {
  const failed = (errorCode: number): PartitionResult => ({ partitionIndex: index, lowWatermark: -1, errorCode });
  const partition = cluster.topics.partition(topicName, index);
  if (!partition) return failed(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  if (partition.leader !== nodeId) return failed(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const log = partition.log;
  if (!log.currentConfig.deleteEnabled) return failed(ErrorCode.POLICY_VIOLATION);
  const target = offset === HIGH_WATERMARK ? log.logEndOffset : offset;
  if (target < 0 || target > log.logEndOffset) return failed(ErrorCode.OFFSET_OUT_OF_RANGE);
  try {
    return { partitionIndex: index, lowWatermark: log.advanceLogStartOffset(target), errorCode: ErrorCode.NONE };
  } catch (err) {
    cluster.log.error('DeleteRecords failed', { topic: topicName, partition: index, error: (err as Error).message });
    return failed(ErrorCode.KAFKA_STORAGE_ERROR);
  }
}
