/**
 * ACLs end to end: a broker process with the StandardAuthorizer on, a PLAINTEXT listener
 * (User:ANONYMOUS) and a SASL_PLAINTEXT one with PLAIN users admin (super user), alice and
 * bob. kafkajs creates, describes and deletes ACLs; produce and consume are refused with
 * Kafka's codes until ACLs allow them; prefixed ACLs, DENY over ALLOW, Metadata hiding
 * topics, ACLs surviving a restart. A broker without an authorizer answers SECURITY_DISABLED.
 */
import * as fs from 'fs';
import { Kafka, logLevel, SASLOptions } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';
const TOPIC = 2, GROUP = 3, CLUSTER = 4;
const ANY = 1, LITERAL = 3, PREFIXED = 4;
const ALL = 2, READ = 3, WRITE = 4, DESCRIBE = 8;
const DENY = 2, ALLOW = 3;
const TOPIC_AUTHORIZATION_FAILED = 29;
const CLUSTER_AUTHORIZATION_FAILED = 31;
const GROUP_AUTHORIZATION_FAILED = 30;
const SECURITY_DISABLED = 54;

const ARGS = [
  '--override',
  'listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0',
  '--override',
  'sasl.enabled.mechanisms=PLAIN',
  '--override',
  'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-pw" user_alice="alice-pw" user_bob="bob-pw";',
  '--override',
  `authorizer.class.name=${STANDARD_AUTHORIZER}`,
  '--override',
  'super.users=User:admin',
];

function kafkaAs(broker: BrokerProcess, user: string): Kafka {
  return new Kafka({
    clientId: `acl-test-${user}`,
    brokers: [`127.0.0.1:${broker.listenerPorts.SASL_PLAINTEXT}`],
    sasl: { mechanism: 'plain', username: user, password: `${user}-pw` } as SASLOptions,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 5000,
  });
}

function acl(principal: string, resourceType: number, resourceName: string, operation: number, permissionType = ALLOW, resourcePatternType = LITERAL): any {
  return { resourceType, resourceName, resourcePatternType, principal, host: '*', operation, permissionType };
}

async function produceError(kafka: Kafka, topic: string): Promise<string | null> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: 'v' }] });
    return null;
  } catch (err) {
    // Refused in Metadata already (the topic is not even described), kafkajs gives up with
    // this message; refused by Produce, it reports the partition's error type.
    if (/Not authorized to access topics/.test(String(err))) return 'TOPIC_AUTHORIZATION_FAILED';
    return (err as { type?: string }).type ?? String(err);
  } finally {
    await producer.disconnect();
  }
}

