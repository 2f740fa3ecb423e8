/**
 * AddOffsetsToTxn (key 25), v0-4.
 * Adds the group's __consumer_offsets partition to the producer's transaction, so that the
 * offsets TxnOffsetCommit then stages for the group are committed or dropped with it.
 * COORDINATOR_NOT_AVAILABLE when the broker has no group coordinator.
 * With the authorizer on: WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group (else
 * GROUP_AUTHORIZATION_FAILED).
 */
import { AddOffsetsToTxnApi, AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { fencedForVersion, txnCoordinatorError } from './txn-common';
import { AclOperation } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';
import { groupAllowed, txnAllowed } from './common';

export const addOffsetsToTxnHandler: Handler<AddOffsetsToTxnRequest, Encodable<AddOffsetsToTxnResponse>> = {
  apiKey: AddOffsetsToTxnApi.key,
  minVersion: AddOffsetsToTxnApi.minVersion,
  maxVersion: AddOffsetsToTxnApi.maxVersion,
  handle(ctx, req) {
    if (!txnAllowed(ctx, AclOperation.WRITE, req.transactionalId)) return { throttleTimeMs: 0, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
    if (!groupAllowed(ctx, AclOperation.READ, req.groupId)) return { throttleTimeMs: 0, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
    const notCoordinator = txnCoordinatorError(ctx, req.transactionalId);
    if (notCoordinator !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator };
    const error = ctx.cluster.txn.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(error, ctx.header.apiVersion, 2) };
  },
};
