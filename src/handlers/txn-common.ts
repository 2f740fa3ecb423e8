/** Helpers shared by the transaction API handlers. */
import { ErrorCode } from '../protocol/errors';
import type { RequestContext } from '../server/handler-registry';
import { coordinatorError } from '../cluster/coordinator-placement';

/**
 * PRODUCER_FENCED (KIP-588) exists for clients from a given request version on; older
 * versions get INVALID_PRODUCER_EPOCH instead, as Kafka answers them.
 */
export function fencedForVersion(errorCode: number, version: number, firstVersionWithProducerFenced: number): number {
  return errorCode === ErrorCode.PRODUCER_FENCED && version < firstVersionWithProducerFenced ? ErrorCode.INVALID_PRODUCER_EPOCH : errorCode;
}

/** NOT_COORDINATOR when another node coordinates the transactional id, else NONE. */
export function txnCoordinatorError(ctx: RequestContext, transactionalId: string): number {
  return coordinatorError(ctx.cluster, ctx.node.id, 'transaction', transactionalId);
}
