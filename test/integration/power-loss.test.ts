/**
 * Power loss: what an OS crash keeps depends on fsync. A real broker process runs with an
 * fsync journal (SAMSA_FSYNC_JOURNAL), kafkajs idempotent producers write while the broker is
 * killed with SIGKILL, then every file of the data dir is cut to its last fsynced length, with
 * a random part of the unsynced tail kept (pages the OS may have written back: torn batches),
 * and the broker restarts on it. With flush.messages=1 or flush.ms=0 (topic) or
 * log.flush.interval.messages=1 (broker, which also covers committed offsets) every
 * acknowledged record must be there exactly once; with the defaults (page
 * cache only) acknowledged records are lost, which shows the simulation bites. In both cases
 * the broker recovers to its last valid batch and the offline checker finds the data dir
 * consistent.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { readPartition } from '../helpers/read-partition';
import { simulatePowerLoss } from '../../bench/soak/power-loss';
import { checkDataDir } from '../../bench/soak/check-data-dir';

const PARTITIONS = 3;
const brokers: BrokerProcess[] = [];

afterAll(async () => {
  for (const b of brokers) await b.stop().catch(() => undefined);
});

function client(address: string): Kafka {
  return new Kafka({ clientId: 'power-loss', brokers: [address], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 500 } });
}

/** Produces to each topic from a few sequential idempotent senders until the broker dies; returns the acknowledged values per topic. */
async function produceUntilKilled(broker: BrokerProcess, topics: string[]): Promise<Map<string, string[]>> {
  const kafka = client(broker.address);
  const acked = new Map<string, string[]>(topics.map((t) => [t, []]));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 } });
  await producer.connect();
  let stop = false;
  const worker = async (topic: string, w: number): Promise<void> => {
    for (let i = 0; !stop; i++) {
      const values = Array.from({ length: 5 }, (_, j) => `${topic}/w${w}/${i}/${j}`);
      try {
        await producer.send({ topic, acks: -1, messages: values.map((value) => ({ partition: w % PARTITIONS, value })) });
      } catch {
        return; // the broker is gone: anything not acknowledged may or may not be there
      }
      acked.get(topic)!.push(...values);
    }
  };
  const running = topics.flatMap((t) => Array.from({ length: PARTITIONS }, (_, w) => worker(t, w)));
  // Kill mid-stream, at a random moment once every topic has acknowledged records.
  const deadline = Date.now() + 30_000;
  while (topics.some((t) => acked.get(t)!.length < 300) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 200)));
  await broker.kill();
  stop = true;
  await Promise.all(running);
  await producer.disconnect().catch(() => undefined);
  return acked;
}

