/**
 * WriteShareGroupState (key 85), v0-1: replaces a share partition's stored state (start
 * offset and state batches); the share coordinator reloads it on next use. FENCED_STATE_EPOCH
 * for an older state epoch; INVALID_REQUEST for batches out of order, below the start offset
 * or far beyond what a share partition may hold in flight. See share-state-common.ts.
 */
import { WriteShareGroupStateApi, WriteShareGroupStateRequest, WriteShareGroupStateResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { forEachStatePartition } from './share-state-common';

export const writeShareGroupStateHandler: Handler<WriteShareGroupStateRequest, Encodable<WriteShareGroupStateResponse>> = {
  apiKey: WriteShareGroupStateApi.key,
  minVersion: WriteShareGroupStateApi.minVersion,
  maxVersion: WriteShareGroupStateApi.maxVersion,
  handle(ctx, req) {
    return forEachStatePartition(ctx, req, {}, (c, topicId, p) => ({
      errorCode: c.writeState(req.groupId, topicId, p.partition, { stateEpoch: p.stateEpoch, startOffset: p.startOffset, stateBatches: p.stateBatches }, false),
      errorMessage: null,
    }));
  },
};
