/**
 * Incremental fetch sessions (KIP-227). A consumer or follower that fetches the same
 * partitions again and again sends them once (session epoch 0), gets a session id back, and
 * from then on sends only what changed (its fetch offsets, partitions to add or forget). The
 * broker answers only the partitions with something new: records, a moved high watermark or
 * log start offset, or an error.
 *
 * Sessions belong to the node that created them (a session id means nothing on another
 * broker) and outlive connections, as in Kafka. The cache holds at most
 * max.incremental.fetch.session.cache.slots sessions; when full, a new session may take the
 * place of one unused for min.incremental.fetch.session.eviction.ms, or of a smaller consumer
 * session (follower sessions are never evicted by consumer ones); otherwise the fetch is
 * answered without a session (id 0) and the client keeps sending full requests.
 */
import * as crypto from 'crypto';
import { ErrorCode } from '../protocol/errors';
import type { FetchRequest, FetchRequestTopics, FetchResponse, FetchResponseResponses, FetchResponseResponsesPartitions } from '../protocol/generated';
import type { Encodable } from '../protocol/encodable';

/** A fetch session epoch that asks for a full fetch and a new session. */
const INITIAL_EPOCH = 0;
/** A fetch session epoch that asks for a full fetch and no session. */
const FINAL_EPOCH = -1;

export interface FetchSessionLimits {
  maxSlots(): number;
  evictionMs(): number;
}

/** One partition of a session: the client's last request parameters and what it was last told. */
interface SessionPartition {
  topic: string;
  topicId: string;
  partition: number;
  fetchOffset: number;
  logStartOffset: number;
  partitionMaxBytes: number;
  currentLeaderEpoch: number;
  lastFetchedEpoch: number;
  /** The high watermark last sent; -1 forces the next response to include the partition. */
  sentHighWatermark: number;
  sentLogStartOffset: number;
}

class FetchSession {
  /** Insertion order is read order; partitions that return data move to the end (fairness). */
  readonly partitions = new Map<string, SessionPartition>();
  /** The epoch the next incremental request must carry. */
  epoch = 1;

  constructor(
    readonly id: number,
    readonly nodeId: number,
    readonly usesTopicIds: boolean,
    readonly privileged: boolean,
    public lastUsedMs: number,
  ) {}
}

type PartitionResponse = Encodable<FetchResponseResponsesPartitions>;
type TopicResponse = Encodable<FetchResponseResponses>;

/**
 * How one fetch request relates to the sessions: which partitions to read, and how to turn
 * the full answer into the one the client gets.
 */
export interface FetchSessionContext {
  /** A top-level error (unknown session, wrong epoch): answer it and read nothing. */
  readonly errorCode: number;
  /** The partitions to read, grouped by topic in read order. */
  readonly topics: FetchRequestTopics[];
  /** Fills in the session id and, for an incremental fetch, drops the partitions with nothing new. */
  finish(response: Encodable<FetchResponse>): Encodable<FetchResponse>;
}

export class FetchSessionCache {
  private readonly sessions = new Map<number, FetchSession>();

  constructor(private readonly limits: FetchSessionLimits) {}

  get size(): number {
    return this.sessions.size;
  }

  /** Interprets a Fetch request's session fields (v7+); older versions have none. */
  open(nodeId: number, req: FetchRequest, version: number, follower: boolean, now = Date.now()): FetchSessionContext {
    const usesTopicIds = version >= 13;
    if (req.sessionEpoch === INITIAL_EPOCH || req.sessionEpoch === FINAL_EPOCH) {
      // A full request closes the session it names, if any.
      if (req.sessionId !== 0) this.remove(nodeId, req.sessionId);
      if (req.sessionEpoch === FINAL_EPOCH || version < 7) return sessionless(req.topics);
      return {
        errorCode: ErrorCode.NONE,
        topics: req.topics,
        finish: (response) => {
          const session = this.create(nodeId, req.topics, usesTopicIds, follower, now);
          if (session) recordSent(session, response, false);
          response.sessionId = session?.id ?? 0;
          return response;
        },
      };
    }
    const session = this.sessions.get(req.sessionId);
    if (!session || session.nodeId !== nodeId) return failed(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);
    if (session.epoch !== req.sessionEpoch) return failed(ErrorCode.INVALID_FETCH_SESSION_EPOCH);
    if (session.usesTopicIds !== usesTopicIds) return failed(ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR);
    applyChanges(session, req.topics, req.forgottenTopicsData, usesTopicIds);
    if (session.partitions.size === 0) {
      // Everything forgotten: the session has no purpose left.
      this.sessions.delete(session.id);
      return sessionless(req.topics);
    }
    session.lastUsedMs = now;
    session.epoch = session.epoch === 0x7fffffff ? 1 : session.epoch + 1;
    return {
      errorCode: ErrorCode.NONE,
      topics: groupByTopic(session.partitions.values()),
      finish: (response) => {
        recordSent(session, response, true);
        response.sessionId = session.id;
        return response;
      },
    };
  }

  private remove(nodeId: number, sessionId: number): void {
    if (this.sessions.get(sessionId)?.nodeId === nodeId) this.sessions.delete(sessionId);
  }

  private create(nodeId: number, topics: FetchRequestTopics[], usesTopicIds: boolean, privileged: boolean, now: number): FetchSession | null {
    const size = topics.reduce((n, t) => n + t.partitions.length, 0);
    if (this.limits.maxSlots() <= 0) return null;
    if (this.sessions.size >= this.limits.maxSlots() && !this.evictFor(size, privileged, now)) return null;
    let id: number;
    do id = crypto.randomInt(1, 0x7fffffff);
    while (this.sessions.has(id));
    const session = new FetchSession(id, nodeId, usesTopicIds, privileged, now);
    applyChanges(session, topics, [], usesTopicIds);
    this.sessions.set(id, session);
    return session;
  }

