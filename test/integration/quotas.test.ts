/**
 * Client quotas against a real broker process: AlterClientQuotas and DescribeClientQuotas on
 * the wire (kafkajs and kafka-python have no client for them, so the raw client speaks
 * them), a kafkajs producer held near producer_byte_rate, throttle_time_ms and the muted
 * connection (KIP-219), consumer_byte_rate on Fetch, connection_creation_rate per ip,
 * removal lifting a quota, and quotas surviving a restart.
 */
import { Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';

const MiB = 1024 * 1024;
const ALTER = 49;
const DESCRIBE = 48;
// The raw client always sends this client id.
const RAW_CLIENT = 'raw-test';

type Entity = { entityType: string; entityName: string | null }[];

describe('client quotas through a real broker', () => {
  const dataDir = tempDataDir();
  let broker: BrokerProcess;
  let admin: RawClient;

  async function alter(entries: { entity: Entity; ops: { key: string; value: number; remove?: boolean }[] }[], validateOnly = false, version = 1) {
    const res = await admin.request(ALTER, version, {
      entries: entries.map((e) => ({ entity: e.entity, ops: e.ops.map((o) => ({ remove: false, ...o })) })),
      validateOnly,
    });
    return res.body.entries as { errorCode: number; errorMessage: string | null; entity: Entity }[];
  }

  async function describe(components: { entityType: string; matchType: number; match: string | null }[], strict = false, version = 1) {
    return (await admin.request(DESCRIBE, version, { components, strict })).body as {
      errorCode: number;
      errorMessage: string | null;
      entries: { entity: Entity; values: { key: string; value: number }[] }[] | null;
    };
  }

  async function rawProduce(c: RawClient, topic: string, bytes: number) {
    const batch = buildBatch([{ value: Buffer.alloc(bytes - 100, 7) }]);
    const res = await c.request(0, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
    expect(res.body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NONE);
    return res.body.throttleTimeMs as number;
  }

  /** Sends 64 KiB messages one at a time for `ms`; returns the bytes per second achieved. */
  async function produceFor(producer: Producer, topic: string, ms: number): Promise<number> {
    const value = Buffer.alloc(64 * 1024, 1);
    const start = Date.now();
    let sent = 0;
    while (Date.now() - start < ms) {
      await producer.send({ topic, acks: 1, messages: [{ value }] });
      sent += value.length;
    }
    return sent / ((Date.now() - start) / 1000);
  }

  beforeAll(async () => {
    broker = await startBrokerProcess({ dataDir });
    admin = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    admin?.close();
    await broker?.stop();
  });

  test('AlterClientQuotas and DescribeClientQuotas (v0 and v1) with Kafka validation', async () => {
    const set = await alter(
      [
        { entity: [{ entityType: 'client-id', entityName: 'quota-producer' }], ops: [{ key: 'producer_byte_rate', value: MiB }] },
        { entity: [{ entityType: 'user', entityName: 'ANONYMOUS' }, { entityType: 'client-id', entityName: null }], ops: [{ key: 'request_percentage', value: 400 }] },
        { entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_bytes', value: 1 }] },
      ],
      false,
      0,
    );
    expect(set.map((e) => [e.errorCode, e.errorMessage])).toEqual([
      [ErrorCode.NONE, null],
      [ErrorCode.NONE, null],
      [ErrorCode.INVALID_REQUEST, 'Invalid configuration key producer_bytes'],
    ]);
    const checked = await alter([{ entity: [{ entityType: 'user', entityName: 'ghost' }], ops: [{ key: 'consumer_byte_rate', value: 10 }] }], true);
    expect(checked[0].errorCode).toBe(ErrorCode.NONE);

    const exact = await describe([{ entityType: 'client-id', matchType: 0, match: 'quota-producer' }], false, 0);
    expect(exact).toMatchObject({ errorCode: 0, errorMessage: null });
    expect(exact.entries).toEqual([{ entity: [{ entityType: 'client-id', entityName: 'quota-producer' }], values: [{ key: 'producer_byte_rate', value: MiB }] }]);
    const users = await describe([{ entityType: 'user', matchType: 2, match: null }]);
    expect(users.entries).toEqual([
      {
        entity: [{ entityType: 'user', entityName: 'ANONYMOUS' }, { entityType: 'client-id', entityName: null }],
        values: [{ key: 'request_percentage', value: 400 }],
      },
    ]);
    expect((await describe([{ entityType: 'user', matchType: 2, match: null }], true)).entries).toEqual([]);
    const bad = await describe([{ entityType: 'group', matchType: 0, match: 'g' }]);
    expect(bad).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_VERSION, errorMessage: 'Unsupported entity type group', entries: null });
  });

  test('producer_byte_rate: throttle_time_ms is reported and the connection is muted for it', async () => {
    await alter([{ entity: [{ entityType: 'client-id', entityName: RAW_CLIENT }], ops: [{ key: 'producer_byte_rate', value: MiB }] }]);
    const c = await RawClient.connect(broker.port);
    await c.request(3, 9, { topics: [{ name: 'raw-quota' }], allowAutoTopicCreation: true });
    // 1 MiB/s over a 10 s padded span: about 10 MiB pass at once, then requests are over quota.
    let passed = 0;
    let throttle = 0;
    while (throttle === 0 && passed < 40) {
      throttle = await rawProduce(c, 'raw-quota', 512 * 1024);
      if (throttle === 0) passed++;
    }
    expect(passed).toBeGreaterThanOrEqual(18);
    expect(passed).toBeLessThanOrEqual(21);
    expect(throttle).toBeGreaterThan(0);
    expect(throttle).toBeLessThan(3000);
    // The next request on that connection waits out the throttle time (load can only add to it).
    const before = Date.now();
    await c.request(3, 9, { topics: [{ name: 'raw-quota' }], allowAutoTopicCreation: false });
    expect(Date.now() - before).toBeGreaterThanOrEqual(throttle - 100);
    c.close();
  });

  test('a kafkajs producer over producer_byte_rate slows down to the quota instead of failing; removing the quota lifts it', async () => {
    const kafka = new Kafka({ clientId: 'quota-producer', brokers: [broker.address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      const throttled = await produceFor(producer, 'quota-topic', 10_000);
      expect(throttled).toBeLessThan(2 * MiB);
      expect(throttled).toBeGreaterThan(0.25 * MiB);

      const removed = await alter([
        { entity: [{ entityType: 'client-id', entityName: 'quota-producer' }], ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] },
        { entity: [{ entityType: 'client-id', entityName: RAW_CLIENT }], ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] },
      ]);
      expect(removed.map((e) => e.errorCode)).toEqual([0, 0]);
      // The last throttle may still be waited out: one send first, then measure.
      await producer.send({ topic: 'quota-topic', acks: 1, messages: [{ value: 'after removal' }] });
      const free = await produceFor(producer, 'quota-topic', 4000);
      expect(free).toBeGreaterThan(2 * MiB);
      const c = await RawClient.connect(broker.port);
      for (let i = 0; i < 30; i++) expect(await rawProduce(c, 'raw-quota', 512 * 1024)).toBe(0);
      c.close();
    } finally {
      await producer.disconnect();
    }
  });

  test('consumer_byte_rate: fetches are cut to the quota span, and a fetch over quota is answered empty', async () => {
    await alter([{ entity: [{ entityType: 'client-id', entityName: RAW_CLIENT }], ops: [{ key: 'consumer_byte_rate', value: 100_000 }] }]);
    const c = await RawClient.connect(broker.port);
    const fetch = (offset: number) =>
      c.request(1, 11, {
        replicaId: -1,
        maxWaitMs: 0,
        minBytes: 1,
        maxBytes: 50 * MiB,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: [{ topic: 'quota-topic', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 50 * MiB }] }],
        forgottenTopicsData: [],
        rackId: '',
      });
    const first = (await fetch(0)).body;
    expect(first.throttleTimeMs).toBe(0);
    const records = first.responses[0].partitions[0].records as Buffer;
    // 100 kB/s x 10 windows: one answer holds at most 1 MB (plus nothing: 64 KiB batches fit the cut).
    expect(records.length).toBeGreaterThan(500_000);
    expect(records.length).toBeLessThanOrEqual(1_000_000);
    const second = (await fetch(1)).body;
    expect(second.throttleTimeMs).toBeGreaterThan(0);
    expect(second.responses).toEqual([]);
    c.close();
  });

  test('connection_creation_rate: connections over the rate from an ip are closed unanswered', async () => {
    await alter([{ entity: [{ entityType: 'ip', entityName: '127.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 1 }] }]);
    const outcomes = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const c = await RawClient.connect(broker.port);
        const outcome = await Promise.race([c.request(18, 0, {}).then(() => 'answered'), c.closed.then(() => 'closed')]);
        c.close();
        return outcome;
      }),
    );
    // 1/s over the padded 10 s span admits about ten at once.
    expect(outcomes.filter((o) => o === 'answered').length).toBeGreaterThanOrEqual(5);
    expect(outcomes.filter((o) => o === 'closed').length).toBeGreaterThanOrEqual(4);
    await alter([{ entity: [{ entityType: 'ip', entityName: '127.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 0, remove: true }] }]);
    const after = await RawClient.connect(broker.port);
    await after.request(18, 0, {});
    after.close();
  });

  test('quotas survive a restart', async () => {
    admin.close();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir });
    admin = await RawClient.connect(broker.port);
    const all = await describe([]);
    expect(all.entries).toEqual([
      {
        entity: [{ entityType: 'user', entityName: 'ANONYMOUS' }, { entityType: 'client-id', entityName: null }],
        values: [{ key: 'request_percentage', value: 400 }],
      },
      { entity: [{ entityType: 'client-id', entityName: RAW_CLIENT }], values: [{ key: 'consumer_byte_rate', value: 100_000 }] },
    ]);
  });
});
