/**
 * DescribeQuorum (key 55), v0-2: the KRaft quorum of `__cluster_metadata` partition 0 as a
 * one-voter dynamic quorum (src/cluster/metadata-quorum.ts): the controller leads and is the
 * only voter, other broker nodes of the cluster are observers, all caught up. The high
 * watermark grows as an idle Kafka controller's does (a record every 500 ms) and with each
 * feature update. v2 adds directory ids and the voters' endpoints (listener CONTROLLER, at the
 * address the client reached: Samsa answers controller requests on its broker listeners).
 * A request naming anything but `__cluster_metadata` partition 0 gets UNKNOWN_TOPIC_OR_PARTITION
 * for what it named, as Kafka's Raft client answers.
 * Differences from Kafka: a broker forwards this to the active controller; here the node answers.
 * With the authorizer on: DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { DescribeQuorumApi, DescribeQuorumRequest, DescribeQuorumResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';
import { CONTROLLER_LISTENER, METADATA_TOPIC } from '../cluster/metadata-quorum';

const UNKNOWN_PARTITION_MESSAGE = 'This server does not host this topic-partition.';

export const describeQuorumHandler: Handler<DescribeQuorumRequest, Encodable<DescribeQuorumResponse>> = {
  apiKey: DescribeQuorumApi.key,
  minVersion: DescribeQuorumApi.minVersion,
  maxVersion: DescribeQuorumApi.maxVersion,
  handle(ctx, req) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) {
      return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', topics: [], nodes: [] };
    }
    const valid =
      req.topics.length === 1 &&
      req.topics[0].topicName === METADATA_TOPIC &&
      req.topics[0].partitions.length === 1 &&
      req.topics[0].partitions[0].partitionIndex === 0;
    if (!valid) {
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        topics: req.topics.map((t) => ({
          topicName: t.topicName,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
            errorMessage: UNKNOWN_PARTITION_MESSAGE,
            leaderId: 0,
            leaderEpoch: 0,
            highWatermark: 0,
            currentVoters: [],
            observers: [],
          })),
        })),
        nodes: [],
      };
    }
    const { quorum, nodeIds } = ctx.cluster;
    const now = Date.now();
    const highWatermark = quorum.highWatermark(now);
    const replica = (replicaId: number) => ({
      replicaId,
      replicaDirectoryId: quorum.directoryId(replicaId),
      logEndOffset: highWatermark,
      lastFetchTimestamp: now,
      lastCaughtUpTimestamp: now,
    });
    const leaderId = quorum.leaderId;
    // The voter's address is known when the client reached the voter itself.
    const leaderListeners = ctx.node.id === leaderId ? [{ name: CONTROLLER_LISTENER, ...ctx.node.advertisedEndpoint(ctx.connection.listenerName) }] : [];
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topics: [
        {
          topicName: METADATA_TOPIC,
          partitions: [
            {
              partitionIndex: 0,
              errorCode: ErrorCode.NONE,
              errorMessage: null,
              leaderId,
              leaderEpoch: quorum.leaderEpoch,
              highWatermark,
              currentVoters: [replica(leaderId)],
              observers: [...nodeIds].filter((id) => id !== leaderId).sort((a, b) => a - b).map(replica),
            },
          ],
        },
      ],
      nodes: [{ nodeId: leaderId, listeners: leaderListeners }],
    };
  },
};