async function consumeAll(kafka: Kafka, topic: string, groupId: string, expected: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId, retry: { retries: 0 } });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`consumed ${seen.length} of ${expected}`)), 20000);
    consumer.on(consumer.events.CRASH, (e) => {
      clearTimeout(timer);
      reject(e.payload.error);
    });
    void consumer.run({
      eachMessage: async ({ message }) => {
        seen.push(String(message.value));
        if (seen.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  }).finally(() => consumer.disconnect());
  return seen;
}

describe('ACLs (authorizer on)', () => {
  let broker: BrokerProcess;
  let dataDir: string;
  let admin: ReturnType<Kafka['admin']>;

  beforeAll(async () => {
    dataDir = tempDataDir('samsa-acls-');
    broker = await startBrokerProcess({ dataDir, args: ARGS });
    admin = kafkaAs(broker, 'admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: ['orders', 'team-a.events', 'secret'].map((topic) => ({ topic, numPartitions: 1 })) });
  }, 30000);

  afterAll(async () => {
    await admin?.disconnect();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('without ACLs alice can neither produce nor see topics', async () => {
    const alice = kafkaAs(broker, 'alice');
    expect(await produceError(alice, 'orders')).toBe('TOPIC_AUTHORIZATION_FAILED');
    const a = alice.admin();
    await a.connect();
    try {
      expect(await a.listTopics()).toEqual([]);
    } finally {
      await a.disconnect();
    }
  });

  test('a non-super user cannot manage ACLs', async () => {
    const bob = kafkaAs(broker, 'bob').admin();
    await bob.connect();
    try {
      await expect(bob.createAcls({ acl: [acl('User:bob', TOPIC, 'orders', ALL)] })).rejects.toMatchObject({ type: 'CLUSTER_AUTHORIZATION_FAILED' });
      await expect(bob.describeAcls({ resourceType: ANY, resourcePatternType: ANY, operation: ANY, permissionType: ANY } as any)).rejects.toMatchObject({
        type: 'CLUSTER_AUTHORIZATION_FAILED',
      });
    } finally {
      await bob.disconnect();
    }
  });

  test('ACLs created with kafkajs let alice produce and consume; Metadata shows only her topics', async () => {
    await admin.createAcls({
      acl: [acl('User:alice', TOPIC, 'orders', WRITE), acl('User:alice', TOPIC, 'orders', READ), acl('User:alice', GROUP, 'alice-group', READ)],
    });
    const alice = kafkaAs(broker, 'alice');
    expect(await produceError(alice, 'orders')).toBeNull();
    expect(await consumeAll(alice, 'orders', 'alice-group', 1)).toEqual(['v']);
    const a = alice.admin();
    await a.connect();
    try {
      expect(await a.listTopics()).toEqual(['orders']);
    } finally {
      await a.disconnect();
    }
    // bob still sees and writes nothing.
    expect(await produceError(kafkaAs(broker, 'bob'), 'orders')).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 40000);

  test('a prefixed ACL covers every topic that starts with it', async () => {
    const alice = kafkaAs(broker, 'alice');
    expect(await produceError(alice, 'team-a.events')).toBe('TOPIC_AUTHORIZATION_FAILED');
    await admin.createAcls({ acl: [acl('User:alice', TOPIC, 'team-a.', WRITE, ALLOW, PREFIXED)] });
    expect(await produceError(alice, 'team-a.events')).toBeNull();
  });

  test('DENY wins over ALLOW', async () => {
    const alice = kafkaAs(broker, 'alice');
    await admin.createAcls({ acl: [acl('User:*', TOPIC, 'secret', WRITE)] });
    expect(await produceError(alice, 'secret')).toBeNull();
    await admin.createAcls({ acl: [acl('User:alice', TOPIC, 'secret', WRITE, DENY)] });
    expect(await produceError(alice, 'secret')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produceError(kafkaAs(broker, 'bob'), 'secret')).toBeNull();
  });

  test('describeAcls and deleteAcls with kafkajs', async () => {
    const described = await admin.describeAcls({ resourceType: TOPIC, resourceName: 'secret', resourcePatternType: LITERAL, operation: ANY, permissionType: ANY } as any);
    expect(described.resources).toHaveLength(1);
    expect(described.resources[0].acls.map((a) => `${a.principal}:${a.permissionType}`).sort()).toEqual(['User:*:3', 'User:alice:2']);
    // MATCH finds the ACLs that apply to a name: the prefixed one for team-a.events.
    const matching = await admin.describeAcls({ resourceType: TOPIC, resourceName: 'team-a.events', resourcePatternType: 2, operation: ANY, permissionType: ANY } as any);
    expect(matching.resources.map((r) => [r.resourceName, r.resourcePatternType])).toEqual([['team-a.', PREFIXED]]);

    const deleted = await admin.deleteAcls({ filters: [{ resourceType: TOPIC, resourceName: 'secret', resourcePatternType: ANY, principal: 'User:alice', operation: ANY, permissionType: DENY } as any] });
    expect(deleted.filterResponses[0].errorCode).toBe(0);
    expect(deleted.filterResponses[0].matchingAcls).toHaveLength(1);
    expect(deleted.filterResponses[0].matchingAcls[0]).toMatchObject({ resourceName: 'secret', principal: 'User:alice', operation: WRITE, permissionType: DENY });
    expect(await produceError(kafkaAs(broker, 'alice'), 'secret')).toBeNull();
  });

  test('PLAINTEXT clients are User:ANONYMOUS: topics hidden, produce refused per partition', async () => {
    const c = await RawClient.connect(broker.listenerPorts.PLAINTEXT);
    try {
      // Only "secret" carries an ACL for User:* (WRITE, which implies DESCRIBE).
      const md = (await c.request(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).body;
      expect(md.topics.map((t: any) => t.name)).toEqual(['secret']);
      // Groups: FindCoordinator needs DESCRIBE on the group.
      const fc = (await c.request(10, 4, { keyType: 0, coordinatorKeys: ['alice-group'] })).body;
      expect(fc.coordinators[0].errorCode).toBe(GROUP_AUTHORIZATION_FAILED);
      const join = (
        await c.request(11, 5, {
          groupId: 'alice-group',
          sessionTimeoutMs: 10000,
          rebalanceTimeoutMs: 10000,
          memberId: '',
          groupInstanceId: null,
          protocolType: 'consumer',
          protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
        })
      ).body;
      expect(join.errorCode).toBe(GROUP_AUTHORIZATION_FAILED);
      const named = (await c.request(3, 12, { topics: [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false })).body;
      expect(named.topics.map((t: any) => [t.name, t.errorCode])).toEqual([['orders', TOPIC_AUTHORIZATION_FAILED]]);
      const produce = (
        await c.request(0, 9, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 1000,
          topicData: [{ name: 'orders', partitionData: [{ index: 0, records: null }] }],
        })
      ).body;
      expect(produce.responses[0].partitionResponses[0].errorCode).toBe(TOPIC_AUTHORIZATION_FAILED);
      const describe = (await c.request(29, 2, { resourceTypeFilter: ANY, resourceNameFilter: null, patternTypeFilter: ANY, principalFilter: null, hostFilter: null, operation: ANY, permissionType: ANY })).body;
      expect(describe.errorCode).toBe(CLUSTER_AUTHORIZATION_FAILED);
    } finally {
      c.close();
    }
  });

  test('client quota and SCRAM credential APIs need cluster permissions', async () => {
    const c = await RawClient.connect(broker.listenerPorts.PLAINTEXT);
    try {
      const dq = (await c.request(48, 1, { components: [], strict: false })).body;
      expect(dq.errorCode).toBe(31);
      const aq = (
        await c.request(49, 1, {
          entries: [{ entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 1024, remove: false }] }],
          validateOnly: false,
        })
      ).body;
      expect(aq.entries.map((e: any) => e.errorCode)).toEqual([31]);
      const ds = (await c.request(50, 0, { users: null })).body;
      expect(ds.errorCode).toBe(31);
    } finally {
      c.close();
    }
  });

  test('authorized operations follow the ACLs', async () => {
    await admin.createAcls({ acl: [acl('User:alice', CLUSTER, 'kafka-cluster', DESCRIBE)] });
    const a = kafkaAs(broker, 'alice').admin();
    await a.connect();
    try {
      const cluster = await a.describeCluster();
      expect(cluster.brokers).toHaveLength(1);
    } finally {
      await a.disconnect();
    }
    const c = await RawClient.connect(broker.listenerPorts.PLAINTEXT);
    try {
      await admin.createAcls({ acl: [acl('User:ANONYMOUS', TOPIC, 'orders', READ)] });
      const md = (await c.request(3, 10, { topics: [{ name: 'orders', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true })).body;
      expect(md.topics[0].errorCode).toBe(0);
      expect(md.topics[0].topicAuthorizedOperations).toBe((1 << READ) | (1 << DESCRIBE));
      expect(md.clusterAuthorizedOperations).toBe(0);
    } finally {
      c.close();
    }
  });

  test('features and quorum APIs need ALTER or DESCRIBE on the cluster', async () => {
    const c = await RawClient.connect(broker.listenerPorts.PLAINTEXT);
    try {
      const denied = 31; // CLUSTER_AUTHORIZATION_FAILED
      const update = (await c.request(57, 1, { timeoutMs: 1000, featureUpdates: [{ feature: 'group.version', maxVersionLevel: 0, upgradeType: 2 }], validateOnly: false })).body;
      expect(update).toMatchObject({ errorCode: denied, results: [{ feature: 'group.version', errorCode: denied }] });
      expect((await c.request(55, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] })).body.errorCode).toBe(denied);
      expect((await c.request(64, 0, { brokerId: 1 })).body.errorCode).toBe(denied);
      const voter = { clusterId: null, voterId: 5, voterDirectoryId: 'AAECAwQFBgcICQoLDA0ODw' };
      expect((await c.request(80, 1, { ...voter, timeoutMs: 1000, listeners: [], ackWhenCommitted: true })).body.errorCode).toBe(denied);
      expect((await c.request(81, 0, voter)).body.errorCode).toBe(denied);
      // Nothing changed: group.version is still finalized.
      const v = (await c.request(18, 4, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' })).body;
      expect(v.finalizedFeatures.map((f: { name: string }) => f.name)).toContain('group.version');
    } finally {
      c.close();
    }
  });

  test('ACLs survive a restart', async () => {
    await admin.disconnect();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir, args: ARGS });
    admin = kafkaAs(broker, 'admin').admin();
    await admin.connect();
    expect(await produceError(kafkaAs(broker, 'alice'), 'orders')).toBeNull();
    expect(await produceError(kafkaAs(broker, 'bob'), 'orders')).toBe('TOPIC_AUTHORIZATION_FAILED');
    const all = await admin.describeAcls({ resourceType: ANY, resourcePatternType: ANY, operation: ANY, permissionType: ANY } as any);
    expect(all.resources.length).toBeGreaterThanOrEqual(4);
  }, 30000);
});

describe('ACL APIs without an authorizer', () => {
  test('answer SECURITY_DISABLED and enforce nothing', async () => {
    const dataDir = tempDataDir('samsa-noacl-');
    const broker = await startBrokerProcess({ dataDir });
    const c = await RawClient.connect(broker.port);
    try {
      const describe = (await c.request(29, 3, { resourceTypeFilter: ANY, resourceNameFilter: null, patternTypeFilter: ANY, principalFilter: null, hostFilter: null, operation: ANY, permissionType: ANY })).body;
      expect(describe.errorCode).toBe(SECURITY_DISABLED);
      const create = (await c.request(30, 3, { creations: [acl('User:a', TOPIC, 't', READ)] })).body;
      expect(create.results.map((r: any) => r.errorCode)).toEqual([SECURITY_DISABLED]);
      const del = (await c.request(31, 3, { filters: [{ resourceTypeFilter: ANY, resourceNameFilter: null, patternTypeFilter: ANY, principalFilter: null, hostFilter: null, operation: ANY, permissionType: ANY }] })).body;
      expect(del.filterResults.map((r: any) => r.errorCode)).toEqual([SECURITY_DISABLED]);
      const ask = async () => (await c.request(3, 12, { topics: [{ name: 'free', topicId: 'AAAAAAAAAAAAAAAAAAAAAA' }], allowAutoTopicCreation: true, includeTopicAuthorizedOperations: false })).body;
      // Created without any ACL: the creating request answers UNKNOWN_TOPIC_OR_PARTITION (as a
      // KRaft broker does), the next one describes the topic.
      expect((await ask()).topics[0].errorCode).toBe(3);
      expect((await ask()).topics[0].errorCode).toBe(0);
    } finally {
      c.close();
      await broker.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
