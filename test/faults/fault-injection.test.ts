/**
 * Fault injection through the TypeScript API (Broker.injectFault & co.) on an in-process
 * broker, seen by kafkajs and by a raw client on a real socket.
 */
import * as fs from 'fs';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { Broker, startBroker } from '../../src/broker';
import { createLogger } from '../../src/logging';
import { FaultSpecError } from '../../src/faults/fault-spec';
import { UnknownBrokerError } from '../../src/faults/fault-engine';
import { tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { fetchAll } from '../helpers/kafkajs-fetcher';
import { simpleBatch } from '../helpers/record-batch-builder';

const NOT_LEADER = 6;
const NOT_COORDINATOR = 16;

let broker: Broker;
let kafka: Kafka;
let dataDir: string;

function client(clientId = 'fault-test', requestTimeout = 10_000): Kafka {
  return new Kafka({ clientId, brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, requestTimeout, retry: { retries: 5, initialRetryTime: 100 } });
}

async function endOffsets(topic: string): Promise<Record<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return Object.fromEntries(offsets.map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

async function createTopic(topic: string, numPartitions = 1): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions }] });
  await admin.disconnect();
}

async function withProducer<T>(k: Kafka, body: (p: Producer) => Promise<T>, opts: { retries?: number } = {}): Promise<T> {
  const p = k.producer({ retry: { retries: opts.retries ?? 5, initialRetryTime: 100 }, allowAutoTopicCreation: false });
  await p.connect();
  try {
    return await body(p);
  } finally {
    await p.disconnect();
  }
}

beforeAll(async () => {
  dataDir = tempDataDir('samsa-faults-');
  broker = await startBroker({ port: 0, dataDir, logger: createLogger('silent') });
  kafka = client();
});

