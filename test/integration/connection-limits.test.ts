/**
 * Kafka's connection limits against a real broker process, on raw sockets (what a client
 * sees on the wire) and with kafkajs: max.connections (new connections wait unread, past
 * socket.listen.backlog.size they are closed), max.connections.per.ip and its overrides
 * (the new connection is closed at once), connections.max.idle.ms, queued.max.request.bytes
 * (connections stop reading while the node holds that many request bytes) and
 * socket.request.max.bytes (a bigger request closes the connection). Also the start-up
 * checks between these settings and AlterConfigs on the dynamic ones.
 */
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { buildBatch } from '../helpers/record-batch-builder';
import { readPartition } from '../helpers/read-partition';
import { Reader } from '../../src/protocol/reader';
import { API_CODECS } from '../../src/protocol/generated';

const API_VERSIONS = 18;
const apiVersions = (c: RawClient) => c.request(API_VERSIONS, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves true when `p` settles within `ms`, false otherwise. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true, () => true), t]);
  } finally {
    clearTimeout(timer);
  }
}

function overrides(settings: Record<string, string | number>): string[] {
  return Object.entries(settings).flatMap(([k, v]) => ['--override', `${k}=${v}`]);
}

describe('max.connections', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    // The flag stands for max.connections.
    broker = await startBrokerProcess({ args: ['--max-connections', '3', ...overrides({ 'socket.listen.backlog.size': 1 })] });
  });
  afterAll(async () => broker?.stop());

  test('at the limit a new connection waits unread, is served once one closes; past the backlog it is closed', async () => {
    const open = await Promise.all([0, 1, 2].map(() => RawClient.connect(broker.port)));
    for (const c of open) expect((await apiVersions(c)).body.errorCode).toBe(0);

    // The fourth: TCP connects (the kernel accepts it), but its request is not read.
    const waiting = await RawClient.connect(broker.port);
    const answer = apiVersions(waiting);
    expect(await settlesWithin(answer, 1500)).toBe(false);

    // The fifth does not fit the queue of 1: closed at once.
    const refused = await RawClient.connect(broker.port);
    expect(await settlesWithin(refused.closed, 5000)).toBe(true);

    // A slot frees: the waiting connection is served, in full.
    open[0].close();
    expect((await answer).body.errorCode).toBe(0);
    for (const c of [...open.slice(1), waiting]) c.close();
  });

  test('kafkajs waits for a slot and then produces', async () => {
    const hold = await Promise.all([0, 1, 2].map(() => RawClient.connect(broker.port)));
    for (const c of hold) await apiVersions(c);
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, connectionTimeout: 10000, requestTimeout: 10000 });
    const producer = kafka.producer();
    const sent = producer.connect().then(() => producer.send({ topic: 'max-connections', messages: [{ value: 'v' }] }));
    expect(await settlesWithin(sent, 1000)).toBe(false);
    for (const c of hold) c.close();
    const [res] = await sent;
    expect(res.errorCode).toBe(0);
    await producer.disconnect();
  });
});

describe('listener.name.<l>.max.connections', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess({
      args: overrides({
        listeners: 'PLAINTEXT://127.0.0.1:0,OTHER://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT',
        'listener.name.other.max.connections': 1,
      }),
    });
  });
  afterAll(async () => broker?.stop());

  test('the limit applies to that listener only', async () => {
    const other = broker.listenerPorts.OTHER;
    const first = await RawClient.connect(other);
    expect((await apiVersions(first)).body.errorCode).toBe(0);
    const second = await RawClient.connect(other);
    const answer = apiVersions(second);
    // The PLAINTEXT listener is not limited.
    const plain = await Promise.all([0, 1, 2].map(() => RawClient.connect(broker.port)));
    for (const c of plain) expect((await apiVersions(c)).body.errorCode).toBe(0);
    expect(await settlesWithin(answer, 1000)).toBe(false);
    first.close();
    expect((await answer).body.errorCode).toBe(0);
    for (const c of [second, ...plain]) c.close();
  });
});

