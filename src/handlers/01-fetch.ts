/**
 * Fetch (key 1), v4-18.
 * Records go out as file regions of the segment files (see PartitionLog.read): nothing is
 * decoded or copied into the response on the way. The first batch of the first partition
 * with data is returned whole even when it exceeds the size limits, as Kafka does; later
 * partitions only get data that fits the remaining response budget.
 * Long poll: until min_bytes are available or max_wait_ms passes, the fetch parks on the
 * partitions it reads and is woken by Produce.
 * Fetch sessions (KIP-227, src/server/fetch-session-cache.ts): a request with session epoch 0
 * gets a session; incremental requests then name only what changed, and their responses carry
 * only partitions with news.
 * Partitions of unknown topics, and topics the client may not read, are answered with their
 * error but do not end the long poll on the others (Kafka sets them aside before reading);
 * an error reading a known partition answers at once.
 * Isolation: every partition reports its last stable offset (the first offset of the oldest
 * open transaction, or the high watermark). read_committed reads stop at the LSO and list the
 * aborted transactions that overlap the range from fetchOffset to the LSO (the producer state's
 * copy of the .txnindex entries); the client drops those records. Kafka bounds that list by
 * the end of the returned data rather than the LSO: the longer list here is still correct.
 * read_uncommitted reads up to the high watermark, control batches included, as in Kafka.
 * A partition this node does not lead answers NOT_LEADER_OR_FOLLOWER, from v12 with its
 * current leader and from v16 that leader's endpoint (KIP-951). No follower fetching
 * (KIP-392): nodes have no rack, so consumers always read from the leader.
 * With the authorizer on, a topic the client may not READ answers TOPIC_AUTHORIZATION_FAILED
 * for each of its partitions (followers need CLUSTER_ACTION instead).
 */
import {
  FetchApi,
  FetchRequest,
  FetchRequestTopics,
  FetchResponse,
  FetchResponseResponses,
  FetchResponseResponsesPartitions,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import { authorizerOf, findPartition, LeaderHints, leaderEpochError } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import { fetchQuota } from '../quota/hooks';

type PartitionData = Encodable<FetchResponseResponsesPartitions>;

export const fetchHandler: Handler<FetchRequest, Encodable<FetchResponse>> = {
  apiKey: FetchApi.key,
  minVersion: Math.max(4, FetchApi.minVersion),
  maxVersion: FetchApi.maxVersion,
  async handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const follower = (req.replicaState?.replicaId ?? req.replicaId) >= 0;
    const session = ctx.cluster.fetchSessions.open(ctx.node.id, req, version, follower);
    if (session.errorCode !== ErrorCode.NONE) return topLevelError(session.errorCode);
    const topics = session.topics;
    const denied = authorizerOf(ctx) ? refusedTopics(ctx, topics, follower) : null;
    // consumer_byte_rate (src/quota): one check when no quota is set; may shrink max/min bytes.
    const quota = ctx.cluster.quotas.active ? fetchQuota(ctx, req) : null;
    const deadline = Date.now() + Math.max(0, req.maxWaitMs);
    for (;;) {
      const { response, bytes, hasError } = readOnce(ctx, req, topics, denied);
      const remaining = deadline - Date.now();
      const done = bytes >= req.minBytes || hasError || remaining <= 0 || ctx.connection.isClosed;
      const watched = done ? [] : watchedPartitions(ctx, topics, denied);
      if (watched.length === 0) return counted(ctx, req, session.finish(quota ? quota.finish(response, bytes) : response));
      await ctx.cluster.waiters.wait(watched, remaining);
    }
  },
};

/** The response, counted in the broker's metrics (bytes and offsets out per topic) when they are on. */
function counted(ctx: RequestContext, req: FetchRequest, response: Encodable<FetchResponse>): Encodable<FetchResponse> {
  ctx.cluster.metrics?.fetched(ctx.header.apiVersion >= 13, req, response);
  return response;
}

function topLevelError(errorCode: number): Encodable<FetchResponse> {
  return { throttleTimeMs: 0, errorCode, sessionId: 0, responses: [] };
}

/**
 * The request's topics (by position) the connection may not read: consumers need READ on
 * each topic, followers (a replica id set) CLUSTER_ACTION on the cluster for all of them.
 * Decided once per request, not on every long-poll wake-up. A topic id that names no topic
 * is left to the UNKNOWN_TOPIC_ID answer.
 */
function refusedTopics(ctx: RequestContext, topics: FetchRequestTopics[], follower: boolean): Set<number> | null {
  const authz = ctx.cluster.acls;
  if (follower && !authz.authorizeCluster(ctx.connection, AclOperation.CLUSTER_ACTION)) return new Set(topics.map((_, i) => i));
  if (follower) return null;
  const byId = ctx.header.apiVersion >= 13;
  let out: Set<number> | null = null;
  topics.forEach((t, i) => {
    const name = byId ? ctx.cluster.topics.getById(t.topicId)?.name : t.topic;
    if (name !== undefined && !authz.authorize(ctx.connection, AclOperation.READ, ResourceType.TOPIC, name)) (out ??= new Set()).add(i);
  });
  return out;
}

