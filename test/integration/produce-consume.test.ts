/**
 * kafkajs against a real broker process: topics, every codec, 10k messages each, consumed
 * back in order with keys, values, headers and timestamps intact, and again after a restart.
 */
import { CompressionTypes, Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { registerKafkajsCodecs } from '../helpers/kafkajs-codecs';
import { fetchAll, FetchedMessage } from '../helpers/kafkajs-fetcher';

registerKafkajsCodecs();

const CODECS: [string, CompressionTypes][] = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
];
const COUNT = 10_000;
const PER_SEND = 1000;
const BASE_TS = Date.now() - 60_000;

function expectedMessage(codec: string, i: number) {
  return {
    key: `key-${codec}-${i}`,
    value: `value-${codec}-${i}-${'x'.repeat(i % 50)}`,
    headers: { seq: String(i), codec },
    timestamp: String(BASE_TS + i),
  };
}

function checkMessages(codec: string, got: FetchedMessage[]) {
  expect(got).toHaveLength(COUNT);
  for (let i = 0; i < COUNT; i++) {
    const m = got[i];
    const want = expectedMessage(codec, i);
    if (
      m.offset !== String(i) ||
      m.key?.toString() !== want.key ||
      m.value?.toString() !== want.value ||
      m.timestamp !== want.timestamp ||
      m.headers.seq?.toString() !== want.headers.seq ||
      m.headers.codec?.toString() !== codec
    ) {
      throw new Error(
        `message ${i} of ${codec} differs: got offset=${m.offset} key=${m.key} value=${m.value} ts=${m.timestamp} headers=${JSON.stringify(
          Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)])),
        )}`,
      );
    }
  }
}

describe('kafkajs produce and fetch through a real broker', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let producer: Producer;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    kafka = new Kafka({ clientId: 'samsa-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
  });

  test('admin creates topics and lists them with their partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const created = await admin.createTopics({
        topics: CODECS.map(([codec]) => ({ topic: `codec-${codec}`, numPartitions: 1 })).concat([{ topic: 'three', numPartitions: 3 }]),
      });
      expect(created).toBe(true);
      const again = await admin.createTopics({ topics: [{ topic: 'three', numPartitions: 3 }] });
      expect(again).toBe(false); // already exists
      const topics = await admin.listTopics();
      expect(topics).toEqual(expect.arrayContaining(['codec-none', 'codec-zstd', 'three']));
      const meta = await admin.fetchTopicMetadata({ topics: ['three'] });
      expect(meta.topics[0].partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      const cluster = await admin.describeCluster();
      expect(cluster.brokers).toEqual([expect.objectContaining({ host: '127.0.0.1', port: broker.port })]);
      await admin.createPartitions({ topicPartitions: [{ topic: 'three', count: 5 }] });
      const grown = await admin.fetchTopicMetadata({ topics: ['three'] });
      expect(grown.topics[0].partitions).toHaveLength(5);
      const failure = await admin.createTopics({ topics: [{ topic: 'bad name!', numPartitions: 1 }] }).catch((e) => e);
      expect(failure.errors?.[0]?.type).toBe('INVALID_TOPIC_EXCEPTION');
      const rf = await admin.createTopics({ topics: [{ topic: 'rf3', numPartitions: 1, replicationFactor: 3 }] }).catch((e) => e);
      expect(rf.errors?.[0]?.type).toBe('INVALID_REPLICATION_FACTOR');
    } finally {
      await admin.disconnect();
    }
  });

  test.each(CODECS)('produces 10k messages with %s and reads them back in order', async (codec, compression) => {
    const topic = `codec-${codec}`;
    for (let start = 0; start < COUNT; start += PER_SEND) {
      const messages = [];
      for (let i = start; i < start + PER_SEND; i++) messages.push(expectedMessage(codec, i));
      const res = await producer.send({ topic, compression, acks: -1, messages });
      expect(res[0].errorCode).toBe(0);
      expect(res[0].baseOffset).toBe(String(start));
    }
    const got = await fetchAll(kafka, topic, 0, 0, COUNT);
    checkMessages(codec, got);
  });

  test('ListOffsets: earliest, latest and by timestamp', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets('codec-none');
      expect(offsets).toEqual([expect.objectContaining({ partition: 0, low: '0', high: String(COUNT), offset: String(COUNT) })]);
      const byTs = await admin.fetchTopicOffsetsByTimestamp('codec-none', BASE_TS + 5000);
      // The first batch whose max timestamp reaches the target: batches hold 1000 records each.
      expect(byTs).toEqual([{ partition: 0, offset: '5000' }]);
      // Inside a compressed batch: the exact record, as Kafka answers (not the batch start).
      const inside = await admin.fetchTopicOffsetsByTimestamp('codec-zstd', BASE_TS + 5432);
      expect(inside).toEqual([{ partition: 0, offset: '5432' }]);
      const insidePlain = await admin.fetchTopicOffsetsByTimestamp('codec-none', BASE_TS + 7777);
      expect(insidePlain).toEqual([{ partition: 0, offset: '7777' }]);
      const future = await admin.fetchTopicOffsetsByTimestamp('codec-none', Date.now() + 3_600_000);
      expect(future).toEqual([{ partition: 0, offset: String(COUNT) }]);
    } finally {
      await admin.disconnect();
    }
  });

  test('fetch from the middle of a batch returns the whole batch; the client skips ahead', async () => {
    const got = await fetchAll(kafka, 'codec-lz4', 0, 1234, 10);
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 10 }, (_, i) => String(1234 + i)));
  });

  test('a small partition max bytes still returns the first batch whole', async () => {
    const got = await fetchAll(kafka, 'codec-none', 0, 0, 2000, { partitionMaxBytes: 100 });
    expect(got[1999].offset).toBe('1999');
  });

  test('data survives a restart and is read again from offset 0', async () => {
    await producer.disconnect();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir: broker.dataDir });
    kafka = new Kafka({ clientId: 'samsa-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (const [codec] of CODECS) {
      checkMessages(codec, await fetchAll(kafka, `codec-${codec}`, 0, 0, COUNT));
    }
    const res = await producer.send({ topic: 'codec-none', messages: [{ value: 'after-restart' }] });
    expect(res[0].baseOffset).toBe(String(COUNT));
  });

  test('an acknowledged write survives kill -9', async () => {
    await producer.send({ topic: 'three', acks: 1, messages: [{ partition: 2, key: 'k', value: 'durable' }] });
    await producer.disconnect();
    await broker.kill();
    broker = await startBrokerProcess({ dataDir: broker.dataDir });
    kafka = new Kafka({ clientId: 'samsa-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const got = await fetchAll(kafka, 'three', 2, 0, 1);
    expect(got[0].value?.toString()).toBe('durable');
  });

  test('DeleteTopics removes the topic and its data', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'doomed', numPartitions: 2 }] });
      await producer.send({ topic: 'doomed', messages: [{ value: 'bye' }] });
      await admin.deleteTopics({ topics: ['doomed'] });
      expect(await admin.listTopics()).not.toContain('doomed');
      const fs = await import('fs');
      expect(fs.existsSync(`${broker.dataDir}/doomed-0`)).toBe(false);
    } finally {
      await admin.disconnect();
    }
  });
});
