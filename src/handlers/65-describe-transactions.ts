/**
 * DescribeTransactions (key 65), v0.
 * The coordinator's view of each transactional id: state, timeout, start time, producer id
 * and epoch, and the partitions of the open transaction. Unknown ids get
 * TRANSACTIONAL_ID_NOT_FOUND; an empty id INVALID_REQUEST.
 */
import {
  DescribeTransactionsApi,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { TransactionCoordinator } from '../coordinator/txn/transaction-coordinator';

export const describeTransactionsHandler: Handler<DescribeTransactionsRequest, Encodable<DescribeTransactionsResponse>> = {
  apiKey: DescribeTransactionsApi.key,
  minVersion: DescribeTransactionsApi.minVersion,
  maxVersion: DescribeTransactionsApi.maxVersion,
  handle(ctx, req) {
    const txn = ctx.broker.txn;
    return {
      throttleTimeMs: 0,
      transactionStates: req.transactionalIds.map((transactionalId) => {
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
          topics: [...meta.partitions].map(([topic, ids]) => ({ topic, partitions: [...ids].sort((a, b) => a - b) })),
        };
      }),
    };
  },
};
