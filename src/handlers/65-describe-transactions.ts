/**
 * DescribeTransactions (key 65), v0.
 * The coordinator's view of each transactional id: state, timeout, start time, producer id
 * and epoch, and the partitions of the open transaction. Unknown ids get
 * TRANSACTIONAL_ID_NOT_FOUND; an empty id INVALID_REQUEST.
 * With the authorizer on, DESCRIBE per transactional id (else
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED); topics without DESCRIBE are left out.
 */
import { txnCoordinatorError } from './txn-common';
import {
  DescribeTransactionsApi,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { TransactionCoordinator } from '../coordinator/txn/transaction-coordinator';
import { AclOperation } from '../security/acl/acl-types';
import { topicAllowed, txnAllowed } from './common';

export const describeTransactionsHandler: Handler<DescribeTransactionsRequest, Encodable<DescribeTransactionsResponse>> = {
  apiKey: DescribeTransactionsApi.key,
  minVersion: DescribeTransactionsApi.minVersion,
  maxVersion: DescribeTransactionsApi.maxVersion,
  handle(ctx, req) {
    const txn = ctx.cluster.txn;
    return {
      throttleTimeMs: 0,
      transactionStates: req.transactionalIds.map((transactionalId) => {
        if (transactionalId && !txnAllowed(ctx, AclOperation.DESCRIBE, transactionalId)) {
          return {
            transactionalId,
            errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
            transactionState: '',
            transactionTimeoutMs: 0,
            transactionStartTimeMs: -1,
            producerId: -1,
            producerEpoch: -1,
            topics: [],
          };
        }
        const notCoordinator = transactionalId ? txnCoordinatorError(ctx, transactionalId) : ErrorCode.NONE;
        if (notCoordinator !== ErrorCode.NONE) {
          return { transactionalId, errorCode: notCoordinator, transactionState: '', transactionTimeoutMs: 0, transactionStartTimeMs: -1, producerId: -1, producerEpoch: -1, topics: [] };
        }
        const meta = transactionalId ? txn.describe(transactionalId) : null;
        if (!meta) {
          return {
            transactionalId,
            errorCode: transactionalId ? ErrorCode.TRANSACTIONAL_ID_NOT_FOUND : ErrorCode.INVALID_REQUEST,
            transactionState: '',
            transactionTimeoutMs: 0,
            transactionStartTimeMs: -1,
            producerId: -1,
            producerEpoch: -1,
            topics: [],
          };
        }
        return {
          transactionalId,
          errorCode: ErrorCode.NONE,
          transactionState: TransactionCoordinator.stateName(meta.state),
          transactionTimeoutMs: meta.timeoutMs,
          transactionStartTimeMs: meta.startTimestamp,
          producerId: meta.producerId,
          producerEpoch: meta.producerEpoch,
          // Topics the client may not DESCRIBE are left out, as in Kafka.
          topics: [...meta.partitions].filter(([topic]) => topicAllowed(ctx, AclOperation.DESCRIBE, topic, false)).map(([topic, ids]) => ({ topic, partitions: [...ids].sort((a, b) => a - b) })),
        };
      }),
    };
  },
};
