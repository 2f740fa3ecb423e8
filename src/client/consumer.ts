/**
 * A fetching consumer. Without a group it reads the partitions it is given from a start
 * position; with a group it joins with the classic protocol (JoinGroup/SyncGroup, range
 * assignment by the leader), starts from committed offsets, heartbeats, commits what it has
 * handed out (every autoCommitMs and on stop) and leaves the group on stop.
 *
 * Fetches are sessionless (every request names every partition), one request per leader,
 * with the next round sent before the caller has finished with the last one's records.
 */
import { Admin, decodeAssignment, decodeSubscription, EARLIEST, encodeAssignment, encodeSubscription, LATEST, TopicPartition } from './admin';
import { KafkaClient, sleep, ZERO_UUID } from './client';
import { ClientError, errorLabel, isRetriable } from './errors';
import { decodeBatches, InRecord } from './records';

/** Where to start: earliest, latest, an absolute offset, an offset relative to the end (-n), or a timestamp. */
export type StartSpec = { kind: 'earliest' } | { kind: 'latest' } | { kind: 'offset'; offset: number } | { kind: 'relative'; back: number } | { kind: 'timestamp'; ms: number };

export interface ConsumerOptions {
  topics: string[];
  /** Restrict to these partitions (no group). */
  partitions?: number[] | null;
  start?: StartSpec;
  group?: string | null;
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel?: number;
  maxWaitMs?: number;
  maxBytes?: number;
  partitionMaxBytes?: number;
  sessionTimeoutMs?: number;
  autoCommitMs?: number;
}

export interface FetchedBatch {
  topic: string;
  partition: number;
  records: InRecord[];
  highWatermark: number;
  /** Offset after this batch (past control records too). */
  nextOffset: number;
}

interface Position {
  topic: string;
  partition: number;
  offset: number;
  /** Next offset not yet handed to the caller: what a group commits. */
  consumed: number;
  /** Last end offset seen (high watermark, or last stable offset under read_committed). */
  end: number;
}

export class Consumer {
  private positions = new Map<string, Position>();
  private stopped = false;
  private generation: { id: number; memberId: string } | null = null;
  private rejoinNeeded = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private lastCommitted = new Map<string, number>();
  private readonly admin: Admin;
  private wake: (() => void) | null = null;

