/**
 * The fetch send path against a real broker process, once with the sendfile addon
 * (SAMSA_ZERO_COPY=1) and once on the copy path (SAMSA_ZERO_COPY=0):
 *   - kafkajs reads a 32 MB backlog of 100 KB records, every byte checked;
 *   - 100,000 pipelined fetches on one socket, small responses with a large (sendfile-sized)
 *     one every 50th, arrive in order and byte-exact: the switch between Node's write queue
 *     and sendfile never breaks the framing;
 *   - a reader that drains slowly (the broker meets EAGAIN again and again) gets exact bytes;
 *   - clients that disconnect in the middle of large responses neither crash the broker nor
 *     leak descriptors.
 * The "on" run checks in the broker's debug log that bytes really went out by sendfile. When
 * the addon is not built it is skipped with a message, or fails with SAMSA_REQUIRE_ZERO_COPY=1
 * (CI).
 */
import * as fs from 'fs';
import * as net from 'net';
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { FrameReader } from '../helpers/frame-reader';
import { fetchAll } from '../helpers/kafkajs-fetcher';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { API_CODECS } from '../../src/protocol/generated';
import { Reader } from '../../src/protocol/reader';

const ADDON = `${__dirname}/../../native/sendfile/build/Release/samsa_sendfile.node`;
const addonBuilt = fs.existsSync(ADDON);
const requireZeroCopy = process.env.SAMSA_REQUIRE_ZERO_COPY === '1';

/** Deterministic bytes for record i (xorshift), so any misplaced byte is caught. */
function pattern(size: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (seed * 2654435761 + 1) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  for (; i < size; i++) b[i] = seed & 0xff;
  return b;
}

function fetchRequest(c: RawClient, topic: string, offset: number, partitionMaxBytes: number, maxBytes = 64 << 20, correlationId?: number): Buffer {
  return c.encodeRequest(
    1,
    11,
    {
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes,
      isolationLevel: 0,
      sessionEpoch: -1,
      topics: [{ topic, partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes, currentLeaderEpoch: -1, logStartOffset: -1 }] }],
      rackId: '',
    },
    correlationId,
  );
}

function decodeFetch(frame: Buffer): { correlationId: number; errorCode: number; records: Buffer } {
  const r = new Reader(frame);
  const correlationId = r.int32();
  const body = API_CODECS[1]!.decodeResponse[11]!(r) as any;
  const p = body.responses[0].partitions[0];
  return { correlationId, errorCode: p.errorCode, records: p.records ?? Buffer.alloc(0) };
}

/** The broker rewrites base offset and leader epoch (bytes 0-15); the rest is as produced. */
function sameBatch(stored: Buffer, produced: Buffer): boolean {
  return stored.length === produced.length && stored.subarray(16).equals(produced.subarray(16));
}

/** One batch per request, as Kafka requires of v2 batches. */
function sameBatches(stored: Buffer, produced: Buffer[]): boolean {
  let pos = 0;
  for (const b of produced) {
    if (!sameBatch(stored.subarray(pos, pos + b.length), b)) return false;
    pos += b.length;
  }
  return pos === stored.length;
}

