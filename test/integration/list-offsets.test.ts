/**
 * ListOffsets MAX_TIMESTAMP (-3) names the exact record holding the largest timestamp (the
 * first of several), as Kafka does since 3.8 (KAFKA-16310), not the last offset of its batch;
 * batches produced by kafkajs, plain and gzip-compressed, read back with a raw ListOffsets.
 */
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

describe('ListOffsets MAX_TIMESTAMP', () => {
  let broker: BrokerProcess;
  let c: RawClient;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    c = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  async function maxTimestamp(topic: string): Promise<{ offset: number; timestamp: number }> {
    const r = await c.request(2, 9, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 }] }],
    });
    const p = r.body.topics[0].partitions[0];
    expect(p.errorCode).toBe(0);
    return { offset: p.offset, timestamp: p.timestamp };
  }

  test.each([
    ['plain', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
  ])('%s batches: the first record with the largest timestamp', async (name, compression) => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const topic = `max-ts-${name}`;
    const ts = [1_700_000_001_000, 1_700_000_005_000, 1_700_000_003_000, 1_700_000_005_000, 1_700_000_002_000];
    await producer.send({ topic, compression, messages: ts.map((t, i) => ({ key: `k${i}`, value: `v${i}`, timestamp: String(t) })) });
    expect(await maxTimestamp(topic)).toEqual({ offset: 1, timestamp: 1_700_000_005_000 });
    // A later batch with older timestamps does not move the answer.
    await producer.send({ topic, compression, messages: [{ value: 'late', timestamp: String(1_700_000_000_500) }] });
    expect(await maxTimestamp(topic)).toEqual({ offset: 1, timestamp: 1_700_000_005_000 });
    // A newer one does: its own record.
    await producer.send({ topic, compression, messages: [{ value: 'a', timestamp: String(1_700_000_004_000) }, { value: 'b', timestamp: String(1_700_000_009_000) }] });
    expect(await maxTimestamp(topic)).toEqual({ offset: 7, timestamp: 1_700_000_009_000 });
    await producer.disconnect();
  });
});
