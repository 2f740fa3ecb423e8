/**
 * Pipelined Produce against in-process brokers (real sockets), where the test can hold a
 * background write open: a request that waited for its turn while leadership moved is
 * refused, not written by the old leader; a client that disconnects with produces in flight
 * gives back exactly the queued.max.request.bytes it held.
 */
import * as crypto from 'crypto';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker, startCluster } from '../../src';
import { tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { Reader } from '../../src/protocol/reader';
import { API_CODECS } from '../../src/protocol/generated';
import { AppendResult, PartitionLog } from '../../src/storage/partition-log';
import { createLogger } from '../../src/logging';

const NOT_LEADER_OR_FOLLOWER = 6;

const produce = (c: RawClient, topic: string, partition: number, records: Buffer) =>
  c.encodeRequest(0, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] });
const records = (n: number, size: number, tag: string) => Array.from({ length: n }, (_, i) => ({ key: `${tag}-${i}`, value: crypto.randomBytes(size) }));
const partitionResponse = (frame: Buffer) => {
  const r = new Reader(frame);
  r.int32();
  r.skipTaggedFields();
  return (API_CODECS[0]!.decodeResponse[9]!(r) as any).responses[0].partitionResponses[0];
};

/** Delays the end of every background write by `ms` (the write itself happens as usual). */
function slowBackgroundWrites(ms: number): () => void {
  const real = PartitionLog.prototype.appendInBackground;
  PartitionLog.prototype.appendInBackground = function (this: PartitionLog, ...args: Parameters<typeof real>) {
    const r = real.apply(this, args);
    return r instanceof Promise ? r.then((v) => new Promise<AppendResult>((resolve) => setTimeout(() => resolve(v), ms))) : r;
  };
  return () => (PartitionLog.prototype.appendInBackground = real);
}

test('a produce that waited behind a background write while leadership moved gets NOT_LEADER_OR_FOLLOWER', async () => {
  const cluster = await startCluster({ brokers: 2, port: 0, dataDir: tempDataDir('pipelined-leader-'), logger: createLogger('silent') });
  const restore = slowBackgroundWrites(300);
  try {
    const admin = new Kafka({ brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'moving', numPartitions: 1, replicationFactor: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const partition = cluster.state.topics.get('moving')!.partitions[0];
    const leader = partition.leader;
    const other = partition.replicas.find((r) => r !== leader)!;
    const c = await RawClient.connect(cluster.brokers().find((b) => b.id === leader)!.port);
    const answers = [c.nextFrame(), c.nextFrame()];
    c.writeRaw(Buffer.concat([produce(c, 'moving', 0, buildBatch(records(100, 5000, 'large'))), produce(c, 'moving', 0, buildBatch(records(1, 10, 'small')))]));
    // The large one is being written, the small one waits its turn: now the leader moves.
    await new Promise((r) => setTimeout(r, 100));
    cluster.movePartitionLeader('moving', 0, other);
    const [first, second] = (await Promise.all(answers)).map(partitionResponse);
    expect(first.errorCode).toBe(0);
    expect(second.errorCode).toBe(NOT_LEADER_OR_FOLLOWER);
    expect(partition.log.logEndOffset).toBe(100);
    c.close();
  } finally {
    restore();
    await cluster.close();
  }
});

test('a client that disconnects with pipelined produces in flight gives back exactly the request memory it held', async () => {
  const broker = await startBroker({ port: 0, dataDir: tempDataDir('pipelined-memory-'), logger: createLogger('silent'), brokerProperties: { 'queued.max.request.bytes': '200000000' } });
  const restore = slowBackgroundWrites(300);
  try {
    const admin = new Kafka({ brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'held', numPartitions: 3 }] });
    await admin.disconnect();
    const memory = broker.node.requestMemory;
    const c = await RawClient.connect(broker.port);
    c.writeRaw(Buffer.concat([0, 1, 2].map((p) => produce(c, 'held', p, buildBatch(records(40, 5000, `p${p}`))))));
    await new Promise((r) => setTimeout(r, 100));
    expect(memory.heldBytes).toBeGreaterThan(0);
    c.close();
    await new Promise((r) => setTimeout(r, 1000));
    expect(memory.heldBytes).toBe(0);
  } finally {
    restore();
    await broker.close();
  }
});
