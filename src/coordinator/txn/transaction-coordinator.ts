/**
 * The transaction coordinator: producer ids, transactional ids and their state machine,
 * following Kafka's TransactionCoordinator (transactions V1, with the KIP-890 part 1
 * server-side checks done in-process).
 *
 *   Empty ──AddPartitions/AddOffsets──> Ongoing ──EndTxn──> PrepareCommit ──markers──> CompleteCommit
 *                                              └────────> PrepareAbort  ──markers──> CompleteAbort
 *   InitProducerId from Empty/Complete*: epoch + 1 (a new producer id when the epoch is
 *   exhausted); from Ongoing: the open transaction is aborted with epoch + 1 first (fencing the
 *   old producer), then the new one gets epoch + 2.
 *   transaction.timeout.ms: an Ongoing transaction older than its timeout is aborted the same
 *   way (epoch + 1), so the abandoned producer is fenced.
 *
 * Every transition is appended to partition 0 of __transaction_state (records in
 * txn-log-records.ts) before it takes effect; the topic is created on first transactional
 * InitProducerId and replayed at start (latest value per transactional id wins). A
 * transaction found in PrepareCommit/PrepareAbort at start (the broker stopped between the
 * decision and the markers) is completed then; an Ongoing one continues, and times out.
 *
 * Differences from Kafka: one broker is every partition's leader, so markers are appended
 * directly and synchronously (EndTxn answers once they are all written, so a read_committed
 * reader sees the outcome as soon as the producer does; Kafka answers after PrepareX and
 * writes markers asynchronously) and the Produce-side verification of KIP-890 asks this
 * object instead of sending AddPartitionsToTxn v4. PrepareEpochFence is never persisted: the
 * fencing abort and the bump happen in one step and InitProducerId answers at once instead
 * of CONCURRENT_TRANSACTIONS. __transaction_state has one partition (Kafka: 50).
 *
 * Concurrency: JS thread only; every method runs to completion without yielding.
 */
import * as fs from 'fs';
import type { Partition, Topic, TopicManager } from '../../cluster/topic-manager';
import { ErrorCode } from '../../protocol/errors';
import type { Logger } from '../../logging';
import type { PartitionWaiters } from '../../server/partition-waiters';
import type { ProducerStates } from '../../storage/producer-states';
import { encodeRecordBatch, readRecordBatches } from '../group/batch-codec';
import { setTransactionCleaningRules } from '../../storage/log-cleaner';
import { writeTxnMarker } from './markers';
import { ProducerIdManager } from './producer-id-manager';
import {
  decodeTxnLogKey,
  decodeTxnLogValue,
  encodeTxnLogKey,
  encodeTxnLogValue,
  TXN_STATE_TOPIC,
  TXN_STATUS_NAMES,
  TxnStatus,
} from './txn-log-records';

const INT16_MAX = 0x7fff;
const NO_EPOCH = -1;
const LOAD_READ_BYTES = 4 * 1024 * 1024;
const GROUP_OFFSETS_TOPIC = '__consumer_offsets';

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms (Kafka: 10 s). */
  abortTimedOutIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeExpiredIntervalMs: number;
  /** producer.id.expiration.ms */
  producerIdExpirationMs: number;
}

export const DEFAULT_TXN_CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 7 * 24 * 3600 * 1000,
  abortTimedOutIntervalMs: 1000,
  removeExpiredIntervalMs: 3600 * 1000,
  producerIdExpirationMs: 86_400_000,
};

export interface TxnOffsetCommitParams {
  groupId: string;
  producerId: number;
  producerEpoch: number;
  /** -1 / '' / null before TxnOffsetCommit v3 (no member check then). */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  apiVersion: number;
  offsets: { topic: string; partition: number; offset: number; leaderEpoch: number; metadata: string | null }[];
}

/** What the coordinator needs from the group coordinator for TxnOffsetCommit offsets. */
export interface TxnOffsetsParticipant {
  /** The __consumer_offsets partition holding the group's offsets. */
  offsetsPartitionFor(groupId: string): Partition;
  /**
   * Checks the member (v3+) and stages the offsets as pending for the producer (written to
   * the offsets partition as a transactional batch). Returns one error for all, or an error
   * per `${topic}\u0000${partition}`.
   */
  stageTransactionalOffsets(params: TxnOffsetCommitParams): number | Map<string, number>;
  /** Called after the marker was written to the offsets partitions: make the producer's pending offsets visible (commit) or drop them. */
  completeTransaction(producerId: number, commit: boolean): void;
}

