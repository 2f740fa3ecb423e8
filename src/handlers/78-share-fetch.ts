/**
 * ShareFetch (key 78), v1-2 (v0 was Kafka 4.0's early access and is gone from 4.1).
 * Opens, continues or closes the member's share session (see share-sessions.ts), applies
 * the acknowledgements it carries, then acquires records of the session's partitions for the
 * member: Available records first (redeliveries), then new ones from the share-partition end
 * offset. The response sends the stored batches holding the acquired offsets unchanged (file
 * regions, as Fetch does) and lists the acquired ranges; the client keeps only those offsets.
 * Long poll: with nothing to acquire, waits up to max_wait_ms for a produce, a release (an
 * acknowledgement, a closed session, a member timing out) or an expiring acquisition lock. min_bytes is treated as "at least one record".
 * v2 (KIP-1206/1222): share_acquire_mode 1 (record_limit) stops exactly at max_records;
 * is_renew_ack applies the acknowledgements (renew included) and fetches nothing.
 * With the authorizer on: READ on the group (else GROUP_AUTHORIZATION_FAILED) and READ on
 * each topic (else TOPIC_AUTHORIZATION_FAILED for its partitions).
 * share.isolation.level=read_committed stops at the last stable offset and archives the
 * batches of aborted transactions (they are never acquired); transaction markers are archived
 * in both modes.
 */
import { ShareFetchApi, ShareFetchRequest, ShareFetchResponse, ShareFetchResponseResponsesPartitions } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import {
  applyAcks,
  AckPartition,
  closeSession,
  coordinatorOf,
  currentLeader,
  FINAL_EPOCH,
  groupByTopic,
  INITIAL_EPOCH,
  shareLog,
  shareRequestError,
  useSession,
} from './share-common';
import type { ShareCoordinator, ShareFetchPart } from '../coordinator/share/share-coordinator';
import type { ShareSession } from '../coordinator/share/share-sessions';

type PartitionData = Encodable<ShareFetchResponseResponsesPartitions>;

const RECORD_LIMIT_MODE = 1;
const EMPTY = Buffer.alloc(0);

export const shareFetchHandler: Handler<ShareFetchRequest, Encodable<ShareFetchResponse>> = {
  apiKey: ShareFetchApi.key,
  minVersion: Math.max(1, ShareFetchApi.minVersion),
  maxVersion: ShareFetchApi.maxVersion,
  async handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const epoch = req.shareSessionEpoch;
    const acks: AckPartition[] = req.topics.flatMap((t) => t.partitions.map((p) => ({ topicId: t.topicId, partitionIndex: p.partitionIndex, batches: p.acknowledgementBatches })));
    const refused = shareRequestError(ctx, req.groupId, req.memberId, epoch, acks, true);
    if (refused) return topLevel(refused.errorCode, refused.errorMessage);
    const groupId = req.groupId as string;
    const memberId = req.memberId as string;
    const coordinator = coordinatorOf(ctx);
    const lockMs = coordinator.limits(groupId).lockDurationMs;
    const { errorCode, session } = useSession(coordinator, groupId, memberId, epoch);
    if (errorCode !== ErrorCode.NONE) return topLevel(errorCode, null);
    if (session && epoch !== FINAL_EPOCH) {
      for (const t of req.topics) for (const p of t.partitions) session.add(t.topicId, p.partitionIndex);
      const forgotten = new Set<string>();
      for (const f of req.forgottenTopicsData) for (const p of f.partitions) if (session.forget(f.topicId, p)) forgotten.add(`${f.topicId}:${p}`);
      if (forgotten.size > 0) coordinator.releaseMember(groupId, memberId, forgotten);
    }
    const entries = new Map<string, PartitionData>();
    const entry = (topicId: string, partition: number): PartitionData => {
      const key = `${topicId}:${partition}`;
      let e = entries.get(key);
      if (!e) {
        e = {
          partitionIndex: partition,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          acknowledgeErrorCode: ErrorCode.NONE,
          acknowledgeErrorMessage: null,
          currentLeader: currentLeader(ctx, topicId, partition),
          records: EMPTY,
          acquiredRecords: [],
        };
        entries.set(key, e);
      }
      return e;
    };
    for (const o of applyAcks(ctx, coordinator, groupId, memberId, acks)) entry(o.topicId, o.partitionIndex).acknowledgeErrorCode = o.errorCode;
    if (epoch === FINAL_EPOCH) closeSession(coordinator, groupId, memberId);
    const renewOnly = version >= 2 && req.isRenewAck;
    if (session && epoch !== FINAL_EPOCH && !renewOnly) {
      if (epoch === INITIAL_EPOCH) for (const ref of session.partitions.values()) entry(ref.topicId, ref.partition);
      await fetchInto(ctx, req, coordinator, groupId, memberId, session, entry);
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      acquisitionLockTimeoutMs: lockMs,
      responses: groupByTopic(entries),
      nodeEndpoints: [],
    };
  },
};

