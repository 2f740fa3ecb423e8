/**
 * Answers that clients' own test suites caught differing from Kafka 4.2, each checked on the
 * wire against a real broker: DescribeConfigs with an empty key list, the source of settings
 * given as flags, topic-config synonyms at their defaults, and Metadata auto-creation.
 */
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

const METADATA = 3;
const DESCRIBE_CONFIGS = 32;
const TOPIC = 2;
const BROKER = 4;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
const UNKNOWN_TOPIC_OR_PARTITION = 3;

describe('Kafka parity of config and metadata answers', () => {
  let broker: BrokerProcess;
  let c: RawClient;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    c = await RawClient.connect(broker.port);
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'parity' }] });
    await admin.disconnect();
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  async function describe(resourceType: number, resourceName: string, configurationKeys: string[] | null) {
    const r = await c.request(DESCRIBE_CONFIGS, 4, {
      resources: [{ resourceType, resourceName, configurationKeys }],
      includeSynonyms: true,
      includeDocumentation: false,
    });
    return r.body.results[0];
  }

  test('DescribeConfigs: an empty configuration_keys list means all configs, as null does', async () => {
    const all = await describe(TOPIC, 'parity', null);
    const empty = await describe(TOPIC, 'parity', []);
    expect(all.configs.length).toBeGreaterThan(20);
    expect(empty.configs.map((x: { name: string }) => x.name)).toEqual(all.configs.map((x: { name: string }) => x.name));
    const one = await describe(TOPIC, 'parity', ['retention.ms']);
    expect(one.configs.map((x: { name: string }) => x.name)).toEqual(['retention.ms']);
  });

  test('a topic config at its default: retention.ms has no synonyms, cleanup.policy lists its broker default', async () => {
    const r = await describe(TOPIC, 'parity', ['retention.ms', 'cleanup.policy']);
    const byName = new Map(r.configs.map((x: { name: string }) => [x.name, x]));
    expect(byName.get('retention.ms')).toMatchObject({ value: '604800000', configSource: DEFAULT_CONFIG, synonyms: [] });
    expect(byName.get('cleanup.policy')).toMatchObject({
      value: 'delete',
      configSource: DEFAULT_CONFIG,
      synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: DEFAULT_CONFIG }],
    });
  });

  test('listeners given by --host/--port are a configured (static) value, not a default', async () => {
    const r = await describe(BROKER, '1', ['listeners', 'num.partitions']);
    const byName = new Map(r.configs.map((x: { name: string }) => [x.name, x]));
    const listeners = byName.get('listeners') as { value: string; configSource: number; synonyms: unknown[] };
    // The configured value, as written (the test asks for port 0, a free port).
    expect(listeners.value).toBe('PLAINTEXT://127.0.0.1:0');
    expect(listeners.configSource).toBe(STATIC_BROKER_CONFIG);
    expect(listeners.synonyms).toEqual([
      { name: 'listeners', value: listeners.value, source: STATIC_BROKER_CONFIG },
      { name: 'listeners', value: 'PLAINTEXT://:9092', source: DEFAULT_CONFIG },
    ]);
    // A flag left at Kafka's default stays a default.
    expect(byName.get('num.partitions')).toMatchObject({ value: '1', configSource: DEFAULT_CONFIG });
  });

  test('Metadata that auto-creates a topic answers UNKNOWN_TOPIC_OR_PARTITION, the next one describes it', async () => {
    const ask = () =>
      c.request(METADATA, 12, {
        topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'created-by-metadata' }],
        allowAutoTopicCreation: true,
        includeTopicAuthorizedOperations: false,
      });
    const first = (await ask()).body.topics[0];
    expect(first).toMatchObject({ name: 'created-by-metadata', errorCode: UNKNOWN_TOPIC_OR_PARTITION, partitions: [] });
    const second = (await ask()).body.topics[0];
    expect(second.errorCode).toBe(0);
    expect(second.partitions).toHaveLength(1);
    // kafkajs retries the first answer and produces to the new topic.
    const producer = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const [ack] = await producer.send({ topic: 'auto-created-by-kafkajs', messages: [{ value: 'v' }] });
    expect(ack.errorCode).toBe(0);
    await producer.disconnect();
  });
});
