/**
 * InitializeShareGroupState (key 83), v0: sets a share partition's state epoch and start
 * offset with nothing in flight (-1: decided by share.auto.offset.reset at the first fetch).
 * FENCED_STATE_EPOCH when the stored state epoch is newer. See share-state-common.ts.
 */
import { InitializeShareGroupStateApi, InitializeShareGroupStateRequest, InitializeShareGroupStateResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { forEachStatePartition } from './share-state-common';

export const initializeShareGroupStateHandler: Handler<InitializeShareGroupStateRequest, Encodable<InitializeShareGroupStateResponse>> = {
  apiKey: InitializeShareGroupStateApi.key,
  minVersion: InitializeShareGroupStateApi.minVersion,
  maxVersion: InitializeShareGroupStateApi.maxVersion,
  handle(ctx, req) {
    return forEachStatePartition(ctx, req, {}, (c, topicId, p) => ({
      errorCode: c.writeState(req.groupId, topicId, p.partition, { stateEpoch: p.stateEpoch, startOffset: p.startOffset, stateBatches: [] }, true),
      errorMessage: null,
    }));
  },
};
