/**
 * AddPartitionsToTxn (key 24), v0-5.
 * v0-3 (clients): adds partitions to the producer's transaction, starting it if needed.
 * v4-5 (broker form, KIP-890): several transactions per request; verifyOnly checks that the
 * partitions are already in the ongoing transaction (INVALID_TXN_STATE for those that are not),
 * otherwise the partitions are added as in the client form.
 * Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as
 * in Kafka. Differences from Kafka: this broker's own Produce verification does not go through
 * this API (it asks the coordinator in-process).
 */
import {
  AddPartitionsToTxnApi,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AddPartitionsToTxnResponseResultsByTopicV3AndBelow,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { fencedForVersion } from './txn-common';

type TopicResult = Encodable<AddPartitionsToTxnResponseResultsByTopicV3AndBelow>;

function toTopicResults(result: Map<string, Map<number, number>>, version: number): TopicResult[] {
  return [...result].map(([name, parts]) => ({
    name,
    resultsByPartition: [...parts].map(([partitionIndex, code]) => ({ partitionIndex, partitionErrorCode: fencedForVersion(code, version, 2) })),
  }));
}

export const addPartitionsToTxnHandler: Handler<AddPartitionsToTxnRequest, Encodable<AddPartitionsToTxnResponse>> = {
  apiKey: AddPartitionsToTxnApi.key,
  minVersion: AddPartitionsToTxnApi.minVersion,
  maxVersion: AddPartitionsToTxnApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const txn = ctx.broker.txn;
    if (version <= 3) {
      const result = txn.addPartitions(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics);
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: toTopicResults(result, version) };
    }
    const resultsByTransaction = req.transactions.map((t) => {
      const result = t.verifyOnly
        ? txn.verifyPartitions(t.transactionalId, t.producerId, t.producerEpoch, t.topics)
        : txn.addPartitionsForBroker(t.transactionalId, t.producerId, t.producerEpoch, t.topics);
      return { transactionalId: t.transactionalId, topicResults: toTopicResults(result, version) };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
  },
};
