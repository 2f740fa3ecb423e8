/**
 * Lazy partition open against a real broker process: after a restart with many partitions
 * (2000 here), logs open on first use, and a lazily opened partition behaves as an eagerly
 * opened one did: produce, consume, ListOffsets, retention. A partition left with a torn
 * tail by a kill -9 is recovered when first opened, before it serves anything. The broker
 * runs with SAMSA_OPEN_PARTITIONS=lazy (no background opening) and debug logs, so the test
 * sees which logs opened when ("partition log opened" lines).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { readPartition } from '../helpers/read-partition';
import { RawClient } from '../helpers/raw-client';
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/partition-log';

const PARTITIONS = 2000;
const LAZY = { SAMSA_OPEN_PARTITIONS: 'lazy', SAMSA_LOG_LEVEL: 'debug' };

async function until<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Partition directories named in the broker's "partition log opened" debug lines. */
function openedLogs(broker: BrokerProcess): string[] {
  const out: string[] = [];
  for (const line of broker.stderr().split('\n')) {
    if (!line.includes('"partition log opened"')) continue;
    out.push(path.basename((JSON.parse(line) as { dir: string }).dir));
  }
  return out;
}

/** ListOffsets of single partitions by raw request (kafkajs would ask for every partition of the topic). */
async function offsets(broker: BrokerProcess, topic: string, partition: number): Promise<{ earliest: number; latest: number }> {
  const c = await RawClient.connect(broker.port);
  try {
    const ask = async (timestamp: number) => {
      const res = await c.request(2, 7, {
        replicaId: -1,
        isolationLevel: 0,
        topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp }] }],
      });
      const p = res.body.topics[0].partitions[0];
      expect(p.errorCode).toBe(0);
      return Number(p.offset);
    };
    return { earliest: await ask(-2), latest: await ask(-1) };
  } finally {
    c.close();
  }
}

