/**
 * Large produces are written on the thread pool, and a connection starts the Produce requests
 * queued behind one whose writes are in flight. What a client sees must not change: answers
 * in request order, offsets in request order per partition, idempotent sequences accepted in
 * order, a request of another API answered after the produces before it, and every record
 * readable once, in order, by a real consumer (kafkajs).
 */
import * as crypto from 'crypto';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { Reader } from '../../src/protocol/reader';
import { API_CODECS } from '../../src/protocol/generated';
import { isFlexible } from '../../src/protocol/headers';

const PRODUCE = 0;
const METADATA = 3;
const INIT_PRODUCER_ID = 22;
/** Records per batch and their size: about 200 KiB per batch, over the background-write threshold. */
const RECORDS = 50;
const VALUE_BYTES = 4000;

describe('pipelined produce with background writes', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess();
  });
  afterAll(async () => broker?.stop());

  /** Sends every frame at once, then collects as many answers (correlation id and body). */
  async function burst(c: RawClient, requests: { apiKey: number; version: number; body: object }[]): Promise<{ correlationId: number; apiKey: number; body: any }[]> {
    const frames = requests.map((r) => c.encodeRequest(r.apiKey, r.version, r.body));
    const answers = requests.map(() => c.nextFrame());
    c.writeRaw(Buffer.concat(frames));
    const raw = await Promise.all(answers);
    return raw.map((frame, i) => {
      const r = new Reader(frame);
      const correlationId = r.int32();
      if (isFlexible(API_CODECS[requests[i].apiKey]!, requests[i].version)) r.skipTaggedFields();
      return { correlationId, apiKey: requests[i].apiKey, body: API_CODECS[requests[i].apiKey]!.decodeResponse[requests[i].version]!(r) };
    });
  }

  const values = (tag: string) => Array.from({ length: RECORDS }, (_, i) => ({ key: `${tag}-${i}`, value: Buffer.alloc(VALUE_BYTES, `${tag}-${i}|`) }));
  const produce = (topic: string, partition: number, records: Buffer, acks = 1) => ({
    apiKey: PRODUCE,
    version: 9,
    body: { transactionalId: null, acks, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] },
  });

  test('answers, offsets and records keep request order across partitions, with another API in between', async () => {
    const c = await RawClient.connect(broker.port);
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pipelined', numPartitions: 3 }] });
    // Partitions 0,0,1,0,2,1,... : consecutive requests for one partition wait for each other,
    // the others' writes run side by side.
    const plan = [0, 0, 1, 0, 2, 1, 1, 2, 0, 2, 0, 1];
    const requests: { apiKey: number; version: number; body: object }[] = plan.map((p, i) => produce('pipelined', p, buildBatch(values(`r${i}`))));
    requests.splice(6, 0, { apiKey: METADATA, version: 9, body: { topics: [{ name: 'pipelined' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false } });
    const answers = await burst(c, requests);
    const ids = answers.map((a) => a.correlationId);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(answers[6].body.topics[0].partitions).toHaveLength(3);
    const produced = answers.filter((a) => a.apiKey === PRODUCE).map((a) => a.body.responses[0].partitionResponses[0]);
    expect(produced.map((r: any) => r.errorCode)).toEqual(plan.map(() => 0));
    const next = [0, 0, 0];
    plan.forEach((p, i) => {
      expect(produced[i].baseOffset).toBe(next[p]);
      next[p] += RECORDS;
    });

    // A real consumer reads every record once, in request order per partition.
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: 'pipelined-reader', maxBytes: 64 << 20 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'pipelined', fromBeginning: true });
    const seen: string[][] = [[], [], []];
    const total = plan.length * RECORDS;
    await new Promise<void>((resolve) => {
      let count = 0;
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen[partition].push(message.key!.toString());
          if (++count === total) resolve();
        },
      });
    });
    await consumer.disconnect();
    for (const p of [0, 1, 2]) {
      const expected = plan.flatMap((q, i) => (q === p ? values(`r${i}`).map((v) => v.key) : []));
      expect(seen[p]).toEqual(expected);
    }
    await admin.disconnect();
    c.close();
  });

  test('an idempotent producer pipelining large batches to one partition gets every sequence accepted in order', async () => {
    const c = await RawClient.connect(broker.port);
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pipelined-idempotent', numPartitions: 1 }] });
    await admin.disconnect();
    const init = (await c.request(INIT_PRODUCER_ID, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })).body;
    expect(init.errorCode).toBe(0);
    const batch = (i: number) => buildBatch(values(`s${i}`), { producerId: init.producerId, producerEpoch: init.producerEpoch, baseSequence: i * RECORDS });
    // Five in flight, as a librdkafka idempotent producer allows; then the last one again (a retry).
    const requests = [0, 1, 2, 3, 4].map((i) => produce('pipelined-idempotent', 0, batch(i), -1));
    requests.push(produce('pipelined-idempotent', 0, batch(4), -1));
    const answers = await burst(c, requests);
    const results = answers.map((a) => a.body.responses[0].partitionResponses[0]);
    expect(results.map((r: any) => r.errorCode)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(results.map((r: any) => r.baseOffset)).toEqual([0, 50, 100, 150, 200, 200]);
    const end = await c.request(2, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'pipelined-idempotent', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
    expect(end.body.topics[0].partitions[0].offset).toBe(250);
    c.close();
  });

  test('a recompressed request (compression.type=zstd) keeps its place ahead of a small one sent after it', async () => {
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pipelined-zstd', numPartitions: 1, configEntries: [{ name: 'compression.type', value: 'zstd' }, { name: 'max.message.bytes', value: '20000000' }] }] });
    await admin.disconnect();
    const c = await RawClient.connect(broker.port);
    // Random values: zstd works hard on them, on the thread pool, while the small one is ready at once.
    const large = Array.from({ length: 200 }, (_, i) => ({ key: `large-${i}`, value: crypto.randomBytes(20_000) }));
    const answers = await burst(c, [produce('pipelined-zstd', 0, buildBatch(large)), produce('pipelined-zstd', 0, buildBatch([{ key: 'small', value: 'x' }]))]);
    const results = answers.map((a) => a.body.responses[0].partitionResponses[0]);
    expect(results.map((r: any) => r.errorCode)).toEqual([0, 0]);
    expect(results.map((r: any) => r.baseOffset)).toEqual([0, 200]);
    c.close();
  });

  test('an acks=0 request among pipelined ones does not let a later answer overtake an earlier one', async () => {
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pipelined-acks', numPartitions: 3 }] });
    await admin.disconnect();
    const c = await RawClient.connect(broker.port);
    const requests = [
      produce('pipelined-acks', 0, buildBatch(values('first'))),
      produce('pipelined-acks', 1, buildBatch([{ key: 'k', value: 'fire and forget' }]), 0),
      produce('pipelined-acks', 2, buildBatch([{ key: 'k', value: 'small' }])),
    ];
    const frames = requests.map((r) => c.encodeRequest(r.apiKey, r.version, r.body));
    const answers = [c.nextFrame(), c.nextFrame()];
    c.writeRaw(Buffer.concat(frames));
    const ids = (await Promise.all(answers)).map((f) => f.readInt32BE(0));
    // Correlation ids 1 and 3 (the acks=0 request, 2, has no answer), in that order.
    expect(ids[0]).toBeLessThan(ids[1]);
    expect(ids[1] - ids[0]).toBe(2);
    c.close();
  });
});