  /**
   * Frees a slot for a new session: a stale session goes first; otherwise a consumer session
   * smaller than the new one (a follower's new session may take any consumer session's slot).
   */
  private evictFor(size: number, privileged: boolean, now: number): boolean {
    let victim: FetchSession | null = null;
    for (const s of this.sessions.values()) {
      if (now - s.lastUsedMs >= this.limits.evictionMs()) {
        if (!victim || s.lastUsedMs < victim.lastUsedMs) victim = s;
      }
    }
    if (!victim) {
      for (const s of this.sessions.values()) {
        if (s.privileged) continue;
        if (!privileged && s.partitions.size >= size) continue;
        if (!victim || s.partitions.size < victim.partitions.size) victim = s;
      }
    }
    if (!victim) return false;
    this.sessions.delete(victim.id);
    return true;
  }
}

function keyOf(topic: string, topicId: string, partition: number, usesTopicIds: boolean): string {
  return `${usesTopicIds ? topicId : topic}:${partition}`;
}

function sessionless(topics: FetchRequestTopics[]): FetchSessionContext {
  return {
    errorCode: ErrorCode.NONE,
    topics,
    finish: (response) => {
      response.sessionId = 0;
      return response;
    },
  };
}

function failed(errorCode: number): FetchSessionContext {
  return { errorCode, topics: [], finish: (response) => response };
}

/** A request's partitions update or join the session; forgotten ones leave it. */
function applyChanges(session: FetchSession, topics: FetchRequestTopics[], forgotten: FetchRequest['forgottenTopicsData'], usesTopicIds: boolean): void {
  for (const t of topics) {
    for (const p of t.partitions) {
      const key = keyOf(t.topic, t.topicId, p.partition, usesTopicIds);
      const known = session.partitions.get(key);
      if (known) {
        known.fetchOffset = p.fetchOffset;
        known.logStartOffset = p.logStartOffset;
        known.partitionMaxBytes = p.partitionMaxBytes;
        known.currentLeaderEpoch = p.currentLeaderEpoch;
        known.lastFetchedEpoch = p.lastFetchedEpoch;
      } else {
        session.partitions.set(key, {
          topic: t.topic,
          topicId: t.topicId,
          partition: p.partition,
          fetchOffset: p.fetchOffset,
          logStartOffset: p.logStartOffset,
          partitionMaxBytes: p.partitionMaxBytes,
          currentLeaderEpoch: p.currentLeaderEpoch,
          lastFetchedEpoch: p.lastFetchedEpoch,
          sentHighWatermark: -1,
          sentLogStartOffset: -1,
        });
      }
    }
  }
  for (const t of forgotten) {
    for (const partition of t.partitions) session.partitions.delete(keyOf(t.topic, t.topicId, partition, usesTopicIds));
  }
}

/** Consecutive partitions of one topic form one topic entry, as Kafka groups its responses. */
function groupByTopic(partitions: Iterable<SessionPartition>): FetchRequestTopics[] {
  const out: FetchRequestTopics[] = [];
  let current: FetchRequestTopics | null = null;
  for (const p of partitions) {
    if (!current || current.topic !== p.topic || current.topicId !== p.topicId) {
      current = { topic: p.topic, topicId: p.topicId, partitions: [] };
      out.push(current);
    }
    current.partitions.push({
      partition: p.partition,
      currentLeaderEpoch: p.currentLeaderEpoch,
      fetchOffset: p.fetchOffset,
      lastFetchedEpoch: p.lastFetchedEpoch,
      logStartOffset: p.logStartOffset,
      partitionMaxBytes: p.partitionMaxBytes,
      replicaDirectoryId: '',
      highWatermark: -1,
    });
  }
  return out;
}

function recordsLength(p: PartitionResponse): number {
  const records = p.records as { length: number } | null;
  return records ? records.length : 0;
}

/**
 * Remembers what each partition's answer told the client. With `incremental`, the response
 * keeps only partitions with news (records, a moved high watermark or log start offset, an
 * error, a diverging epoch or a preferred replica) and those that carried records move to
 * the end of the session's read order.
 */
function recordSent(session: FetchSession, response: Encodable<FetchResponse>, incremental: boolean): void {
  const topics: TopicResponse[] = [];
  const moveToEnd: string[] = [];
  for (const t of response.responses ?? []) {
    const kept: PartitionResponse[] = [];
    for (const p of t.partitions ?? []) {
      const key = keyOf(t.topic ?? '', t.topicId ?? '', p.partitionIndex ?? -1, session.usesTopicIds);
      const cached = session.partitions.get(key);
      if (!cached) continue;
      const hasRecords = recordsLength(p) > 0;
      let news = hasRecords || p.errorCode !== ErrorCode.NONE;
      if (cached.sentHighWatermark !== p.highWatermark) news = true;
      if (cached.sentLogStartOffset !== p.logStartOffset) news = true;
      if ((p.preferredReadReplica ?? -1) >= 0 || (p.divergingEpoch ?? null) !== null) news = true;
      // After an error, the partition is sent again once it has recovered.
      cached.sentHighWatermark = p.errorCode !== ErrorCode.NONE ? -1 : (p.highWatermark ?? -1);
      cached.sentLogStartOffset = p.logStartOffset ?? -1;
      if (!incremental || news) kept.push(p);
      if (incremental && hasRecords) moveToEnd.push(key);
    }
    if (kept.length > 0) topics.push({ ...t, partitions: kept });
  }
  for (const key of moveToEnd) {
    const p = session.partitions.get(key)!;
    session.partitions.delete(key);
    session.partitions.set(key, p);
  }
  if (incremental) response.responses = topics;
}
