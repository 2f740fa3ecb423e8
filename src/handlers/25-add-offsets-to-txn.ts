/**
 * AddOffsetsToTxn (key 25), v0-4.
 * Adds the group's __consumer_offsets partition to the producer's transaction, so that the
 * offsets TxnOffsetCommit then stages for the group are committed or dropped with it.
 * COORDINATOR_NOT_AVAILABLE when the broker has no group coordinator.
 */
import { AddOffsetsToTxnApi, AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { fencedForVersion } from './txn-common';

export const addOffsetsToTxnHandler: Handler<AddOffsetsToTxnRequest, Encodable<AddOffsetsToTxnResponse>> = {
  apiKey: AddOffsetsToTxnApi.key,
  minVersion: AddOffsetsToTxnApi.minVersion,
  maxVersion: AddOffsetsToTxnApi.maxVersion,
  handle(ctx, req) {
    const error = ctx.broker.txn.addOffsets(req.transactionalId, req.producerId, req.producerEpoch, req.groupId);
    return { throttleTimeMs: 0, errorCode: fencedForVersion(error, ctx.header.apiVersion, 2) };
  },
};