function topLevel(errorCode: number, errorMessage: string | null): Encodable<ShareFetchResponse> {
  return { throttleTimeMs: 0, errorCode, errorMessage, acquisitionLockTimeoutMs: 0, responses: [], nodeEndpoints: [] };
}

/** Acquires from the session's partitions, long-polling while there is nothing to acquire. */
async function fetchInto(
  ctx: RequestContext,
  req: ShareFetchRequest,
  coordinator: ShareCoordinator,
  groupId: string,
  memberId: string,
  session: ShareSession,
  entry: (topicId: string, partition: number) => PartitionData,
): Promise<void> {
  const strict = ctx.header.apiVersion >= 2 && req.shareAcquireMode === RECORD_LIMIT_MODE;
  const maxRecords = req.maxRecords > 0 ? req.maxRecords : Number.MAX_SAFE_INTEGER;
  const deadline = Date.now() + Math.max(0, req.maxWaitMs);
  for (;;) {
    let records = 0;
    let bytes = 0;
    const readable: { topicId: string; partition: number; topic: string; log: NonNullable<ReturnType<typeof shareLog>['log']> }[] = [];
    for (const ref of session.partitions.values()) {
      const { log, errorCode } = shareLog(ctx, ref.topicId, ref.partition);
      if (!log) {
        entry(ref.topicId, ref.partition).errorCode = errorCode;
        continue;
      }
      readable.push({ topicId: ref.topicId, partition: ref.partition, topic: ctx.cluster.topics.getById(ref.topicId)!.name, log });
      if (records >= maxRecords || (req.maxBytes > 0 && bytes >= req.maxBytes)) continue;
      const budget = req.maxBytes > 0 ? req.maxBytes - bytes : Number.MAX_SAFE_INTEGER;
      const part: ShareFetchPart = coordinator.acquire(groupId, memberId, ref.topicId, ref.partition, log, maxRecords - records, budget, strict);
      if (part.acquired.length === 0) continue;
      const e = entry(ref.topicId, ref.partition);
      e.acquiredRecords = part.acquired;
      e.records = { length: part.bytes, chunks: part.regions };
      bytes += part.bytes;
      for (const r of part.acquired) records += r.lastOffset - r.firstOffset + 1;
    }
    const remaining = deadline - Date.now();
    if (records > 0 || remaining <= 0 || readable.length === 0 || ctx.connection.isClosed) return;
    const { available, nextExpiry } = coordinator.readiness(groupId, readable);
    // Records came back (a lock expired) since this pass: look again shortly, never spin.
    const wait = available ? 5 : Math.max(1, Math.min(remaining, nextExpiry - Date.now()));
    await ctx.cluster.waiters.wait(
      readable.map((r) => ({ topic: r.topic, partition: r.partition })),
      wait,
    );
  }
}