afterAll(async () => {
  await broker.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => broker.clearFaults());

describe('from the TypeScript API, with kafkajs', () => {
  it('an injected NOT_LEADER_OR_FOLLOWER on Produce is retried and the record is stored once', async () => {
    await createTopic('ts-not-leader');
    const rule = broker.injectFault({ api: 'Produce', action: { error: 'NOT_LEADER_OR_FOLLOWER' } });
    expect(rule).toMatchObject({ id: expect.any(Number), api: 'Produce', apiKey: 0, count: 1, remaining: 1, hits: 0 });
    await withProducer(kafka, (p) => p.send({ topic: 'ts-not-leader', messages: [{ key: 'k', value: 'once' }] }));
    expect(broker.listFaults().rules).toEqual([expect.objectContaining({ id: rule.id, remaining: 0, hits: 1 })]);
    expect(await endOffsets('ts-not-leader')).toEqual({ 0: 1 });
    const got = await fetchAll(kafka, 'ts-not-leader', 0, 0, 1);
    expect(got.map((m) => m.value?.toString())).toEqual(['once']);
  });

  it('an injected delay makes the request time out; the client recovers after', async () => {
    await createTopic('ts-delay');
    const impatient = client('impatient', 1000);
    broker.injectFault({ api: 'Produce', action: { delayMs: 2500 } });
    await withProducer(
      impatient,
      async (p) => {
        const started = Date.now();
        await expect(p.send({ topic: 'ts-delay', messages: [{ value: 'slow' }] })).rejects.toThrow(/timed out|timeout/i);
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        // The delayed request still holds that connection until its delay is over.
        await new Promise((r) => setTimeout(r, 2500));
        await p.send({ topic: 'ts-delay', messages: [{ value: 'after' }] });
      },
      { retries: 0 },
    );
    expect(broker.listFaults().rules[0]).toMatchObject({ remaining: 0, hits: 1 });
    const got = await fetchAll(kafka, 'ts-delay', 0, 0, 2);
    // A broker that was only slow did the work: the timed-out record is there too, before the later one.
    expect(got.map((m) => m.value?.toString())).toEqual(['slow', 'after']);
  });

  it('an injected dropped connection is recovered from (reconnect and retry), the record stored once', async () => {
    await createTopic('ts-drop');
    broker.injectFault({ api: 'Produce', action: { dropConnection: true } });
    await withProducer(kafka, (p) => p.send({ topic: 'ts-drop', messages: [{ value: 'survivor' }] }));
    expect(broker.listFaults().rules[0]).toMatchObject({ remaining: 0, hits: 1 });
    expect(await endOffsets('ts-drop')).toEqual({ 0: 1 });
  });

  it('counts run down: count 2 fails two attempts, the third succeeds', async () => {
    await createTopic('ts-count');
    broker.injectFault({ api: 'Produce', count: 2, action: { error: NOT_LEADER } });
    await withProducer(kafka, (p) => p.send({ topic: 'ts-count', messages: [{ value: 'x' }] }));
    expect(broker.listFaults().rules[0]).toMatchObject({ count: 2, remaining: 0, hits: 2, action: { error: 'NOT_LEADER_OR_FOLLOWER', errorCode: 6 } });
    expect(await endOffsets('ts-count')).toEqual({ 0: 1 });
  });

  it('a topic filter refuses only that topic; the rest of the same request is stored', async () => {
    await createTopic('ts-filter-a');
    await createTopic('ts-filter-b');
    broker.injectFault({ api: 'Produce', topic: 'ts-filter-a', count: 'unlimited', action: { error: 'NOT_LEADER_OR_FOLLOWER' } });
    await withProducer(
      kafka,
      async (p) => {
        await expect(
          p.sendBatch({
            topicMessages: [
              { topic: 'ts-filter-a', messages: [{ value: 'a' }] },
              { topic: 'ts-filter-b', messages: [{ value: 'b' }] },
            ],
          }),
        ).rejects.toThrow(/leader/i);
      },
      { retries: 0 },
    );
    expect(await endOffsets('ts-filter-a')).toEqual({ 0: 0 });
    expect(await endOffsets('ts-filter-b')).toEqual({ 0: 1 });
    expect(broker.listFaults().rules[0]).toMatchObject({ remaining: 'unlimited', hits: 1 });
  });

  it('a partition filter refuses only that partition', async () => {
    await createTopic('ts-part', 2);
    broker.injectFault({ api: 'Produce', topic: 'ts-part', partition: 1, count: 'unlimited', action: { error: 'NOT_LEADER_OR_FOLLOWER' } });
    await withProducer(
      kafka,
      async (p) => {
        await expect(
          p.send({
            topic: 'ts-part',
            messages: [
              { partition: 0, value: 'p0' },
              { partition: 1, value: 'p1' },
            ],
          }),
        ).rejects.toThrow(/leader/i);
      },
      { retries: 0 },
    );
    expect(await endOffsets('ts-part')).toEqual({ 0: 1, 1: 0 });
  });

  it('a clientId filter leaves other clients alone', async () => {
    await createTopic('ts-client');
    broker.injectFault({ api: 'Produce', clientId: 'someone-else', action: { error: NOT_LEADER } });
    await withProducer(kafka, (p) => p.send({ topic: 'ts-client', messages: [{ value: 'x' }] }), { retries: 0 });
    expect(broker.listFaults().rules[0]).toMatchObject({ remaining: 1, hits: 0 });
    await withProducer(client('someone-else'), (p) => p.send({ topic: 'ts-client', messages: [{ value: 'y' }] }));
    expect(broker.listFaults().rules[0]).toMatchObject({ remaining: 0, hits: 1 });
    expect(await endOffsets('ts-client')).toEqual({ 0: 2 });
  });

  it('a brokerId filter for another node never fires here; an unknown broker id is refused', async () => {
    expect(() => broker.injectFault({ api: 'Metadata', brokerId: 42, action: { error: NOT_LEADER } })).toThrow(UnknownBrokerError);
    const id = broker.node.id;
    broker.injectFault({ api: 'Metadata', brokerId: id, action: { dropConnection: true } });
    const raw = await RawClient.connect(broker.port);
    raw.writeRaw(raw.encodeRequest(3, 12, { topics: [], allowAutoTopicCreation: false }));
    await raw.closed;
    expect(broker.listFaults().rules[0]).toMatchObject({ hits: 1 });
  });
});

describe('broker latency and pause', () => {
  it('latency delays every response of that broker; 0 removes it', async () => {
    broker.setBrokerLatency(broker.node.id, 1200);
    expect(broker.listFaults().brokers).toEqual([{ brokerId: broker.node.id, latencyMs: 1200, paused: false }]);
    const raw = await RawClient.connect(broker.port);
    try {
      let t = Date.now();
      await raw.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      expect(Date.now() - t).toBeGreaterThanOrEqual(1100);
      broker.setBrokerLatency(broker.node.id, 0);
      expect(broker.listFaults().brokers).toEqual([]);
      t = Date.now();
      await raw.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    } finally {
      raw.close();
    }
  });

  it('a paused broker accepts and reads but answers nothing until resumed', async () => {
    broker.pauseBroker(broker.node.id);
    const raw = await RawClient.connect(broker.port);
    try {
      const answer = raw.request(18, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
      let answered = false;
      void answer.then(() => (answered = true));
      await new Promise((r) => setTimeout(r, 1500));
      expect(answered).toBe(false);
      expect(broker.listFaults().brokers).toEqual([{ brokerId: broker.node.id, latencyMs: 0, paused: true }]);
      broker.resumeBroker(broker.node.id);
      expect((await answer).body.errorCode).toBe(0);
    } finally {
      raw.close();
    }
  });
});

describe('the cluster simulation hook', () => {
  it('a request held by a pause is dropped unhandled when its node stops', async () => {
    await createTopic('ts-stopped');
    broker.pauseBroker(broker.node.id);
    const raw = await RawClient.connect(broker.port);
    try {
      let answered = false;
      void raw
        .request(0, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'ts-stopped', partitionData: [{ index: 0, records: simpleBatch(1) }] }] })
        .then(() => (answered = true));
      await new Promise((r) => setTimeout(r, 500));
      broker.cluster.faults.brokerStopped(broker.node.id);
      expect(broker.listFaults().brokers).toEqual([]);
      await new Promise((r) => setTimeout(r, 500));
      expect(answered).toBe(false);
      expect(await endOffsets('ts-stopped')).toEqual({ 0: 0 });
    } finally {
      raw.close();
    }
  });
});

