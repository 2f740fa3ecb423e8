/**
 * Running out of file descriptors (`ulimit -n 256` on a real broker process): every segment
 * keeps its .log open (as in Kafka), so many partitions and segments exhaust the limit.
 * The broker must degrade with an error and never crash: CreateTopics and Produce answer
 * KAFKA_STORAGE_ERROR, connections over the limit are refused (logged), everything else
 * keeps working, and a restart that cannot open the data dir says why and what to do.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { readPartition } from '../helpers/read-partition';
import { buildBatch, decodeBatchValues } from '../helpers/record-batch-builder';

const LIMIT = 256;
const apiVersions = (c: RawClient) => c.request(18, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });

/** Every value of partition 0 of `topic`, fetched on an already open connection (a new one may not be accepted). */
async function rawRead(c: RawClient, topic: string): Promise<string[]> {
  const out: string[] = [];
  let offset = 0;
  for (;;) {
    const res = await c.request(1, 11, {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 1 << 20 }] }],
    });
    const p = res.body.responses[0].partitions[0];
    expect(p.errorCode).toBe(0);
    const records: Buffer = p.records;
    if (records.length === 0) return out;
    for (let pos = 0; pos + 12 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) {
      if (pos + 12 + records.readInt32BE(pos + 8) > records.length) break;
      for (const v of decodeBatchValues(records, pos)) {
        if (v.offset < offset) continue;
        out.push(v.value!);
        offset = v.offset + 1;
      }
    }
  }
}

async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

describe(`ulimit -n ${LIMIT}`, () => {
  const dataDir = tempDataDir();
  /** What the rolling topic acknowledged, checked again after the restart. */
  const acked: string[] = [];
  let broker: BrokerProcess;
  const kafka = () => new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } });

  beforeAll(async () => {
    broker = await startBrokerProcess({ dataDir, maxOpenFiles: LIMIT });
  });
  afterAll(async () => broker?.kill());

  test('segments filling the limit: Produce answers KAFKA_STORAGE_ERROR, reads keep working, writes resume when descriptors free up', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'rolling', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '200' }] }] });
    // A topic whose open logs hold descriptors that deleting it gives back (below).
    await admin.createTopics({ topics: [{ topic: 'small', numPartitions: 4 }] });
    const producer = kafka().producer();
    await producer.connect();
    for (let partition = 0; partition < 4; partition++) await producer.send({ topic: 'small', messages: [{ partition, value: 'open' }] });
    const reader = await RawClient.connect(broker.port);
    let failure: { name?: string; cause?: { type?: string } } | null = null;
    // Each send rolls a new segment, which takes one more descriptor.
    for (let i = 0; i < 2 * LIMIT && !failure; i++) {
      const value = `r${i}:`.padEnd(300, '.');
      try {
        await producer.send({ topic: 'rolling', messages: [{ value }] });
        acked.push(value);
      } catch (e) {
        failure = e as typeof failure;
      }
    }
    expect(failure?.cause?.type).toBe('KAFKA_STORAGE_ERROR');
    expect(acked.length).toBeGreaterThan(50);
    expect(broker.stderr()).toMatch(/"append failed; the partition refuses writes until the disk accepts them".*"code":"EMFILE"/);
    expect(openFds(broker.pid)).toBeLessThanOrEqual(LIMIT);
    // The descriptor watch says so once (it checks every 2 s).
    expect(await waitFor(() => /"open file limit reached/.test(broker.stderr()), 6000)).toBe(true);
    // At the limit no new connection can be accepted either; one already open reads everything.
    expect(await rawRead(reader, 'rolling')).toEqual(acked);
    reader.close();

    // Deleting the small topic frees descriptors (after file.delete.delay.ms): writes resume.
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: 'small', configEntries: [{ name: 'file.delete.delay.ms', value: '0' }] }] });
    await admin.deleteTopics({ topics: ['small'] });
    await new Promise((r) => setTimeout(r, 200));
    const [res] = await producer.send({ topic: 'rolling', messages: [{ value: 'after' }] });
    expect(Number(res.baseOffset)).toBe(acked.length);
    acked.push('after');
    await producer.disconnect();
    await admin.disconnect();
  });

  test('connections past the limit are refused and logged; the broker then serves new ones', async () => {
    const clients: RawClient[] = [];
    let refused = 0;
    for (let i = 0; i < LIMIT; i++) {
      try {
        const c = await RawClient.connect(broker.port);
        clients.push(c);
      } catch {
        refused++;
      }
    }
    // Connections the kernel completed but the broker could not accept are reset.
    const answered = await Promise.all(
      clients.map((c) =>
        Promise.race([apiVersions(c).then(() => true), c.closed.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(false), 5000).unref())]),
      ),
    );
    const served = answered.filter(Boolean).length;
    expect(served).toBeLessThan(LIMIT);
    expect(served).toBeGreaterThan(0);
    expect(broker.stderr()).toMatch(/"open file limit reached: new connections are refused/);
    for (const c of clients) c.close();
    await new Promise((r) => setTimeout(r, 500));
    const again = await RawClient.connect(broker.port);
    expect((await apiVersions(again)).body.errorCode).toBe(0);
    again.close();
    expect(refused + (clients.length - served)).toBeGreaterThan(0);
  });

  test('a restart under the limit with more segments than descriptors starts (logs open on use) and refuses that partition; without the limit everything is there', async () => {
    await broker.stop();
    expect(await broker.exited).toBe(0);
    broker = await startBrokerProcess({ dataDir, maxOpenFiles: 64, env: { SAMSA_OPEN_PARTITIONS: 'lazy' } });
    const refused = await readPartition(kafka(), 'rolling', 0, 0, 2_000).catch((e: unknown) => ({ errorCode: -1, messages: [], error: e }));
    expect(refused.messages.length).toBeLessThan(acked.length);
    await broker.stop();
    broker = await startBrokerProcess({ dataDir });
    const read = await readPartition(kafka(), 'rolling', 0, 0, 10_000);
    expect(read.errorCode).toBe(0);
    expect(read.messages.map((m) => m.value!.toString())).toEqual(acked);
  });
});

