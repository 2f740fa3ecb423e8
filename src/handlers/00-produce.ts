/**
 * Produce (key 0), v0-13.
 * The records field is never parsed into records: each batch header is validated (size,
 * magic, CRC, record count, max.message.bytes), the base offset is written in place and
 * the bytes are appended as they arrived. acks=0 requests get no response, as in Kafka.
 * Differences from Kafka: one replica, so acks=all is acknowledged on the local append;
 * v0-2 requests decode but their message format (magic 0/1) is refused per partition with
 * UNSUPPORTED_FOR_MESSAGE_FORMAT, as a Kafka 4 broker does.
 * Idempotent and transactional batches (producerId >= 0) are checked against the partition's
 * producer state (src/storage/producer-state.ts: epoch, sequence, duplicates among the last
 * five batches, answered with their original offsets and not stored again); a transactional
 * batch must also belong to the producer's ongoing transaction with this partition added
 * (KIP-890 part 1, asked of the transaction coordinator in-process), else INVALID_TXN_STATE.
 * One header lookup per partition, nothing per record.
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
import { Handler, NO_RESPONSE } from '../server/handler-registry';
import { Broker } from '../broker';
import { findPartition } from './common';
import type { ProducerStateManager } from '../storage/producer-state';

type PartitionResponse = Encodable<ProduceResponseResponsesPartitionResponses>;

export const produceHandler: Handler<ProduceRequest, Encodable<ProduceResponse>> = {
  apiKey: ProduceApi.key,
  minVersion: ProduceApi.minVersion,
  maxVersion: ProduceApi.maxVersion,
  handle(ctx, req) {
    const { broker } = ctx;
    const acksValid = req.acks === 0 || req.acks === 1 || req.acks === -1;
    const responses: Encodable<ProduceResponseResponses>[] = [];
    for (const topic of req.topicData) {
      const partitionResponses: PartitionResponse[] = [];
      for (const p of topic.partitionData) {
        partitionResponses.push(
          acksValid
            ? appendPartition(broker, ctx.header.apiVersion, topic.name, topic.topicId, p.index, p.records, req.transactionalId)
            : failed(p.index, ErrorCode.INVALID_REQUIRED_ACKS),
        );
      }
      responses.push({ name: topic.name, topicId: topic.topicId, partitionResponses });
    }
    if (req.acks === 0) return NO_RESPONSE;
    return { responses, throttleTimeMs: 0 };
  },
};

function failed(index: number, errorCode: number, errorMessage: string | null = null): PartitionResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage };
}

function appendPartition(
  broker: Broker,
  version: number,
  name: string,
  topicId: string,
  index: number,
  records: Buffer | null,
  transactionalId: string | null,
): PartitionResponse {
  const found = findPartition(broker, version >= 13, name, topicId, index);
  const partition = found.partition;
  if (!partition) return failed(index, found.error);
  const topic = partition.topic;
  const check = validateProducedRecords(records, Number(broker.topics.config(topic, 'max.message.bytes')), {
    produceVersion: version,
    timestampBeforeMaxMs: Number(broker.topics.config(topic, 'message.timestamp.before.max.ms')),
    timestampAfterMaxMs: Number(broker.topics.config(topic, 'message.timestamp.after.max.ms')),
  });
  if (check.errorCode !== ErrorCode.NONE) {
    return failed(index, check.errorCode, check.message ?? errorName(check.errorCode));
  }
  const batch = check.firstBatch;
  let producers: ProducerStateManager | null = null;
  if (batch && batch.producerId >= 0) {
    if (batch.isTransactional) {
      const refused = broker.txn.checkTransactionalProduce(transactionalId, batch.producerId, batch.producerEpoch, topic.name, index);
      if (refused !== ErrorCode.NONE) return failed(index, refused, errorName(refused));
    }
    producers = broker.producerStates.of(partition.log);
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
    broker.waiters.notify(partition.topic.name, index);
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
    broker.log.error('append failed', { topic: partition.topic.name, partition: index, error: (err as Error).message });
    return failed(index, ErrorCode.KAFKA_STORAGE_ERROR, (err as Error).message);
  }
}
