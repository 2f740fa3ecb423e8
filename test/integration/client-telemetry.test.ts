/**
 * Client telemetry (KIP-714) and ListConfigResources on a real broker, with a raw client (the
 * installed librdkafka 2.0 and kafka-python 2.0 predate KIP-714): subscriptions set through
 * IncrementalAlterConfigs on CLIENT_METRICS resources, GetTelemetrySubscriptions matching by
 * client software, PushTelemetry with its errors, the pushed metrics on /metrics, and
 * subscriptions that survive a restart.
 */
import * as http from 'http';
import * as zlib from 'zlib';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

const API_VERSIONS = 18;
const DESCRIBE_CONFIGS = 32;
const INCREMENTAL_ALTER_CONFIGS = 44;
const GET_TELEMETRY_SUBSCRIPTIONS = 71;
const PUSH_TELEMETRY = 72;
const LIST_CONFIG_RESOURCES = 74;
const CLIENT_METRICS = 16;
const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

const E = {
  NONE: 0,
  INVALID_REQUEST: 42,
  INVALID_CONFIG: 40,
  THROTTLING_QUOTA_EXCEEDED: 89,
  UNKNOWN_SUBSCRIPTION_ID: 117,
  TELEMETRY_TOO_LARGE: 118,
  INVALID_RECORD: 87,
};

