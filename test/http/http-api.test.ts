/**
 * The broker's HTTP server against a real broker process: /metrics in strict Prometheus text
 * with counters that move by exactly what a known produce and fetch did, the JSON API's
 * errors, health endpoints, the flags and properties that turn it off, and a stalled HTTP
 * client that must not hold up Produce.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { readPartition } from '../helpers/read-partition';
import { parsePrometheusText, sum, value } from './prometheus-text';

let broker: BrokerProcess;
let kafka: Kafka;
let base: string;

async function get(p: string, init?: RequestInit): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(base + p, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

async function scrape() {
  const r = await get('/metrics');
  expect(r.status).toBe(200);
  expect(r.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(r.body);
}

beforeAll(async () => {
  broker = await startBrokerProcess();
  expect(broker.httpPort).not.toBeNull();
  base = `http://127.0.0.1:${broker.httpPort}`;
  kafka = new Kafka({ clientId: 'http-test', brokers: [broker.address], logLevel: logLevel.NOTHING });
});

afterAll(async () => {
  await broker?.stop();
});

test('counters move by exactly what one produce and one fetch did', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'metered', numPartitions: 1 }] });
  await admin.disconnect();
  const before = await scrape();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'metered', compression: CompressionTypes.GZIP, messages: [{ key: 'a', value: 'one' }, { key: 'b', value: 'two' }, { key: 'c', value: 'three' }] });
  await producer.disconnect();
  const read = await readPartition(kafka, 'metered', 0, 0, 3);
  expect(read.messages.map((m) => String(m.value))).toEqual(['one', 'two', 'three']);
  const after = await scrape();

  const delta = (name: string, labels: Record<string, string> = {}) => sum(after, name, labels) - sum(before, name, labels);
  const logBytes = value(after, 'samsa_log_size_bytes', { topic: 'metered', partition: '0' });
  expect(logBytes).toBeGreaterThan(61);
  expect(delta('samsa_topic_messages_in_total', { topic: 'metered' })).toBe(3);
  expect(delta('samsa_topic_bytes_in_total', { topic: 'metered' })).toBe(logBytes);
  expect(delta('samsa_topic_messages_out_total', { topic: 'metered' })).toBe(3);
  expect(delta('samsa_topic_bytes_out_total', { topic: 'metered' })).toBe(logBytes);
  expect(delta('samsa_requests_total', { api: 'Produce' })).toBe(1);
  expect(delta('samsa_requests_total', { api: 'Fetch' })).toBe(1);
  expect(delta('samsa_request_duration_seconds_count', { api: 'Fetch' })).toBe(1);
  expect(value(after, 'samsa_log_end_offset', { topic: 'metered', partition: '0' })).toBe(3);
  expect(value(after, 'samsa_log_start_offset', { topic: 'metered', partition: '0' })).toBe(0);
  expect(value(after, 'samsa_log_segments', { topic: 'metered', partition: '0' })).toBe(1);
  // Zero-copy and copy path side by side; the record bytes went out one way or the other.
  expect(delta('samsa_network_sent_bytes_total')).toBeGreaterThanOrEqual(logBytes);
  for (const name of ['samsa_process_resident_memory_bytes', 'samsa_nodejs_eventloop_lag_seconds', 'samsa_connections', 'samsa_fetch_purgatory_size', 'samsa_log_cleaner_cleanings_total', 'samsa_log_retention_deleted_segments_total', 'samsa_connections_accepted_total']) {
    expect(after.has(name)).toBe(true);
  }

  // A fetch past the end: one OFFSET_OUT_OF_RANGE, counted per API and error.
  const bad = await readPartition(kafka, 'metered', 0, 10, 11);
  expect(bad.errorCode).toBe(1);
  const last = await scrape();
  expect(sum(last, 'samsa_request_errors_total', { api: 'Fetch', error: 'OFFSET_OUT_OF_RANGE' }) - sum(after, 'samsa_request_errors_total', { api: 'Fetch', error: 'OFFSET_OUT_OF_RANGE' })).toBe(1);
});

test('consumer group lag is exported per partition once the group commits', async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'lag-metric', numPartitions: 1 }] });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'lag-metric', messages: Array.from({ length: 7 }, (_, i) => ({ value: `m${i}` })) });
  await producer.disconnect();
  await admin.setOffsets({ groupId: 'lag-group', topic: 'lag-metric', partitions: [{ partition: 0, offset: '2' }] });
  await admin.disconnect();
  const m = await scrape();
  expect(value(m, 'samsa_consumergroup_committed_offset', { group: 'lag-group', topic: 'lag-metric', partition: '0' })).toBe(2);
  expect(value(m, 'samsa_consumergroup_lag', { group: 'lag-group', topic: 'lag-metric', partition: '0' })).toBe(5);
});

test('every samsa_* metric the Grafana dashboard queries is exported', async () => {
  const dashboard = fs.readFileSync(path.resolve(__dirname, '../../docs/grafana-dashboard.json'), 'utf8');
  const names = [...new Set(dashboard.match(/samsa_[a-z0-9_]+/g) ?? [])];
  expect(names.length).toBeGreaterThan(10);
  const m = await scrape();
  const missing = names.filter((n) => !m.has(n) && !m.has(n.replace(/_bucket$/, '')));
  expect(missing).toEqual([]);
});

test('the JSON API answers bad input with JSON errors and proper status codes', async () => {
  const cases: [string, RequestInit | undefined, number, RegExp][] = [
    ['/api/no-such-route', undefined, 404, /No API route/],
    ['/api/topics/no-such-topic', undefined, 404, /does not exist/],
    ['/api/topics/bad%20name', undefined, 400, /illegal/],
    ['/api/topics/metered/partitions/0/messages?offset=abc', undefined, 400, /offset must be an integer/],
    ['/api/topics/metered/partitions/0/messages?offset=999', undefined, 416, /out of range/],
    ['/api/topics/metered/partitions/7/messages', undefined, 404, /Partition 7 does not exist/],
    ['/api/topics/metered/partitions/0/messages?limit=0', undefined, 400, /limit must be/],
    ['/api/topics/metered/partitions/0/messages?offset=0&newest=1', undefined, 400, /one of offset, timestamp or newest/],
    ['/api/topics', { method: 'POST', body: '{not json' }, 400, /not valid JSON/],
    ['/api/topics', { method: 'POST', body: '{"name":"metered"}' }, 409, /TOPIC_ALREADY_EXISTS/],
    ['/api/topics', { method: 'POST', body: '{"name":"x","partitions":0}' }, 400, /INVALID_PARTITIONS/],
    ['/api/topics', { method: 'PUT' }, 405, /not allowed/],
    ['/api/groups/nobody-here', undefined, 404, /does not exist/],
    ['/api/topics/%E0%A4%A', undefined, 400, /Bad URL encoding/],
    ['/nothing-here', undefined, 404, /Not found/],
  ];
  for (const [p, init, status, message] of cases) {
    const r = await get(p, init);
    expect({ p, status: r.status }).toEqual({ p, status });
    expect(r.type).toMatch(/^application\/json/);
    const body = JSON.parse(r.body) as { error: string; status: number };
    expect(body.status).toBe(status);
    expect(body.error).toMatch(message);
  }
});

test('the message browser API decodes compressed batches, JSON values and headers', async () => {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: 'browse-api', compression: CompressionTypes.GZIP, messages: [{ key: 'k1', value: '{"a":[1,2]}', headers: { h: 'v' } }, { key: null, value: Buffer.from([0, 1, 2, 255]) }] });
  await producer.disconnect();
  const r = await get('/api/topics/browse-api/partitions/0/messages?offset=0');
  expect(r.status).toBe(200);
  const body = JSON.parse(r.body) as { records: { offset: number; key: string | null; value: string; valueEncoding: string; compression: string; headers: { key: string; value: string }[] }[] };
  expect(body.records.map((x) => [x.offset, x.key, x.value, x.valueEncoding, x.compression])).toEqual([
    [0, 'k1', '{\n  "a": [\n    1,\n    2\n  ]\n}', 'json', 'gzip'],
    [1, null, '000102ff', 'hex', 'gzip'],
  ]);
  expect(body.records[0].headers).toEqual([{ key: 'h', value: 'v', valueEncoding: 'text' }]);
  const newest = JSON.parse((await get('/api/topics/browse-api/partitions/0/messages?newest=1&limit=1')).body) as { records: { offset: number }[] };
  expect(newest.records.map((x) => x.offset)).toEqual([1]);
});

test('the message browser marks records of an aborted transaction and the transaction markers', async () => {
  const producer = kafka.producer({ transactionalId: 'console-txn', idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const aborted = await producer.transaction();
  await aborted.send({ topic: 'txn-browse', messages: [{ key: 'gone', value: 'aborted value' }] });
  await aborted.abort();
  const committed = await producer.transaction();
  await committed.send({ topic: 'txn-browse', messages: [{ key: 'kept', value: 'committed value' }] });
  await committed.commit();
  await producer.disconnect();
  const r = await get('/api/topics/txn-browse/partitions/0/messages?offset=0');
  const body = JSON.parse(r.body) as { records: { offset: number; key: string | null; aborted: boolean; control: string | null; transactional: boolean }[] };
  expect(body.records.map((x) => [x.offset, x.key, x.transactional, x.aborted, x.control])).toEqual([
    [0, 'gone', true, true, null],
    [1, null, true, false, 'ABORT'],
    [2, 'kept', true, false, null],
    [3, null, true, false, 'COMMIT'],
  ]);
});

test('/healthz and /readyz', async () => {
  const h = await get('/healthz');
  expect(h.status).toBe(200);
  expect(JSON.parse(h.body)).toEqual({ status: 'ok', listening: true, storageWritable: true });
  const r = await get('/readyz');
  expect(r.status).toBe(200);
  expect(JSON.parse(r.body)).toEqual({ status: 'ready' });
});

test('a client that sends half an HTTP request and stalls does not hold up Produce', async () => {
  const stalled: net.Socket[] = [];
  for (const partial of ['GET /api/topics HTTP/1.1\r\nHost: x\r\n', 'POST /api/topics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"na']) {
    const s = net.connect(broker.httpPort!, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    s.write(partial);
    stalled.push(s);
  }
  try {
    const producer = kafka.producer();
    await producer.connect();
    const t0 = Date.now();
    const [res] = await producer.send({ topic: 'metered', messages: [{ value: 'while stalled' }] });
    const ms = Date.now() - t0;
    await producer.disconnect();
    expect(res.errorCode).toBe(0);
    expect(ms).toBeLessThan(2000);
    // Other HTTP clients are answered too.
    expect((await get('/healthz')).status).toBe(200);
  } finally {
    for (const s of stalled) s.destroy();
  }
});

describe('switching the HTTP server off and on', () => {
  test('--http-port none: no http= on the startup line, nothing listening', async () => {
    const b = await startBrokerProcess({ args: ['--http-port', 'none'] });
    try {
      expect(b.httpPort).toBeNull();
    } finally {
      await b.stop();
    }
  });

  test('samsa.http.port / samsa.http.host in server.properties', async () => {
    const dir = tempDataDir();
    const props = path.join(dir, 'server.properties');
    const free = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(port));
      });
    });
    fs.writeFileSync(props, `samsa.http.host=127.0.0.1\nsamsa.http.port=${free}\n`);
    const b = await startBrokerProcess({ httpPort: null, args: ['--config', props], dataDir: path.join(dir, 'a') });
    try {
      expect(b.httpPort).toBe(free);
      expect((await fetch(`http://127.0.0.1:${free}/readyz`)).status).toBe(200);
    } finally {
      await b.stop();
    }
    // A flag on the command line wins over the file.
    fs.writeFileSync(props, 'samsa.http.port=none\n');
    const c = await startBrokerProcess({ httpPort: 0, args: ['--config', props], dataDir: path.join(dir, 'b') });
    try {
      expect(c.httpPort).not.toBeNull();
    } finally {
      await c.stop();
    }
    const d = await startBrokerProcess({ httpPort: null, args: ['--config', props], dataDir: path.join(dir, 'c') });
    try {
      expect(d.httpPort).toBeNull();
    } finally {
      await d.stop();
    }
  });

  test('a bad samsa.http.port refuses to start with a clear message', async () => {
    await expect(startBrokerProcess({ args: ['--override', 'samsa.http.port=99999'] })).rejects.toThrow(/Invalid HTTP port 99999/);
  });
});
