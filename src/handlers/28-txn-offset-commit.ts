/**
 * TxnOffsetCommit (key 28), v0-5.
 * Offsets committed inside a transaction: the transaction coordinator checks the producer
 * (id, epoch, and that AddOffsetsToTxn added the group's offsets partition, KIP-890 part 1),
 * then the group coordinator stages them; they become visible to OffsetFetch only when the
 * transaction commits, and are dropped when it aborts. v3+ also checks the group member and
 * generation, like OffsetCommit. Under transactions V2 (v5+ with transaction.version 2
 * finalized, KIP-890 part 2) the offsets partition joins the transaction implicitly instead.
 * Errors for the whole request are repeated for every partition, as Kafka answers.
 * With the authorizer on: WRITE on the transactional id, READ on the group, READ per topic
 * (TRANSACTIONAL_ID_, GROUP_, TOPIC_AUTHORIZATION_FAILED).
 */
import { groupCoordinatorError } from './group-common';
import {
  TxnOffsetCommitApi,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { groupAllowed, topicAllowed, txnAllowed } from './common';

export const txnOffsetCommitHandler: Handler<TxnOffsetCommitRequest, Encodable<TxnOffsetCommitResponse>> = {
  apiKey: TxnOffsetCommitApi.key,
  minVersion: TxnOffsetCommitApi.minVersion,
  maxVersion: TxnOffsetCommitApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const all = (code: number) => ({
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) })),
    });
    if (!txnAllowed(ctx, AclOperation.WRITE, req.transactionalId)) return all(ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return all(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const notCoordinator = groupCoordinatorError(ctx, req.groupId);
    if (notCoordinator !== ErrorCode.NONE) return all(notCoordinator);
    // Topics without READ are answered TOPIC_AUTHORIZATION_FAILED; the others are committed.
    const refused = new Set(req.topics.filter((t) => !topicAllowed(ctx, AclOperation.READ, t.name)).map((t) => t.name));
    const implicit = version >= 5 && ctx.cluster.features.transactionVersion() >= 2;
    let error = ctx.cluster.txn.checkTxnOffsetCommit(req.transactionalId, req.producerId, req.producerEpoch, req.groupId, implicit);
    // TxnOffsetCommit never carried PRODUCER_FENCED: a stale epoch is INVALID_PRODUCER_EPOCH.
    if (error === ErrorCode.PRODUCER_FENCED) error = ErrorCode.INVALID_PRODUCER_EPOCH;
    if (error !== ErrorCode.NONE) return all(error);
    const results = ctx.cluster.txn.stageOffsets({
      groupId: req.groupId,
      producerId: req.producerId,
      producerEpoch: req.producerEpoch,
      generationId: version >= 3 ? req.generationId : -1,
      memberId: version >= 3 ? req.memberId : '',
      groupInstanceId: version >= 3 ? req.groupInstanceId : null,
      apiVersion: version,
      offsets: req.topics.filter((t) => !refused.has(t.name)).flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch,
          metadata: p.committedMetadata,
        })),
      ),
    });
    if (typeof results === 'number') return all(results);
    return {
      throttleTimeMs: 0,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          errorCode: refused.has(t.name)
            ? ErrorCode.TOPIC_AUTHORIZATION_FAILED
            : (results.get(`${t.name}\u0000${p.partitionIndex}`) ?? ErrorCode.UNKNOWN_SERVER_ERROR),
        })),
      })),
    };
  },
};