describe('max.connections.per.ip and overrides', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess({ args: overrides({ 'max.connections.per.ip': 1, 'max.connections.per.ip.overrides': '127.0.0.1:3' }) });
  });
  afterAll(async () => broker?.stop());

  test('the override allows 3 from 127.0.0.1; the 4th is closed at once, the others keep working', async () => {
    const ok = await Promise.all([0, 1, 2].map(() => RawClient.connect(broker.port)));
    for (const c of ok) expect((await apiVersions(c)).body.errorCode).toBe(0);
    const fourth = await RawClient.connect(broker.port);
    expect(await settlesWithin(fourth.closed, 5000)).toBe(true);
    expect((await apiVersions(ok[0])).body.errorCode).toBe(0);
    ok[2].close();
    await ok[2].closed;
    await sleep(100);
    const again = await RawClient.connect(broker.port);
    expect((await apiVersions(again)).body.errorCode).toBe(0);
    for (const c of [ok[0], ok[1], again]) c.close();
  });

  test('another address gets the default of 1', async () => {
    const first = await RawClient.connect(broker.port, '127.0.0.2');
    expect((await apiVersions(first)).body.errorCode).toBe(0);
    const second = await RawClient.connect(broker.port, '127.0.0.2');
    expect(await settlesWithin(second.closed, 5000)).toBe(true);
    first.close();
  });

  test('AlterConfigs changes the limit at run time; a bad override is refused with INVALID_CONFIG', async () => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await expect(
        admin.alterConfigs({ validateOnly: false, resources: [{ type: 4, name: '1', configEntries: [{ name: 'max.connections.per.ip.overrides', value: 'not a host:x' }] }] }),
      ).rejects.toMatchObject({ type: 'INVALID_CONFIG' });
      await admin.alterConfigs({
        validateOnly: false,
        resources: [{ type: 4, name: '1', configEntries: [{ name: 'max.connections.per.ip', value: '1' }, { name: 'max.connections.per.ip.overrides', value: '127.0.0.2:2' }] }],
      });
      const a = await RawClient.connect(broker.port, '127.0.0.2');
      const b = await RawClient.connect(broker.port, '127.0.0.2');
      expect((await apiVersions(a)).body.errorCode).toBe(0);
      expect((await apiVersions(b)).body.errorCode).toBe(0);
      const c = await RawClient.connect(broker.port, '127.0.0.2');
      expect(await settlesWithin(c.closed, 5000)).toBe(true);
      a.close();
      b.close();
    } finally {
      await admin.disconnect();
    }
  });
});

describe('connections.max.idle.ms', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--connections-max-idle-ms', '1000'] });
  });
  afterAll(async () => broker?.stop());

  test('an idle connection is closed; an active one is not', async () => {
    const idle = await RawClient.connect(broker.port);
    const active = await RawClient.connect(broker.port);
    await apiVersions(idle);
    const started = Date.now();
    let activeClosed = false;
    void active.closed.then(() => (activeClosed = true));
    while (Date.now() - started < 3000) {
      expect((await apiVersions(active)).body.errorCode).toBe(0);
      await sleep(250);
    }
    expect(await settlesWithin(idle.closed, 3000)).toBe(true);
    expect(activeClosed).toBe(false);
    active.close();
  });

  test('kafkajs reconnects by itself after its connection was closed as idle', async () => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'idle', messages: [{ value: 'a' }] });
    await sleep(2500);
    const [res] = await producer.send({ topic: 'idle', messages: [{ value: 'b' }] });
    expect(res.errorCode).toBe(0);
    expect(res.baseOffset).toBe('1');
    await producer.disconnect();
  });
});

