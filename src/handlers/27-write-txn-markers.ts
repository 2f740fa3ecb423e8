/**
 * WriteTxnMarkers (key 27), v1-2 (Kafka 4 dropped v0).
 * Writes COMMIT/ABORT markers for a producer into the listed partitions. Kafka's coordinators
 * send this to partition leaders; on one broker the coordinator writes its markers directly,
 * so this serves tools that end a hanging transaction (kafka-transactions.sh abort). Each
 * partition answers NONE, UNKNOWN_TOPIC_OR_PARTITION, INVALID_PRODUCER_EPOCH (a newer epoch
 * wrote there) or TRANSACTION_COORDINATOR_FENCED (an older coordinator epoch). Markers into
 * __consumer_offsets also commit or drop the producer's pending transactional offsets.
 * With the authorizer on, CLUSTER_ACTION on the cluster (else CLUSTER_AUTHORIZATION_FAILED
 * everywhere).
 */
import {
  WriteTxnMarkersApi,
  WriteTxnMarkersRequest,
  WriteTxnMarkersResponse,
  WriteTxnMarkersResponseMarkers,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { writeTxnMarker } from '../coordinator/txn/markers';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const writeTxnMarkersHandler: Handler<WriteTxnMarkersRequest, Encodable<WriteTxnMarkersResponse>> = {
  apiKey: WriteTxnMarkersApi.key,
  minVersion: Math.max(1, WriteTxnMarkersApi.minVersion),
  maxVersion: WriteTxnMarkersApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    // Only brokers (CLUSTER_ACTION) write markers.
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION)) {
      const errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      return {
        markers: req.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode })) })),
        })),
      };
    }
    const markers: Encodable<WriteTxnMarkersResponseMarkers>[] = [];
    for (const m of req.markers) {
      const marker = {
        producerId: m.producerId,
        producerEpoch: m.producerEpoch,
        commit: m.transactionResult,
        coordinatorEpoch: m.coordinatorEpoch,
        timestamp: Date.now(),
      };
      let offsetsTouched = false;
      const topics = m.topics.map((t) => ({
        name: t.name,
        partitions: t.partitionIndexes.map((partitionIndex) => {
          const partition = cluster.topics.get(t.name)?.partitions[partitionIndex];
          if (!partition) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
          const errorCode = writeTxnMarker(cluster, partition, marker);
          if (errorCode === ErrorCode.NONE && cluster.txn.isOffsetsTopic(t.name)) offsetsTouched = true;
          return { partitionIndex, errorCode };
        }),
      }));
      if (offsetsTouched) cluster.txn.completeOffsets(m.producerId, m.transactionResult);
      markers.push({ producerId: m.producerId, topics });
    }
    return { markers };
  },
};