describe('partitions open lazily after a restart', () => {
  const dataDir = tempDataDir();
  let broker: BrokerProcess;
  let producer: Producer | null = null;

  const kafkaOf = (b: BrokerProcess) => new Kafka({ clientId: 'lazy-open-test', brokers: [b.address], logLevel: logLevel.NOTHING });

  async function restart(how: 'stop' | 'down already', args: string[] = []): Promise<Kafka> {
    await producer?.disconnect();
    producer = null;
    if (how === 'stop') await broker.stop();
    broker = await startBrokerProcess({ dataDir, env: LAZY, args });
    const kafka = kafkaOf(broker);
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    return kafka;
  }

  const values = async (kafka: Kafka, topic: string, partition: number, from: number, end: number) =>
    (await readPartition(kafka, topic, partition, from, end)).messages.map((m) => m.value?.toString());

  beforeAll(async () => {
    broker = await startBrokerProcess({ dataDir, env: LAZY });
    const kafka = kafkaOf(broker);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: 'many', numPartitions: PARTITIONS },
        { topic: 'ret', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '512' }, { name: 'retention.ms', value: '60000' }] },
      ],
    });
    await admin.disconnect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    for (const partition of [0, 7, 1234, PARTITIONS - 1]) {
      await producer.send({ topic: 'many', acks: 1, messages: [{ partition, value: `first-${partition}` }, { partition, value: `second-${partition}` }] });
    }
    // Ten-minute-old records in 512-byte segments: retention will delete all but the newest segments.
    for (let b = 0; b < 10; b++) {
      await producer.send({ topic: 'ret', messages: Array.from({ length: 5 }, (_, i) => ({ value: `old-${b}-${i}-${'x'.repeat(90)}`, timestamp: String(Date.now() - 600_000) })) });
    }
  }, 60_000);

  afterAll(async () => {
    await producer?.disconnect();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('a clean restart opens no log until one is used; produce, consume and ListOffsets then work', async () => {
    const kafka = await restart('stop');
    // The producer fetched metadata for nothing yet; Metadata needs no log anyway.
    expect(openedLogs(broker).filter((d) => d.startsWith('many-'))).toEqual([]);
    expect(await offsets(broker, 'many', 7)).toEqual({ earliest: 0, latest: 2 });
    expect(openedLogs(broker).filter((d) => d.startsWith('many-'))).toEqual(['many-7']);

    await producer!.send({ topic: 'many', acks: -1, messages: [{ partition: PARTITIONS - 1, value: 'third' }] });
    expect(await values(kafka, 'many', PARTITIONS - 1, 0, 3)).toEqual([`first-${PARTITIONS - 1}`, `second-${PARTITIONS - 1}`, 'third']);
    expect(await values(kafka, 'many', 0, 0, 2)).toEqual(['first-0', 'second-0']);
    // A partition created but never written has an empty log when first read.
    expect(await offsets(broker, 'many', 500)).toEqual({ earliest: 0, latest: 0 });
    expect(new Set(openedLogs(broker).filter((d) => d.startsWith('many-')))).toEqual(new Set(['many-7', `many-${PARTITIONS - 1}`, 'many-0', 'many-500']));
    // An untouched partition keeps its clean-shutdown marker; a written one dropped it.
    expect(fs.existsSync(path.join(dataDir, 'many-1234', CLEAN_SHUTDOWN_FILE))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, `many-${PARTITIONS - 1}`, CLEAN_SHUTDOWN_FILE))).toBe(false);
  }, 60_000);

  test('a torn tail left by kill -9 is cut when the partition is first opened, before it serves', async () => {
    await producer!.send({ topic: 'many', acks: 1, messages: [{ partition: 1234, value: 'third-1234' }] });
    await producer!.disconnect();
    producer = null;
    await broker.kill();
    // Half a batch header at the end of the active segment, as a crash mid-write leaves it.
    const log = path.join(dataDir, 'many-1234', '00000000000000000000.log');
    const sizeBefore = fs.statSync(log).size;
    fs.appendFileSync(log, Buffer.alloc(40, 7));
    expect(fs.existsSync(path.join(dataDir, 'many-1234', CLEAN_SHUTDOWN_FILE))).toBe(false);

    const kafka = await restart('down already');
    expect(broker.stderr()).not.toContain('truncated invalid bytes');
    expect(openedLogs(broker)).not.toContain('many-1234');
    expect(await offsets(broker, 'many', 1234)).toEqual({ earliest: 0, latest: 3 });
    expect(broker.stderr()).toMatch(/truncated invalid bytes[^\n]*many-1234/);
    expect(fs.statSync(log).size).toBe(sizeBefore);
    expect(await values(kafka, 'many', 1234, 0, 3)).toEqual(['first-1234', 'second-1234', 'third-1234']);
    await producer!.send({ topic: 'many', acks: 1, messages: [{ partition: 1234, value: 'fourth-1234' }] });
    expect(await values(kafka, 'many', 1234, 3, 4)).toEqual(['fourth-1234']);
  }, 60_000);

  test('retention applies to a partition no client has used since the restart', async () => {
    await restart('stop', ['--override', 'log.retention.check.interval.ms=300']);
    // No request names ret-0: the retention pass opens its log and deletes the old segments.
    await until('retention to delete the old segments', async () => /"deleted segments"[^\n]*ret-0/.test(broker.stderr()), (v) => v);
    const after = await offsets(broker, 'ret', 0);
    expect(after.earliest).toBeGreaterThan(0);
    expect(after.latest).toBe(50);
    expect(after.earliest).toBeLessThanOrEqual(50);
    const files = fs.readdirSync(path.join(dataDir, 'ret-0')).filter((f) => f.endsWith('.log'));
    expect(files.length).toBeLessThan(10);
  }, 60_000);

  test('by default the broker opens the remaining logs in the background after it listens', async () => {
    await producer?.disconnect();
    producer = null;
    await broker.stop();
    broker = await startBrokerProcess({ dataDir, env: { SAMSA_LOG_LEVEL: 'info' } });
    const line = await until('the background opening to finish', async () => /[^\n]*"partition logs opened in the background"[^\n]*/.exec(broker.stderr())?.[0] ?? '', (l) => l !== '');
    const fields = JSON.parse(line) as { partitions: number; failed: number };
    // Every partition of both topics (plus any internal topic) was unopened at start.
    expect(fields.partitions).toBeGreaterThanOrEqual(PARTITIONS + 1);
    expect(fields.failed).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'many-321', '00000000000000000000.log'))).toBe(true);
  }, 60_000);

  test('DeleteTopics removes partitions whether or not their logs were opened', async () => {
    const kafka = kafkaOf(broker);
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: ['many'] });
      expect(await admin.listTopics()).not.toContain('many');
    } finally {
      await admin.disconnect();
    }
    expect(fs.readdirSync(dataDir).filter((d) => d.startsWith('many-'))).toEqual([]);
  }, 60_000);
});
