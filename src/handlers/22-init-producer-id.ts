/**
 * InitProducerId (key 22), v0-5.
 * Without a transactional id: a new producer id at epoch 0 (idempotent producers; also their
 * epoch bump after an error, KIP-360). With one: the transaction coordinator bumps the epoch
 * of that id, fencing older instances, and aborts a transaction the previous instance left
 * open (see src/coordinator/txn/transaction-coordinator.ts). v3+ requests carrying the
 * producer's current id and epoch resume it (KIP-360).
 * Differences from Kafka: an open transaction is aborted within this request, so the answer
 * is the new epoch at once instead of CONCURRENT_TRANSACTIONS and a retry.
 * With the authorizer on: WRITE on the transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED); without one, IDEMPOTENT_WRITE on the cluster or
 * WRITE on some topic (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { InitProducerIdApi, InitProducerIdRequest, InitProducerIdResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { fencedForVersion, txnCoordinatorError } from './txn-common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import { ErrorCode } from '../protocol/errors';
import { authorizerOf } from './common';

export const initProducerIdHandler: Handler<InitProducerIdRequest, Encodable<InitProducerIdResponse>> = {
  apiKey: InitProducerIdApi.key,
  minVersion: InitProducerIdApi.minVersion,
  maxVersion: InitProducerIdApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const authz = authorizerOf(ctx);
    if (authz) {
      // Transactional producers need WRITE on their id; idempotent ones IDEMPOTENT_WRITE on the
      // cluster or WRITE on some topic (KIP-679).
      const refused =
        req.transactionalId !== null
          ? !authz.authorize(ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId) && ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
          : !authz.authorizeCluster(ctx.connection, AclOperation.IDEMPOTENT_WRITE, false) &&
            !authz.authorizeByResourceType(ctx.connection, AclOperation.WRITE, ResourceType.TOPIC) &&
            ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      if (refused) return { throttleTimeMs: 0, errorCode: refused, producerId: -1, producerEpoch: -1 };
    }
    if (req.transactionalId !== null && req.transactionalId !== '') {
      const notCoordinator = txnCoordinatorError(ctx, req.transactionalId);
      if (notCoordinator !== ErrorCode.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator, producerId: -1, producerEpoch: -1 };
    }
    const expected = version >= 3 && req.producerId >= 0 ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : null;
    const r = ctx.cluster.txn.initProducerId(req.transactionalId, req.transactionTimeoutMs, expected);
    return {
      throttleTimeMs: 0,
      errorCode: fencedForVersion(r.errorCode, version, 4),
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
    };
  },
};