describe('error answers follow each API response shape', () => {
  let raw: RawClient;
  beforeAll(async () => {
    raw = await RawClient.connect(broker.port);
    await createTopic('shape', 2);
    await withProducer(kafka, (p) =>
      p.send({
        topic: 'shape',
        messages: [
          { partition: 0, value: 'zero' },
          { partition: 1, value: 'one' },
        ],
      }),
    );
  });
  afterAll(() => raw.close());

  const fetchBody = (maxWaitMs: number) => ({
    replicaId: -1,
    maxWaitMs,
    minBytes: 1,
    maxBytes: 1 << 20,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic: 'shape', partitions: [0, 1].map((partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1 })) }],
    forgottenTopicsData: [],
    rackId: '',
  });

  it('Fetch with a partition filter: that partition errs at once, the other carries its records', async () => {
    broker.injectFault({ api: 'Fetch', topic: 'shape', partition: 0, action: { error: 'NOT_LEADER_OR_FOLLOWER' } });
    const t = Date.now();
    const { body } = await raw.request(1, 12, fetchBody(5000));
    expect(Date.now() - t).toBeLessThan(4000); // not held for maxWaitMs
    expect(body.errorCode).toBe(0);
    const parts = Object.fromEntries(body.responses[0].partitions.map((p: any) => [p.partitionIndex, p]));
    expect(parts[0].errorCode).toBe(NOT_LEADER);
    expect(parts[0].records).toEqual(Buffer.alloc(0)); // empty, never null: clients refuse a null record set
    expect(parts[1].errorCode).toBe(0);
    expect(parts[1].records.length).toBeGreaterThan(0);
    expect(body.responses).toHaveLength(1);
  });

  it('Fetch without a filter: every partition errs, the top-level error stays 0', async () => {
    broker.injectFault({ api: 'Fetch', action: { error: 'NOT_LEADER_OR_FOLLOWER' } });
    const { body } = await raw.request(1, 12, fetchBody(0));
    expect(body.errorCode).toBe(0);
    expect(body.responses[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode])).toEqual([
      [0, NOT_LEADER],
      [1, NOT_LEADER],
    ]);
  });

  it('ListOffsets: only the filtered partition errs; without a filter all do', async () => {
    const body = { replicaId: -1, isolationLevel: 0, topics: [{ name: 'shape', partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp: -1 })) }] };
    broker.injectFault({ api: 'ListOffsets', partition: 1, action: { error: NOT_LEADER } });
    let r = await raw.request(2, 7, body);
    expect(r.body.topics[0].partitions.map((p: any) => [p.partitionIndex, p.errorCode, p.offset])).toEqual([
      [0, 0, 1],
      [1, NOT_LEADER, expect.any(Number)],
    ]);
    broker.injectFault({ api: 'ListOffsets', action: { error: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    r = await raw.request(2, 7, body);
    expect(r.body.topics[0].partitions.map((p: any) => p.errorCode)).toEqual([3, 3]);
  });

  it('OffsetCommit with a topic filter: the refused topic is not committed, the other is', async () => {
    await createTopic('shape-b');
    broker.injectFault({ api: 'OffsetCommit', topic: 'shape', action: { error: 'NOT_COORDINATOR' } });
    const commit = await raw.request(8, 8, {
      groupId: 'fault-group',
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [
        { name: 'shape', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: '' }] },
        { name: 'shape-b', partitions: [{ partitionIndex: 0, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: '' }] },
      ],
    });
    const byTopic = Object.fromEntries(commit.body.topics.map((t: any) => [t.name, t.partitions.map((p: any) => p.errorCode)]));
    expect(byTopic).toEqual({ shape: [NOT_COORDINATOR], 'shape-b': [0] });
    const fetched = await raw.request(9, 7, { groupId: 'fault-group', topics: [{ name: 'shape', partitionIndexes: [0] }, { name: 'shape-b', partitionIndexes: [0] }], requireStable: false });
    const offsets = Object.fromEntries(fetched.body.topics.map((t: any) => [t.name, t.partitions[0].committedOffset]));
    expect(offsets).toEqual({ shape: -1, 'shape-b': 0 });
  });

  it('group APIs take the error at the top level (JoinGroup) or per key (FindCoordinator v4)', async () => {
    broker.injectFault({ api: 'FindCoordinator', action: { error: 'COORDINATOR_NOT_AVAILABLE' } });
    const fc = await raw.request(10, 4, { keyType: 0, coordinatorKeys: ['g1', 'g2'] });
    expect(fc.body.coordinators.map((c: any) => [c.key, c.errorCode])).toEqual([
      ['g1', 15],
      ['g2', 15],
    ]);
    broker.injectFault({ api: 'JoinGroup', action: { error: 'NOT_COORDINATOR' } });
    const jg = await raw.request(11, 5, { groupId: 'g1', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    expect(jg.body.errorCode).toBe(NOT_COORDINATOR);
  });
});

