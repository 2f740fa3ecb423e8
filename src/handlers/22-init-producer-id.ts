/**
 * InitProducerId (key 22), v0-5.
 * Without a transactional id: a new producer id at epoch 0 (idempotent producers; also their
 * epoch bump after an error, KIP-360). With one: the transaction coordinator bumps the epoch
 * of that id, fencing older instances, and aborts a transaction the previous instance left
 * open (see src/coordinator/txn/transaction-coordinator.ts). v3+ requests carrying the
 * producer's current id and epoch resume it (KIP-360).
 * Differences from Kafka: an open transaction is aborted within this request, so the answer
 * is the new epoch at once instead of CONCURRENT_TRANSACTIONS and a retry.
 */
import { InitProducerIdApi, InitProducerIdRequest, InitProducerIdResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { fencedForVersion } from './txn-common';

export const initProducerIdHandler: Handler<InitProducerIdRequest, Encodable<InitProducerIdResponse>> = {
  apiKey: InitProducerIdApi.key,
  minVersion: InitProducerIdApi.minVersion,
  maxVersion: InitProducerIdApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const expected = version >= 3 && req.producerId >= 0 ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : null;
    const r = ctx.broker.txn.initProducerId(req.transactionalId, req.transactionTimeoutMs, expected);
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(r.errorCode, version, 4),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  },
};