describe('queued.max.request.bytes', () => {
  let broker: BrokerProcess;
  const MiB = 1024 * 1024;
  beforeAll(async () => {
    broker = await startBrokerProcess({ args: overrides({ 'socket.request.max.bytes': MiB, 'queued.max.request.bytes': MiB }) });
  });
  afterAll(async () => broker?.stop());

  test('while one connection holds the limit, the others read nothing; they resume when it is released', async () => {
    const big = await RawClient.connect(broker.port);
    // A 1 MiB request announced and half sent: the node now holds its limit.
    const header = Buffer.alloc(4);
    header.writeInt32BE(MiB);
    big.writeRaw(Buffer.concat([header, Buffer.alloc(MiB / 2)]));
    await sleep(300);
    const other = await RawClient.connect(broker.port);
    const answer = apiVersions(other);
    expect(await settlesWithin(answer, 1500)).toBe(false);
    big.close();
    expect((await answer).body.errorCode).toBe(0);
    other.close();
  });

  test('a Produce frame that waited for room arrives whole (direct reads continue it after the wait)', async () => {
    const admin = await RawClient.connect(broker.port);
    const created = await admin.request(19, 4, { topics: [{ name: 'waited', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 10_000, validateOnly: false });
    expect(created.body.topics[0].errorCode).toBe(0);
    admin.close();
    const hog = await RawClient.connect(broker.port);
    const header = Buffer.alloc(4);
    header.writeInt32BE(MiB - 4);
    hog.writeRaw(Buffer.concat([header, Buffer.alloc(1000)]));
    await sleep(300);
    // 200 KiB: its first bytes arrive while the node is full, the rest once there is room.
    const c = await RawClient.connect(broker.port);
    const values = Array.from({ length: 200 }, (_, i) => `${i}-`.padEnd(1000, String.fromCharCode(97 + (i % 26))));
    const frame = c.encodeRequest(0, 9, { transactionalId: null, acks: 1, timeoutMs: 10_000, topicData: [{ name: 'waited', partitionData: [{ index: 0, records: buildBatch(values.map((value) => ({ key: null, value }))) }] }] });
    const answer = c.nextFrame();
    c.writeRaw(frame.subarray(0, 2000));
    await sleep(300);
    hog.close();
    await sleep(300);
    c.writeRaw(frame.subarray(2000));
    const got = await Promise.race([answer, c.closed.then(() => null)]);
    expect(got).not.toBeNull();
    const r = new Reader(got as Buffer);
    r.int32();
    r.skipTaggedFields();
    expect((API_CODECS[0]!.decodeResponse[9]!(r) as any).responses[0].partitionResponses[0].errorCode).toBe(0);
    c.close();
    const read = await readPartition(new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }), 'waited', 0, 0, values.length);
    expect(read.messages.map((m) => m.value?.toString())).toEqual(values);
  });

  test('kafkajs producers keep working under the limit', async () => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const producers = [kafka.producer(), kafka.producer(), kafka.producer()];
    await Promise.all(producers.map((p) => p.connect()));
    const value = Buffer.alloc(200 * 1024, 1);
    const results = await Promise.all(
      producers.flatMap((p) => [0, 1, 2].map(() => p.send({ topic: 'queued-bytes', messages: [{ value }] }))),
    );
    for (const [r] of results) expect(r.errorCode).toBe(0);
    await Promise.all(producers.map((p) => p.disconnect()));
  });

  test('queued.max.request.bytes below socket.request.max.bytes stops the start with Kafka\'s message', async () => {
    await expect(startBrokerProcess({ args: overrides({ 'queued.max.request.bytes': 1000 }) })).rejects.toThrow(
      /queued.max.request.bytes must be larger or equal to socket.request.max.bytes/,
    );
    await expect(startBrokerProcess({ args: overrides({ 'max.connections.per.ip': 0 }) })).rejects.toThrow(
      /max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set/,
    );
  });
});

describe('socket.request.max.bytes', () => {
  let broker: BrokerProcess;
  beforeAll(async () => {
    broker = await startBrokerProcess({ args: overrides({ 'socket.request.max.bytes': 64 * 1024 }) });
  });
  afterAll(async () => broker?.stop());

  test('a kafkajs request over the limit loses its connection; smaller ones go through', async () => {
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } });
    const producer = kafka.producer();
    await producer.connect();
    const [ok] = await producer.send({ topic: 'request-max', messages: [{ value: Buffer.alloc(1000) }] });
    expect(ok.errorCode).toBe(0);
    const err = await producer.send({ topic: 'request-max', messages: [{ value: Buffer.alloc(100 * 1024) }] }).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).not.toBeNull();
    expect(String(err?.message)).toMatch(/Connection closed|closed|ECONNRESET|EPIPE/i);
    await producer.disconnect();
    expect(broker.stderr()).toMatch(/invalid frame size, closing connection/);
  });
});
