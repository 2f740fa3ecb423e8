/**
 * Committed offsets of groups of either kind: OffsetCommit, OffsetFetch, OffsetDelete,
 * TxnOffsetCommit (offsets staged until their transaction ends, KIP-447) and the periodic
 * expiration of offsets past their retention (KIP-211).
 *
 * Offsets: OffsetCommit with generation -1 comes from consumers that do not use group
 * management (or admin tools) and is accepted while the group is Empty (a "simple" group is
 * created if needed). Otherwise the member and generation must match.
 * KIP-848 groups check the member epoch instead (validateConsumerGroupCommit).
 */
import { ErrorCode } from '../../protocol/errors';
import type { LogRecord } from './batch-codec';
import { ClassicGroup, CommittedOffset } from './classic-group';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol';
import type { ConsumerGroup } from './consumer-group';
import { StreamsGroup, streamsInputTopics } from '../streams/streams-group';
import { streamsGroupTombstone } from '../streams/streams-group-records';
import { decodeOffsetCommitValue, decodeRecordKey, encodeGroupMetadataKey, encodeOffsetCommitKey, encodeOffsetCommitValue } from './records';
import type { ClassicGroupProtocol } from './classic-group-protocol';
import { AnyGroup, GroupContext, GroupCoordinatorPart } from './group-context';

export interface OffsetToCommit {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string | null;
}

export interface OffsetCommitParams {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** v2-4 retention_time_ms; -1 = the broker's retention. */
  retentionTimeMs: number;
  apiVersion: number;
  offsets: OffsetToCommit[];
}

interface PendingTxnOffset {
  topic: string;
  partition: number;
  value: CommittedOffset;
}

export interface FetchedOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export class CommittedOffsets extends GroupCoordinatorPart {
  /** TxnOffsetCommit offsets not yet committed or aborted: producerId -> group -> `topic\0partition` -> offset. */
  private readonly pendingTxnOffsets = new Map<number, Map<string, Map<string, PendingTxnOffset>>>();

  constructor(
    ctx: GroupContext,
    private readonly classic: ClassicGroupProtocol,
    /** Forgets a group that expiration left empty (GroupAdmin.markDead). */
    private readonly markDead: (group: AnyGroup) => void,
  ) {
    super(ctx);
  }

  // ================================================================ offsets

