/**
 * ShareAcknowledge (key 79), v1-2: acknowledgements outside a ShareFetch, within the
 * member's share session (epoch n > 0 continues it; -1 closes it afterwards, releasing the
 * records the member still holds; 0 is INVALID_SHARE_SESSION_EPOCH: a session is opened by
 * ShareFetch). Acknowledge types: 1 accept, 2 release, 3 reject, 0 gap, and from v2 4 renew
 * (KIP-1222, extends the acquisition lock). An offset not acquired by the member answers
 * INVALID_RECORD_STATE for its partition and leaves the batch unapplied.
 * With the authorizer on: READ on the group and on each topic, as ShareFetch.
 */
import { ShareAcknowledgeApi, ShareAcknowledgeRequest, ShareAcknowledgeResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { applyAcks, AckPartition, closeSession, coordinatorOf, currentLeader, FINAL_EPOCH, groupByTopic, shareRequestError, useSession } from './share-common';

export const shareAcknowledgeHandler: Handler<ShareAcknowledgeRequest, Encodable<ShareAcknowledgeResponse>> = {
  apiKey: ShareAcknowledgeApi.key,
  minVersion: Math.max(1, ShareAcknowledgeApi.minVersion),
  maxVersion: ShareAcknowledgeApi.maxVersion,
  handle(ctx, req) {
    const epoch = req.shareSessionEpoch;
    const topLevel = (errorCode: number, errorMessage: string | null): Encodable<ShareAcknowledgeResponse> => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      acquisitionLockTimeoutMs: 0,
      responses: [],
      nodeEndpoints: [],
    });
    const acks: AckPartition[] = req.topics.flatMap((t) => t.partitions.map((p) => ({ topicId: t.topicId, partitionIndex: p.partitionIndex, batches: p.acknowledgementBatches })));
    const refused = shareRequestError(ctx, req.groupId, req.memberId, epoch, acks, false);
    if (refused) return topLevel(refused.errorCode, refused.errorMessage);
    const groupId = req.groupId as string;
    const memberId = req.memberId as string;
    const coordinator = coordinatorOf(ctx);
    const { errorCode } = useSession(coordinator, groupId, memberId, epoch);
    if (errorCode !== ErrorCode.NONE) return topLevel(errorCode, null);
    const entries = new Map<string, Encodable<ShareAcknowledgeResponse['responses'][number]['partitions'][number]>>();
    for (const o of applyAcks(ctx, coordinator, groupId, memberId, acks)) {
      entries.set(`${o.topicId}:${o.partitionIndex}`, {
        partitionIndex: o.partitionIndex,
        errorCode: o.errorCode,
        errorMessage: o.errorMessage,
        currentLeader: currentLeader(ctx, o.topicId, o.partitionIndex),
      });
    }
    if (epoch === FINAL_EPOCH) closeSession(coordinator, groupId, memberId);
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      acquisitionLockTimeoutMs: coordinator.limits(groupId).lockDurationMs,
      responses: groupByTopic(entries),
      nodeEndpoints: [],
    };
  },
};