/** Every value in the topic after a restart, by partition, in offset order. */
async function readTopic(address: string, topic: string): Promise<string[][]> {
  const kafka = client(address);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const out: string[][] = [];
    for (let p = 0; p < PARTITIONS; p++) {
      const end = Number(ends.find((e) => e.partition === p)!.high);
      const read = await readPartition(kafka, topic, p, 0, end);
      expect(read.errorCode).toBe(0);
      out.push(read.messages.map((m) => m.value!.toString()));
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

interface Outcome {
  acked: number;
  lost: number;
  duplicated: number;
  outOfOrder: number;
}

function compare(acked: string[], partitions: string[][]): Outcome {
  const count = new Map<string, number>();
  for (const v of partitions.flat()) count.set(v, (count.get(v) ?? 0) + 1);
  let lost = 0;
  let duplicated = 0;
  for (const v of acked) {
    const n = count.get(v) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated++;
  }
  // Within a partition, a sender's values must come in the order it sent them.
  let outOfOrder = 0;
  for (const values of partitions) {
    const lastIndex = new Map<string, number>();
    for (const v of values) {
      const [, w, i, j] = v.split('/');
      const seq = Number(i) * 5 + Number(j);
      if (seq <= (lastIndex.get(w) ?? -1)) outOfOrder++;
      lastIndex.set(w, seq);
    }
  }
  return { acked: acked.length, lost, duplicated, outOfOrder };
}

/** Runs one crash + power cut + restart; with `commitGroup`, a group's offsets are committed before the producers start and fetched after the restart. */
async function crashCutRestart(
  args: string[],
  topics: { name: string; configs?: Record<string, string> }[],
  commitGroup?: string,
): Promise<{ outcomes: Map<string, Outcome>; fetched: string[] }> {
  const dataDir = tempDataDir('samsa-power-loss-');
  const journal = path.join(path.dirname(dataDir), `${path.basename(dataDir)}.fsync-journal`);
  const env = { SAMSA_FSYNC_JOURNAL: journal };
  const first = await startBrokerProcess({ dataDir, args, env });
  brokers.push(first);
  const admin = client(first.address).admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((t) => ({
      topic: t.name,
      numPartitions: PARTITIONS,
      configEntries: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
  });
  const committed = [...Array(PARTITIONS).keys()].map((partition) => ({ partition, offset: String(7 + partition) }));
  if (commitGroup) await admin.setOffsets({ groupId: commitGroup, topic: topics[0].name, partitions: committed });
  await admin.disconnect();
  const acked = await produceUntilKilled(first, topics.map((t) => t.name));

  const cut = simulatePowerLoss(dataDir, journal, { tornTail: true });
  expect(cut.filesCut).toBeGreaterThan(0);

  const second = await startBrokerProcess({ dataDir, port: first.port, args, env });
  brokers.push(second);
  const out = new Map<string, Outcome>();
  for (const t of topics) out.set(t.name, compare(acked.get(t.name)!, await readTopic(second.address, t.name)));
  let fetched: string[] = [];
  if (commitGroup) {
    const admin2 = client(second.address).admin();
    await admin2.connect();
    const res = await admin2.fetchOffsets({ groupId: commitGroup, topics: [topics[0].name] });
    fetched = res[0].partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
    await admin2.disconnect();
  }
  await second.stop();
  const check = await checkDataDir(dataDir, { cleanShutdown: true, decode: false });
  expect(check.errors).toEqual([]);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(journal, { force: true });
  return { outcomes: out, fetched };
}

test('topic flush.messages=1 or flush.ms=0 keeps every acknowledged record through a power cut; the defaults do not', async () => {
  const { outcomes: outcome } = await crashCutRestart(
    [],
    // Small segments: rolls create files whose directory entries must be made durable too.
    [
      { name: 'durable', configs: { 'flush.messages': '1', 'segment.bytes': '16384' } },
      { name: 'durable-ms', configs: { 'flush.ms': '0', 'segment.bytes': '16384' } },
      { name: 'volatile', configs: { 'segment.bytes': '16384' } },
    ],
  );
  for (const name of ['durable', 'durable-ms']) {
    const durable = outcome.get(name)!;
    expect(durable.acked).toBeGreaterThanOrEqual(300);
    expect(durable).toEqual({ acked: durable.acked, lost: 0, duplicated: 0, outOfOrder: 0 });
  }
  // Default settings: acknowledged writes live in the page cache only.
  const volatile = outcome.get('volatile')!;
  expect(volatile.lost).toBeGreaterThan(0);
  expect(volatile.duplicated).toBe(0);
  expect(volatile.outOfOrder).toBe(0);
});

test('broker log.flush.interval.messages=1 keeps every acknowledged record and committed offset through a power cut', async () => {
  const { outcomes, fetched } = await crashCutRestart(['--override', 'log.flush.interval.messages=1'], [{ name: 'all-durable' }], 'pl-group');
  const o = outcomes.get('all-durable')!;
  expect(o.acked).toBeGreaterThanOrEqual(300);
  expect(o).toEqual({ acked: o.acked, lost: 0, duplicated: 0, outOfOrder: 0 });
  // __consumer_offsets follows the broker default too.
  expect(fetched).toEqual(['7', '8', '9']);
});

test('an aborted transaction stays aborted when the OS wrote back a producer snapshot but not the transaction index', async () => {
  const dataDir = tempDataDir('samsa-power-loss-');
  const journal = `${dataDir}.fsync-journal`;
  const env = { SAMSA_FSYNC_JOURNAL: journal };
  const first = await startBrokerProcess({ dataDir, env });
  brokers.push(first);
  const kafka = client(first.address);
  const admin = kafka.admin();
  await admin.connect();
  // Small segments: rolls write producer snapshots that cover the ABORT marker.
  await admin.createTopics({ topics: [{ topic: 'txn', numPartitions: 1, configEntries: [{ name: 'flush.messages', value: '1' }, { name: 'segment.bytes', value: '2048' }] }] });
  await admin.disconnect();
  const producer = kafka.producer({ transactionalId: 'pl-txn', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const committed: string[] = [];
  const aborted: string[] = [];
  for (let t = 0; t < 12; t++) {
    const txn = await producer.transaction();
    const values = Array.from({ length: 5 }, (_, i) => `t${t}-${i}-${'x'.repeat(100)}`);
    await txn.send({ topic: 'txn', messages: values.map((value) => ({ value })) });
    if (t % 4 === 1) {
      await txn.abort();
      aborted.push(...values);
    } else {
      await txn.commit();
      committed.push(...values);
    }
  }
  await producer.disconnect();
  await first.kill();
  expect(fs.readdirSync(path.join(dataDir, 'txn-0')).filter((n) => n.endsWith('.snapshot')).length).toBeGreaterThan(0);
  simulatePowerLoss(dataDir, journal, { keepUnsynced: (file) => file.endsWith('.snapshot') });

  const second = await startBrokerProcess({ dataDir, port: first.port, env });
  brokers.push(second);
  const seen: string[] = [];
  const consumer = client(second.address).consumer({ groupId: 'pl-reader', readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topic: 'txn', fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
  const deadline = Date.now() + 30_000;
  while (seen.length < committed.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  expect(seen.filter((v) => aborted.includes(v))).toEqual([]);
  expect(seen).toEqual(committed);
  await second.stop();
  expect((await checkDataDir(dataDir, { cleanShutdown: true, decode: false })).errors).toEqual([]);
});

test('files recovery creates after a power cut are made durable by the next flush', async () => {
  const dataDir = tempDataDir('samsa-power-loss-');
  const journal = `${dataDir}.fsync-journal`;
  const env = { SAMSA_FSYNC_JOURNAL: journal };
  const first = await startBrokerProcess({ dataDir, env });
  brokers.push(first);
  const admin = client(first.address).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'reborn', numPartitions: 1, configEntries: [{ name: 'flush.messages', value: '1' }] }] });
  // Logs open on first use: a ListOffsets opens this one (its directory and first segment).
  await admin.fetchTopicOffsets('reborn');
  await admin.disconnect();
  // Killed before any write: the segment file's directory entry was never fsynced, the cut
  // removes it and the next start creates the segment again in the surviving directory.
  await first.kill();
  expect(simulatePowerLoss(dataDir, journal).entriesLost).toBeGreaterThan(0);
  const second = await startBrokerProcess({ dataDir, port: first.port, env });
  brokers.push(second);
  const producer = client(second.address).producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const acked: string[] = [];
  for (let i = 0; i < 20; i++) {
    await producer.send({ topic: 'reborn', acks: -1, messages: [{ partition: 0, value: `r${i}` }] });
    acked.push(`r${i}`);
  }
  await producer.disconnect();
  await second.kill();
  simulatePowerLoss(dataDir, journal);
  const third = await startBrokerProcess({ dataDir, port: first.port, env });
  brokers.push(third);
  const kafka = client(third.address);
  const read = await readPartition(kafka, 'reborn', 0, 0, acked.length);
  expect(read.messages.map((m) => m.value!.toString())).toEqual(acked);
  await third.stop();
});