export interface TxnMetadata {
  readonly transactionalId: string;
  producerId: number;
  prevProducerId: number;
  producerEpoch: number;
  /** The epoch before the last bump by InitProducerId, so its retry can be recognised (not persisted, as in Kafka). */
  lastProducerEpoch: number;
  timeoutMs: number;
  state: number;
  /** topic -> partitions in the transaction. */
  partitions: Map<string, Set<number>>;
  startTimestamp: number;
  lastUpdateTimestamp: number;
  /** 2 when the current transaction runs under transactions V2 (KIP-890 part 2), else 0. */
  clientTransactionVersion: number;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: number;
  producerEpoch: number;
}

export interface TopicPartitions {
  name: string;
  partitions: number[];
}

export interface TxnCoordinatorDeps {
  dataDir: string;
  topics: TopicManager;
  producerStates: ProducerStates;
  waiters: PartitionWaiters;
  log: Logger;
  config?: Partial<TxnCoordinatorConfig>;
  /** The group coordinator's side of transactional offsets, when it exists (resolved lazily). */
  offsets?: () => TxnOffsetsParticipant | null;
}

function isEpochExhausted(epoch: number): boolean {
  return epoch >= INT16_MAX - 1;
}

export class TransactionCoordinator {
  readonly config: TxnCoordinatorConfig;
  private readonly txns = new Map<string, TxnMetadata>();
  private readonly producerIds: ProducerIdManager;
  private readonly log: Logger;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  constructor(private readonly deps: TxnCoordinatorDeps) {
    this.config = { ...DEFAULT_TXN_CONFIG, ...(deps.config ?? {}) };
    this.producerIds = new ProducerIdManager(deps.dataDir);
    this.log = deps.log;
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Replays __transaction_state (if it exists), completes decided transactions, starts the
   * timers, and tells the log cleaner about transactions (it must not compact past an open
   * one, and drops aborted data; markers are always kept).
   */
  start(): void {
    const states = this.deps.producerStates;
    setTransactionCleaningRules({
      firstUnstableOffset: (log) => states.of(log).firstUnstableOffset,
      isAborted: (log, batch) => states.of(log).isAbortedBatch(batch),
    });
    const topic = this.deps.topics.get(TXN_STATE_TOPIC);
    if (topic) {
      const started = Date.now();
      const n = this.load(topic.partitions[0]);
      if (n > 0) this.log.info('loaded the transaction state topic', { records: n, transactionalIds: this.txns.size, ms: Date.now() - started });
      for (const meta of this.txns.values()) {
        if (meta.state === TxnStatus.PrepareCommit || meta.state === TxnStatus.PrepareAbort) {
          this.completeTransaction(meta, meta.state === TxnStatus.PrepareCommit);
        }
      }
    }
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(() => {
        try {
          fn();
        } catch (err) {
          this.log.error('transaction coordinator maintenance failed', { error: (err as Error).message });
        }
      }, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.config.abortTimedOutIntervalMs, () => this.abortTimedOutTransactions(Date.now()));
    every(this.config.removeExpiredIntervalMs, () => this.removeExpiredTransactionalIds(Date.now()));
    every(Math.min(600_000, this.config.producerIdExpirationMs), () =>
      this.deps.producerStates.expireProducers(Date.now(), this.config.producerIdExpirationMs),
    );
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  private load(partition: Partition): number {
    const log = partition.log;
    let next = log.logStartOffset;
    let count = 0;
    while (next < log.logEndOffset) {
      const res = log.read(next, LOAD_READ_BYTES);
      if (res.errorCode !== ErrorCode.NONE || res.length === 0) break;
      const buf = Buffer.concat(
        res.regions.map((r) => {
          const b = Buffer.allocUnsafe(r.length);
          return b.subarray(0, fs.readSync(r.fd, b, 0, r.length, r.position));
        }),
      );
      let progressed = false;
      for (const batch of readRecordBatches(buf)) {
        const last = batch.header.baseOffset + batch.header.lastOffsetDelta;
        if (last < next) continue;
        progressed = true;
        next = last + 1;
        if (batch.header.isControl) continue;
        for (const r of batch.records) {
          if (!r.key) continue;
          try {
            this.replay(r.key, r.value);
            count++;
          } catch (err) {
            this.log.warn('skipping an unreadable record of the transaction state topic', { offset: r.offset, error: (err as Error).message });
          }
        }
      }
      if (!progressed) break;
    }
    return count;
  }

  private replay(key: Buffer, value: Buffer | null): void {
    const id = decodeTxnLogKey(key);
    if (id === null) return;
    if (value === null) {
      this.txns.delete(id);
      return;
    }
    const v = decodeTxnLogValue(value);
    const partitions = new Map<string, Set<number>>();
    for (const p of v.partitions) partitions.set(p.topic, new Set(p.partitionIds));
    this.txns.set(id, {
      transactionalId: id,
      producerId: v.producerId,
      prevProducerId: v.prevProducerId,
      producerEpoch: v.producerEpoch,
      lastProducerEpoch: NO_EPOCH,
      timeoutMs: v.timeoutMs,
      state: v.status,
      partitions,
      startTimestamp: v.startTimestamp,
      clientTransactionVersion: v.clientTransactionVersion ?? 0,
      lastUpdateTimestamp: v.lastUpdateTimestamp,
    });
  }

  // ---------------------------------------------------------------- the transaction log

  /** __transaction_state, created if missing (FindCoordinator places transactional ids on its partitions). */
  stateTopic(): Topic {
    let t = this.deps.topics.get(TXN_STATE_TOPIC);
    if (!t) {
      t = this.deps.topics.create(TXN_STATE_TOPIC, 1, { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) }) as Topic;
      this.log.info('created the transaction state topic', { topic: TXN_STATE_TOPIC });
    }
    return t;
  }

  /** The coordinator epoch markers carry: the leader epoch of the state partition. */
  private get coordinatorEpoch(): number {
    return this.deps.topics.get(TXN_STATE_TOPIC)?.partitions[0]?.leaderEpoch ?? 0;
  }

  /** Appends `meta` as its new state; throws when the log refuses (the caller answers an error). */
  private persist(meta: TxnMetadata, tombstone = false): void {
    const partition = this.stateTopic().partitions[0];
    const value = tombstone
      ? null
      : encodeTxnLogValue({
          producerId: meta.producerId,
          prevProducerId: meta.prevProducerId,
          producerEpoch: meta.producerEpoch,
          timeoutMs: meta.timeoutMs,
          status: meta.state,
          partitions: [...meta.partitions].map(([topic, ids]) => ({ topic, partitionIds: [...ids].sort((a, b) => a - b) })),
          lastUpdateTimestamp: meta.lastUpdateTimestamp,
          startTimestamp: meta.startTimestamp,
          clientTransactionVersion: meta.clientTransactionVersion,
        });
    const batch = encodeRecordBatch([{ key: encodeTxnLogKey(meta.transactionalId), value }], { timestamp: Date.now() });
    partition.log.append(batch, partition.leaderEpoch);
  }

  /** Applies `change` to `meta` and persists it; on a failed write the change is undone. */
  private transition(meta: TxnMetadata, change: (m: TxnMetadata) => void): number {
    const before: TxnMetadata = { ...meta, partitions: new Map([...meta.partitions].map(([t, s]) => [t, new Set(s)])) };
    change(meta);
    meta.lastUpdateTimestamp = Date.now();
    try {
      this.persist(meta);
      return ErrorCode.NONE;
    } catch (err) {
      Object.assign(meta, before);
      this.log.error('writing the transaction state failed', { transactionalId: meta.transactionalId, error: (err as Error).message });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
  }

  // ---------------------------------------------------------------- InitProducerId

  initProducerId(
    transactionalId: string | null,
    timeoutMs: number,
    expected: { producerId: number; producerEpoch: number } | null,
  ): InitProducerIdResult {
    const fail = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (transactionalId === null) {
      // Idempotent producers always get a fresh id (also when bumping after an error, KIP-360).
      return { errorCode: ErrorCode.NONE, producerId: this.producerIds.generate(), producerEpoch: 0 };
    }
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (timeoutMs <= 0 || timeoutMs > this.config.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    let meta = this.txns.get(transactionalId);
    const created = !meta;
    if (!meta) {
      meta = {
        transactionalId,
        producerId: this.producerIds.generate(),
        prevProducerId: -1,
        producerEpoch: NO_EPOCH,
        lastProducerEpoch: NO_EPOCH,
        timeoutMs,
        state: TxnStatus.Empty,
        partitions: new Map(),
        startTimestamp: -1,
        lastUpdateTimestamp: Date.now(),
        clientTransactionVersion: 0,
      };
    }
    if (
      expected &&
      !(
        meta.producerEpoch === NO_EPOCH ||
        expected.producerId === meta.producerId ||
        (expected.producerId === meta.prevProducerId && isEpochExhausted(expected.producerEpoch))
      )
    ) {
      return fail(ErrorCode.PRODUCER_FENCED);
    }
    switch (meta.state) {
      case TxnStatus.PrepareCommit:
      case TxnStatus.PrepareAbort:
        return fail(ErrorCode.CONCURRENT_TRANSACTIONS);
      case TxnStatus.Ongoing: {
        // Fence the producer of the open transaction: abort it under epoch + 1.
        const error = this.abortWithFencing(meta);
        if (error !== ErrorCode.NONE) return fail(error);
        break;
      }
      default:
        break;
    }
    // Empty, CompleteCommit or CompleteAbort: bump the epoch (or rotate the producer id).
    const next = { producerId: meta.producerId, prevProducerId: meta.prevProducerId, epoch: meta.producerEpoch, lastEpoch: meta.lastProducerEpoch };
    if (isEpochExhausted(meta.producerEpoch) && (!expected || expected.producerEpoch === meta.producerEpoch)) {
      next.prevProducerId = meta.producerId;
      next.producerId = this.producerIds.generate();
      next.epoch = 0;
      next.lastEpoch = NO_EPOCH;
    } else if (!expected || meta.producerEpoch === NO_EPOCH || expected.producerEpoch === meta.producerEpoch) {
      next.epoch = meta.producerEpoch + 1;
      next.lastEpoch = expected ? meta.producerEpoch : NO_EPOCH;
    } else if (expected.producerEpoch !== meta.lastProducerEpoch) {
      return fail(ErrorCode.PRODUCER_FENCED);
    } // else: a retry of the last bump: answer the current epoch again
    const error = this.transition(meta, (m) => {
      m.producerId = next.producerId;
      m.prevProducerId = next.prevProducerId;
      m.producerEpoch = next.epoch;
      m.lastProducerEpoch = next.lastEpoch;
      m.timeoutMs = timeoutMs;
      m.state = TxnStatus.Empty;
      m.partitions = new Map();
      m.startTimestamp = -1;
      m.clientTransactionVersion = 0;
    });
    if (error !== ErrorCode.NONE) return fail(error);
    if (created) this.txns.set(transactionalId, meta);
    return { errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: meta.producerEpoch };
  }

  /** Aborts meta's open transaction under a bumped epoch, so that its producer is fenced everywhere. */
  private abortWithFencing(meta: TxnMetadata): number {
    // Under transactions V2 the abort bumps the epoch once more after the fencing bump, as Kafka's does.
    const bump = meta.clientTransactionVersion >= 2 ? 2 : 1;
    if (meta.producerEpoch + bump > INT16_MAX) return ErrorCode.INVALID_PRODUCER_EPOCH;
    const error = this.transition(meta, (m) => {
      m.producerEpoch += bump;
      m.lastProducerEpoch = NO_EPOCH;
      m.state = TxnStatus.PrepareAbort;
    });
    if (error !== ErrorCode.NONE) return error;
    return this.completeTransaction(meta, false);
  }

  // ---------------------------------------------------------------- AddPartitionsToTxn / AddOffsetsToTxn

  /** The checks every request of an ongoing transaction passes first. */
  private checkProducer(meta: TxnMetadata | undefined, producerId: number, producerEpoch: number): number {
    if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (meta.producerEpoch !== producerEpoch) return ErrorCode.PRODUCER_FENCED;
    if (meta.state === TxnStatus.PrepareCommit || meta.state === TxnStatus.PrepareAbort) return ErrorCode.CONCURRENT_TRANSACTIONS;
    return ErrorCode.NONE;
  }

  /**
   * AddPartitionsToTxn (client form): one error code for the whole request, or per-partition
   * UNKNOWN_TOPIC_OR_PARTITION with OPERATION_NOT_ATTEMPTED for the others, as Kafka answers.
   */
  addPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: TopicPartitions[]): Map<string, Map<number, number>> {
    const result = new Map<string, Map<number, number>>();
    const setAll = (code: (topic: string, p: number) => number) => {
      for (const t of topics) {
        const m = result.get(t.name) ?? new Map<number, number>();
        for (const p of t.partitions) m.set(p, code(t.name, p));
        result.set(t.name, m);
      }
    };
    const unknown = (topic: string, p: number) => !this.deps.topics.get(topic)?.partitions[p];
    if (topics.some((t) => t.partitions.some((p) => unknown(t.name, p)))) {
      setAll((t, p) => (unknown(t, p) ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.OPERATION_NOT_ATTEMPTED));
      return result;
    }
    const error = this.addToTransaction(transactionalId, producerId, producerEpoch, topics);
    setAll(() => error);
    return result;
  }

  private addToTransaction(transactionalId: string, producerId: number, producerEpoch: number, topics: TopicPartitions[], clientTransactionVersion = 0): number {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const meta = this.txns.get(transactionalId);
    const error = this.checkProducer(meta, producerId, producerEpoch);
    if (error !== ErrorCode.NONE || !meta) return error;
    const missing = topics.some((t) => t.partitions.some((p) => !meta.partitions.get(t.name)?.has(p)));
    if (meta.state === TxnStatus.Ongoing && !missing) return ErrorCode.NONE;
    return this.transition(meta, (m) => {
      if (m.state !== TxnStatus.Ongoing) {
        m.partitions = new Map();
        m.startTimestamp = Date.now();
        m.state = TxnStatus.Ongoing;
        m.clientTransactionVersion = clientTransactionVersion;
      }
      for (const t of topics) {
        let set = m.partitions.get(t.name);
        if (!set) m.partitions.set(t.name, (set = new Set()));
        for (const p of t.partitions) set.add(p);
      }
    });
  }

  /**
   * AddPartitionsToTxn v4+ with verifyOnly (KIP-890): NONE for partitions in the producer's
   * ongoing transaction, INVALID_TXN_STATE for the others (or the producer's error for all).
   */
  verifyPartitions(transactionalId: string, producerId: number, producerEpoch: number, topics: TopicPartitions[]): Map<string, Map<number, number>> {
    const meta = this.txns.get(transactionalId);
    let error = this.checkProducer(meta, producerId, producerEpoch);
    if (error === ErrorCode.NONE && meta!.state !== TxnStatus.Ongoing) error = ErrorCode.INVALID_TXN_STATE;
    const result = new Map<string, Map<number, number>>();
    for (const t of topics) {
      const m = new Map<number, number>();
      for (const p of t.partitions) m.set(p, error !== ErrorCode.NONE ? error : meta!.partitions.get(t.name)?.has(p) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE);
      result.set(t.name, m);
    }
    return result;
  }

  /** AddPartitionsToTxn v4+ without verifyOnly: adds like the client form. */
  addPartitionsForBroker(transactionalId: string, producerId: number, producerEpoch: number, topics: TopicPartitions[]): Map<string, Map<number, number>> {
    return this.addPartitions(transactionalId, producerId, producerEpoch, topics);
  }

  /** AddOffsetsToTxn: adds the group's __consumer_offsets partition to the transaction. */
  addOffsets(transactionalId: string, producerId: number, producerEpoch: number, groupId: string): number {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const participant = this.deps.offsets?.() ?? null;
    if (!participant) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const error = this.checkProducer(this.txns.get(transactionalId), producerId, producerEpoch);
    if (error !== ErrorCode.NONE) return error;
    let partition: Partition;
    try {
      partition = participant.offsetsPartitionFor(groupId);
    } catch (err) {
      this.log.warn('no offsets partition for a transactional group', { groupId, error: (err as Error).message });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    return this.addToTransaction(transactionalId, producerId, producerEpoch, [{ name: partition.topic.name, partitions: [partition.index] }]);
  }

  /**
   * TxnOffsetCommit's check (KIP-890 part 1): the producer is current and its transaction
   * contains the group's offsets partition (AddOffsetsToTxn came first).
   */
  checkTxnOffsetCommit(transactionalId: string, producerId: number, producerEpoch: number, groupId: string, addImplicitly = false): number {
    const participant = this.deps.offsets?.() ?? null;
    if (!participant) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (addImplicitly) {
      // Transactions V2 (TxnOffsetCommit v5+): the offsets partition joins the transaction here, no AddOffsetsToTxn.
      const p = participant.offsetsPartitionFor(groupId);
      const error = this.addToTransaction(transactionalId, producerId, producerEpoch, [{ name: p.topic.name, partitions: [p.index] }], 2);
      if (error !== ErrorCode.NONE) return error;
    }
    const meta = this.txns.get(transactionalId);
    const error = this.checkProducer(meta, producerId, producerEpoch);
    if (error !== ErrorCode.NONE || !meta) return error;
    const p = participant.offsetsPartitionFor(groupId);
    if (meta.state !== TxnStatus.Ongoing || !meta.partitions.get(p.topic.name)?.has(p.index)) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  /** TxnOffsetCommit after checkTxnOffsetCommit: the group coordinator stages the offsets. */
  stageOffsets(params: TxnOffsetCommitParams): number | Map<string, number> {
    const participant = this.deps.offsets?.() ?? null;
    if (!participant) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return participant.stageTransactionalOffsets(params);
  }

  isOffsetsTopic(topic: string): boolean {
    return topic === GROUP_OFFSETS_TOPIC;
  }

  /** Markers were written into offsets partitions (here or by WriteTxnMarkers): settle the producer's pending offsets. */
  completeOffsets(producerId: number, commit: boolean): void {
    try {
      this.deps.offsets?.()?.completeTransaction(producerId, commit);
    } catch (err) {
      this.log.error('completing transactional offsets failed', { producerId, error: (err as Error).message });
    }
  }

  /**
   * Produce-side verification of a transactional batch (KIP-890 part 1): the producer's
   * transaction must be ongoing and contain the partition, else the batch would start a
   * transaction nobody will ever end (a hanging transaction).
   */
  checkTransactionalProduce(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): number {
    if (transactionalId === null) return ErrorCode.INVALID_TXN_STATE;
    const meta = this.txns.get(transactionalId);
    if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== meta.producerEpoch) return producerEpoch < meta.producerEpoch ? ErrorCode.INVALID_PRODUCER_EPOCH : ErrorCode.INVALID_TXN_STATE;
    if (meta.state !== TxnStatus.Ongoing || !meta.partitions.get(topic)?.has(partition)) return ErrorCode.INVALID_TXN_STATE;
    return ErrorCode.NONE;
  }

  /**
   * Produce v12+ and TxnOffsetCommit v5+ under transactions V2 (KIP-890 part 2): the partition
   * joins the producer's transaction implicitly, starting one if none is open. A producer
   * with an old epoch is fenced: Kafka's broker turns the coordinator's PRODUCER_FENCED into
   * INVALID_PRODUCER_EPOCH for Produce, as done here.
   */
  addPartitionImplicitly(transactionalId: string | null, producerId: number, producerEpoch: number, topic: string, partition: number): number {
    if (transactionalId === null) return ErrorCode.INVALID_TXN_STATE;
    const error = this.addToTransaction(transactionalId, producerId, producerEpoch, [{ name: topic, partitions: [partition] }], 2);
    return error === ErrorCode.PRODUCER_FENCED ? ErrorCode.INVALID_PRODUCER_EPOCH : error;
  }

  // ---------------------------------------------------------------- EndTxn

  endTxn(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): number {
    if (!transactionalId) return ErrorCode.INVALID_REQUEST;
    const meta = this.txns.get(transactionalId);
    if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING;
    if (producerEpoch !== meta.producerEpoch) return ErrorCode.PRODUCER_FENCED;
    switch (meta.state) {
      case TxnStatus.Ongoing: {
        const error = this.transition(meta, (m) => {
          m.state = commit ? TxnStatus.PrepareCommit : TxnStatus.PrepareAbort;
        });
        if (error !== ErrorCode.NONE) return error;
        return this.completeTransaction(meta, commit);
      }
      case TxnStatus.CompleteCommit:
        return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE;
      case TxnStatus.CompleteAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE;
      case TxnStatus.PrepareCommit:
        return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE;
      case TxnStatus.PrepareAbort:
        return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS;
      default:
        return ErrorCode.INVALID_TXN_STATE;
    }
  }

  /**
   * EndTxn v5+ under transactions V2 (KIP-890 part 2), following Kafka's table: every end
   * bumps the epoch (a new producer id once the epoch is exhausted) and the answer carries the
   * producer id and epoch to use next. A retry, sent with the epoch before the bump, gets the
   * same answer again; an abort with nothing open (Empty, or after a completed transaction)
   * still bumps the epoch, so a producer can always abort to recover.
   *                  abort: retry / current     commit: retry / current
   *   Empty          PRODUCER_FENCED / bump     PRODUCER_FENCED / INVALID_TXN_STATE
   *   CompleteAbort  NONE / bump                INVALID_TXN_STATE / INVALID_TXN_STATE
   *   CompleteCommit INVALID_TXN_STATE / bump   NONE / INVALID_TXN_STATE
   */
  endTxnV2(transactionalId: string, producerId: number, producerEpoch: number, commit: boolean): InitProducerIdResult {
    const fail = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: -1, producerEpoch: -1 });
    if (!transactionalId) return fail(ErrorCode.INVALID_REQUEST);
    const meta = this.txns.get(transactionalId);
    if (!meta) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const retryOnOverflow = meta.prevProducerId === producerId && producerEpoch === INT16_MAX - 1 && meta.producerEpoch === 0;
    const retryOnEpochBump = meta.producerEpoch === producerEpoch + 1;
    if (meta.producerId !== producerId && !retryOnOverflow) return fail(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
    const complete = meta.state === TxnStatus.CompleteCommit || meta.state === TxnStatus.CompleteAbort;
    const prepared = meta.state === TxnStatus.PrepareCommit || meta.state === TxnStatus.PrepareAbort;
    const validEpoch = complete
      ? retryOnEpochBump || retryOnOverflow || producerEpoch === meta.producerEpoch
      : prepared
        ? retryOnEpochBump
        : producerEpoch === meta.producerEpoch;
    if (!validEpoch) return fail(ErrorCode.PRODUCER_FENCED);
    const isRetry = retryOnEpochBump || retryOnOverflow;
    const current = (): InitProducerIdResult => ({ errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: meta.producerEpoch });
    const finish = (): InitProducerIdResult => {
      const error = this.completeWithEpochBump(meta, commit);
      return error === ErrorCode.NONE ? current() : fail(error);
    };
    switch (meta.state) {
      case TxnStatus.Ongoing:
        return finish();
      case TxnStatus.CompleteCommit:
        if (commit) return isRetry ? current() : fail(ErrorCode.INVALID_TXN_STATE);
        return isRetry ? fail(ErrorCode.INVALID_TXN_STATE) : finish();
      case TxnStatus.CompleteAbort:
        if (!commit) return isRetry ? current() : finish();
        return fail(ErrorCode.INVALID_TXN_STATE);
      case TxnStatus.PrepareCommit:
        return fail(commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE);
      case TxnStatus.PrepareAbort:
        return fail(commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS);
      case TxnStatus.Empty:
        return commit ? fail(ErrorCode.INVALID_TXN_STATE) : finish();
      default:
        return fail(ErrorCode.INVALID_TXN_STATE);
    }
  }

  /**
   * Transactions V2's end: PrepareX at epoch + 1 (markers carry the new epoch, which fences
   * the old one on every partition), then CompleteX; an exhausted epoch moves to a new
   * producer id at epoch 0 instead.
   */
  private completeWithEpochBump(meta: TxnMetadata, commit: boolean): number {
    const rotate = isEpochExhausted(meta.producerEpoch);
    const nextProducerId = rotate ? this.producerIds.generate() : -1;
    let error = this.transition(meta, (m) => {
      if (!rotate) {
        m.lastProducerEpoch = m.producerEpoch;
        m.producerEpoch += 1;
      }
      m.clientTransactionVersion = 2;
      m.state = commit ? TxnStatus.PrepareCommit : TxnStatus.PrepareAbort;
    });
    if (error !== ErrorCode.NONE) return error;
    error = this.completeTransaction(meta, commit);
    if (error !== ErrorCode.NONE || !rotate) return error;
    return this.transition(meta, (m) => {
      m.prevProducerId = m.producerId;
      m.producerId = nextProducerId;
      m.producerEpoch = 0;
      m.lastProducerEpoch = NO_EPOCH;
    });
  }

  /** From PrepareCommit/PrepareAbort: writes the markers, hands offsets to the group coordinator, then CompleteX. */
  private completeTransaction(meta: TxnMetadata, commit: boolean): number {
    const timestamp = Date.now();
    const marker = { producerId: meta.producerId, producerEpoch: meta.producerEpoch, commit, coordinatorEpoch: this.coordinatorEpoch, timestamp };
    let offsetsTouched = false;
    for (const [topicName, ids] of meta.partitions) {
      const topic = this.deps.topics.get(topicName);
      if (!topic) continue; // deleted meanwhile: nothing to mark
      for (const id of ids) {
        const partition = topic.partitions[id];
        if (!partition) continue;
        const error = writeTxnMarker({ producerStates: this.deps.producerStates, waiters: this.deps.waiters, log: this.log }, partition, marker);
        if (error !== ErrorCode.NONE && error !== ErrorCode.INVALID_PRODUCER_EPOCH) {
          this.log.warn('transaction marker not written', { transactionalId: meta.transactionalId, topic: topicName, partition: id, errorCode: error });
        }
        if (topicName === GROUP_OFFSETS_TOPIC) offsetsTouched = true;
      }
    }
    if (offsetsTouched) this.completeOffsets(meta.producerId, commit);
    return this.transition(meta, (m) => {
      m.state = commit ? TxnStatus.CompleteCommit : TxnStatus.CompleteAbort;
      m.partitions = new Map();
    });
  }

  // ---------------------------------------------------------------- timers

  /** Aborts (and fences) every Ongoing transaction older than its timeout. */
  abortTimedOutTransactions(now: number): void {
    if (this.closed) return;
    for (const meta of this.txns.values()) {
      if (meta.state !== TxnStatus.Ongoing || meta.startTimestamp < 0 || now - meta.startTimestamp < meta.timeoutMs) continue;
      this.log.info('aborting a transaction that exceeded its timeout', {
        transactionalId: meta.transactionalId,
        producerId: meta.producerId,
        timeoutMs: meta.timeoutMs,
      });
      const error = this.abortWithFencing(meta);
      if (error !== ErrorCode.NONE) this.log.warn('timed-out transaction not aborted', { transactionalId: meta.transactionalId, errorCode: error });
    }
  }

  /** Forgets transactional ids idle (and without an open transaction) for transactional.id.expiration.ms. */
  removeExpiredTransactionalIds(now: number): void {
    if (this.closed) return;
    for (const [id, meta] of this.txns) {
      const idle = meta.state === TxnStatus.Empty || meta.state === TxnStatus.CompleteCommit || meta.state === TxnStatus.CompleteAbort;
      if (!idle || now - meta.lastUpdateTimestamp < this.config.transactionalIdExpirationMs) continue;
      try {
        this.persist(meta, true);
        this.txns.delete(id);
      } catch (err) {
        this.log.warn('could not expire a transactional id', { transactionalId: id, error: (err as Error).message });
      }
    }
  }

  // ---------------------------------------------------------------- admin

  describe(transactionalId: string): TxnMetadata | null {
    return this.txns.get(transactionalId) ?? null;
  }

  list(): TxnMetadata[] {
    return [...this.txns.values()];
  }

  static stateName(state: number): string {
    return TXN_STATUS_NAMES[state] ?? 'Unknown';
  }
}
