/**
 * Behaviours librdkafka's own test suite checks against a broker (issue 18), through the raw
 * client against a real broker process: Debian's librdkafka 2.0.2 speaks Produce v7 and
 * ListOffsets below v7, so it can see neither record_errors nor MAX_TIMESTAMP; the
 * record_errors cases are in compaction.test.ts.
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';

describe('librdkafka test-suite behaviours', () => {
  let broker: BrokerProcess;
  let c: RawClient;

  const createTopic = async (name: string, configs: { name: string; value: string }[] = []) => {
    const res = await c.request(19, 7, { topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs }], timeoutMs: 5000, validateOnly: false });
    expect(res.body.topics[0].errorCode).toBe(ErrorCode.NONE);
  };
  const produce = async (topic: string, records: Buffer) => {
    const res = await c.request(0, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    const p = res.body.responses[0].partitionResponses[0];
    expect(p.errorCode).toBe(ErrorCode.NONE);
    return p;
  };
  const maxTimestamp = async (topic: string) => {
    const res = await c.request(2, 9, { replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 }] }] });
    return res.body.topics[0].partitions[0];
  };

  beforeAll(async () => {
    broker = await startBrokerProcess();
    c = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('ListOffsets MAX_TIMESTAMP names the record holding the largest timestamp, not its batch end', async () => {
    await createTopic('max-ts');
    const base = Date.now() - 60_000;
    await produce('max-ts', buildBatch([1, 5, 9, 2, 3].map((d, i) => ({ key: `k${i}`, value: 'v', timestamp: base + d }))));
    expect(await maxTimestamp('max-ts')).toMatchObject({ errorCode: 0, offset: 2, timestamp: base + 9, leaderEpoch: 0 });
    // A later batch with smaller timestamps leaves the answer alone; a tie goes to the first record.
    await produce('max-ts', buildBatch([{ key: 'a', value: 'v', timestamp: base + 4 }]));
    await produce('max-ts', buildBatch([{ key: 'b', value: 'v', timestamp: base + 9 }]));
    expect(await maxTimestamp('max-ts')).toMatchObject({ offset: 2, timestamp: base + 9 });
    // A new maximum in the middle of a later batch.
    await produce('max-ts', buildBatch([7, 20, 8].map((d, i) => ({ key: `n${i}`, value: 'v', timestamp: base + d }))));
    expect(await maxTimestamp('max-ts')).toMatchObject({ offset: 8, timestamp: base + 20 });
  });

  test('ListOffsets MAX_TIMESTAMP on a LogAppendTime topic is the first record of the newest batch', async () => {
    await createTopic('max-ts-append', [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
    await produce('max-ts-append', buildBatch([{ value: 'a' }, { value: 'b' }]));
    await new Promise((r) => setTimeout(r, 5));
    const second = await produce('max-ts-append', buildBatch([{ value: 'c' }, { value: 'd' }, { value: 'e' }]));
    expect(await maxTimestamp('max-ts-append')).toMatchObject({ errorCode: 0, offset: 2, timestamp: Number(second.logAppendTimeMs) });
  });
});

describe('serve --kafka-defaults', () => {
  const describeBroker = async (c: RawClient) => {
    const res = await c.request(32, 4, {
      resources: [{ resourceType: 4, resourceName: '1', configurationKeys: ['group.initial.rebalance.delay.ms', 'offsets.topic.num.partitions'] }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    return Object.fromEntries(res.body.results[0].configs.map((x: { name: string; value: string }) => [x.name, x.value]));
  };

  test("switches Samsa's deliberately different defaults to Kafka's; explicit values still win", async () => {
    const plain = await startBrokerProcess();
    const kafka = await startBrokerProcess({ args: ['--kafka-defaults'] });
    const mixed = await startBrokerProcess({ args: ['--kafka-defaults', '--group-initial-rebalance-delay-ms', '100'] });
    const clients = await Promise.all([plain, kafka, mixed].map((b) => RawClient.connect(b.port)));
    try {
      expect(await describeBroker(clients[0])).toEqual({ 'group.initial.rebalance.delay.ms': '0', 'offsets.topic.num.partitions': '10' });
      expect(await describeBroker(clients[1])).toEqual({ 'group.initial.rebalance.delay.ms': '3000', 'offsets.topic.num.partitions': '50' });
      expect(await describeBroker(clients[2])).toEqual({ 'group.initial.rebalance.delay.ms': '100', 'offsets.topic.num.partitions': '50' });
      // The offsets topic really gets Kafka's 50 partitions (created on the first FindCoordinator).
      await clients[1].request(10, 3, { key: 'g', keyType: 0 });
      const md = await clients[1].request(3, 9, { topics: [{ name: '__consumer_offsets' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
      expect(md.body.topics[0].partitions).toHaveLength(50);
    } finally {
      for (const c of clients) c.close();
      await Promise.all([plain, kafka, mixed].map((b) => b.stop()));
    }
  });
});