  constructor(
    readonly client: KafkaClient,
    readonly opts: ConsumerOptions,
  ) {
    this.admin = new Admin(client);
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Partitions at or past their end offset as of the last fetch, out of all assigned. */
  atEnd(): boolean {
    for (const p of this.positions.values()) if (p.end < 0 || p.consumed < p.end) return false;
    return !this.rejoinNeeded;
  }

  assigned(): TopicPartition[] {
    return [...this.positions.values()].map((p) => ({ topic: p.topic, partition: p.partition }));
  }

  /**
   * Fetches until stop() (or, with exitAtEnd, until every partition is consumed up to its
   * end offset); `onBatch` gets each partition's records in offset order, may return a promise
   * (the next fetch is already under way meanwhile) and may return the offset after the last
   * record it really used (when it stops part way), which is what a group then commits.
   */
  async run(onBatch: (b: FetchedBatch) => void | number | Promise<void | number>, exitAtEnd = false): Promise<void> {
    try {
      if (this.opts.group) await this.join();
      else await this.assign(await this.allPartitions());
      let next: Promise<FetchedBatch[]> | null = null;
      while (!this.stopped) {
        if (this.rejoinNeeded) {
          if (next) await next.catch(() => undefined);
          next = null;
          await this.commit();
          await this.join();
          continue;
        }
        const batches = await (next ?? this.fetchRound());
        next = this.stopped || this.rejoinNeeded ? null : this.fetchRound();
        next?.catch(() => undefined);
        for (const b of batches) {
          if (this.stopped) break;
          const used = await onBatch(b);
          const pos = this.positions.get(`${b.topic}:${b.partition}`);
          if (pos) pos.consumed = typeof used === 'number' ? used : b.nextOffset;
        }
        if (exitAtEnd && this.atEnd()) this.stopped = true;
      }
      if (next) await next.catch(() => undefined);
    } finally {
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      if (this.opts.group && this.generation) {
        await this.commit().catch(() => undefined);
        await this.leave().catch(() => undefined);
      }
    }
  }

  private async allPartitions(): Promise<TopicPartition[]> {
    const out: TopicPartition[] = [];
    for (const topic of this.opts.topics) {
      const parts = await this.client.partitions(topic);
      for (const p of parts) if (!this.opts.partitions || this.opts.partitions.includes(p.partition)) out.push({ topic, partition: p.partition });
      if (this.opts.partitions) {
        for (const want of this.opts.partitions) if (!parts.some((p) => p.partition === want)) throw new ClientError(`topic "${topic}" has no partition ${want}`, { code: 3 });
      }
    }
    return out;
  }

  /** Sets positions for `parts`: committed offsets first (groups), then the start spec. */
  private async assign(parts: TopicPartition[]): Promise<void> {
    this.positions.clear();
    if (parts.length === 0) return;
    const committed = this.opts.group ? await this.admin.fetchOffsets(this.opts.group, parts) : new Map<string, number>();
    this.lastCommitted = new Map(committed);
    const missing = parts.filter((p) => !committed.has(`${p.topic}:${p.partition}`));
    const starts = await this.startOffsets(missing, this.opts.start ?? { kind: 'latest' });
    for (const p of parts) {
      const k = `${p.topic}:${p.partition}`;
      const offset = committed.get(k) ?? starts.get(k)!;
      this.positions.set(k, { ...p, offset, consumed: offset, end: -1 });
    }
  }

  private async startOffsets(parts: TopicPartition[], spec: StartSpec): Promise<Map<string, number>> {
    if (parts.length === 0) return new Map();
    const iso = this.opts.isolationLevel ?? 0;
    switch (spec.kind) {
      case 'earliest':
        return this.admin.listOffsets(parts, EARLIEST, iso);
      case 'latest':
        return this.admin.listOffsets(parts, LATEST, iso);
      case 'offset': {
        // An absolute offset, clamped into [earliest, latest] as kcat does.
        const [lo, hi] = await Promise.all([this.admin.listOffsets(parts, EARLIEST, iso), this.admin.listOffsets(parts, LATEST, iso)]);
        return new Map([...lo].map(([k, l]) => [k, Math.min(Math.max(spec.offset, l), hi.get(k)!)]));
      }
      case 'relative': {
        const [lo, hi] = await Promise.all([this.admin.listOffsets(parts, EARLIEST, iso), this.admin.listOffsets(parts, LATEST, iso)]);
        return new Map([...hi].map(([k, h]) => [k, Math.max(lo.get(k)!, h - spec.back)]));
      }
      case 'timestamp': {
        const at = await this.admin.listOffsets(parts, spec.ms, iso);
        const hi = await this.admin.listOffsets(parts, LATEST, iso);
        // No record at or after the time: start at the end.
        return new Map([...at].map(([k, o]) => [k, o >= 0 ? o : hi.get(k)!]));
      }
    }
  }

  private async fetchRound(): Promise<FetchedBatch[]> {
    const parts = [...this.positions.values()];
    if (parts.length === 0) {
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, this.opts.maxWaitMs ?? 500);
      });
      return [];
    }
    const byLeader = new Map<number, Position[]>();
    for (const p of parts) {
      let leader: number;
      try {
        leader = await this.client.leaderFor(p.topic, p.partition);
      } catch (err) {
        if (err instanceof ClientError && err.code !== null && isRetriable(err.code)) {
          await this.client.partitions(p.topic, true).catch(() => undefined);
          continue;
        }
        throw err;
      }
      if (!byLeader.has(leader)) byLeader.set(leader, []);
      byLeader.get(leader)!.push(p);
    }
    const all = await Promise.all([...byLeader].map(([leader, ps]) => this.fetchFrom(leader, ps)));
    return all.flat();
  }

  private async fetchFrom(leader: number, ps: Position[]): Promise<FetchedBatch[]> {
    const conn = await this.client.broker(leader);
    const topics = new Map<string, Position[]>();
    for (const p of ps) {
      if (!topics.has(p.topic)) topics.set(p.topic, []);
      topics.get(p.topic)!.push(p);
    }
    const requested = new Map(ps.map((p) => [`${p.topic}:${p.partition}`, p.offset]));
    const maxWaitMs = this.opts.maxWaitMs ?? 500;
    const res = await conn.request(
      1,
      12,
      {
        clusterId: null,
        replicaId: -1,
        replicaState: null,
        maxWaitMs,
        minBytes: 1,
        maxBytes: this.opts.maxBytes ?? 16 * 1024 * 1024,
        isolationLevel: this.opts.isolationLevel ?? 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [...topics].map(([topic, list]) => ({
          topic,
          topicId: ZERO_UUID,
          partitions: list.map((p) => ({ partition: p.partition, currentLeaderEpoch: -1, fetchOffset: p.offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: this.opts.partitionMaxBytes ?? 2 * 1024 * 1024, replicaDirectoryId: ZERO_UUID, highWatermark: -1 })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      },
      { timeoutMs: maxWaitMs + 30_000 },
    );
    if (res.errorCode) throw new ClientError(`fetch from broker ${leader}: ${errorLabel(res.errorCode)}`, { code: res.errorCode });
    const out: FetchedBatch[] = [];
    for (const t of res.responses) {
      for (const p of t.partitions) {
        const k = `${t.topic}:${p.partitionIndex}`;
        const pos = this.positions.get(k);
        const from = requested.get(k);
        // A rebalance or reset moved this partition while the fetch was out: drop the answer.
        if (!pos || from === undefined || pos.offset !== from) continue;
        if (p.errorCode === 1) {
          const reset = await this.startOffsets([pos], this.opts.start?.kind === 'earliest' ? { kind: 'earliest' } : { kind: 'latest' });
          pos.offset = pos.consumed = reset.get(k)!;
          continue;
        }
        if (p.errorCode !== 0) {
          if (isRetriable(p.errorCode)) {
            await this.client.partitions(t.topic, true).catch(() => undefined);
            continue;
          }
          throw new ClientError(`fetch ${t.topic}-${p.partitionIndex}: ${errorLabel(p.errorCode)}`, { code: p.errorCode });
        }
        const decoded = await decodeBatches(p.records, from, (this.opts.isolationLevel ?? 0) === 1 ? (p.abortedTransactions ?? []) : null);
        pos.end = (this.opts.isolationLevel ?? 0) === 1 && p.lastStableOffset >= 0 ? p.lastStableOffset : p.highWatermark;
        // Position moves past control batches and aborted data too, not only past returned records.
        pos.offset = decoded.nextOffset;
        if (decoded.nextOffset > from) out.push({ topic: t.topic, partition: p.partitionIndex, records: decoded.records, highWatermark: p.highWatermark, nextOffset: decoded.nextOffset });
      }
    }
    return out;
  }

  /** Commits the current positions where they moved since the last commit. */
  async commit(): Promise<void> {
    if (!this.opts.group || !this.generation) return;
    const changed = new Map<string, number>();
    for (const [k, p] of this.positions) if (this.lastCommitted.get(k) !== p.consumed) changed.set(k, p.consumed);
    if (changed.size === 0) return;
    try {
      await this.admin.commitOffsets(this.opts.group, changed, { generationId: this.generation.id, memberId: this.generation.memberId });
      for (const [k, o] of changed) this.lastCommitted.set(k, o);
    } catch (err) {
      if (err instanceof ClientError && (err.code === 27 || err.code === 22 || err.code === 25)) this.rejoinNeeded = true;
      else throw err;
    }
  }

  private async join(): Promise<void> {
    const group = this.opts.group!;
    const sessionTimeoutMs = this.opts.sessionTimeoutMs ?? 10_000;
    let memberId = this.generation?.memberId ?? '';
    this.rejoinNeeded = false;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) return;
      const conn = await this.client.coordinator(group, 0, attempt > 0);
      const join = await conn.request(
        11,
        7,
        {
          groupId: group,
          sessionTimeoutMs,
          rebalanceTimeoutMs: 30_000,
          memberId,
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: encodeSubscription(this.opts.topics) }],
          reason: null,
        },
        { timeoutMs: 60_000 },
      );
      if (join.errorCode === 79 /* MEMBER_ID_REQUIRED */) {
        memberId = join.memberId;
        continue;
      }
      if (join.errorCode === 25 /* UNKNOWN_MEMBER_ID */) {
        memberId = '';
        continue;
      }
      if (isRetriable(join.errorCode) || join.errorCode === 27) {
        await sleep(200);
        continue;
      }
      if (join.errorCode !== 0) throw new ClientError(`cannot join group "${group}": ${errorLabel(join.errorCode)}`, { code: join.errorCode });
      memberId = join.memberId;
      let assignments: { memberId: string; assignment: Buffer }[] = [];
      if (join.leader === memberId) assignments = await this.rangeAssign(join.members);
      const sync = await conn.request(14, 5, { groupId: group, generationId: join.generationId, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: join.protocolName, assignments }, { timeoutMs: 60_000 });
      if (sync.errorCode === 27 || isRetriable(sync.errorCode)) continue;
      if (sync.errorCode === 25 || sync.errorCode === 22) {
        if (sync.errorCode === 25) memberId = '';
        continue;
      }
      if (sync.errorCode !== 0) throw new ClientError(`cannot sync group "${group}": ${errorLabel(sync.errorCode)}`, { code: sync.errorCode });
      this.generation = { id: join.generationId, memberId };
      await this.assign(decodeAssignment(sync.assignment));
      this.startHeartbeat(Math.max(500, Math.floor(sessionTimeoutMs / 3)));
      return;
    }
  }

  /** Range assignment per topic: sorted members take consecutive partition ranges. */
  private async rangeAssign(members: { memberId: string; metadata: Buffer }[]): Promise<{ memberId: string; assignment: Buffer }[]> {
    const subs = members.map((m) => ({ memberId: m.memberId, topics: decodeSubscription(m.metadata) })).sort((a, b) => a.memberId.localeCompare(b.memberId));
    const topics = [...new Set(subs.flatMap((s) => s.topics))];
    const given = new Map<string, TopicPartition[]>(subs.map((s) => [s.memberId, []]));
    for (const topic of topics) {
      const parts = (await this.client.partitions(topic, true).catch(() => [])).map((p) => p.partition);
      const takers = subs.filter((s) => s.topics.includes(topic));
      const per = Math.floor(parts.length / takers.length);
      const extra = parts.length % takers.length;
      let at = 0;
      takers.forEach((s, i) => {
        const n = per + (i < extra ? 1 : 0);
        for (const p of parts.slice(at, at + n)) given.get(s.memberId)!.push({ topic, partition: p });
        at += n;
      });
    }
    return subs.map((s) => ({ memberId: s.memberId, assignment: encodeAssignment(given.get(s.memberId)!) }));
  }

  private startHeartbeat(intervalMs: number): void {
    let lastCommit = Date.now();
    let busy = false;
    this.heartbeatTimer = setInterval(async () => {
      if (busy || !this.generation || this.rejoinNeeded) return;
      busy = true;
      try {
        const conn = await this.client.coordinator(this.opts.group!);
        const res = await conn.request(12, 4, { groupId: this.opts.group, generationId: this.generation.id, memberId: this.generation.memberId, groupInstanceId: null });
        if (res.errorCode === 27 || res.errorCode === 22 || res.errorCode === 25) {
          if (res.errorCode === 25) this.generation = { id: -1, memberId: '' };
          this.rejoinNeeded = true;
        }
        if (Date.now() - lastCommit >= (this.opts.autoCommitMs ?? 5000)) {
          lastCommit = Date.now();
          await this.commit();
        }
      } catch {
        // A failed heartbeat is retried on the next tick; the session timeout is the limit.
      } finally {
        busy = false;
      }
    }, intervalMs);
  }

  private async leave(): Promise<void> {
    const conn = await this.client.coordinator(this.opts.group!);
    await conn.request(13, 4, { groupId: this.opts.group, memberId: this.generation!.memberId, members: [{ memberId: this.generation!.memberId, groupInstanceId: null, reason: 'samsa consume stopped' }] }, { timeoutMs: 5000 });
  }
}
