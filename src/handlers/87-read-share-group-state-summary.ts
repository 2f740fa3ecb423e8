/**
 * ReadShareGroupStateSummary (key 87), v0-1: a share partition's state epoch and start
 * offset without the batches; v1 adds the count of acknowledged or archived in-flight records.
 * The leader epoch is the partition's. UNKNOWN_TOPIC_OR_PARTITION when it has no state.
 * See share-state-common.ts.
 */
import { ReadShareGroupStateSummaryApi, ReadShareGroupStateSummaryRequest, ReadShareGroupStateSummaryResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { completedCount } from '../coordinator/share/share-partition';
import { forEachStatePartition } from './share-state-common';

export const readShareGroupStateSummaryHandler: Handler<ReadShareGroupStateSummaryRequest, Encodable<ReadShareGroupStateSummaryResponse>> = {
  apiKey: ReadShareGroupStateSummaryApi.key,
  minVersion: ReadShareGroupStateSummaryApi.minVersion,
  maxVersion: ReadShareGroupStateSummaryApi.maxVersion,
  handle(ctx, req) {
    return forEachStatePartition(ctx, req, { stateEpoch: 0, leaderEpoch: -1, startOffset: -1, deliveryCompleteCount: -1 }, (c, topicId, p) => {
      const s = c.readState(req.groupId, topicId, p.partition);
      if (!s) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The share-group state of this partition is not initialized.' };
      const done = completedCount(s.stateBatches);
      const leaderEpoch = ctx.cluster.topics.getById(topicId)?.partitions[p.partition]?.leaderEpoch ?? -1;
      return { errorCode: ErrorCode.NONE, errorMessage: null, stateEpoch: s.stateEpoch, leaderEpoch, startOffset: s.startOffset, deliveryCompleteCount: done };
    });
  },
};
