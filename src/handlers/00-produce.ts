/**
 * Produce (key 0), v0-13.
 * The records field is never parsed into records: each batch header is validated (size,
 * magic, CRC, record count, max.message.bytes), the base offset is written in place and
 * the bytes are appended as they arrived. acks=0 requests get no response, as in Kafka.
 * Partitions this node does not lead answer NOT_LEADER_OR_FOLLOWER, from v10 with the
 * current leader and its endpoint (KIP-951). acks=all is acknowledged on the local append
 * (the in-sync replicas that are up share the storage); in a simulated cluster (several
 * nodes) fewer in-sync replicas than min.insync.replicas refuse it with NOT_ENOUGH_REPLICAS.
 * Differences from Kafka:
 * v0-2 requests decode but their message format (magic 0/1) is refused per partition with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT, as a Kafka 4 broker does.
 * Idempotent and transactional batches (producerId >= 0) are checked against the partition's
 * producer state (src/storage/producer-state.ts: epoch, sequence, duplicates among the last
 * five batches, answered with their original offsets and not stored again); a transactional
 * batch must also belong to the producer's ongoing transaction with this partition added
 * (KIP-890 part 1, asked of the transaction coordinator in-process), else INVALID_TXN_STATE.
 * Transactions V2 (KIP-890 part 2): from v12, with transaction.version 2 finalized, the
 * partition joins the producer's transaction implicitly instead (no AddPartitionsToTxn).
 * One header lookup per partition, nothing per record.
 * Topics with compression.type set to a codec, or compacted, take the slow path of
 * src/storage/produce-rewrite.ts (recompression, keys required) before those checks.
 * message.timestamp.before/after.max.ms apply to CreateTime topics only, as in Kafka; a batch
 * whose header breaks them, or any batch once a "before" bound is set, is checked record by
 * record there too. Records refused there are listed in record_errors (v8+).
 * Internal topics (__consumer_offsets, __transaction_state) refuse client writes with
 * INVALID_TOPIC_EXCEPTION, as Kafka does.
 * With the authorizer on: transactional batches need WRITE on the transactional id (else the
 * whole request is TRANSACTIONAL_ID_AUTHORIZATION_FAILED), each topic WRITE (else its
 * partitions are TOPIC_AUTHORIZATION_FAILED, whether the topic exists or not). Idempotent
 * batches need nothing more: InitProducerId checked IDEMPOTENT_WRITE (KIP-679).
 */
import {
  ProduceApi,
  ProduceRequest,
  ProduceResponse,
  ProduceResponseResponses,
  ProduceResponseResponsesPartitionResponses,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, errorName } from '../protocol/errors';
import { validateProducedRecords } from '../protocol/record-batch';
import { Handler, NO_RESPONSE, RequestContext } from '../server/handler-registry';
import type { ClusterState } from '../cluster/cluster-state';
import { authorizerOf, findPartition, LeaderHints } from './common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import type { ProducerStateManager } from '../storage/producer-state';
import type { Partition } from '../cluster/topic-manager';
import { produceRewrite, RecordError } from '../storage/produce-rewrite';
import { produceThrottleMs } from '../quota/hooks';

type PartitionResponse = Encodable<ProduceResponseResponsesPartitionResponses>;
/** How a transactional batch meets its transaction: verified as added (V1) or added by the broker (V2). */
type TxnMode = 'verify' | 'add';
type PendingResponses = { name: string; topicId: string; partitionResponses: (PartitionResponse | Promise<PartitionResponse>)[] };

