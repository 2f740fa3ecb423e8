/**
 * The transaction coordinator's link to the group coordinator (TxnOffsetsParticipant): where
 * a group's offsets live, how TxnOffsetCommit offsets are written, and how they are settled.
 *
 * Offsets of a transaction are written to the group's __consumer_offsets partition as a
 * transactional batch of the producer (Kafka's layout: OffsetCommit records, then the
 * transaction's COMMIT/ABORT marker written there like in any other partition), and go through
 * that partition's producer state, so its last stable offset and the log cleaner respect the
 * open transaction. The group coordinator keeps them pending until completeTransaction(); its
 * load applies them at their COMMIT marker, and keeps those of unfinished transactions pending.
 */
import type { ClusterState } from '../../cluster/cluster-state';
import type { Partition } from '../../cluster/topic-manager';
import { readBatchHeader } from '../../protocol/record-batch';
import { ensureOffsetsTopic, groupCoordinator, OFFSETS_TOPIC } from '../group';
import { encodeRecordBatch } from '../group/batch-codec';
import { offsetsPartitionFor } from '../group/offsets-topic';
import type { TxnOffsetCommitParams, TxnOffsetsParticipant } from './transaction-coordinator';

export function groupOffsetsParticipant(cluster: ClusterState): TxnOffsetsParticipant {
  const partitionFor = (groupId: string): Partition => {
    ensureOffsetsTopic(cluster);
    const topic = cluster.topics.get(OFFSETS_TOPIC);
    if (!topic) throw new Error(`${OFFSETS_TOPIC} does not exist`);
    return topic.partitions[offsetsPartitionFor(groupId, topic.partitions.length)];
  };
  return {
    offsetsPartitionFor: partitionFor,
    stageTransactionalOffsets(p: TxnOffsetCommitParams) {
      const partition = partitionFor(p.groupId);
      const codes = groupCoordinator(cluster).stageTransactionalOffsets(
        {
          groupId: p.groupId,
          generationId: p.generationId,
          memberId: p.memberId,
          groupInstanceId: p.groupInstanceId,
          retentionTimeMs: -1,
          apiVersion: p.apiVersion,
          offsets: p.offsets,
        },
        p.producerId,
        (records) => {
          const batch = encodeRecordBatch(records, {
            timestamp: Date.now(),
            producerId: p.producerId,
            producerEpoch: p.producerEpoch,
            transactional: true,
          });
          const { baseOffset, lastOffset } = partition.log.append(batch, partition.leaderEpoch);
          cluster.producerStates.of(partition.log).onDataAppended(readBatchHeader(batch, 0), baseOffset, lastOffset);
          cluster.waiters.notify(partition.topic.name, partition.index);
        },
      );
      const out = new Map<string, number>();
      p.offsets.forEach((o, i) => out.set(`${o.topic}\u0000${o.partition}`, codes[i]));
      return out;
    },
    completeTransaction(producerId: number, commit: boolean) {
      groupCoordinator(cluster).completeTransaction(producerId, commit);
    },
  };
}
