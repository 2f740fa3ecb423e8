/**
 * EndTxn (key 26), v0-5.
 * Commits or aborts the producer's transaction: the decision is logged (PrepareCommit /
 * PrepareAbort), markers are written into every partition of the transaction, pending
 * transactional offsets are committed or dropped, and the outcome is logged
 * (CompleteCommit / CompleteAbort). A retried EndTxn with the same outcome succeeds.
 * Differences from Kafka: the answer comes after the markers are written, not before.
 * Transactions V2 (KIP-890 part 2): a v5+ request with transaction.version 2 finalized ends
 * the transaction with an epoch bump (see TransactionCoordinator.endTxnV2) and answers the
 * producer id and epoch to use next; older versions, or transaction.version below 2, keep V1
 * (v5's producer id and epoch are then -1, as in Kafka).
 * With the authorizer on, WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 */
import { EndTxnApi, EndTxnRequest, EndTxnResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { fencedForVersion, txnCoordinatorError } from './txn-common';
import { AclOperation } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';
import { txnAllowed } from './common';

export const endTxnHandler: Handler<EndTxnRequest, Encodable<EndTxnResponse>> = {
  apiKey: EndTxnApi.key,
  minVersion: EndTxnApi.minVersion,
  maxVersion: EndTxnApi.maxVersion,
  handle(ctx, req) {
    if (!txnAllowed(ctx, AclOperation.WRITE, req.transactionalId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, producerId: -1, producerEpoch: -1 };
    }
    const notCoordinator = txnCoordinatorError(ctx, req.transactionalId);
    if (notCoordinator !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator, producerId: req.producerId, producerEpoch: req.producerEpoch };
    if (ctx.header.apiVersion >= 5 && ctx.cluster.features.transactionVersion() >= 2) {
      const r = ctx.cluster.txn.endTxnV2(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
      return { throttleTimeMs: 0, ...r };
    }
    // Transactions V1: v5's producer id and epoch stay -1, as Kafka answers.
    const error = ctx.cluster.txn.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(error, ctx.header.apiVersion, 2), producerId: -1, producerEpoch: -1 };
  },
};
