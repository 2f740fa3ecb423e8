/**
 * Direct socket reads (src/server/direct-reads.ts, switched on by a connection's first large
 * frame) and reused Produce frame buffers (src/server/frame-pool.ts), against real sockets:
 * frames cut anywhere (inside the size field,
 * the header, a batch), several frames and a part of the next in one write, a client that
 * leaves in the middle of a large frame; every record stored exactly as sent, and a steady
 * producer's frames reusing buffers. A broker process with SAMSA_DIRECT_READS=0 (Node's own
 * reads) takes the same byte stream, and kafkajs round trips through both.
 */
import * as crypto from 'crypto';
import { Kafka, logLevel } from 'kafkajs';
import { startBroker } from '../../src';
import type { Broker } from '../../src/broker';
import { startBrokerProcess, tempDataDir, BrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { readAllBatches } from '../helpers/read-log';
import { Reader } from '../../src/protocol/reader';
import { API_CODECS } from '../../src/protocol/generated';
import { createLogger } from '../../src/logging';
import { framePool } from '../../src/server/frame-pool';
import { directReadStats } from '../../src/server/direct-reads';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sent {
  frames: Buffer[];
  values: string[];
}

/** `count` Produce requests to `topic`-0; every record value is unique (hex of random bytes). */
function produceRequests(c: RawClient, topic: string, count: number, recordsEach: number, valueBytes: number): Sent {
  const frames: Buffer[] = [];
  const values: string[] = [];
  for (let i = 0; i < count; i++) {
    const records = Array.from({ length: recordsEach }, () => ({ key: null, value: crypto.randomBytes(valueBytes / 2).toString('hex') }));
    for (const r of records) values.push(r.value);
    frames.push(c.encodeRequest(0, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: buildBatch(records) }] }] }));
  }
  return { frames, values };
}

function produceAnswer(frame: Buffer): { errorCode: number; baseOffset: bigint | number } {
  const r = new Reader(frame);
  r.int32();
  r.skipTaggedFields();
  return (API_CODECS[0]!.decodeResponse[9]!(r) as any).responses[0].partitionResponses[0];
}

/** Writes `bytes` in pieces of the given sizes (the rest in one piece), pausing between them. */
async function writeInPieces(c: RawClient, bytes: Buffer, sizes: number[]): Promise<void> {
  let pos = 0;
  for (const n of sizes) {
    if (pos >= bytes.length) break;
    c.writeRaw(bytes.subarray(pos, Math.min(bytes.length, pos + n)));
    pos += n;
    await sleep(5);
  }
  if (pos < bytes.length) c.writeRaw(bytes.subarray(pos));
}

/** Sends the frames cut at awkward places; resolves with the answers, in order. */
async function sendCut(c: RawClient, frames: Buffer[]): Promise<ReturnType<typeof produceAnswer>[]> {
  const answers = frames.map(() => c.nextFrame());
  const all = Buffer.concat(frames);
  // 1 byte, then the rest of the size field, then into the header, then into the batch, then
  // the end of the first frame together with the start of the second, then random pieces.
  const first = frames[0].length;
  const sizes = [1, 2, 3, 40, first - 46 - 100, 100 + 7];
  let rest = all.length - sizes.reduce((a, b) => a + b, 0);
  while (rest > 0) {
    const n = Math.min(rest, 1 + crypto.randomInt(200_000));
    sizes.push(n);
    rest -= n;
  }
  await writeInPieces(c, all, sizes);
  return (await Promise.all(answers)).map(produceAnswer);
}

function expectInOrder(answers: ReturnType<typeof produceAnswer>[], recordsEach: number, from = 0): void {
  answers.forEach((a, i) => {
    expect(a.errorCode).toBe(0);
    expect(Number(a.baseOffset)).toBe(from + i * recordsEach);
  });
}

