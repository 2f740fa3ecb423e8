/**
 * The newest (flexible) versions of the core APIs against a real broker process, through
 * the raw client: topic ids (Produce v13, Fetch v13+, Metadata v10+, DeleteTopics v6),
 * CreateTopics v7 answers, validate-only, DescribeCluster, OffsetForLeaderEpoch and
 * ListOffsets' special timestamps. kafkajs never sends these versions.
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('flexible versions', () => {
  let broker: BrokerProcess;
  let c: RawClient;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--num-partitions', '2'] });
    c = await RawClient.connect(broker.port);
  });
  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('ApiVersions v4 advertises exactly the served APIs', async () => {
    const res = await c.request(18, 4, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' });
    expect(res.body.errorCode).toBe(0);
    const keys = res.body.apiKeys.map((k: { apiKey: number }) => k.apiKey);
    expect(keys).toEqual([0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 55, 57, 60, 61, 64, 65, 66, 68, 69, 71, 72, 74, 75, 76, 77, 78, 79, 80, 81, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92]);
    expect(res.body.apiKeys.find((k: { apiKey: number }) => k.apiKey === 1)).toEqual({ apiKey: 1, minVersion: 4, maxVersion: 18 });
    const bad = await c.request(18, 3, { clientSoftwareName: '-bad name-', clientSoftwareVersion: '1' });
    expect(bad.body.errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('CreateTopics v7: validate-only creates nothing; real creation returns id, counts and configs', async () => {
    const dry = await c.request(19, 7, {
      topics: [{ name: 'flex', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
      timeoutMs: 1000,
      validateOnly: true,
    });
    expect(dry.body.topics[0]).toMatchObject({ name: 'flex', errorCode: 0, numPartitions: 3, topicId: ZERO_UUID });
    const meta0 = await c.request(3, 12, { topics: [{ name: 'flex', topicId: ZERO_UUID }], allowAutoTopicCreation: false });
    expect(meta0.body.topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

    const res = await c.request(19, 7, {
      topics: [{ name: 'flex', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [{ name: 'retention.ms', value: '1000' }] }],
      timeoutMs: 1000,
      validateOnly: false,
    });
    const t = res.body.topics[0];
    expect(t).toMatchObject({ name: 'flex', errorCode: 0, numPartitions: 2, replicationFactor: 1 });
    expect(t.topicId).not.toBe(ZERO_UUID);
    expect(t.configs).toContainEqual({ name: 'retention.ms', value: '1000', readOnly: false, configSource: 1, isSensitive: false });
    expect(t.configs).toContainEqual({ name: 'cleanup.policy', value: 'delete', readOnly: false, configSource: 5, isSensitive: false });

    const errors = await c.request(19, 7, {
      topics: [
        { name: 'flex', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'bad-config', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'no.such.config', value: '1' }] },
        { name: 'bad-value', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: 'soon' }] },
        { name: 'zero', numPartitions: 0, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'a'.repeat(250), numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'has space', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'dotted.name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
        { name: 'dotted_name', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(errors.body.topics.map((x: { errorCode: number }) => x.errorCode)).toEqual([
      ErrorCode.TOPIC_ALREADY_EXISTS,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_CONFIG,
      ErrorCode.INVALID_PARTITIONS,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      ErrorCode.INVALID_TOPIC_EXCEPTION,
      ErrorCode.NONE,
      ErrorCode.INVALID_TOPIC_EXCEPTION, // collides with dotted.name ('.' and '_' are the same in metric names)
    ]);
  });

  test('Produce v13 and Fetch v18 address the topic by id; Metadata v12 looks it up by id', async () => {
    const meta = await c.request(3, 12, { topics: [{ name: 'flex', topicId: ZERO_UUID }], allowAutoTopicCreation: false });
    const topicId = meta.body.topics[0].topicId;
    const byId = await c.request(3, 12, { topics: [{ name: null, topicId }], allowAutoTopicCreation: false });
    expect(byId.body.topics[0]).toMatchObject({ name: 'flex', errorCode: 0 });
    expect(byId.body.topics[0].partitions).toHaveLength(2);
    const unknown = await c.request(3, 12, { topics: [{ name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }], allowAutoTopicCreation: false });
    expect(unknown.body.topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);

    const batch = buildBatch([{ key: 'k1', value: 'v1', timestamp: 1000 }, { key: 'k2', value: 'v2', timestamp: 3000 }], { baseTimestamp: 1000 });
    const produced = await c.request(0, 13, { acks: -1, timeoutMs: 1000, topicData: [{ topicId, partitionData: [{ index: 1, records: batch }] }] });
    expect(produced.body.responses[0].topicId).toBe(topicId);
    expect(produced.body.responses[0].partitionResponses[0]).toMatchObject({ index: 1, errorCode: 0, baseOffset: 0, logStartOffset: 0 });
    const wrongId = await c.request(0, 13, { acks: 1, timeoutMs: 1000, topicData: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionData: [{ index: 0, records: batch }] }] });
    expect(wrongId.body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);

    const fetched = await c.request(1, 18, {
      maxWaitMs: 100,
      minBytes: 1,
      maxBytes: 1 << 20,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 0 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    expect(fetched.body).toMatchObject({ errorCode: 0, sessionId: 0 });
    const p = fetched.body.responses[0].partitions[0];
    expect(p).toMatchObject({ partitionIndex: 1, errorCode: 0, highWatermark: 2, lastStableOffset: 2, logStartOffset: 0 });
    expect(p.records.length).toBe(batch.length);

    const fenced = await c.request(1, 12, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      sessionEpoch: -1,
      topics: [{ topic: 'flex', partitions: [{ partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 20, currentLeaderEpoch: 5 }] }],
    });
    expect(fenced.body.responses[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);

    const session = await c.request(1, 12, { maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, sessionId: 77, sessionEpoch: 3, topics: [] });
    expect(session.body.errorCode).toBe(ErrorCode.FETCH_SESSION_ID_NOT_FOUND);

    const lo = await c.request(2, 9, {
      replicaId: -1,
      isolationLevel: 0,
      topics: [
        {
          name: 'flex',
          partitions: [
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -3 },
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: -2 },
            { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 2500 },
            { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3 },
          ],
        },
      ],
    });
    expect(lo.body.topics[0].partitions).toEqual([
      { partitionIndex: 1, errorCode: 0, oldStyleOffsets: [], timestamp: 3000, offset: 1, leaderEpoch: 0 },
      { partitionIndex: 1, errorCode: 0, oldStyleOffsets: [], timestamp: -1, offset: 0, leaderEpoch: 0 },
      { partitionIndex: 1, errorCode: 0, oldStyleOffsets: [], timestamp: 3000, offset: 1, leaderEpoch: 0 },
      { partitionIndex: 0, errorCode: 0, oldStyleOffsets: [], timestamp: -1, offset: -1, leaderEpoch: -1 },
    ]);
  });

  test('a long-poll fetch is woken by a produce', async () => {
    const other = await RawClient.connect(broker.port);
    try {
      const started = Date.now();
      const pending = c.request(1, 12, {
        maxWaitMs: 10000,
        minBytes: 1,
        maxBytes: 1 << 20,
        sessionEpoch: -1,
        topics: [{ topic: 'flex', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
      });
      await new Promise((r) => setTimeout(r, 200));
      await other.request(0, 9, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'flex', partitionData: [{ index: 0, records: buildBatch([{ value: 'wake' }]) }] }] });
      const res = await pending;
      expect(res.body.responses[0].partitions[0].records.length).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(9000);
    } finally {
      other.close();
    }
  });

  test('OffsetForLeaderEpoch v4 and DescribeCluster v1', async () => {
    const res = await c.request(23, 4, {
      replicaId: -1,
      topics: [{ topic: 'flex', partitions: [{ partition: 1, currentLeaderEpoch: 0, leaderEpoch: 0 }, { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 3 }, { partition: 9, currentLeaderEpoch: -1, leaderEpoch: 0 }] }],
    });
    expect(res.body.topics[0].partitions).toEqual([
      { errorCode: 0, partition: 1, leaderEpoch: 0, endOffset: 2 },
      { errorCode: 0, partition: 1, leaderEpoch: -1, endOffset: -1 },
      { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, partition: 9, leaderEpoch: -1, endOffset: -1 },
    ]);
    const cluster = await c.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    expect(cluster.body).toMatchObject({ errorCode: 0, controllerId: 1, brokers: [{ brokerId: 1, host: '127.0.0.1', port: broker.port, rack: null }] });
    const controllers = await c.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 2 });
    expect(controllers.body.errorCode).toBe(115); // UNSUPPORTED_ENDPOINT_TYPE
  });

  test('CreatePartitions v3 and DeleteTopics v6 by id', async () => {
    const grow = await c.request(37, 3, { topics: [{ name: 'flex', count: 4, assignments: null }, { name: 'nope', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(grow.body.results.map((r: { errorCode: number }) => r.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const shrink = await c.request(37, 3, { topics: [{ name: 'flex', count: 2, assignments: null }], timeoutMs: 1000, validateOnly: false });
    expect(shrink.body.results[0].errorCode).toBe(ErrorCode.INVALID_PARTITIONS);

    const meta = await c.request(3, 12, { topics: [{ name: 'flex', topicId: ZERO_UUID }], allowAutoTopicCreation: false });
    expect(meta.body.topics[0].partitions).toHaveLength(4);
    const topicId = meta.body.topics[0].topicId;
    const del = await c.request(20, 6, { topics: [{ name: null, topicId }, { name: 'never-was', topicId: ZERO_UUID }], timeoutMs: 1000 });
    expect(del.body.responses).toEqual([
      { name: 'flex', topicId, errorCode: 0, errorMessage: null },
      expect.objectContaining({ name: 'never-was', errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }),
    ]);
    const gone = await c.request(3, 12, { topics: [{ name: null, topicId }], allowAutoTopicCreation: false });
    expect(gone.body.topics[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });
});