async function produceBatches(c: RawClient, topic: string, batches: Buffer[]): Promise<void> {
  for (const records of batches) {
    const res = await c.request(0, 9, { acks: 1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
    expect(res.body.responses[0].partitionResponses[0].errorCode).toBe(0);
  }
}

function openFds(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Sum of zeroCopyBytes over the broker's "connection closed" debug lines. */
function zeroCopyBytesLogged(stderr: string): number {
  let sum = 0;
  for (const m of stderr.matchAll(/"msg":"connection closed"[^\n]*"zeroCopyBytes":(\d+)/g)) sum += Number(m[1]);
  return sum;
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const SMALL = 1000;
const LARGE = 20;
const LARGE_SIZE = 128 * 1024;
const BULK = 16;
const BULK_SIZE = 1024 * 1024 - 200;

const modes: [string, string][] = [
  ['zero-copy on', '1'],
  ['zero-copy off (copy path)', '0'],
];

describe.each(modes)('fetch send path, %s', (_name, setting) => {
  const on = setting === '1';
  let broker: BrokerProcess;
  let admin: RawClient;
  const small: Buffer[] = [];
  const large: Buffer[] = [];
  const bulk: Buffer[] = [];

  beforeAll(async () => {
    if (on && !addonBuilt) {
      if (requireZeroCopy) throw new Error(`sendfile addon missing (${ADDON}) and SAMSA_REQUIRE_ZERO_COPY=1`);
      console.warn('sendfile addon not built: the zero-copy run exercises the copy path');
    }
    broker = await startBrokerProcess({ env: { SAMSA_ZERO_COPY: setting }, args: ['--log-level', 'debug'] });
    admin = await RawClient.connect(broker.port);
    await admin.request(19, 4, {
      topics: ['small', 'large', 'bulk', 'kafkajs'].map((name) => ({ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] })),
      timeoutMs: 5000,
      validateOnly: false,
    });
    for (let i = 0; i < SMALL; i++) small.push(buildBatch([{ key: `k${i}`, value: `small-${i}-${'y'.repeat(i % 90)}` }]));
    for (let i = 0; i < LARGE; i++) large.push(buildBatch([{ key: `L${i}`, value: pattern(LARGE_SIZE, i) }]));
    for (let i = 0; i < BULK; i++) bulk.push(buildBatch([{ key: `B${i}`, value: pattern(BULK_SIZE, 1000 + i) }]));
    await produceBatches(admin, 'small', small);
    await produceBatches(admin, 'large', large);
    await produceBatches(admin, 'bulk', bulk);
  });

  afterAll(async () => {
    admin?.close();
    await broker?.stop();
  });

  test('the broker reports which path it uses, once', () => {
    const log = broker.stderr();
    if (!on) expect(log).toContain('"zero-copy fetch: off, using the copy path"');
    else if (addonBuilt || requireZeroCopy) expect(log).toContain('"zero-copy fetch: on"');
    else expect(log).toContain('"zero-copy fetch unavailable, using the copy path"');
    expect(log.match(/"msg":"zero-copy fetch/g)).toHaveLength(1);
  });

  test('kafkajs reads a 32 MB backlog of 100 KB records byte-exact', async () => {
    const kafka = new Kafka({ clientId: 'zero-copy-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const COUNT = 320;
    const SIZE = 100 * 1000;
    for (let i = 0; i < COUNT; i += 10) {
      const messages = [];
      for (let j = i; j < i + 10; j++) messages.push({ key: String(j), value: pattern(SIZE, 5000 + j) });
      await producer.send({ topic: 'kafkajs', acks: 1, messages });
    }
    await producer.disconnect();
    const got = await fetchAll(kafka, 'kafkajs', 0, 0, COUNT, { maxBytes: 16 << 20, partitionMaxBytes: 8 << 20 });
    expect(got).toHaveLength(COUNT);
    let bad = 0;
    for (let i = 0; i < COUNT; i++) {
      const m = got[i];
      if (m.offset !== String(i) || m.key?.toString() !== String(i) || !m.value?.equals(pattern(SIZE, 5000 + i))) bad++;
    }
    expect(bad).toBe(0);
  });

  test('100,000 pipelined fetches, small with a large one every 50th, stay in frame sync', async () => {
    const c = await RawClient.connect(broker.port);
    const reader = new FrameReader(c.socket);
    const N = 100_000;
    const expected: Buffer[] = [];
    const requests: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      if (i % 50 === 49) {
        const k = (i / 50) % LARGE | 0;
        requests.push(fetchRequest(c, 'large', k, 1, 64 << 20, i + 1));
        expected.push(large[k]);
      } else {
        const k = i % SMALL;
        requests.push(fetchRequest(c, 'small', k, 1, 64 << 20, i + 1));
        expected.push(small[k]);
      }
    }
    // Everything at once: the broker pauses reading when too many requests queue up.
    for (let i = 0; i < N; i += 1000) c.socket.write(Buffer.concat(requests.slice(i, i + 1000)));
    await reader.waitFor(N, 120000);
    let mismatches = 0;
    for (let i = 0; i < N; i++) {
      const res = decodeFetch(reader.frames[i]);
      if (res.correlationId !== i + 1 || res.errorCode !== 0 || !sameBatch(res.records, expected[i])) {
        if (mismatches++ < 3) console.error(`response ${i}: correlation ${res.correlationId}, error ${res.errorCode}, ${res.records.length} bytes`);
      }
    }
    expect(mismatches).toBe(0);
    expect(reader.frames).toHaveLength(N);
    c.close();
    await c.closed;
  }, 180000);

  test('a slowly draining reader gets exact bytes (EAGAIN, partial writes)', async () => {
    const c = await RawClient.connect(broker.port);
    c.socket.pause();
    const reader = new FrameReader();
    // Three whole-topic fetches (16 MiB each) with small ones in between.
    const plan: { req: Buffer; check: (records: Buffer) => boolean }[] = [];
    for (let round = 0; round < 3; round++) {
      plan.push({ req: fetchRequest(c, 'bulk', 0, 64 << 20), check: (r) => sameBatches(r, bulk) });
      plan.push({ req: fetchRequest(c, 'small', round, 1), check: (r) => sameBatch(r, small[round]) });
    }
    for (const p of plan) c.socket.write(p.req);
    // Drain at most 256 KiB every 2 ms: the broker's socket buffer fills again and again.
    const timer = setInterval(() => {
      let got = 0;
      let d: Buffer | null;
      while (got < 256 * 1024 && (d = c.socket.read()) !== null) {
        reader.feed(d);
        got += d.length;
      }
    }, 2);
    try {
      await reader.waitFor(plan.length, 120000);
    } finally {
      clearInterval(timer);
    }
    for (let i = 0; i < plan.length; i++) {
      const res = decodeFetch(reader.frames[i]);
      expect(res.errorCode).toBe(0);
      expect(plan[i].check(res.records)).toBe(true);
    }
    c.close();
    await c.closed;
  }, 180000);

  test('clients that disconnect mid-response neither crash the broker nor leak descriptors', async () => {
    const baseline = openFds(broker.pid);
    for (let i = 0; i < 30; i++) {
      const s = net.connect(broker.port, '127.0.0.1');
      await new Promise<void>((resolve) => s.once('connect', () => resolve()));
      s.on('error', () => undefined);
      const helper = await RawClient.connect(broker.port); // only for encoding
      helper.close();
      s.write(fetchRequest(helper, 'bulk', 0, 64 << 20));
      s.write(fetchRequest(helper, 'bulk', 0, 64 << 20));
      if (i % 3 === 0) {
        // Read a little of the first response, then reset.
        await new Promise<void>((resolve) => {
          let n = 0;
          s.on('data', (d) => {
            n += d.length;
            if (n > 100_000) resolve();
          });
        });
        s.resetAndDestroy();
      } else if (i % 3 === 1) {
        // Never read: the broker is blocked in EAGAIN when the socket goes away.
        s.pause();
        await new Promise((r) => setTimeout(r, 30));
        s.destroy();
      } else {
        s.pause();
        await new Promise((r) => setTimeout(r, 10));
        s.end();
        s.destroy();
      }
    }
    // Still serving, and with as many descriptors as before.
    const res = await admin.request(18, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
    expect(res.body.errorCode).toBe(0);
    const back = await waitUntil(() => openFds(broker.pid) <= baseline + 2, 10000);
    if (!back) console.error(`fds: baseline ${baseline}, now ${openFds(broker.pid)}`);
    expect(back).toBe(true);
    const c = await RawClient.connect(broker.port);
    const reader = new FrameReader(c.socket);
    c.socket.write(fetchRequest(c, 'bulk', 0, 64 << 20));
    await reader.waitFor(1);
    expect(sameBatches(decodeFetch(reader.frames[0]).records, bulk)).toBe(true);
    c.close();
    await c.closed;
    expect(broker.stderr()).not.toContain('"level":"error"');
  }, 120000);

  test('bytes went out by sendfile exactly when zero-copy is on', async () => {
    admin.close();
    await admin.closed;
    // Connection-closed lines are logged as sockets close; give the last ones a moment.
    await waitUntil(() => zeroCopyBytesLogged(broker.stderr()) > 0, on && addonBuilt ? 5000 : 500);
    const sent = zeroCopyBytesLogged(broker.stderr());
    if (on && (addonBuilt || requireZeroCopy)) expect(sent).toBeGreaterThan(100 * 1024 * 1024);
    else expect(sent).toBe(0);
    admin = await RawClient.connect(broker.port);
  });
});