async function createTopic(port: number, topic: string): Promise<void> {
  const c = await RawClient.connect(port);
  const res = await c.request(19, 4, { topics: [{ name: topic, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
  c.close();
  expect(res.body.topics[0].errorCode).toBe(0);
}

describe('in-process broker', () => {
  let broker: Broker;
  beforeAll(async () => {
    broker = await startBroker({ port: 0, dataDir: tempDataDir('direct-reads-'), logger: createLogger('silent') });
  });
  afterAll(async () => {
    await broker.close();
  });

  test('frames cut anywhere, several in one write: answered in order, every record stored as sent', async () => {
    const sockets = directReadStats.sockets;
    await createTopic(broker.port, 'cut');
    const c = await RawClient.connect(broker.port);
    // Large (pooled), medium (read straight into its own buffer) and small frames.
    const large = produceRequests(c, 'cut', 6, 300, 1000);
    const medium = produceRequests(c, 'cut', 5, 20, 1000);
    const small = produceRequests(c, 'cut', 20, 1, 50);
    const answers = [
      ...(await sendCut(c, large.frames)),
      ...(await sendCut(c, [...medium.frames, ...small.frames])),
    ];
    // This connection switched to direct reads at its first large frame (the admin connection never did).
    expect(directReadStats.sockets).toBe(sockets + 1);
    expect(answers.map((a) => a.errorCode)).toEqual(answers.map(() => 0));
    const offsets = answers.map((a) => Number(a.baseOffset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    c.close();
    const log = broker.state.topics.get('cut')!.partitions[0].log;
    const stored = (await readAllBatches(log)).flatMap((b) => b.records.map((r) => r.value));
    expect(stored).toEqual([...large.values, ...medium.values, ...small.values]);
  });

  test('a connection that sends only small requests keeps Node reads (no read area)', async () => {
    await createTopic(broker.port, 'small-only');
    const sockets = directReadStats.sockets;
    const c = await RawClient.connect(broker.port);
    const sent = produceRequests(c, 'small-only', 30, 20, 1000); // 20 KB frames
    expectInOrder(await sendCut(c, sent.frames), 20);
    c.close();
    expect(directReadStats.sockets).toBe(sockets);
    const log = broker.state.topics.get('small-only')!.partitions[0].log;
    expect((await readAllBatches(log)).flatMap((b) => b.records.map((r) => r.value))).toEqual(sent.values);
  });

  test("a steady producer's large frames reuse buffers", async () => {
    await createTopic(broker.port, 'steady');
    const c = await RawClient.connect(broker.port);
    const before = { ...framePool.stats };
    let from = 0;
    const values: string[] = [];
    for (let round = 0; round < 4; round++) {
      const sent = produceRequests(c, 'steady', 3, 400, 1000);
      values.push(...sent.values);
      expectInOrder(await sendCut(c, sent.frames), 400, from);
      from += 3 * 400;
    }
    c.close();
    // At most a few buffers for 12 frames: the rest came back and were lent again.
    expect(framePool.stats.reused - before.reused).toBeGreaterThanOrEqual(8);
    expect(framePool.stats.allocated - before.allocated).toBeLessThanOrEqual(4);
    const log = broker.state.topics.get('steady')!.partitions[0].log;
    expect((await readAllBatches(log)).flatMap((b) => b.records.map((r) => r.value))).toEqual(values);
  });

  test("a frame whose buffer cannot be allocated ends only that connection", async () => {
    await createTopic(broker.port, 'no-room');
    const victim = await RawClient.connect(broker.port);
    const frame = produceRequests(victim, 'no-room', 1, 80, 1000).frames[0];
    // As on a host without memory overcommit: the frame's allocation, made when its size
    // arrives (a frame over 64 KiB switches to direct reads), throws; a pooled size (128 KiB
    // and more) would not reach allocUnsafe, hence about 80 KB.
    const real = Buffer.allocUnsafe;
    Buffer.allocUnsafe = ((n: number) => {
      if (n === frame.length) throw new RangeError('Array buffer allocation failed');
      return real(n);
    }) as typeof Buffer.allocUnsafe;
    const closed = new Promise<void>((resolve) => victim.socket.once('close', () => resolve()));
    try {
      victim.writeRaw(frame.subarray(0, 100));
      await closed;
    } finally {
      Buffer.allocUnsafe = real;
    }
    const c = await RawClient.connect(broker.port);
    const sent = produceRequests(c, 'no-room', 1, 50, 1000);
    expectInOrder(await sendCut(c, sent.frames), 50);
    c.close();
  });

  test('a client that leaves in the middle of a large frame costs nothing else', async () => {
    await createTopic(broker.port, 'left');
    const quitter = await RawClient.connect(broker.port);
    const half = produceRequests(quitter, 'left', 1, 500, 1000).frames[0];
    quitter.writeRaw(half.subarray(0, half.length >> 1));
    await sleep(50);
    quitter.close();
    await sleep(50);
    const c = await RawClient.connect(broker.port);
    const sent = produceRequests(c, 'left', 2, 500, 1000);
    expectInOrder(await sendCut(c, sent.frames), 500);
    c.close();
    const log = broker.state.topics.get('left')!.partitions[0].log;
    expect((await readAllBatches(log)).flatMap((b) => b.records.map((r) => r.value))).toEqual(sent.values);
  });
});

describe.each([
  ['direct reads', {}],
  ["Node's own reads (SAMSA_DIRECT_READS=0)", { SAMSA_DIRECT_READS: '0' }],
])('broker process, %s', (_name, env) => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess({ env });
  });
  afterAll(async () => {
    await broker.stop();
  });

  test('the same cut byte stream is answered in order', async () => {
    await createTopic(broker.port, 'cut');
    const c = await RawClient.connect(broker.port);
    const sent = produceRequests(c, 'cut', 5, 300, 1000);
    expectInOrder(await sendCut(c, sent.frames), 300);
    c.close();
  });

  test('kafkajs: 1 MB batches round trip byte for byte', async () => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'big', numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const values: string[] = [];
    for (let i = 0; i < 5; i++) {
      const messages = Array.from({ length: 500 }, () => ({ value: crypto.randomBytes(1000).toString('hex') }));
      values.push(...messages.map((m) => m.value));
      await producer.send({ topic: 'big', messages });
    }
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'big-reader', maxBytes: 8 << 20 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'big', fromBeginning: true });
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            got.push(message.value!.toString());
            if (got.length === values.length) resolve();
          },
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(got).toEqual(values);
  });
});
