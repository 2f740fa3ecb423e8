/**
 * Writing transaction markers into a data partition: the control batch (see
 * src/protocol/control-batch.ts) is appended like any batch, the partition's producer state
 * closes the producer's transaction (an ABORT also enters the transaction index), and fetches
 * parked on the partition are woken, since the last stable offset may have moved.
 * Used by EndTxn (through the coordinator), transaction timeouts and WriteTxnMarkers.
 */
import type { Partition } from '../../cluster/topic-manager';
import { encodeMarkerBatch, TxnMarker } from '../../protocol/control-batch';
import { ErrorCode } from '../../protocol/errors';
import type { Logger } from '../../logging';
import type { PartitionWaiters } from '../../server/partition-waiters';
import type { ProducerStates } from '../../storage/producer-states';

export interface MarkerTarget {
  producerStates: ProducerStates;
  waiters: PartitionWaiters;
  log: Logger;
}

/** Appends a COMMIT or ABORT marker to `partition`; returns ErrorCode.NONE or why it was refused. */
export function writeTxnMarker(target: MarkerTarget, partition: Partition, marker: TxnMarker): number {
  // A produce still being written to this partition commits first (its producer state too).
  partition.log.settleWrites();
  const state = target.producerStates.of(partition.log);
  const refused = state.checkMarker(marker.producerId, marker.producerEpoch, marker.coordinatorEpoch);
  if (refused !== ErrorCode.NONE) return refused;
  try {
    const { baseOffset } = partition.log.append(encodeMarkerBatch(marker), partition.leaderEpoch);
    state.onMarkerAppended(marker.producerId, marker.producerEpoch, marker.coordinatorEpoch, marker.commit, baseOffset, marker.timestamp);
  } catch (err) {
    target.log.error('writing a transaction marker failed', {
      topic: partition.topic.name,
      partition: partition.index,
      producerId: marker.producerId,
      error: (err as Error).message,
    });
    return ErrorCode.KAFKA_STORAGE_ERROR;
  }
  target.waiters.notify(partition.topic.name, partition.index);
  return ErrorCode.NONE;
}
