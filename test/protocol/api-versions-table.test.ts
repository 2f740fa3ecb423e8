/**
 * ApiVersions against Kafka 4.2's table (test/protocol/kafka-4.2-api-versions.json): a real
 * broker process must advertise every client-listener API key of Kafka 4.2 at exactly its
 * version range, minimums included, and no other key, except the keys listed in NOT_YET_SERVED
 * below. It must also support and finalize Kafka 4.2's features (those whose APIs it serves).
 */
import * as fs from 'fs';
import * as path from 'path';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

interface ApiRange {
  apiKey: number;
  name?: string;
  minVersion: number;
  maxVersion: number;
}

const KAFKA_42 = JSON.parse(fs.readFileSync(path.join(__dirname, 'kafka-4.2-api-versions.json'), 'utf8')) as {
  supportedFeatures: { name: string; minVersion: number; maxVersion: number }[];
  finalizedFeatures: Record<string, number>;
  apiKeys: ApiRange[];
};

/**
 * Kafka 4.2 keys Samsa does not serve yet, each with who brings it. Shrink this list as they
 * land: the test fails when a key listed here is advertised.
 */
const NOT_YET_SERVED = new Map<number, string>([]);

/** Features that stay at level 0 until the APIs they enable are served. */
const FEATURE_NEEDS_API: Record<string, number> = { 'share.version': 76, 'streams.version': 88 };

describe('ApiVersions lists Kafka 4.2 client-listener keys at their ranges', () => {
  let broker: BrokerProcess;
  let raw: RawClient;
  let advertised: ApiRange[];
  let v4: any;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    raw = await RawClient.connect(broker.port);
    v4 = (await raw.request(18, 4, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' })).body;
    advertised = v4.apiKeys;
  });

  afterAll(async () => {
    raw?.close();
    await broker?.stop();
    if (broker) fs.rmSync(broker.dataDir, { recursive: true, force: true });
  });

  test('the table holds every key once', () => {
    const keys = KAFKA_42.apiKeys.map((k) => k.apiKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of NOT_YET_SERVED.keys()) expect(keys).toContain(key);
  });

  test('every advertised key has Kafka 4.2 range, minimum included', () => {
    const table = new Map(KAFKA_42.apiKeys.map((k) => [k.apiKey, k]));
    const mismatches = advertised
      .filter((a) => {
        const k = table.get(a.apiKey);
        return !k || k.minVersion !== a.minVersion || k.maxVersion !== a.maxVersion;
      })
      .map((a) => ({ advertised: a, kafka42: table.get(a.apiKey) ?? 'not a Kafka 4.2 client-listener key' }));
    expect(mismatches).toEqual([]);
  });

  test('the advertised keys are Kafka 4.2 keys less the ones not served yet', () => {
    if (NOT_YET_SERVED.size > 0) {
      console.log(`Kafka 4.2 API keys not served yet (${NOT_YET_SERVED.size}): ${[...NOT_YET_SERVED].map(([k, n]) => `${k} ${n}`).join(', ')}`);
    }
    const expected = KAFKA_42.apiKeys.map((k) => k.apiKey).filter((k) => !NOT_YET_SERVED.has(k));
    expect(advertised.map((a) => a.apiKey)).toEqual(expected);
  });

  test('v4 lists the features Kafka 4.2 supports and a fresh 4.2 cluster finalizes', () => {
    const served = new Set(advertised.map((a) => a.apiKey));
    const on = (name: string) => FEATURE_NEEDS_API[name] === undefined || served.has(FEATURE_NEEDS_API[name]);
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect([...v4.supportedFeatures].sort(byName)).toEqual(KAFKA_42.supportedFeatures.filter((f) => on(f.name)).sort(byName));
    const finalized = Object.fromEntries(v4.finalizedFeatures.map((f: any) => [f.name, [f.minVersionLevel, f.maxVersionLevel]]));
    const expected = Object.fromEntries(
      Object.entries(KAFKA_42.finalizedFeatures)
        .filter(([name]) => on(name))
        .map(([name, level]) => [name, [level, level]]),
    );
    expect(finalized).toEqual(expected);
    expect(v4.finalizedFeaturesEpoch).toBeGreaterThanOrEqual(0);
  });

  test('v3 leaves out supported features whose minimum is 0, as Kafka does for older clients', async () => {
    const v3 = (await raw.request(18, 3, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' })).body;
    expect(v3.supportedFeatures).toEqual([{ name: 'metadata.version', minVersion: 7, maxVersion: 29 }]);
    expect(v3.finalizedFeatures.length).toBe(v4.finalizedFeatures.length);
    const v2 = (await raw.request(18, 2, {})).body;
    expect(v2.apiKeys).toEqual(advertised);
  });

  test('a request below an advertised minimum is refused by closing the connection, as Kafka does', async () => {
    for (const key of [2, 29, 32, 35]) {
      const c = await RawClient.connect(broker.port);
      c.writeRaw(c.encodeRequest(key, 0, {}));
      await c.closed;
    }
    // The broker is still serving.
    expect((await raw.request(18, 0, {})).body.errorCode).toBe(0);
  });
});
