/**
 * ReadShareGroupState (key 84), v0: a share partition's state epoch, start offset and
 * in-flight state batches (Acquired records read as Available, as Kafka persists them).
 * UNKNOWN_TOPIC_OR_PARTITION when the partition has no state. See share-state-common.ts.
 */
import { ReadShareGroupStateApi, ReadShareGroupStateRequest, ReadShareGroupStateResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { forEachStatePartition } from './share-state-common';

export const readShareGroupStateHandler: Handler<ReadShareGroupStateRequest, Encodable<ReadShareGroupStateResponse>> = {
  apiKey: ReadShareGroupStateApi.key,
  minVersion: ReadShareGroupStateApi.minVersion,
  maxVersion: ReadShareGroupStateApi.maxVersion,
  handle(ctx, req) {
    return forEachStatePartition(ctx, req, { stateEpoch: 0, startOffset: -1, stateBatches: [] as object[] }, (c, topicId, p) => {
      const s = c.readState(req.groupId, topicId, p.partition);
      if (!s) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: 'The share-group state of this partition is not initialized.' };
      return { errorCode: ErrorCode.NONE, errorMessage: null, stateEpoch: s.stateEpoch, startOffset: s.startOffset, stateBatches: s.stateBatches };
    });
  },
};