/** The partitions a long poll waits on: those that exist and may be read. */
function watchedPartitions(ctx: RequestContext, topics: FetchRequestTopics[], denied: Set<number> | null): { topic: string; partition: number }[] {
  const byId = ctx.header.apiVersion >= 13;
  const out: { topic: string; partition: number }[] = [];
  topics.forEach((t, i) => {
    if (denied !== null && denied.has(i)) return;
    const topic = byId ? ctx.cluster.topics.getById(t.topicId) : ctx.cluster.topics.get(t.topic);
    if (!topic) return;
    for (const p of t.partitions) if (topic.partitions[p.partition]) out.push({ topic: topic.name, partition: p.partition });
  });
  return out;
}

function readOnce(ctx: RequestContext, req: FetchRequest, topics: FetchRequestTopics[], denied: Set<number> | null) {
  const { cluster } = ctx;
  const byId = ctx.header.apiVersion >= 13;
  let budget = req.maxBytes > 0 ? req.maxBytes : 0;
  let bytes = 0;
  let hasError = false;
  let first = true;
  let hints: LeaderHints | null = null;
  const responses: Encodable<FetchResponseResponses>[] = [];
  for (let ti = 0; ti < topics.length; ti++) {
    const t = topics[ti];
    const partitions: PartitionData[] = [];
    const refused = denied !== null && denied.has(ti);
    for (const p of t.partitions) {
      const found = refused
        ? { partition: undefined, error: ErrorCode.TOPIC_AUTHORIZATION_FAILED }
        : findPartition(cluster, byId, t.topic, t.topicId, p.partition);
      const partition = found.partition;
      const out: PartitionData = {
        partitionIndex: p.partition,
        errorCode: found.error,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions: null,
        preferredReadReplica: -1,
        // Kafka sends an empty record set (never null) with an error; librdkafka rejects null.
        records: EMPTY,
      };
      partitions.push(out);
      // Unknown or refused partitions are answered but, as in Kafka, do not end the wait.
      if (!partition) continue;
      if (partition.leader !== ctx.node.id) {
        out.errorCode = ErrorCode.NOT_LEADER_OR_FOLLOWER;
        if (ctx.header.apiVersion >= 12) out.currentLeader = (hints ??= new LeaderHints(ctx)).of(partition);
        hasError = true;
        continue;
      }
      const log = partition.log;
      const producers = cluster.producerStates.of(log);
      const lastStable = producers.lastStableOffset;
      const readCommitted = req.isolationLevel === 1;
      out.errorCode = leaderEpochError(partition, p.currentLeaderEpoch);
      out.highWatermark = log.logEndOffset;
      out.lastStableOffset = lastStable;
      out.logStartOffset = log.logStartOffset;
      if (readCommitted) out.abortedTransactions = [];
      if (out.errorCode !== ErrorCode.NONE) {
        hasError = true;
        continue;
      }
      const limit = Math.min(p.partitionMaxBytes, budget);
      if (p.fetchOffset === log.logEndOffset || (limit <= 0 && !first) || p.partitionMaxBytes <= 0) {
        out.records = EMPTY;
        continue;
      }
      // Only the first partition with data may exceed the limits (one whole batch); later
      // ones are cut at the remaining budget, possibly inside a batch, as Kafka does.
      let result;
      try {
        result = log.read(p.fetchOffset, limit, first, readCommitted ? lastStable : Infinity);
      } catch (err) {
        // An index that cannot be loaded (EMFILE, EIO): this partition fails, the others are served.
        cluster.log.error('read failed', { topic: partition.topic.name, partition: p.partition, error: (err as Error).message });
        out.errorCode = ErrorCode.KAFKA_STORAGE_ERROR;
        hasError = true;
        continue;
      }
      if (result.errorCode !== ErrorCode.NONE) {
        out.errorCode = result.errorCode;
        hasError = true;
        continue;
      }
      if (result.length === 0) {
        out.records = EMPTY;
        continue;
      }
      first = false;
      if (readCommitted) out.abortedTransactions = producers.abortedTransactions(p.fetchOffset, lastStable) ?? [];
      out.records = { length: result.length, chunks: result.regions };
      bytes += result.length;
      budget = Math.max(0, budget - result.length);
    }
    responses.push({ topic: t.topic, topicId: t.topicId, partitions });
  }
  const response: Encodable<FetchResponse> = { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses };
  if (hints && !hints.empty && ctx.header.apiVersion >= 16) response.nodeEndpoints = hints.endpoints();
  return { response, bytes, hasError };
}

const EMPTY = Buffer.alloc(0);