describe('listing and validation', () => {
  it('lists rules with their remaining counts, removes one or all', () => {
    const a = broker.injectFault({ api: 'Produce', action: { error: 6 } });
    const b = broker.injectFault({ api: 'fetch', count: 'unlimited', action: { delayMs: 10 } });
    expect(broker.listFaults().rules.map((r) => [r.id, r.api, r.remaining])).toEqual([
      [a.id, 'Produce', 1],
      [b.id, 'Fetch', 'unlimited'],
    ]);
    expect(broker.clearFaults(a.id)).toBe(true);
    expect(broker.clearFaults(a.id)).toBe(false);
    expect(broker.listFaults().rules.map((r) => r.id)).toEqual([b.id]);
    broker.setBrokerLatency(broker.node.id, 5);
    broker.clearFaults();
    expect(broker.listFaults()).toEqual({ rules: [], brokers: [] });
    expect(broker.cluster.faults.active).toBe(false);
  });

  it.each([
    [{ api: 'Produc', action: { error: 6 } }, /unknown API "Produc"/],
    [{ api: 'Produce', action: { error: 'NOT_A_REAL_ERROR' } }, /unknown error "NOT_A_REAL_ERROR"/],
    [{ api: 'Produce', action: {} }, /exactly one of/],
    [{ api: 'Produce', action: { delayMs: -1 } }, /delayMs must be a non-negative integer/],
    [{ api: 'Produce', count: 0, action: { error: 6 } }, /count must be at least 1/],
    [{ api: 'Produce', partition: 'x', action: { error: 6 } }, /partition must be/],
    [{ api: 'Produce', bogus: 1, action: { error: 6 } }, /unknown field "bogus"/],
    [{ action: { error: 6 } }, /api is required/],
  ])('refuses %j', (spec, message) => {
    expect(() => broker.injectFault(spec as never)).toThrow(FaultSpecError);
    expect(() => broker.injectFault(spec as never)).toThrow(message);
    expect(broker.listFaults().rules).toEqual([]);
  });
});
