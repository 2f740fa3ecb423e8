/**
 * Config resource GROUP (32): Kafka 4's per-group keys through DescribeConfigs, AlterConfigs
 * and IncrementalAlterConfigs, validated against the broker's group.* bounds, durable, and
 * applied to KIP-848 consumer groups (the heartbeat interval a member is told, its session).
 */
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';

const GROUP = 32;
const SET = 0;
const DELETE = 1;

describe('group configs', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  const dataDir = tempDataDir();

  async function start(): Promise<void> {
    broker = await startBrokerProcess({ dataDir });
    c = await RawClient.connect(broker.port);
  }

  beforeAll(start);
  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  async function describe(group: string, keys: string[] | null = null): Promise<Record<string, { value: string; source: number }>> {
    const r = await c.request(32, 4, { resources: [{ resourceType: GROUP, resourceName: group, configurationKeys: keys }], includeSynonyms: true, includeDocumentation: false });
    const res = r.body.results[0];
    expect(res.errorCode).toBe(0);
    return Object.fromEntries(res.configs.map((x: { name: string; value: string; configSource: number }) => [x.name, { value: x.value, source: x.configSource }]));
  }

  async function incremental(group: string, configs: { name: string; configOperation: number; value: string | null }[], validateOnly = false) {
    const r = await c.request(44, 1, { resources: [{ resourceType: GROUP, resourceName: group, configs }], validateOnly });
    return r.body.responses[0];
  }

  async function heartbeatInterval(group: string): Promise<number> {
    const r = await c.request(68, 0, {
      groupId: group,
      memberId: `member-${group}-${Date.now()}`,
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: 30000,
      subscribedTopicNames: ['t'],
      serverAssignor: null,
      topicPartitions: [],
    });
    expect(r.body.errorCode).toBe(0);
    return r.body.heartbeatIntervalMs;
  }

  test('a group without settings describes the broker defaults', async () => {
    const d = await describe('g1');
    expect(d['consumer.session.timeout.ms']).toEqual({ value: '45000', source: 5 });
    expect(d['consumer.heartbeat.interval.ms']).toEqual({ value: '5000', source: 5 });
    expect(d['share.auto.offset.reset']).toEqual({ value: 'latest', source: 5 });
    expect(Object.keys(d)).toEqual(expect.arrayContaining(['share.record.lock.duration.ms', 'streams.num.standby.replicas']));
    expect(await heartbeatInterval('g1')).toBe(5000);
  });

  test('IncrementalAlterConfigs sets, validates and applies a group\'s settings', async () => {
    expect(await incremental('g2', [{ name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '7000' }])).toMatchObject({ errorCode: 0 });
    expect((await describe('g2', ['consumer.heartbeat.interval.ms']))['consumer.heartbeat.interval.ms']).toEqual({ value: '7000', source: 8 });
    expect(await heartbeatInterval('g2')).toBe(7000);
    // Other groups keep the broker's value.
    expect(await heartbeatInterval('g3')).toBe(5000);

    const tooSmall = await incremental('g2', [{ name: 'consumer.session.timeout.ms', configOperation: SET, value: '1000' }]);
    expect(tooSmall).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms' });
    const tooLarge = await incremental('g2', [{ name: 'consumer.heartbeat.interval.ms', configOperation: SET, value: '20000' }]);
    expect(tooLarge).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms' });
    const unknown = await incremental('g2', [{ name: 'consumer.made.up', configOperation: SET, value: '1' }]);
    expect(unknown).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Unknown group config name: consumer.made.up' });
    const badEnum = await incremental('g2', [{ name: 'share.isolation.level', configOperation: SET, value: 'sometimes' }]);
    expect(badEnum.errorCode).toBe(ErrorCode.INVALID_CONFIG);
    const validateOnly = await incremental('g2', [{ name: 'share.auto.offset.reset', configOperation: SET, value: 'earliest' }], true);
    expect(validateOnly.errorCode).toBe(0);
    expect((await describe('g2', ['share.auto.offset.reset']))['share.auto.offset.reset']).toEqual({ value: 'latest', source: 5 });
    expect((await describe('g2', ['consumer.heartbeat.interval.ms']))['consumer.heartbeat.interval.ms'].value).toBe('7000');
  });

  test('AlterConfigs replaces the whole set; DELETE returns a key to the default', async () => {
    const r = await c.request(33, 2, {
      resources: [{ resourceType: GROUP, resourceName: 'g4', configs: [{ name: 'consumer.session.timeout.ms', value: '50000' }, { name: 'share.isolation.level', value: 'read_committed' }] }],
      validateOnly: false,
    });
    expect(r.body.responses[0].errorCode).toBe(0);
    let d = await describe('g4');
    expect(d['consumer.session.timeout.ms']).toEqual({ value: '50000', source: 8 });
    expect(d['share.isolation.level']).toEqual({ value: 'read_committed', source: 8 });
    expect(await incremental('g4', [{ name: 'share.isolation.level', configOperation: DELETE, value: null }])).toMatchObject({ errorCode: 0 });
    d = await describe('g4');
    expect(d['share.isolation.level']).toEqual({ value: 'read_uncommitted', source: 5 });
    const empty = await c.request(32, 4, { resources: [{ resourceType: GROUP, resourceName: '', configurationKeys: null }], includeSynonyms: false, includeDocumentation: false });
    expect(empty.body.results[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('group settings survive a restart', async () => {
    c.close();
    await broker.stop();
    await start();
    expect((await describe('g2', ['consumer.heartbeat.interval.ms']))['consumer.heartbeat.interval.ms']).toEqual({ value: '7000', source: 8 });
    expect((await describe('g4', ['consumer.session.timeout.ms']))['consumer.session.timeout.ms']).toEqual({ value: '50000', source: 8 });
    expect(await heartbeatInterval('g2')).toBe(7000);
  });
});
