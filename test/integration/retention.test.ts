/**
 * Retention and DeleteRecords against a real broker process with kafkajs: closed segments
 * past retention.ms or over retention.bytes disappear, the low watermark moves, a fetch
 * below it gets OFFSET_OUT_OF_RANGE, a consumer group positioned below it is reset as its
 * policy says, and the log start offset survives a restart.
 */
import { Kafka, logLevel, Admin, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { readPartition } from '../helpers/read-partition';
import { ErrorCode } from '../../src/protocol/errors';

const ARGS = ['--override', 'log.retention.check.interval.ms=200'];

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('retention and DeleteRecords through a real broker', () => {
  let dataDir: string;
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;

  async function connect(): Promise<void> {
    kafka = new Kafka({ clientId: 'retention-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  }

  beforeAll(async () => {
    dataDir = tempDataDir();
    broker = await startBrokerProcess({ dataDir, args: ARGS });
    await connect();
  });

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await broker?.stop();
  });

  const low = async (topic: string) => Number((await admin.fetchTopicOffsets(topic))[0].low);
  const high = async (topic: string) => Number((await admin.fetchTopicOffsets(topic))[0].high);

  /** `batches` sends of 10 messages of ~100 bytes (each batch is bigger than the 512-byte segments: one batch per segment). */
  async function produce(topic: string, batches: number, timestamp?: number): Promise<void> {
    for (let b = 0; b < batches; b++) {
      await producer.send({
        topic,
        messages: Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${b}-${i}-${'x'.repeat(90)}`, timestamp: timestamp !== undefined ? String(timestamp) : undefined })),
      });
    }
  }

  test('retention.ms: expired segments go, the low watermark moves, fetching from 0 is out of range and a group is reset', async () => {
    await admin.createTopics({
      topics: [{ topic: 'ret-time', configEntries: [{ name: 'segment.bytes', value: '512' }, { name: 'retention.ms', value: '60000' }] }],
    });
    await produce('ret-time', 20, Date.now() - 10 * 60_000); // 200 records ten minutes old
    await produce('ret-time', 3); // 30 fresh records
    expect(await high('ret-time')).toBe(230);
    // Retention may run while the old batches are still arriving; all 200 old records go in the end.
    const start = await until('the low watermark to pass the old records', () => low('ret-time'), (v) => v >= 200);
    expect(start).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    expect(await low('ret-time')).toBe(200); // the fresh segments stay

    const below = await readPartition(kafka, 'ret-time', 0, 0, 230);
    expect(below.errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const rest = await readPartition(kafka, 'ret-time', 0, 200, 230);
    expect(rest.messages.map((m) => Number(m.offset))).toEqual(Array.from({ length: 30 }, (_, i) => 200 + i));

    // A group whose committed position was deleted: kafkajs gets OFFSET_OUT_OF_RANGE and resets to the earliest offset.
    await admin.setOffsets({ groupId: 'ret-group', topic: 'ret-time', partitions: [{ partition: 0, offset: '5' }] });
    const consumer = kafka.consumer({ groupId: 'ret-group', sessionTimeout: 10_000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'ret-time', fromBeginning: true });
    const seen: number[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(Number(message.offset)) });
    await until('the reset consumer to read everything', async () => seen.length, (n) => n >= 30, 30_000);
    await consumer.disconnect();
    expect(seen[0]).toBe(200);
    expect(seen.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => 200 + i));
  });

  test('a retention.ms set at run time (alterConfigs) applies to the existing log', async () => {
    await admin.createTopics({ topics: [{ topic: 'ret-live', configEntries: [{ name: 'segment.bytes', value: '512' }] }] });
    await produce('ret-live', 5, Date.now() - 3_600_000);
    await produce('ret-live', 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await low('ret-live')).toBe(0); // the default 7 days keep everything
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: 2, name: 'ret-live', configEntries: [{ name: 'segment.bytes', value: '512' }, { name: 'retention.ms', value: '60000' }] }],
    });
    expect(await until('the low watermark to move', () => low('ret-live'), (v) => v >= 50)).toBe(50);
  });

  test('retention.bytes keeps the newest segments within the limit', async () => {
    await admin.createTopics({
      topics: [{ topic: 'ret-size', configEntries: [{ name: 'segment.bytes', value: '512' }, { name: 'retention.bytes', value: '3000' }] }],
    });
    await produce('ret-size', 30);
    // Each batch is its own segment of ~1 KB: two or three of the newest fit in 3000 bytes.
    const start = await until('the low watermark to move', () => low('ret-size'), (v) => v >= 270);
    expect(start).toBeLessThanOrEqual(280);
    expect(await high('ret-size')).toBe(300);
    expect((await readPartition(kafka, 'ret-size', 0, start - 10, 300)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    expect((await readPartition(kafka, 'ret-size', 0, start, 300)).messages).toHaveLength(300 - start);
  });

  test('DeleteRecords (kafkajs admin): the earliest offset moves, fetching below it is out of range, and it survives a restart', async () => {
    await admin.createTopics({ topics: [{ topic: 'del-records', numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '2048' }] }] });
    for (let i = 0; i < 10; i++) {
      await producer.send({ topic: 'del-records', messages: Array.from({ length: 10 }, (_, j) => ({ partition: 0, value: `m${i * 10 + j}` })) });
    }
    // kafkajs's deleteTopicRecords needs the topic's metadata loaded first.
    expect(await low('del-records')).toBe(0);
    await admin.deleteTopicRecords({ topic: 'del-records', partitions: [{ partition: 0, offset: '42' }] });
    expect(await low('del-records')).toBe(42);
    expect((await readPartition(kafka, 'del-records', 0, 41, 100)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    const from42 = await readPartition(kafka, 'del-records', 0, 42, 100);
    expect(from42.messages[0]).toMatchObject({ offset: '42' });
    expect(from42.messages.map((m) => m.value?.toString())).toEqual(Array.from({ length: 58 }, (_, i) => `m${42 + i}`));

    // -1 means the high watermark.
    await admin.deleteTopicRecords({ topic: 'del-records', partitions: [{ partition: 1, offset: '-1' }] });
    const offsets = await admin.fetchTopicOffsets('del-records');
    expect(offsets.find((o) => o.partition === 1)).toMatchObject({ low: '0', high: '0' });

    // Compacted topics refuse it (POLICY_VIOLATION), as Kafka does.
    await admin.createTopics({ topics: [{ topic: 'del-compacted', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    await producer.send({ topic: 'del-compacted', messages: [{ key: 'a', value: '1' }, { key: 'b', value: '2' }] });
    await low('del-compacted');
    await expect(admin.deleteTopicRecords({ topic: 'del-compacted', partitions: [{ partition: 0, offset: '1' }] })).rejects.toThrow();
    expect(await low('del-compacted')).toBe(0);

    await producer.disconnect();
    await admin.disconnect();
    await broker.kill(); // not even a clean shutdown
    broker = await startBrokerProcess({ dataDir, args: ARGS });
    await connect();
    const after = await admin.fetchTopicOffsets('del-records');
    expect(after.find((o) => o.partition === 0)).toMatchObject({ low: '42', high: '100' });
    expect((await readPartition(kafka, 'del-records', 0, 0, 100)).errorCode).toBe(ErrorCode.OFFSET_OUT_OF_RANGE);
    // The time-retention topic kept its start too.
    expect(await low('ret-time')).toBe(200);
  });
});
