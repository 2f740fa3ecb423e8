/**
 * Reads a partition with kafkajs's own Fetch code from an offset up to a given end offset
 * (not a record count: compacted logs have gaps), without a consumer group. Same approach as
 * kafkajs-fetcher.ts. Fetch errors are returned, not thrown, so tests can assert them.
 */
import { Kafka } from 'kafkajs';
import type { FetchedMessage } from './kafkajs-fetcher';

interface KafkajsBroker {
  fetch(args: object): Promise<{
    responses: { partitions: { partition: number; errorCode: number; highWatermark: string; logStartOffset?: string; messages: FetchedMessage[] }[] }[];
  }>;
}
interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(args: { nodeId: string }): Promise<KafkajsBroker>;
}

function createCluster(kafka: Kafka): KafkajsCluster {
  const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  if (!sym) throw new Error('kafkajs internals changed: no createCluster symbol');
  return (kafka as unknown as Record<symbol, (o: object) => KafkajsCluster>)[sym]({ allowAutoTopicCreation: false });
}

export interface PartitionRead {
  errorCode: number;
  messages: FetchedMessage[];
}

/** Messages with offsets in [from, end), in order; stops early with the error code of a failed fetch. */
export async function readPartition(kafka: Kafka, topic: string, partition: number, from: number, end: number): Promise<PartitionRead> {
  const cluster = createCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const nodeId = Object.keys(cluster.findLeaderForPartitions(topic, [partition]))[0];
    const broker = await cluster.findBroker({ nodeId });
    const messages: FetchedMessage[] = [];
    let offset = from;
    const deadline = Date.now() + 60_000;
    while (offset < end) {
      if (Date.now() > deadline) throw new Error(`read up to ${offset} of ${end} before the deadline`);
      let res: Awaited<ReturnType<KafkajsBroker['fetch']>>;
      try {
        res = await broker.fetch({
          replicaId: -1,
          isolationLevel: 0,
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 10 * 1024 * 1024,
          topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: 1024 * 1024 }] }],
        });
      } catch (err) {
        // kafkajs turns a partition error into an exception carrying the Kafka error code.
        const code = (err as { code?: number }).code;
        if (typeof code === 'number') return { errorCode: code, messages };
        throw err;
      }
      const p = res.responses[0].partitions[0];
      if (p.errorCode !== 0) return { errorCode: p.errorCode, messages };
      let advanced = false;
      for (const m of p.messages) {
        const o = Number(m.offset);
        if (o < offset || o >= end) continue;
        messages.push(m);
        offset = o + 1;
        advanced = true;
      }
      if (!advanced) {
        // Nothing at or after `offset`: the log ends here, or `offset` lies in a gap that
        // compaction left at the end of a batch; step over it as kafkajs's consumer does.
        if (p.messages.length === 0 || Number(p.highWatermark) <= offset) break;
        offset++;
      }
    }
    return { errorCode: 0, messages };
  } finally {
    await cluster.disconnect();
  }
}