export const produceHandler: Handler<ProduceRequest, Encodable<ProduceResponse>> = {
  apiKey: ProduceApi.key,
  minVersion: ProduceApi.minVersion,
  maxVersion: ProduceApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    const version = ctx.header.apiVersion;
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1;
    const authz = authorizerOf(ctx);
    // Transactional batches need WRITE on the request's transactional id; Kafka refuses
    // the whole request (and, with acks=0, closes the connection, having nowhere to say so).
    if (authz && hasTransactionalRecords(req) && (req.transactionalId === null || !authz.authorize(ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId))) {
      if (req.acks === 0) {
        ctx.connection.close('produce refused: transactional id authorization failed');
        return NO_RESPONSE;
      }
      const code = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      return {
        responses: req.topicData.map((t) => ({ name: t.name, topicId: t.topicId, partitionResponses: t.partitionData.map((p) => failed(p.index, code)) })),
        throttleTimeMs: 0,
      };
    }
    // KIP-890: v12+ may add partitions to a transaction, when transaction.version 2 is finalized.
    const txnMode: TxnMode = version >= 12 && cluster.features.transactionVersion() >= 2 ? 'add' : 'verify';
    const responses: PendingResponses[] = [];
    let pending = false;
    let refusedAny = false;
    for (const topic of req.topicData) {
      const partitionResponses: (PartitionResponse | Promise<PartitionResponse>)[] = [];
      let refused = false;
      if (authz) {
        // A topic id that names no topic is answered UNKNOWN_TOPIC_ID below, unchecked.
        const name = version >= 13 ? cluster.topics.getById(topic.topicId)?.name : topic.name;
        refused = name !== undefined && !authz.authorize(ctx.connection, AclOperation.WRITE, ResourceType.TOPIC, name);
        refusedAny ||= refused;
      }
      for (const p of topic.partitionData) {
        partitionResponses.push(
          !acksValid
            ? failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS)
            : refused
              ? failed(p.index, ErrorCode.TOPIC_AUTHORIZATION_FAILED)
              : appendPartition(ctx, version, topic.name, topic.topicId, p.index, p.records, req.transactionalId, req.acks, txnMode),
        );
        if (partitionResponses[partitionResponses.length - 1] instanceof Promise) pending = true;
      }
      responses.push({ name: topic.name, topicId: topic.topicId, partitionResponses });
    }
    if (refusedAny && req.acks === 0) ctx.connection.close('produce refused: topic authorization failed');
    const answer = () => {
      // producer_byte_rate (src/quota): one check when no quota is set; acks=0 is throttled too.
      const throttleTimeMs = cluster.quotas.active ? produceThrottleMs(ctx) : 0;
      if (req.acks === 0) return NO_RESPONSE;
      const out: Encodable<ProduceResponse> = { responses: responses as Encodable<ProduceResponseResponses>[], throttleTimeMs };
      if (cluster.multiNode && version >= 10) addLeaderHints(ctx, out);
      return out;
    };
    if (!pending) return answer();
    // Some partition took the slow path: answer once every append is done.
    return (async () => {
      for (const r of responses) r.partitionResponses = await Promise.all(r.partitionResponses);
      return answer();
    })();
  },
};

/** Whether the first batch of any partition is transactional (magic 2, attributes bit 4), as Kafka checks. */
function hasTransactionalRecords(req: ProduceRequest): boolean {
  for (const t of req.topicData) {
    for (const p of t.partitionData) {
      const r = p.records;
      if (r && r.length >= 23 && r[16] >= 2 && (r.readInt16BE(21) & 0x10) !== 0) return true;
    }
  }
  return false;
}

function failed(index: number, errorCode: number, errorMessage: string | null = null, recordErrors: RecordError[] = []): PartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors, errorMessage };
}

/** KIP-951: where the leader of each partition refused with NOT_LEADER_OR_FOLLOWER is. */
function addLeaderHints(ctx: RequestContext, out: Encodable<ProduceResponse>): void {
  let hints: LeaderHints | null = null;
  for (const t of out.responses as PendingResponses[]) {
    for (const r of t.partitionResponses as PartitionResponse[]) {
      if (r.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER) continue;
      const p = findPartition(ctx.cluster, ctx.header.apiVersion >= 13, t.name, t.topicId, r.index!).partition;
      if (p) r.currentLeader = (hints ??= new LeaderHints(ctx)).of(p);
    }
  }
  if (hints && !hints.empty) out.nodeEndpoints = hints.endpoints();
}

