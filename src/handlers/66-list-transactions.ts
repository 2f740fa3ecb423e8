/**
 * ListTransactions (key 66), v0-2.
 * Every transactional id the coordinator knows, filtered by state names (unknown names are
 * echoed in unknownStateFilters), producer ids, v1+ by a minimum running time of the open
 * transaction (durationFilter ms since the transaction started, -1 = no filter), and v2+ by a regular expression over the
 * transactional id (matched against the whole id, as Java's Pattern.matches).
 * An invalid pattern gets INVALID_REQUEST.
 * With the authorizer on, only transactional ids with DESCRIBE are listed.
 */
import { txnCoordinatorError } from './txn-common';
import {
  ListTransactionsApi,
  ListTransactionsRequest,
  ListTransactionsResponse,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { TransactionCoordinator } from '../coordinator/txn/transaction-coordinator';
import { TXN_STATUS_NAMES } from '../coordinator/txn/txn-log-records';
import { AclOperation } from '../security/acl/acl-types';
import { txnAllowed } from './common';

const KNOWN_STATES = new Set(Object.values(TXN_STATUS_NAMES));

export const listTransactionsHandler: Handler<ListTransactionsRequest, Encodable<ListTransactionsResponse>> = {
  apiKey: ListTransactionsApi.key,
  minVersion: ListTransactionsApi.minVersion,
  maxVersion: ListTransactionsApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const states = new Set(req.stateFilters);
    const unknownStateFilters = req.stateFilters.filter((s) => !KNOWN_STATES.has(s));
    const producerIds = new Set(req.producerIdFilters);
    let pattern: RegExp | null = null;
    if (version >= 2 && req.transactionalIdPattern) {
      try {
        pattern = new RegExp(`^(?:${req.transactionalIdPattern})$`);
      } catch {
        return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, unknownStateFilters, transactionStates: [] };
      }
    }
    const now = Date.now();
    const duration = version >= 1 ? req.durationFilter : -1;
    const transactionStates = ctx.cluster.txn
      .list()
      .filter((m) => {
        const name = TransactionCoordinator.stateName(m.state);
        if (states.size > 0 && !states.has(name)) return false;
        if (producerIds.size > 0 && !producerIds.has(m.producerId)) return false;
        if (duration >= 0 && now - m.startTimestamp < duration) return false;
        if (pattern && !pattern.test(m.transactionalId)) return false;
        // Each node lists the transactions it coordinates (admin clients ask every node).
        if (ctx.cluster.multiNode && txnCoordinatorError(ctx, m.transactionalId) !== ErrorCode.NONE) return false;
        // Only transactions the client may DESCRIBE are listed.
        return txnAllowed(ctx, AclOperation.DESCRIBE, m.transactionalId, false);
      })
      .map((m) => ({ transactionalId: m.transactionalId, producerId: m.producerId, transactionState: TransactionCoordinator.stateName(m.state) }));
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, unknownStateFilters, transactionStates };
  },
};