// Its own broker: the partitions it opens keep their descriptors (as Kafka keeps segments open).
describe(`ulimit -n ${LIMIT}, many partitions`, () => {
  let broker: BrokerProcess;
  const kafka = () => new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } });

  beforeAll(async () => {
    broker = await startBrokerProcess({ maxOpenFiles: LIMIT });
  });
  afterAll(async () => broker?.kill());

  test('a topic with more partitions than descriptors left: created (logs open on first use); writes past the limit get KAFKA_STORAGE_ERROR, the broker serves on', async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'small', numPartitions: 4 }] });
    const producer = kafka().producer();
    await producer.connect();
    const [first] = await producer.send({ topic: 'small', messages: [{ partition: 0, value: 'before' }] });
    expect(first.errorCode).toBe(0);
    // Partitions take no descriptor until used (src/cluster/topic-manager.ts), so creating works.
    await admin.createTopics({ topics: [{ topic: 'huge', numPartitions: 400 }] });
    expect((await admin.listTopics()).sort()).toEqual(['huge', 'small']);
    await admin.disconnect();
    // Writing to every partition opens 400 logs: past the limit, those partitions refuse.
    const raw = await RawClient.connect(broker.port);
    const res = await raw.request(0, 9, {
      transactionalId: null,
      acks: 1,
      timeoutMs: 5000,
      topicData: [{ name: 'huge', partitionData: Array.from({ length: 400 }, (_, index) => ({ index, records: buildBatch([{ value: Buffer.from('x') }]) })) }],
    });
    raw.close();
    const codes = res.body.responses[0].partitionResponses.map((p: { errorCode: number }) => p.errorCode);
    expect(codes.filter((c: number) => c === 56).length).toBeGreaterThan(0); // KAFKA_STORAGE_ERROR
    expect(codes.filter((c: number) => c === 0).length).toBeGreaterThan(0);
    // The partition opened before still takes writes.
    const [res2] = await producer.send({ topic: 'small', messages: [{ partition: 0, value: 'still fine' }] });
    expect(res2.errorCode).toBe(0);
    await producer.disconnect();
  });
});
