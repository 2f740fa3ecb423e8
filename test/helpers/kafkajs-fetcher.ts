/**
 * Reads a partition with kafkajs's own Fetch request code, without a consumer group:
 * kafkajs's public consumer always joins a group, and groups are not part of the broker
 * core. This uses kafkajs's internal Cluster (through the private factory the Kafka
 * object keeps) so the bytes on the wire and the record decoding are still kafkajs's.
 */
import { Kafka } from 'kafkajs';

export interface FetchedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers: Record<string, Buffer | Buffer[] | undefined>;
}

interface KafkajsBroker {
  fetch(args: object): Promise<{ responses: { partitions: { partition: number; errorCode: number; highWatermark: string; messages: FetchedMessage[] }[] }[] }>;
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

/** Fetches [fromOffset, end) of one partition, in order; `expected` stops once that many arrived. */
export async function fetchAll(
  kafka: Kafka,
  topic: string,
  partition: number,
  fromOffset: number,
  expected: number,
  opts: { maxBytes?: number; partitionMaxBytes?: number; timeoutMs?: number } = {},
): Promise<FetchedMessage[]> {
  const cluster = createCluster(kafka);
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const leaders = cluster.findLeaderForPartitions(topic, [partition]);
    const nodeId = Object.keys(leaders)[0];
    const broker = await cluster.findBroker({ nodeId });
    const out: FetchedMessage[] = [];
    let offset = fromOffset;
    const deadline = Date.now() + (opts.timeoutMs ?? 60000);
    while (out.length < expected) {
      if (Date.now() > deadline) throw new Error(`fetched ${out.length} of ${expected} before the deadline`);
      const res = await broker.fetch({
        replicaId: -1,
        isolationLevel: 1,
        maxWaitTime: 500,
        minBytes: 1,
        maxBytes: opts.maxBytes ?? 10 * 1024 * 1024,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(offset), maxBytes: opts.partitionMaxBytes ?? 1024 * 1024 }] }],
      });
      const p = res.responses[0].partitions[0];
      if (p.errorCode !== 0) throw new Error(`fetch error code ${p.errorCode}`);
      for (const m of p.messages) {
        // The first batch may start before the requested offset: skip what precedes it, as clients do.
        if (Number(m.offset) < offset) continue;
        out.push(m);
        offset = Number(m.offset) + 1;
      }
    }
    return out.slice(0, expected);
  } finally {
    await cluster.disconnect();
  }
}