// ---- a tiny protobuf writer for OTLP MetricsData (test input only)
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
const field = (no: number, body: Buffer) => Buffer.concat([varint(no * 8 + 2), varint(body.length), body]);
const str = (no: number, s: string) => field(no, Buffer.from(s, 'utf8'));
function double(no: number, v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([varint(no * 8 + 1), b]);
}
function metricsData(metrics: { name: string; value: number; attrs?: Record<string, string> }[]): Buffer {
  const metricMsgs = metrics.map((m) => {
    const attrs = Object.entries(m.attrs ?? {}).map(([k, v]) => field(7, Buffer.concat([str(1, k), field(2, str(1, v))])));
    const point = Buffer.concat([double(4, m.value), ...attrs]);
    const gauge = field(1, point);
    return field(2, Buffer.concat([str(1, m.name), field(5, gauge)]));
  });
  const scope = field(2, Buffer.concat(metricMsgs));
  return field(1, scope);
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('client telemetry (KIP-714)', () => {
  let broker: BrokerProcess;
  const dataDir = tempDataDir();

  beforeAll(async () => {
    broker = await startBrokerProcess({ dataDir, args: ['--override', 'telemetry.max.bytes=4096'] });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  async function client(softwareName: string): Promise<RawClient> {
    const c = await RawClient.connect(broker.port);
    const r = await c.request(API_VERSIONS, 3, { clientSoftwareName: softwareName, clientSoftwareVersion: '1.0.0' });
    expect(r.body.errorCode).toBe(0);
    return c;
  }

  async function alter(c: RawClient, name: string, configs: { name: string; configOperation: number; value: string | null }[]) {
    const r = await c.request(INCREMENTAL_ALTER_CONFIGS, 1, { resources: [{ resourceType: CLIENT_METRICS, resourceName: name, configs }], validateOnly: false });
    return r.body.responses[0];
  }

  const push = (c: RawClient, body: { clientInstanceId: string; subscriptionId: number; terminating?: boolean; compressionType?: number; metrics?: Buffer }) =>
    c.request(PUSH_TELEMETRY, 0, { terminating: false, compressionType: 0, metrics: Buffer.alloc(0), ...body }).then((r) => r.body.errorCode as number);

  test('subscriptions are validated, matched by client software, and pushed metrics reach /metrics', async () => {
    const admin = await client('samsa-admin');
    try {
      expect(await alter(admin, 'bad-interval', [{ name: 'interval.ms', configOperation: 0, value: '50' }])).toMatchObject({ errorCode: E.INVALID_REQUEST });
      expect(await alter(admin, 'bad-match', [{ name: 'match', configOperation: 0, value: 'bogus=x' }])).toMatchObject({ errorCode: E.INVALID_CONFIG });
      expect(await alter(admin, 'bad-key', [{ name: 'nope', configOperation: 0, value: '1' }])).toMatchObject({ errorCode: E.INVALID_REQUEST });
      expect(
        await alter(admin, 'producers', [
          { name: 'metrics', configOperation: 0, value: 'org.apache.kafka.producer.' },
          { name: 'interval.ms', configOperation: 0, value: '300' },
          { name: 'match', configOperation: 0, value: 'client_software_name=telemetry-.*' },
        ]),
      ).toMatchObject({ errorCode: 0 });

      const described = await admin.request(DESCRIBE_CONFIGS, 4, {
        resources: [{ resourceType: CLIENT_METRICS, resourceName: 'producers', configurationKeys: null }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      const values = Object.fromEntries(described.body.results[0].configs.map((x: { name: string; value: string }) => [x.name, x.value]));
      expect(values).toEqual({ metrics: 'org.apache.kafka.producer.', 'interval.ms': '300', match: 'client_software_name=telemetry-.*' });
    } finally {
      admin.close();
    }

    // A client that does not match gets no metrics to push, at the default interval.
    const other = await client('someone-else');
    const unmatched = (await other.request(GET_TELEMETRY_SUBSCRIPTIONS, 0, { clientInstanceId: ZERO_UUID })).body;
    expect(unmatched).toMatchObject({ errorCode: 0, requestedMetrics: [], pushIntervalMs: 300000 });
    other.close();

    const c = await client('telemetry-producer');
    try {
      const sub = (await c.request(GET_TELEMETRY_SUBSCRIPTIONS, 0, { clientInstanceId: ZERO_UUID })).body;
      expect(sub).toMatchObject({
        errorCode: 0,
        requestedMetrics: ['org.apache.kafka.producer.'],
        pushIntervalMs: 300,
        telemetryMaxBytes: 4096,
        deltaTemporality: true,
        acceptedCompressionTypes: [4, 3, 1, 2],
      });
      const id = sub.clientInstanceId as string;
      expect(id).not.toBe(ZERO_UUID);
      // Asking again at once is throttled.
      expect((await c.request(GET_TELEMETRY_SUBSCRIPTIONS, 0, { clientInstanceId: id })).body.errorCode).toBe(E.THROTTLING_QUOTA_EXCEEDED);

      // A wrong subscription id is refused, and the client may ask again at once.
      expect(await push(c, { clientInstanceId: id, subscriptionId: sub.subscriptionId + 1 })).toBe(E.UNKNOWN_SUBSCRIPTION_ID);
      const again = (await c.request(GET_TELEMETRY_SUBSCRIPTIONS, 0, { clientInstanceId: id })).body;
      expect(again).toMatchObject({ errorCode: 0, clientInstanceId: id, subscriptionId: sub.subscriptionId });

      const payload = metricsData([
        { name: 'org.apache.kafka.producer.record.send.total', value: 42 },
        { name: 'org.apache.kafka.producer.node.request.latency.avg', value: 1.5, attrs: { node_id: '1' } },
      ]);
      expect(await push(c, { clientInstanceId: id, subscriptionId: sub.subscriptionId, compressionType: 1, metrics: zlib.gzipSync(payload) })).toBe(E.NONE);
      // Too soon for the next push; too big even when on time.
      expect(await push(c, { clientInstanceId: id, subscriptionId: sub.subscriptionId, metrics: payload })).toBe(E.THROTTLING_QUOTA_EXCEEDED);
      await new Promise((r) => setTimeout(r, 350));
      expect(await push(c, { clientInstanceId: id, subscriptionId: sub.subscriptionId, metrics: Buffer.alloc(5000) })).toBe(E.TELEMETRY_TOO_LARGE);

      const text = await httpGet(broker.httpPort!, '/metrics');
      const line = (metric: string) => text.split('\n').find((l) => l.startsWith('samsa_client_telemetry_metric{') && l.includes(`client_instance_id="${id}"`) && l.includes(`metric="${metric}"`));
      expect(line('org.apache.kafka.producer.record.send.total')).toMatch(/ 42$/);
      expect(line('org.apache.kafka.producer.node.request.latency.avg{node_id=1}')).toMatch(/ 1\.5$/);
      expect(line('org.apache.kafka.producer.record.send.total')).toContain('client_software_name="telemetry-producer"');

      // A changed subscription changes the id: a push under the old one is refused.
      const admin2 = await client('samsa-admin');
      expect(await alter(admin2, 'producers', [{ name: 'metrics', configOperation: 0, value: '*' }])).toMatchObject({ errorCode: 0 });
      admin2.close();
      await new Promise((r) => setTimeout(r, 350));
      expect(await push(c, { clientInstanceId: id, subscriptionId: sub.subscriptionId })).toBe(E.UNKNOWN_SUBSCRIPTION_ID);
      const changed = (await c.request(GET_TELEMETRY_SUBSCRIPTIONS, 0, { clientInstanceId: id })).body;
      expect(changed).toMatchObject({ errorCode: 0, requestedMetrics: ['*'] });
      expect(changed.subscriptionId).not.toBe(sub.subscriptionId);

      // The terminating push is taken at once, and nothing after it.
      expect(await push(c, { clientInstanceId: id, subscriptionId: changed.subscriptionId, terminating: true })).toBe(E.NONE);
      expect(await push(c, { clientInstanceId: id, subscriptionId: changed.subscriptionId, terminating: true })).toBe(E.INVALID_REQUEST);
      // A payload that is not OTLP is INVALID_RECORD.
      const d = await client('telemetry-bad');
      const sd = (await d.request(GET_TELEMETRY_SUBSCRIPTIONS, 0, { clientInstanceId: ZERO_UUID })).body;
      expect(await push(d, { clientInstanceId: sd.clientInstanceId, subscriptionId: sd.subscriptionId, metrics: Buffer.from([0x0a, 0xff, 0xff, 0x01]) })).toBe(E.INVALID_RECORD);
      d.close();
    } finally {
      c.close();
    }
  });

  test('ListConfigResources lists subscriptions (v0) and every config resource type (v1); subscriptions survive a restart', async () => {
    let c = await client('samsa-admin');
    const v0 = (await c.request(LIST_CONFIG_RESOURCES, 0, {})).body;
    expect(v0).toMatchObject({ errorCode: 0, clientMetricsResources: [{ name: 'producers', resourceType: CLIENT_METRICS }] });
    const v1 = (await c.request(LIST_CONFIG_RESOURCES, 1, { resourceTypes: [] })).body;
    const pairs = v1.clientMetricsResources.map((r: { name: string; resourceType: number }) => `${r.resourceType}:${r.name}`);
    expect(pairs).toEqual(expect.arrayContaining(['4:1', '8:1', '16:producers']));
    const onlyBrokers = (await c.request(LIST_CONFIG_RESOURCES, 1, { resourceTypes: [4] })).body;
    expect(onlyBrokers.clientMetricsResources).toEqual([{ name: '1', resourceType: 4 }]);
    expect((await c.request(LIST_CONFIG_RESOURCES, 1, { resourceTypes: [99] })).body.errorCode).toBe(35);
    c.close();

    await broker.stop();
    broker = await startBrokerProcess({ dataDir });
    c = await client('samsa-admin');
    const after = (await c.request(LIST_CONFIG_RESOURCES, 0, {})).body;
    expect(after.clientMetricsResources).toEqual([{ name: 'producers', resourceType: CLIENT_METRICS }]);
    // Deleting every config removes the subscription.
    expect(
      await alter(c, 'producers', [
        { name: 'metrics', configOperation: 1, value: null },
        { name: 'interval.ms', configOperation: 1, value: null },
        { name: 'match', configOperation: 1, value: null },
      ]),
    ).toMatchObject({ errorCode: 0 });
    expect((await c.request(LIST_CONFIG_RESOURCES, 0, {})).body.clientMetricsResources).toEqual([]);
    c.close();
  });
});
