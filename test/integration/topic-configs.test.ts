/**
 * Config administration against a real broker process: kafkajs admin describeConfigs and
 * alterConfigs, IncrementalAlterConfigs and DescribeConfigs v4 through the raw client, the
 * broker resource (server.properties, --override, dynamic defaults), values surviving a
 * restart; and the single-broker answers of DescribeLogDirs, DescribeTopicPartitions,
 * ElectLeaders and the partition reassignment APIs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ConfigResourceTypes, Kafka, logLevel, Admin } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';
import { TOPIC_CONFIGS } from '../../src/cluster/topic-config';

const TOPIC = 2;
const BROKER = 4;
const SOURCE = { TOPIC: 1, DYNAMIC_BROKER: 2, DYNAMIC_DEFAULT: 3, STATIC: 4, DEFAULT: 5 };

describe('topic and broker configs through a real broker', () => {
  let dataDir: string;
  let args: string[];
  let broker: BrokerProcess;
  let admin: Admin;
  let raw: RawClient;

  async function connect(): Promise<void> {
    const kafka = new Kafka({ clientId: 'configs-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    raw = await RawClient.connect(broker.port);
  }

  async function disconnect(): Promise<void> {
    await admin?.disconnect();
    raw?.close();
  }

  beforeAll(async () => {
    dataDir = tempDataDir();
    const props = path.join(dataDir, '..', `${path.basename(dataDir)}.properties`);
    fs.writeFileSync(
      props,
      [
        '# a Kafka-style server.properties',
        'process.roles=broker,controller',
        'node.id=1',
        'num.partitions=1',
        'log.retention.hours=48',
        'log.cleaner.backoff.ms=60000',
        'offsets.topic.replication.factor=1',
      ].join('\n'),
    );
    args = ['--config', props, '--override', 'log.segment.bytes=2097152'];
    broker = await startBrokerProcess({ dataDir, args });
    await connect();
  });

  afterAll(async () => {
    await disconnect();
    await broker?.stop();
  });

  async function describeTopic(name: string) {
    const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name }], includeSynonyms: true });
    return new Map(res.resources[0].configEntries.map((e) => [e.configName, e]));
  }

  test('describeConfigs: every topic config with its value, source and synonyms', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-a', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const entries = await describeTopic('cfg-a');
    expect([...entries.keys()].sort()).toEqual(TOPIC_CONFIGS.map((c) => c.name).sort());
    expect(entries.get('cleanup.policy')).toMatchObject({ configValue: 'compact', configSource: SOURCE.TOPIC, isDefault: false, readOnly: false });
    expect(entries.get('cleanup.policy')!.configSynonyms).toEqual([
      { configName: 'cleanup.policy', configValue: 'compact', configSource: SOURCE.TOPIC },
      { configName: 'log.cleanup.policy', configValue: 'delete', configSource: SOURCE.DEFAULT },
    ]);
    // log.retention.hours=48 from the properties file, converted to ms. Kafka reports source
    // and synonyms only from the topic config's own broker key (log.retention.ms) on, so this
    // value comes with DEFAULT_CONFIG and no synonyms, exactly as Kafka answers.
    expect(entries.get('retention.ms')).toMatchObject({ configValue: String(48 * 3600_000), configSource: SOURCE.DEFAULT });
    expect(entries.get('retention.ms')!.configSynonyms).toEqual([]);
    // --override log.segment.bytes
    expect(entries.get('segment.bytes')).toMatchObject({ configValue: '2097152', configSource: SOURCE.STATIC });
    expect(entries.get('compression.type')).toMatchObject({ configValue: 'producer', configSource: SOURCE.DEFAULT, isDefault: true });
    expect(entries.get('max.message.bytes')!.configSynonyms).toEqual([{ configName: 'message.max.bytes', configValue: '1048588', configSource: SOURCE.DEFAULT }]);
  });

  test('DescribeConfigs v4: types and documentation when asked, a subset of keys, errors per resource', async () => {
    const res = await raw.request(32, 4, {
      resources: [
        { resourceType: TOPIC, resourceName: 'cfg-a', configurationKeys: ['retention.ms', 'cleanup.policy', 'no.such.key'] },
        { resourceType: TOPIC, resourceName: 'missing-topic', configurationKeys: null },
        { resourceType: 0, resourceName: 'x', configurationKeys: null }, // UNKNOWN: not a config resource type
      ],
      includeSynonyms: false,
      includeDocumentation: true,
    });
    const [a, missing, unsupported] = res.body.results;
    expect(a.errorCode).toBe(0);
    expect(a.configs.map((c: { name: string }) => c.name).sort()).toEqual(['cleanup.policy', 'retention.ms']);
    const retention = a.configs.find((c: { name: string }) => c.name === 'retention.ms');
    expect(retention).toMatchObject({ configType: 5, configSource: SOURCE.DEFAULT, synonyms: [] });
    expect(retention.documentation).toMatch(/retention|deleted/i);
    expect(a.configs.find((c: { name: string }) => c.name === 'cleanup.policy').configType).toBe(7);
    expect(missing).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, configs: [] });
    expect(unsupported.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const noDocs = await raw.request(32, 4, {
      resources: [{ resourceType: TOPIC, resourceName: 'cfg-a', configurationKeys: ['retention.ms'] }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(noDocs.body.results[0].configs[0].documentation).toBeNull();
  });

  test('alterConfigs: the given set replaces the overrides; bad names and values are INVALID_CONFIG; validateOnly changes nothing', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-b', configEntries: [{ name: 'retention.ms', value: '1000' }] }] });
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: 'cfg-b',
          configEntries: [
            { name: 'segment.bytes', value: '100000' },
            { name: 'compression.type', value: 'zstd' },
          ],
        },
      ],
    });
    let entries = await describeTopic('cfg-b');
    expect(entries.get('segment.bytes')).toMatchObject({ configValue: '100000', configSource: SOURCE.TOPIC });
    expect(entries.get('compression.type')).toMatchObject({ configValue: 'zstd', configSource: SOURCE.TOPIC });
    // retention.ms was not in the new set: back to the broker's value.
    expect(entries.get('retention.ms')).toMatchObject({ configValue: String(48 * 3600_000), configSource: SOURCE.DEFAULT });

    await admin.alterConfigs({
      validateOnly: true,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-b', configEntries: [{ name: 'segment.bytes', value: '200000' }] }],
    });
    entries = await describeTopic('cfg-b');
    expect(entries.get('segment.bytes')!.configValue).toBe('100000');

    const refused = async (configEntries: { name: string; value: string }[], name = 'cfg-b') => {
      const res = await raw.request(33, 1, { resources: [{ resourceType: TOPIC, resourceName: name, configs: configEntries }], validateOnly: false });
      return res.body.responses[0];
    };
    expect(await refused([{ name: 'retention.ms', value: 'soon' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Invalid value soon for configuration retention.ms: Not a number of type LONG',
    });
    expect(await refused([{ name: 'segment.bytes', value: '10' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await refused([{ name: 'min.cleanable.dirty.ratio', value: '1.5' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await refused([{ name: 'cleanup.policy', value: 'shred' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await refused([{ name: 'no.such.config', value: '1' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Unknown topic config name: no.such.config',
    });
    expect(
      await refused([
        { name: 'min.compaction.lag.ms', value: '5000' },
        { name: 'max.compaction.lag.ms', value: '1000' },
      ]),
    ).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await refused([{ name: 'retention.ms', value: '1' }], 'no-such-topic')).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    // Nothing of the refused requests stuck.
    entries = await describeTopic('cfg-b');
    expect(entries.get('segment.bytes')!.configValue).toBe('100000');
    await expect(
      admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-b', configEntries: [{ name: 'retention.ms', value: '-7' }] }],
      }),
    ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
  });

  test('IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT and their errors', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-c', configEntries: [{ name: 'retention.ms', value: '5000' }] }] });
    const incr = async (configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false, resourceName = 'cfg-c', resourceType = TOPIC) =>
      (await raw.request(44, 1, { resources: [{ resourceType, resourceName, configs }], validateOnly })).body.responses[0];
    expect(
      await incr([
        { name: 'segment.ms', configOperation: 0, value: '3600000' },
        { name: 'retention.ms', configOperation: 1, value: null },
        { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
      ]),
    ).toMatchObject({ errorCode: 0, errorMessage: null });
    let entries = await describeTopic('cfg-c');
    expect(entries.get('segment.ms')).toMatchObject({ configValue: '3600000', configSource: SOURCE.TOPIC });
    expect(entries.get('retention.ms')!.configSource).toBe(SOURCE.DEFAULT);
    expect(entries.get('cleanup.policy')!.configValue).toBe('delete,compact');
    expect(await incr([{ name: 'cleanup.policy', configOperation: 3, value: 'delete' }])).toMatchObject({ errorCode: 0 });
    entries = await describeTopic('cfg-c');
    expect(entries.get('cleanup.policy')!.configValue).toBe('compact');
    expect(await incr([{ name: 'retention.ms', configOperation: 2, value: '5' }])).toMatchObject({
      errorCode: ErrorCode.INVALID_CONFIG,
      errorMessage: 'Config value append is not allowed for config key: retention.ms',
    });
    expect(await incr([{ name: 'cleanup.policy', configOperation: 3, value: 'compact' }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(
      await incr([
        { name: 'segment.ms', configOperation: 0, value: '1' },
        { name: 'segment.ms', configOperation: 1, value: null },
      ]),
    ).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(await incr([{ name: 'segment.ms', configOperation: 9, value: '1' }])).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(await incr([{ name: 'bogus.key', configOperation: 1, value: null }])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG });
    expect(await incr([{ name: 'segment.ms', configOperation: 0, value: '42' }], true)).toMatchObject({ errorCode: 0 });
    entries = await describeTopic('cfg-c');
    expect(entries.get('segment.ms')!.configValue).toBe('3600000');
    // A version-0 (non-flexible) request works the same.
    const v0 = await raw.request(44, 0, { resources: [{ resourceType: TOPIC, resourceName: 'cfg-c', configs: [{ name: 'flush.ms', configOperation: 0, value: '1000' }] }], validateOnly: false });
    expect(v0.body.responses[0].errorCode).toBe(0);
  });

  test('broker resource: static settings, read-only refusal, dynamic cluster default and per-broker values', async () => {
    const describeBroker = async (name: string) => {
      const res = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.BROKER, name }], includeSynonyms: true });
      return new Map(res.resources[0].configEntries.map((e) => [e.configName, e]));
    };
    let b = await describeBroker('1');
    expect(b.get('log.retention.hours')).toMatchObject({ configValue: '48', configSource: SOURCE.STATIC, readOnly: true });
    expect(b.get('log.retention.ms')).toMatchObject({ readOnly: false });
    expect(b.get('log.segment.bytes')).toMatchObject({ configValue: '2097152', configSource: SOURCE.STATIC, readOnly: false });
    expect(b.get('num.partitions')).toMatchObject({ configValue: '1', configSource: SOURCE.STATIC, readOnly: true });
    expect(b.get('node.id')!.configValue).toBe('1');

    // Read-only settings cannot change at run time.
    const refused = await raw.request(44, 1, {
      resources: [{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'num.partitions', configOperation: 0, value: '3' }] }],
      validateOnly: false,
    });
    expect(refused.body.responses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Cannot update these configs dynamically: Set(num.partitions)' });
    const otherBroker = await raw.request(32, 1, { resources: [{ resourceType: BROKER, resourceName: '7', configurationKeys: null }], includeSynonyms: false });
    expect(otherBroker.body.results[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);

    // A dynamic cluster-wide default applies to every topic without an override of its own
    // (kafkajs refuses the empty resource name, so this goes through the raw client).
    const dynamicDefault = await raw.request(33, 1, {
      resources: [{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', value: '7200000' }] }],
      validateOnly: false,
    });
    expect(dynamicDefault.body.responses[0].errorCode).toBe(0);
    const t = await describeTopic('cfg-a');
    expect(t.get('retention.ms')).toMatchObject({ configValue: '7200000', configSource: SOURCE.DYNAMIC_DEFAULT });
    expect(t.get('retention.ms')!.configSynonyms.map((s) => [s.configName, s.configSource])).toEqual([
      ['log.retention.ms', SOURCE.DYNAMIC_DEFAULT],
      ['log.retention.hours', SOURCE.STATIC],
      ['log.retention.hours', SOURCE.DEFAULT],
    ]);
    const dflt = await raw.request(32, 1, { resources: [{ resourceType: BROKER, resourceName: '', configurationKeys: null }], includeSynonyms: false });
    expect(dflt.body.results[0].configs.map((e: { name: string; value: string; configSource: number }) => [e.name, e.value, e.configSource])).toEqual([
      ['log.retention.ms', '7200000', SOURCE.DYNAMIC_DEFAULT],
    ]);
    // Per broker wins over the cluster default.
    const perBroker = await raw.request(44, 1, {
      resources: [{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: 0, value: '3600000' }] }],
      validateOnly: false,
    });
    expect(perBroker.body.responses[0].errorCode).toBe(0);
    b = await describeBroker('1');
    expect(b.get('log.retention.ms')).toMatchObject({ configValue: '3600000', configSource: SOURCE.DYNAMIC_BROKER });
    expect((await describeTopic('cfg-a')).get('retention.ms')!.configValue).toBe('3600000');
  });

  test('topic overrides and dynamic broker configs survive a restart', async () => {
    await disconnect();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir, args });
    await connect();
    const b = await describeTopic('cfg-b');
    expect(b.get('segment.bytes')).toMatchObject({ configValue: '100000', configSource: SOURCE.TOPIC });
    expect(b.get('compression.type')).toMatchObject({ configValue: 'zstd', configSource: SOURCE.TOPIC });
    const c = await describeTopic('cfg-c');
    expect(c.get('cleanup.policy')!.configValue).toBe('compact');
    expect(c.get('segment.ms')!.configValue).toBe('3600000');
    expect(b.get('retention.ms')).toMatchObject({ configValue: '3600000', configSource: SOURCE.DYNAMIC_BROKER });
  });

  test('DescribeLogDirs: the data directory with partition sizes', async () => {
    const producer = new Kafka({ clientId: 'x', brokers: [broker.address], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    await producer.send({ topic: 'cfg-a', messages: [{ key: 'k', value: 'v'.repeat(1000) }] });
    await producer.disconnect();
    const res = await raw.request(35, 4, { topics: null });
    const dir = res.body.results[0];
    expect(dir).toMatchObject({ errorCode: 0, logDir: fs.realpathSync(dataDir) === dataDir ? dataDir : expect.any(String) });
    expect(dir.totalBytes).toBeGreaterThan(0);
    expect(dir.usableBytes).toBeGreaterThan(0);
    const a = dir.topics.find((t: { name: string }) => t.name === 'cfg-a');
    expect(a.partitions[0].partitionSize).toBeGreaterThan(1000);
    const some = await raw.request(35, 1, { topics: [{ topic: 'cfg-a', partitions: [0, 5] }, { topic: 'nope', partitions: [0] }] });
    expect(some.body.results[0].topics).toEqual([{ name: 'cfg-a', partitions: [{ partitionIndex: 0, partitionSize: expect.any(Number), offsetLag: 0, isFutureKey: false }] }]);
  });

  test('DescribeTopicPartitions pages through topics in name order with a cursor', async () => {
    await admin.createTopics({ topics: [{ topic: 'dtp-x', numPartitions: 3 }, { topic: 'dtp-y', numPartitions: 2 }] });
    const page1 = await raw.request(75, 0, { topics: [{ name: 'dtp-y' }, { name: 'dtp-x' }, { name: 'dtp-missing' }], responsePartitionLimit: 2, cursor: null });
    expect(page1.body.topics.map((t: { name: string; partitions: unknown[] }) => [t.name, t.partitions.length])).toEqual([['dtp-missing', 0], ['dtp-x', 2]]);
    expect(page1.body.topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(page1.body.nextCursor).toEqual({ topicName: 'dtp-x', partitionIndex: 2 });
    const page2 = await raw.request(75, 0, { topics: [{ name: 'dtp-y' }, { name: 'dtp-x' }], responsePartitionLimit: 2, cursor: page1.body.nextCursor });
    expect(page2.body.topics.map((t: { name: string; partitions: { partitionIndex: number }[] }) => [t.name, t.partitions.map((p) => p.partitionIndex)])).toEqual([
      ['dtp-x', [2]],
      ['dtp-y', [0]],
    ]);
    expect(page2.body.nextCursor).toEqual({ topicName: 'dtp-y', partitionIndex: 1 });
    const all = await raw.request(75, 0, { topics: [], responsePartitionLimit: 2000, cursor: null });
    expect(all.body.nextCursor).toBeNull();
    expect(all.body.topics.map((t: { name: string }) => t.name)).toEqual([...all.body.topics.map((t: { name: string }) => t.name)].sort());
    expect(all.body.topics.find((t: { name: string }) => t.name === 'dtp-y').partitions[1]).toMatchObject({ leaderId: 1, replicaNodes: [1], isrNodes: [1] });
  });

  test('ElectLeaders and partition reassignments answer as a one-broker cluster', async () => {
    const elect = await raw.request(43, 2, { electionType: 0, topicPartitions: [{ topic: 'dtp-x', partitions: [0, 9] }], timeoutMs: 1000 });
    expect(elect.body.errorCode).toBe(0);
    expect(elect.body.replicaElectionResults[0].partitionResult.map((p: { errorCode: number }) => p.errorCode)).toEqual([
      ErrorCode.ELECTION_NOT_NEEDED,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    const all = await raw.request(43, 1, { electionType: 1, topicPartitions: null, timeoutMs: 1000 });
    expect(all.body).toMatchObject({ errorCode: 0, replicaElectionResults: [] });

    await admin.alterPartitionReassignments({ topics: [{ topic: 'dtp-x', partitionAssignment: [{ partition: 0, replicas: [1] }] }] });
    await expect(
      admin.alterPartitionReassignments({ topics: [{ topic: 'dtp-x', partitionAssignment: [{ partition: 1, replicas: [1, 2] }] }] }),
    ).rejects.toThrow();
    const bad = await raw.request(45, 0, {
      timeoutMs: 1000,
      topics: [
        {
          name: 'dtp-x',
          partitions: [
            { partitionIndex: 0, replicas: [] },
            { partitionIndex: 1, replicas: [1, 1] },
            { partitionIndex: 2, replicas: null },
          ],
        },
        { name: 'nope', partitions: [{ partitionIndex: 0, replicas: [1] }] },
      ],
    });
    expect(bad.body.responses.flatMap((t: { partitions: { errorCode: number }[] }) => t.partitions.map((p) => p.errorCode))).toEqual([
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      ErrorCode.NO_REASSIGNMENT_IN_PROGRESS,
      ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ]);
    const listed = await admin.listPartitionReassignments({ topics: [{ topic: 'dtp-x', partitions: [0, 1, 2] }] });
    expect(listed.topics).toEqual([]);
    const dirs = await raw.request(34, 2, { dirs: [{ path: dataDir, topics: [{ name: 'dtp-x', partitions: [0] }] }, { path: '/elsewhere', topics: [{ name: 'dtp-y', partitions: [0] }] }] });
    expect(dirs.body.results).toEqual([
      { topicName: 'dtp-x', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
      { topicName: 'dtp-y', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.LOG_DIR_NOT_FOUND }] },
    ]);
  });
});
