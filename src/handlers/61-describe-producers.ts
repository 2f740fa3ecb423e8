/**
 * DescribeProducers (key 61), v0.
 * The producer state of each requested partition: every producer id the partition knows with
 * its epoch, last sequence, last timestamp, the coordinator epoch of its last marker and the
 * first offset of its open transaction (-1 when none).
 * With the authorizer on, READ per topic (else TOPIC_AUTHORIZATION_FAILED).
 * Partitions this node does not lead answer NOT_LEADER_OR_FOLLOWER (simulated cluster).
 */
import {
  DescribeProducersApi,
  DescribeProducersRequest,
  DescribeProducersResponse,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { topicAllowed } from './common';

export const describeProducersHandler: Handler<DescribeProducersRequest, Encodable<DescribeProducersResponse>> = {
  apiKey: DescribeProducersApi.key,
  minVersion: DescribeProducersApi.minVersion,
  maxVersion: DescribeProducersApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          if (!topicAllowed(ctx, AclOperation.READ, t.name)) {
            return { partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null, activeProducers: [] };
          }
          const partition = cluster.topics.get(t.name)?.partitions[partitionIndex];
          if (!partition) {
            return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, activeProducers: [] };
          }
          // Answered by the partition's leader, as Kafka does.
          if (partition.leader !== ctx.node.id) return { partitionIndex, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, errorMessage: null, activeProducers: [] };
          const activeProducers = cluster.producerStates.of(partition.log).activeProducers().map((e) => ({
            producerId: e.producerId,
            producerEpoch: e.epoch,
            lastSequence: e.batches.length > 0 ? e.batches[e.batches.length - 1].lastSeq : -1,
            lastTimestamp: e.lastTimestamp,
            coordinatorEpoch: e.coordinatorEpoch,
            currentTxnStartOffset: e.currentTxnFirstOffset,
          }));
          return { partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers };
        }),
      })),
    };
  },
};
