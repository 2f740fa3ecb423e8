/**
 * AddPartitionsToTxn (key 24), v0-5.
 * v0-3 (clients): adds partitions to the producer's transaction, starting it if needed.
 * v4-5 (broker form, KIP-890): several transactions per request; verifyOnly checks that the
 * partitions are already in the ongoing transaction (INVALID_TXN_STATE for those that are not),
 * otherwise the partitions are added as in the client form.
 * Unknown partitions get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as
 * in Kafka. Differences from Kafka: this broker's own Produce verification does not go through
 * this API (it asks the coordinator in-process).
 * With the authorizer on: v0-3 need WRITE on the transactional id and on each topic; v4+
 * (brokers) CLUSTER_ACTION on the cluster.
 */
import { txnCoordinatorError } from './txn-common';
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
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import { authorizerOf, clusterAllowed } from './common';
import type { RequestContext } from '../server/handler-registry';

type TopicResult = Encodable<AddPartitionsToTxnResponseResultsByTopicV3AndBelow>;

function toTopicResults(result: Map<string, Map<number, number>>, version: number): TopicResult[] {
  return [...result].map(([name, parts]) => ({
    name,
    resultsByPartition: [...parts].map(([partitionIndex, code]) => ({ partitionIndex, partitionErrorCode: fencedForVersion(code, version, 2) })),
  }));
}

/**
 * Kafka's checks for the client form: WRITE on the transactional id (else every partition
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), WRITE on each topic; when a topic is refused, its
 * partitions are TOPIC_AUTHORIZATION_FAILED, unknown ones UNKNOWN_TOPIC_OR_PARTITION and the
 * rest OPERATION_NOT_ATTEMPTED. Null when everything may go ahead.
 */
function refusedV3(ctx: RequestContext, req: AddPartitionsToTxnRequest): TopicResult[] | null {
  const authz = authorizerOf(ctx);
  if (!authz) return null;
  const answer = (code: (name: string) => number): TopicResult[] =>
    req.v3AndBelowTopics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: code(t.name) })),
    }));
  if (!authz.authorize(ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.v3AndBelowTransactionalId)) {
    return answer(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
  }
  const refused = new Set(req.v3AndBelowTopics.filter((t) => !authz.authorize(ctx.connection, AclOperation.WRITE, ResourceType.TOPIC, t.name)).map((t) => t.name));
  if (refused.size === 0) return null;
  return answer((name) =>
    refused.has(name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : ctx.cluster.topics.get(name) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  );
}

export const addPartitionsToTxnHandler: Handler<AddPartitionsToTxnRequest, Encodable<AddPartitionsToTxnResponse>> = {
  apiKey: AddPartitionsToTxnApi.key,
  minVersion: AddPartitionsToTxnApi.minVersion,
  maxVersion: AddPartitionsToTxnApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const txn = ctx.cluster.txn;
    if (version <= 3) {
      const refused = refusedV3(ctx, req);
      if (refused) return { throttleTimeMs: 0, resultsByTopicV3AndBelow: refused };
      const notCoordinator = txnCoordinatorError(ctx, req.v3AndBelowTransactionalId);
      if (notCoordinator !== ErrorCode.NONE) {
        const resultsByTopicV3AndBelow = req.v3AndBelowTopics.map((t) => ({
          name: t.name,
          resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: notCoordinator })),
        }));
        return { throttleTimeMs: 0, resultsByTopicV3AndBelow };
      }
      const result = txn.addPartitions(req.v3AndBelowTransactionalId, req.v3AndBelowProducerId, req.v3AndBelowProducerEpoch, req.v3AndBelowTopics);
      return { throttleTimeMs: 0, resultsByTopicV3AndBelow: toTopicResults(result, version) };
    }
    // v4+ is the broker-to-coordinator form (KIP-890): brokers hold CLUSTER_ACTION.
    if (!clusterAllowed(ctx, AclOperation.CLUSTER_ACTION)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, resultsByTransaction: [] };
    const resultsByTransaction = req.transactions.map((t) => {
      const result = t.verifyOnly
        ? txn.verifyPartitions(t.transactionalId, t.producerId, t.producerEpoch, t.topics)
        : txn.addPartitionsForBroker(t.transactionalId, t.producerId, t.producerEpoch, t.topics);
      return { transactionalId: t.transactionalId, topicResults: toTopicResults(result, version) };
    });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, resultsByTransaction };
  },
};
