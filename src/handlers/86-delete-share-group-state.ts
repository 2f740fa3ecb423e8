/**
 * DeleteShareGroupState (key 86), v0: forgets a share partition's state (in memory and
 * stored). Deleting state that does not exist succeeds. See share-state-common.ts.
 */
import { DeleteShareGroupStateApi, DeleteShareGroupStateRequest, DeleteShareGroupStateResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { forEachStatePartition } from './share-state-common';

export const deleteShareGroupStateHandler: Handler<DeleteShareGroupStateRequest, Encodable<DeleteShareGroupStateResponse>> = {
  apiKey: DeleteShareGroupStateApi.key,
  minVersion: DeleteShareGroupStateApi.minVersion,
  maxVersion: DeleteShareGroupStateApi.maxVersion,
  handle(ctx, req) {
    return forEachStatePartition(ctx, req, {}, (c, topicId, p) => {
      c.dropState(req.groupId, topicId, p.partition);
      return { errorCode: ErrorCode.NONE, errorMessage: null };
    });
  },
};
