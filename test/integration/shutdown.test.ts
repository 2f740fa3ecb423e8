/**
 * SIGTERM on a real broker process with clients in flight: the broker stops accepting,
 * answers the requests it already received (a parked long-poll fetch answers at once),
 * flushes, writes the clean-shutdown marker of every partition and exits 0 within the bound
 * (5 s of draining plus the flush; 30 s at worst, then exit 1). Afterwards the log holds
 * exactly what was acknowledged and the next start finds nothing to repair.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { readPartition } from '../helpers/read-partition';
import * as crypto from 'crypto';
import { buildBatch } from '../helpers/record-batch-builder';
import { API_CODECS } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';

const PRODUCE = 0;
const FETCH = 1;
const JOIN_GROUP = 11;

test('SIGTERM with producers, a long-poll fetch and a held JoinGroup in flight: all answered, clean marker, exit 0 in bound, log intact', async () => {
  const dataDir = tempDataDir();
  let broker = await startBrokerProcess({ dataDir, args: ['--log-level', 'info', '--group-initial-rebalance-delay-ms', '3000'] });
  const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({
    topics: [
      { topic: 'sigterm', numPartitions: 3 },
      { topic: 'raw', numPartitions: 1 },
    ],
  });
  await admin.disconnect();

  // A long-poll fetch parked for 30 s at the log end.
  const poller = await RawClient.connect(broker.port);
  const parked = poller.request(FETCH, 11, {
    maxWaitMs: 30_000,
    minBytes: 1,
    maxBytes: 1 << 20,
    sessionEpoch: -1,
    topics: [{ topic: 'raw', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
  });

  // kafkajs producers sending in a loop: acknowledged values per partition, in order.
  const acked = new Map<number, { offset: number; value: string }[]>();
  let stop = false;
  let n = 0;
  const producers = [kafka.producer(), kafka.producer()];
  await Promise.all(producers.map((p) => p.connect()));
  const loops = producers.map(async (p, which) => {
    while (!stop) {
      const partition = (n++ % 3);
      const values = Array.from({ length: 20 }, (_, i) => `p${which}-${n}-${i}`);
      try {
        const [res] = await p.send({ topic: 'sigterm', acks: -1, messages: values.map((value) => ({ value, partition })) });
        const list = acked.get(partition) ?? [];
        values.forEach((value, i) => list.push({ offset: Number(res.baseOffset) + i, value }));
        acked.set(partition, list);
      } catch {
        return; // the broker went away
      }
    }
  });

  // A JoinGroup that the coordinator holds for group.initial.rebalance.delay.ms (3 s): in
  // progress when the signal comes, it must still be answered.
  const joiner = await RawClient.connect(broker.port);
  const joined = joiner.request(JOIN_GROUP, 3, {
    groupId: 'shutdown-group',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    memberId: '',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
  });

  // Pipelined raw Produce requests written in one go shortly before the signal.
  const raw = await RawClient.connect(broker.port);
  const answers: Promise<{ body: { responses: { partitionResponses: { errorCode: number; baseOffset: number }[] }[] } }>[] = [];
  await new Promise((r) => setTimeout(r, 700));
  const frames: Buffer[] = [];
  const RAW = 30;
  for (let i = 0; i < RAW; i++) {
    const records = buildBatch([{ key: `raw${i}`, value: crypto.randomBytes(1000), timestamp: Date.now() }]);
    frames.push(raw.encodeRequest(PRODUCE, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: 'raw', partitionData: [{ index: 0, records }] }] }));
    answers.push(new Promise((resolve) => raw.nextFrame().then((f) => resolve({ body: decodeProduceV9(f) }))));
  }
  raw.writeRaw(Buffer.concat(frames));
  await new Promise((r) => setTimeout(r, 300));

  const signalled = Date.now();
  process.kill(broker.pid, 'SIGTERM');
  const code = await broker.exited;
  const tookMs = Date.now() - signalled;
  stop = true;
  await Promise.all(loops);
  expect(code).toBe(0);
  expect(tookMs).toBeLessThan(10_000);
  expect(broker.stderr()).toMatch(/"shutting down".*"signal":"SIGTERM"/);

  // The parked fetch was answered (with the raw records, or empty), not cut off.
  const fetched = await Promise.race([parked.then(() => 'answered'), poller.closed.then(() => 'closed')]);
  expect(fetched).toBe('answered');
  // Every raw request the broker read was answered; what it did not read was never stored.
  const settled = await Promise.all(answers.map((a) => Promise.race([a, raw.closed.then(() => null)])));
  const rawAcked = settled.filter((s) => s !== null) as Awaited<(typeof answers)[number]>[];
  expect(rawAcked.length).toBe(RAW);
  const join = await Promise.race([joined.then((r) => r.body.errorCode as number), joiner.closed.then(() => 'closed')]);
  expect(join).toBe(0);
  for (const r of rawAcked) expect(r.body.responses[0].partitionResponses[0].errorCode).toBe(0);

  for (let p = 0; p < 3; p++) expect(fs.existsSync(path.join(dataDir, `sigterm-${p}`, '.clean-shutdown'))).toBe(true);
  expect(fs.existsSync(path.join(dataDir, 'raw-0', '.clean-shutdown'))).toBe(true);

  broker = await startBrokerProcess({ dataDir });
  try {
    expect(broker.stderr()).not.toMatch(/truncated invalid bytes|segment needs recovery/);
    const k2 = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    let total = 0;
    for (let p = 0; p < 3; p++) {
      const expected = acked.get(p) ?? [];
      total += expected.length;
      const read = await readPartition(k2, 'sigterm', p, 0, 1_000_000);
      const got = new Map(read.messages.map((m) => [Number(m.offset), m.value!.toString()]));
      for (const e of expected) expect(got.get(e.offset)).toBe(e.value);
    }
    expect(total).toBeGreaterThan(0);
    const rawRead = await readPartition(k2, 'raw', 0, 0, 1_000);
    expect(rawRead.messages.map((m) => m.key!.toString())).toEqual(rawAcked.map((_, i) => `raw${i}`));
  } finally {
    await broker.stop();
  }
});

/** Produce v9 response: the fields this test reads (flexible: tagged fields skipped). */
function decodeProduceV9(frame: Buffer): { responses: { partitionResponses: { errorCode: number; baseOffset: number }[] }[] } {
  const r = new Reader(frame);
  r.int32();
  r.skipTaggedFields();
  return API_CODECS[PRODUCE]!.decodeResponse[9]!(r) as ReturnType<typeof decodeProduceV9>;
}