  /**
   * Commits offsets; returns one error code per entry of `p.offsets` (same order). The caller
   * has already answered partitions of unknown topics and leaves them out.
   */
  commitOffsets(p: OffsetCommitParams): number[] {
    const all = (code: number) => p.offsets.map(() => code);
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    let group = this.groups.get(p.groupId);
    let created = false;
    if (!group) {
      if (p.generationId >= 0) {
        // v9+ tells the client the group is gone; older versions keep Kafka's ILLEGAL_GENERATION.
        return all(p.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      }
      // A consumer without group management (or an admin tool): a "simple" group just holds offsets.
      group = new ClassicGroup(p.groupId, this.clock());
      created = true;
    }
    const error = group.kind === 'classic' ? this.validateOffsetCommit(group, p) : this.validateConsumerGroupCommit(group, p, false);
    if (error !== ErrorCode.NONE) return all(error);
    if (group.kind === 'classic' && (p.generationId >= 0 || p.memberId !== '')) {
      const member = group.members.get(p.memberId);
      if (member) this.classic.scheduleSession(group, member, member.sessionTimeoutMs);
    }
    const now = this.clock();
    const expireTimestamp = p.retentionTimeMs >= 0 ? now + p.retentionTimeMs : -1;
    const codes: number[] = [];
    const records: LogRecord[] = [];
    const accepted: { topic: string; partition: number; value: CommittedOffset }[] = [];
    for (const o of p.offsets) {
      const metadata = o.metadata ?? '';
      if (metadata.length > this.config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      const value: CommittedOffset = {
        offset: o.offset,
        leaderEpoch: o.leaderEpoch,
        metadata,
        commitTimestamp: now,
        expireTimestamp,
      };
      records.push({ key: encodeOffsetCommitKey(p.groupId, o.topic, o.partition), value: encodeOffsetCommitValue(value) });
      accepted.push({ topic: o.topic, partition: o.partition, value });
      codes.push(ErrorCode.NONE);
    }
    if (records.length > 0) {
      try {
        this.store.append(p.groupId, records);
      } catch (err) {
        this.log.warn('could not store committed offsets', { group: p.groupId, error: String(err) });
        return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
      }
    }
    if (created) this.groups.set(p.groupId, group);
    for (const a of accepted) group.setOffset(a.topic, a.partition, a.value);
    return codes;
  }

  /**
   * A KIP-848 group's commit check: member epoch -1 (admin tools, consumers without group
   * management) only while the group has no members; otherwise the member must exist, use
   * OffsetCommit v9+ (transactional commits excepted) and send its current epoch
   * (STALE_MEMBER_EPOCH).
   */
  private validateConsumerGroupCommit(group: ConsumerGroup | StreamsGroup, p: OffsetCommitParams, transactional: boolean): number {
    if (p.generationId < 0 && group.members.size === 0) return ErrorCode.NONE;
    if (transactional && p.generationId < 0 && p.memberId === '' && p.groupInstanceId === null) return ErrorCode.NONE;
    const member = group.members.get(p.memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (!transactional && p.apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (p.generationId !== member.memberEpoch) return transactional ? ErrorCode.ILLEGAL_GENERATION : ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /**
   * OffsetFetch v9+ sends the member id and epoch of a KIP-848 member: checked as Kafka does
   * (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH). Classic groups and requests without them pass.
   */
  validateOffsetFetch(groupId: string, memberId: string | null, memberEpoch: number): number {
    const group = this.groups.get(groupId);
    if (!group || group.kind === 'classic') return ErrorCode.NONE;
    if (memberId === null && memberEpoch < 0) return ErrorCode.NONE;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  private validateOffsetCommit(group: ClassicGroup, p: OffsetCommitParams): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    // generation -1 from a client outside group management: only while nobody manages the group.
    if (p.generationId < 0 && group.is('Empty')) return ErrorCode.NONE;
    if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
      const error = this.classic.validateMember(group, p.memberId, p.groupInstanceId, p.generationId);
      if (error !== ErrorCode.NONE) return error;
    } else if (!group.is('Empty')) {
      return ErrorCode.UNKNOWN_MEMBER_ID;
    }
    // The member has its new generation but no assignment yet.
    if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /**
   * Committed offsets of a group: for the requested partitions (-1 where none), or all of them
   * when `topics` is null. An unknown group has no offsets (not an error, as in Kafka).
   */
  fetchOffsets(groupId: string, topics: { topic: string; partitions: number[] }[] | null, requireStable = false): FetchedOffset[] {
    const group = this.groups.get(groupId);
    const out: FetchedOffset[] = [];
    if (requireStable && topics !== null) {
      // KIP-447: a partition with a pending transactional commit answers UNSTABLE_OFFSET_COMMIT.
      const unstable = topics.map((t) => ({ topic: t.topic, partitions: t.partitions.filter((p) => this.hasPendingTxnOffset(groupId, t.topic, p)) }));
      if (unstable.some((t) => t.partitions.length > 0)) {
        const stable = topics.map((t, i) => ({ topic: t.topic, partitions: t.partitions.filter((p) => !unstable[i].partitions.includes(p)) }));
        const byKey = new Map(this.fetchOffsets(groupId, stable).map((o) => [`${o.topic}\u0000${o.partition}`, o]));
        for (const t of topics) {
          for (const partition of t.partitions) {
            out.push(
              byKey.get(`${t.topic}\u0000${partition}`) ?? {
                topic: t.topic,
                partition,
                offset: -1,
                leaderEpoch: -1,
                metadata: '',
                errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT,
              },
            );
          }
        }
        return out;
      }
    }
    if (topics === null) {
      if (!group) return out;
      for (const [topic, byPartition] of group.offsets) {
        for (const [partition, o] of byPartition) {
          out.push({ topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE });
        }
      }
      return out;
    }
    for (const t of topics) {
      for (const partition of t.partitions) {
        const o = group?.offset(t.topic, partition);
        out.push(
          o
            ? { topic: t.topic, partition, offset: o.offset, leaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE }
            : { topic: t.topic, partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
        );
      }
    }
    return out;
  }

  // ================================================================ transactional offsets

  /**
   * TxnOffsetCommit: validates like OffsetCommit, except that a commit without member
   * information is accepted whatever the group's state (Kafka's rule for transactional
   * commits), hands the records to `write` (the transaction coordinator appends them to the
   * group's partition as a transactional batch of the producer) and keeps the offsets
   * pending until completeTransaction(). Returns one error code per entry of `p.offsets`.
   */
  stageTransactionalOffsets(p: OffsetCommitParams, producerId: number, write: (records: LogRecord[]) => void): number[] {
    const all = (code: number) => p.offsets.map(() => code);
    if (this.closed) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const group = this.groups.get(p.groupId);
    if (group && group.kind !== 'classic') {
      const error = this.validateConsumerGroupCommit(group, p, true);
      if (error !== ErrorCode.NONE) return all(error);
    } else if (group) {
      if (group.is('Dead')) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
      if (p.generationId >= 0 || p.memberId !== '' || p.groupInstanceId !== null) {
        const error = this.classic.validateMember(group, p.memberId, p.groupInstanceId, p.generationId);
        if (error !== ErrorCode.NONE) return all(error);
      }
    } else if (p.generationId >= 0) {
      return all(ErrorCode.ILLEGAL_GENERATION);
    }
    const now = this.clock();
    const codes: number[] = [];
    const records: LogRecord[] = [];
    const accepted: PendingTxnOffset[] = [];
    for (const o of p.offsets) {
      const metadata = o.metadata ?? '';
      if (metadata.length > this.config.offsetMetadataMaxBytes) {
        codes.push(ErrorCode.OFFSET_METADATA_TOO_LARGE);
        continue;
      }
      const value: CommittedOffset = { offset: o.offset, leaderEpoch: o.leaderEpoch, metadata, commitTimestamp: now, expireTimestamp: -1 };
      records.push({ key: encodeOffsetCommitKey(p.groupId, o.topic, o.partition), value: encodeOffsetCommitValue(value) });
      accepted.push({ topic: o.topic, partition: o.partition, value });
      codes.push(ErrorCode.NONE);
    }
    if (records.length > 0) {
      try {
        write(records);
      } catch (err) {
        this.log.warn('could not store transactional offsets', { group: p.groupId, error: String(err) });
        return codes.map((c) => (c === ErrorCode.NONE ? ErrorCode.COORDINATOR_NOT_AVAILABLE : c));
      }
    }
    for (const a of accepted) this.addPendingTxnOffset(producerId, p.groupId, a);
    return codes;
  }

  /** The producer's transaction ended (its marker is in the log): its pending offsets become committed, or are dropped. */
  completeTransaction(producerId: number, commit: boolean): void {
    const byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) return;
    this.pendingTxnOffsets.delete(producerId);
    if (!commit) return;
    for (const [groupId, offsets] of byGroup) {
      let group = this.groups.get(groupId);
      if (!group) this.groups.set(groupId, (group = new ClassicGroup(groupId, this.clock())));
      for (const o of offsets.values()) group.setOffset(o.topic, o.partition, o.value);
    }
  }

  /** Load: a transactional offset record whose transaction had not ended when the log was written. */
  replayPendingTransactional(producerId: number, key: Buffer, value: Buffer | null): void {
    const k = decodeRecordKey(key);
    if (k.type !== 'offset' || value === null) return;
    this.addPendingTxnOffset(producerId, k.group, { topic: k.topic, partition: k.partition, value: decodeOffsetCommitValue(value) });
  }

  hasPendingTxnOffset(groupId: string, topic: string, partition: number): boolean {
    for (const byGroup of this.pendingTxnOffsets.values()) {
      if (byGroup.get(groupId)?.has(`${topic}\u0000${partition}`)) return true;
    }
    return false;
  }

  private addPendingTxnOffset(producerId: number, groupId: string, o: PendingTxnOffset): void {
    let byGroup = this.pendingTxnOffsets.get(producerId);
    if (!byGroup) this.pendingTxnOffsets.set(producerId, (byGroup = new Map()));
    let offsets = byGroup.get(groupId);
    if (!offsets) byGroup.set(groupId, (offsets = new Map()));
    offsets.set(`${o.topic}\u0000${o.partition}`, o);
  }

  /**
   * OffsetDelete: removes committed offsets of partitions the group does not consume.
   * Returns a group-level error, or per-partition errors (same order as `partitions`).
   */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): { errorCode: number; partitions: number[] } {
    if (this.closed) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, partitions: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, partitions: [] };
    const group = this.groups.get(groupId);
    if (!group || (group.kind === 'classic' && group.is('Dead'))) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, partitions: [] };
    let subscribed: Set<string> | null = null;
    if (group.kind === 'consumer') {
      if (group.members.size > 0) subscribed = this.consumerGroups.subscribedTopics(group);
    } else if (group.kind === 'streams') {
      if (group.members.size > 0) subscribed = streamsInputTopics(group);
    } else if (!group.is('Empty')) {
      if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
      subscribed = group.subscribedTopics();
      if (subscribed === null) return { errorCode: ErrorCode.NON_EMPTY_GROUP, partitions: [] };
    }
    const codes: number[] = [];
    const records: LogRecord[] = [];
    const deleted: { topic: string; partition: number }[] = [];
    for (const tp of partitions) {
      if (subscribed?.has(tp.topic)) {
        codes.push(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
        continue;
      }
      codes.push(ErrorCode.NONE);
      if (group.offset(tp.topic, tp.partition)) {
        records.push({ key: encodeOffsetCommitKey(groupId, tp.topic, tp.partition), value: null });
        deleted.push(tp);
      }
    }
    if (records.length > 0) {
      try {
        this.store.append(groupId, records);
      } catch (err) {
        this.log.warn('could not delete offsets', { group: groupId, error: String(err) });
        return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, partitions: [] };
      }
    }
    for (const tp of deleted) group.deleteOffset(tp.topic, tp.partition);
    return { errorCode: ErrorCode.NONE, partitions: codes };
  }

  // ================================================================ expiration

  /** Drops offsets past their retention (Kafka's rules, KIP-211) and groups left with nothing. */
  expireOffsets(now: number = this.clock()): void {
    if (this.closed) return;
    const retention = this.config.offsetsRetentionMs;
    for (const group of [...this.groups.values()]) {
      let baseOf: ((o: CommittedOffset) => number) | null = null;
      let keep: Set<string> = new Set();
      if (group.kind === 'consumer' || group.kind === 'streams') {
        if (group.members.size === 0) baseOf = () => group.currentStateTimestamp;
        else {
          baseOf = (o) => o.commitTimestamp;
          keep = group.kind === 'consumer' ? this.consumerGroups.subscribedTopics(group) : streamsInputTopics(group);
        }
      } else if (group.protocolType !== null && group.is('Empty')) {
        baseOf = () => group.currentStateTimestamp;
      } else if (group.protocolType === CONSUMER_PROTOCOL_TYPE && group.is('Stable')) {
        const subscribed = group.subscribedTopics();
        if (subscribed !== null) {
          baseOf = (o) => o.commitTimestamp;
          keep = subscribed;
        }
      } else if (group.protocolType === null) {
        baseOf = (o) => o.commitTimestamp;
      }
      if (baseOf === null) continue;
      const records: LogRecord[] = [];
      const expired: { topic: string; partition: number }[] = [];
      for (const [topic, byPartition] of group.offsets) {
        if (keep.has(topic)) continue;
        for (const [partition, o] of byPartition) {
          const gone = o.expireTimestamp >= 0 ? now >= o.expireTimestamp : now - baseOf(o) >= retention;
          if (gone) {
            records.push({ key: encodeOffsetCommitKey(group.groupId, topic, partition), value: null });
            expired.push({ topic, partition });
          }
        }
      }
      // An empty group left without offsets is gone (Kafka: transitions to Dead, tombstoned).
      const empty = group.kind !== 'classic' ? group.members.size === 0 : group.is('Empty') && group.pendingMembers.size === 0;
      const becomesDead = empty && records.length === group.offsetCount;
      if (becomesDead) records.push({ key: encodeGroupMetadataKey(group.groupId), value: null });
      if (becomesDead && group.kind === 'streams') records.push(streamsGroupTombstone(group.groupId));
      if (records.length === 0) continue;
      try {
        this.store.append(group.groupId, records);
      } catch (err) {
        this.log.warn('could not expire offsets', { group: group.groupId, error: String(err) });
        continue;
      }
      for (const tp of expired) group.deleteOffset(tp.topic, tp.partition);
      this.log.info('expired committed offsets', { group: group.groupId, partitions: expired.length });
      if (becomesDead) this.markDead(group);
    }
  }
}