function appendPartition(
  ctx: RequestContext,
  version: number,
  name: string,
  topicId: string,
  index: number,
  records: Buffer | null,
  transactionalId: string | null,
  acks: number,
  txnMode: TxnMode,
): PartitionResponse | Promise<PartitionResponse> {
  const { cluster } = ctx;
  const found = findPartition(cluster, version >= 13, name, topicId, index);
  const partition = found.partition;
  if (!partition) return failed(index, found.error);
  if (partition.leader !== ctx.node.id) return failed(index, ErrorCode.NOT_LEADER_OR_FOLLOWER);
  const topic = partition.topic;
  // Only the coordinators write internal topics (they append directly, not through Produce).
  if (topic.isInternal) return failed(index, ErrorCode.INVALID_TOPIC_EXCEPTION, `Cannot append to internal topic ${topic.name}`);
  const cfg = (n: string) => cluster.topics.config(topic, n);
  // Checked before the append, as Kafka does; the ISR holds only replicas that are up.
  if (acks === -1 && cluster.multiNode && partition.isr.length < Number(cfg('min.insync.replicas'))) {
    return failed(index, ErrorCode.NOT_ENOUGH_REPLICAS, `The size of the current ISR ${partition.isr.length} is insufficient to satisfy the min.isr requirement of ${cfg('min.insync.replicas')} for partition ${topic.name}-${index}`);
  }
  const createTime = cfg('message.timestamp.type') === 'CreateTime';
  const beforeMaxMs = cfg('message.timestamp.before.max.ms');
  const afterMaxMs = cfg('message.timestamp.after.max.ms');
  const now = Date.now();
  const check = validateProducedRecords(records, Number(cfg('max.message.bytes')), {
    produceVersion: version,
    now,
    timestampBeforeMaxMs: createTime ? Number(beforeMaxMs) : undefined,
    timestampAfterMaxMs: createTime ? Number(afterMaxMs) : undefined,
  });
  // Records are checked one by one when the header failed the bounds (to name the records)
  // or a "before" bound is set (records older than the batch's baseTimestamp hide from it).
  const perRecordTimestamps = createTime && (check.timestampOutOfBounds === true || Number(beforeMaxMs) < Number.MAX_SAFE_INTEGER);
  if (check.errorCode !== ErrorCode.NONE && !check.timestampOutOfBounds) {
    return failed(index, check.errorCode, check.message ?? errorName(check.errorCode));
  }
  const slow = produceRewrite(
    {
      compressionType: cfg('compression.type'),
      compacted: cfg('cleanup.policy').includes('compact'),
      gzipLevel: Number(cfg('compression.gzip.level')),
      zstdLevel: Number(cfg('compression.zstd.level')),
      maxMessageBytes: Number(cfg('max.message.bytes')),
      partitionName: `${topic.name}-${index}`,
      timestampBounds: perRecordTimestamps ? { now, beforeMaxMs, afterMaxMs } : undefined,
    },
    check.firstBatch,
  );
  if (slow) {
    return slow(records as Buffer).then((out) =>
      out.errorCode !== ErrorCode.NONE
        ? failed(index, out.errorCode, 'message' in out ? out.message : null, 'recordErrors' in out ? out.recordErrors : undefined)
        : appendChecked(cluster, partition, index, (out as { records: Buffer }).records, check.firstBatch, transactionalId, txnMode),
    );
  }
  return appendChecked(cluster, partition, index, records as Buffer, check.firstBatch, transactionalId, txnMode);
}

function appendChecked(
  cluster: ClusterState,
  partition: Partition,
  index: number,
  records: Buffer,
  batch: ReturnType<typeof validateProducedRecords>['firstBatch'],
  transactionalId: string | null,
  txnMode: TxnMode,
): PartitionResponse {
  const topic = partition.topic;
  let producers: ProducerStateManager | null = null;
  if (batch && batch.producerId >= 0) {
    if (batch.isTransactional) {
      const refused =
        txnMode === 'add'
          ? cluster.txn.addPartitionImplicitly(transactionalId, batch.producerId, batch.producerEpoch, topic.name, index)
          : cluster.txn.checkTransactionalProduce(transactionalId, batch.producerId, batch.producerEpoch, topic.name, index);
      if (refused !== ErrorCode.NONE) return failed(index, refused, errorName(refused));
    }
    producers = cluster.producerStates.of(partition.log);
    const seen = producers.checkData(batch);
    if (seen.kind === 'error') return failed(index, seen.errorCode, seen.message);
    if (seen.kind === 'duplicate') {
      const { logStartOffset } = partition.log;
      return { index, errorCode: ErrorCode.NONE, baseOffset: seen.firstOffset, logAppendTimeMs: -1, logStartOffset, recordErrors: [], errorMessage: null };
    }
  }
  try {
    const { baseOffset, lastOffset, logAppendTimeMs } = partition.log.append(records as Buffer, partition.leaderEpoch);
    if (producers) producers.onDataAppended(batch!, baseOffset, lastOffset);
    cluster.waiters.notify(partition.topic.name, index);
    cluster.metrics?.produced(topic.name, lastOffset - baseOffset + 1, records.length);
    return {
      index,
      errorCode: ErrorCode.NONE,
      baseOffset,
      logAppendTimeMs,
      logStartOffset: partition.log.logStartOffset,
      recordErrors: [],
      errorMessage: null,
    };
  } catch (err) {
    // The partition log logs failures (rate-limited); the producer retries, as with Kafka.
    return failed(index, ErrorCode.KAFKA_STORAGE_ERROR, `Disk error when appending to ${topic.name}-${index}: ${(err as Error).message}`);
  }
}
