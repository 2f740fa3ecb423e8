/**
 * Client quotas without a broker: the windowed rate and throttle arithmetic (Kafka's
 * numbers), the store's validation, persistence and describe filters, and which quota
 * applies to a (user, client-id) pair.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createLogger } from '../../src/logging';
import { recordAndThrottle, throttleTimeMs, WindowedRate } from '../../src/quota/rate';
import { ClientQuotaStore, MATCH_DEFAULT, MATCH_EXACT, MATCH_SPECIFIED, QuotaAlteration } from '../../src/quota/store';
import { QuotaManager } from '../../src/quota/manager';
import { ErrorCode, KafkaError } from '../../src/protocol/errors';

const log = createLogger('silent');
const KAFKA_DEFAULT = { samples: 11, windowMs: 1000 };

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-quota-'));
}

const ent = (...pairs: [string, string | null][]) => pairs.map(([entityType, entityName]) => ({ entityType, entityName }));
const set = (entity: QuotaAlteration['entity'], values: Record<string, number>): QuotaAlteration => ({
  entity,
  ops: Object.entries(values).map(([key, value]) => ({ key, value, remove: false })),
});
const remove = (entity: QuotaAlteration['entity'], ...keys: string[]): QuotaAlteration => ({
  entity,
  ops: keys.map((key) => ({ key, value: 0, remove: true })),
});

describe('windowed rate', () => {
  test('a fresh rate is averaged over (samples - 1) padded windows', () => {
    const r = new WindowedRate(KAFKA_DEFAULT);
    r.record(1000, 0);
    expect(r.windowSizeMs(0)).toBe(10_000);
    expect(r.measure(0)).toBeCloseTo(100);
    // 2.5 s later the span is still padded to 10 whole windows plus the elapsed part of the current one.
    r.record(1000, 2500);
    expect(r.windowSizeMs(2500)).toBe(10_000 + 500);
  });

  test('throttle time is (observed - bound) / bound x window, as Kafka computes it', () => {
    expect(throttleTimeMs(100, 50, 10_000)).toBe(10_000);
    expect(throttleTimeMs(1_100_000, 1_000_000, 11_000)).toBe(1100);
    const r = new WindowedRate(KAFKA_DEFAULT);
    // 2 MB at once against 100 kB/s: 200 kB/s over the 10 s padded span -> 10 s of delay.
    expect(recordAndThrottle(r, 100_000, 2_000_000, 0)).toBe(10_000);
  });

  test('windows older than samples x window are forgotten', () => {
    const r = new WindowedRate(KAFKA_DEFAULT);
    r.record(5_000_000, 0);
    expect(r.measure(10_999)).toBeGreaterThan(0);
    expect(r.measure(11_000)).toBe(0);
  });

  test('a client sending at 90% of the quota is never throttled', () => {
    const r = new WindowedRate(KAFKA_DEFAULT);
    for (let t = 0; t < 60_000; t += 100) expect(recordAndThrottle(r, 1000, 90, t)).toBe(0);
  });

  test('a client that waits out each throttle time averages close to the quota', () => {
    for (const [bound, request] of [
      [1_048_576, 256 * 1024],
      [100_000, 16 * 1024],
      [10_000_000, 1024 * 1024],
    ]) {
      const r = new WindowedRate(KAFKA_DEFAULT);
      let t = 0;
      let sent = 0;
      let throttled = 0;
      while (t < 120_000) {
        const throttle = recordAndThrottle(r, bound, request, t);
        sent += request;
        if (throttle > 0) throttled++;
        t += Math.max(1, throttle);
      }
      const achieved = sent / (t / 1000);
      expect(throttled).toBeGreaterThan(0);
      expect(achieved).toBeGreaterThan(bound * 0.8);
      expect(achieved).toBeLessThan(bound * 1.15);
    }
  });
});

describe('client quota store', () => {
  test('validation follows Kafka: entity types, combinations, keys and values', () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    const results = store.alter(
      [
        set(ent(), { producer_byte_rate: 1 }),
        set(ent(['user', 'a'], ['user', 'b']), { producer_byte_rate: 1 }),
        set(ent(['group', 'g']), { producer_byte_rate: 1 }),
        set(ent(['client-id', '']), { producer_byte_rate: 1 }),
        set(ent(['ip', '10.0.0.1'], ['user', 'u']), { connection_creation_rate: 1 }),
        set(ent(['ip', 'not an ip']), { connection_creation_rate: 1 }),
        set(ent(['user', 'u1']), { connection_creation_rate: 1 }),
        set(ent(['ip', '10.0.0.1']), { producer_byte_rate: 1 }),
        set(ent(['user', 'u2']), { producer_byte_rate: 0 }),
        set(ent(['user', 'u3']), { consumer_byte_rate: -5 }),
        set(ent(['user', 'u4']), { producer_byte_rate: 1.5 }),
        set(ent(['ip', null]), { connection_creation_rate: 3e9 }),
        set(ent(['user', 'u5']), { request_percentage: 12.5, controller_mutation_rate: 0.5 }),
        { entity: ent(['user', 'u6']), ops: [{ key: 'producer_byte_rate', value: 1, remove: false }, { key: 'producer_byte_rate', value: 2, remove: false }] },
      ],
      false,
    );
    expect(results.map((r) => [r.errorCode, r.errorMessage])).toEqual([
      [ErrorCode.INVALID_REQUEST, 'Invalid empty client quota entity'],
      [ErrorCode.INVALID_REQUEST, 'Invalid client quota entity, duplicate entity entry user'],
      [ErrorCode.INVALID_REQUEST, 'Unhandled client quota entity type: group'],
      [ErrorCode.INVALID_REQUEST, 'Empty client-id not supported'],
      [ErrorCode.INVALID_REQUEST, 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId'],
      [ErrorCode.INVALID_REQUEST, 'not an ip is not a valid IP or resolvable host.'],
      [ErrorCode.INVALID_REQUEST, 'Invalid configuration key connection_creation_rate'],
      [ErrorCode.INVALID_REQUEST, 'Invalid configuration key producer_byte_rate'],
      [ErrorCode.INVALID_REQUEST, 'Quota producer_byte_rate must be greater than 0'],
      [ErrorCode.INVALID_REQUEST, 'Quota consumer_byte_rate must be greater than 0'],
      [ErrorCode.INVALID_REQUEST, 'producer_byte_rate cannot be a fractional value.'],
      [ErrorCode.INVALID_REQUEST, 'Proposed value for connection_creation_rate is too large for an INT.'],
      [ErrorCode.NONE, null],
      [ErrorCode.INVALID_REQUEST, 'Ignoring duplicate entity ClientQuotaEntity(entries={user=u6})'],
    ]);
    // Only the valid entity was stored.
    expect(store.describe([], false).map((e) => e.entity)).toEqual([[['user', 'u5']]]);
  });

  test('one bad key fails its whole entity; validate_only changes nothing; remove drops keys and empty entities', () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    const [bad] = store.alter([set(ent(['user', 'alice']), { producer_byte_rate: 1000, bogus: 1 })], false);
    expect(bad.errorMessage).toBe('Invalid configuration key bogus');
    expect(store.size).toBe(0);
    const [checked] = store.alter([set(ent(['user', 'alice']), { producer_byte_rate: 1000 })], true);
    expect(checked.errorCode).toBe(ErrorCode.NONE);
    expect(store.size).toBe(0);
    store.alter([set(ent(['user', 'alice'], ['client-id', null]), { producer_byte_rate: 1000, consumer_byte_rate: 2000 })], false);
    // The same entity with its types in the other order.
    store.alter([remove(ent(['client-id', null], ['user', 'alice']), 'producer_byte_rate')], false);
    expect(store.describe([], false)).toEqual([{ entity: [['user', 'alice'], ['client-id', null]], values: [['consumer_byte_rate', 2000]] }]);
    store.alter([remove(ent(['user', 'alice'], ['client-id', null]), 'consumer_byte_rate', 'never-set')], false);
    expect(store.size).toBe(0);
  });

  test('quotas survive a restart (client-quotas.json)', () => {
    const dir = tmpDir();
    const store = new ClientQuotaStore(dir, log);
    store.alter([set(ent(['user', null]), { producer_byte_rate: 5000 }), set(ent(['ip', '::ffff:127.0.0.1']), { connection_creation_rate: 7 })], false);
    const reloaded = new ClientQuotaStore(dir, log);
    expect(reloaded.describe([], false)).toEqual([
      { entity: [['user', null]], values: [['producer_byte_rate', 5000]] },
      { entity: [['ip', '127.0.0.1']], values: [['connection_creation_rate', 7]] },
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'client-quotas.json'), 'utf8')).version).toBe(1);
  });

  test('describe filters: exact, default, any specified, strict, and Kafka errors for bad filters', () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    store.alter(
      [
        set(ent(['user', 'alice']), { producer_byte_rate: 1 }),
        set(ent(['user', null]), { producer_byte_rate: 2 }),
        set(ent(['user', 'alice'], ['client-id', 'app']), { producer_byte_rate: 3 }),
        set(ent(['client-id', 'app']), { producer_byte_rate: 4 }),
        set(ent(['ip', null]), { connection_creation_rate: 5 }),
      ],
      false,
    );
    const values = (components: { entityType: string; matchType: number; match: string | null }[], strict = false) =>
      store.describe(components, strict).map((e) => e.values[0][1]);
    expect(values([{ entityType: 'user', matchType: MATCH_EXACT, match: 'alice' }])).toEqual([1, 3]);
    expect(values([{ entityType: 'user', matchType: MATCH_EXACT, match: 'alice' }], true)).toEqual([1]);
    expect(values([{ entityType: 'user', matchType: MATCH_DEFAULT, match: null }])).toEqual([2]);
    expect(values([{ entityType: 'user', matchType: MATCH_SPECIFIED, match: null }])).toEqual([1, 2, 3]);
    expect(values([{ entityType: 'client-id', matchType: MATCH_SPECIFIED, match: null }], true)).toEqual([4]);
    expect(values([])).toEqual([1, 2, 3, 4, 5]);
    expect(values([], true)).toEqual([]);
    expect(values([{ entityType: 'ip', matchType: MATCH_DEFAULT, match: null }])).toEqual([5]);
    const error = (components: { entityType: string; matchType: number; match: string | null }[]) => {
      try {
        store.describe(components, false);
      } catch (err) {
        return [(err as KafkaError).code, (err as KafkaError).message];
      }
      return null;
    };
    expect(error([{ entityType: '', matchType: 0, match: 'x' }])).toEqual([ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.']);
    expect(error([{ entityType: 'group', matchType: 0, match: 'x' }])).toEqual([ErrorCode.UNSUPPORTED_VERSION, 'Unsupported entity type group']);
    expect(error([{ entityType: 'user', matchType: 0, match: null }])).toEqual([
      ErrorCode.INVALID_REQUEST,
      'Request specified MATCH_TYPE_EXACT, but set match string to null.',
    ]);
    expect(error([{ entityType: 'user', matchType: 1, match: 'x' }])).toEqual([
      ErrorCode.INVALID_REQUEST,
      'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.',
    ]);
    expect(error([{ entityType: 'user', matchType: 7, match: null }])).toEqual([ErrorCode.INVALID_REQUEST, 'Unknown match type 7']);
    expect(error([
      { entityType: 'user', matchType: 2, match: null },
      { entityType: 'user', matchType: 1, match: null },
    ])).toEqual([ErrorCode.INVALID_REQUEST, 'Entity type user cannot appear more than once in the filter.']);
    expect(error([
      { entityType: 'ip', matchType: 2, match: null },
      { entityType: 'user', matchType: 1, match: null },
    ])?.[1]).toMatch(/IP filter component should not be used with user or clientId/);
  });
});

describe('which quota applies', () => {
  const LEVELS: [QuotaAlteration['entity'], number, string, string][] = [
    // entity, limit, then the (user, client-id) the rate is shared by, for user alice and client app
    [ent(['user', 'alice'], ['client-id', 'app']), 1, 'alice', 'app'],
    [ent(['user', 'alice'], ['client-id', null]), 2, 'alice', 'app'],
    [ent(['user', 'alice']), 3, 'alice', ''],
    [ent(['user', null], ['client-id', 'app']), 4, 'alice', 'app'],
    [ent(['user', null], ['client-id', null]), 5, 'alice', 'app'],
    [ent(['user', null]), 6, 'alice', ''],
    [ent(['client-id', 'app']), 7, '', 'app'],
    [ent(['client-id', null]), 8, '', 'app'],
  ];

  test("Kafka's eight levels, most specific first; removing one uncovers the next", () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    const quotas = new QuotaManager(store, KAFKA_DEFAULT, log);
    expect(quotas.active).toBe(false);
    store.alter(LEVELS.map(([entity, limit]) => set(entity, { producer_byte_rate: limit })), false);
    expect(quotas.active).toBe(true);
    for (const [entity, limit, user, clientId] of LEVELS) {
      expect(quotas.resolve('produce', 'alice', 'app')).toEqual({ limit, user, clientId });
      store.alter([remove(entity, 'producer_byte_rate')], false);
    }
    expect(quotas.resolve('produce', 'alice', 'app')).toBeNull();
    expect(quotas.active).toBe(false);
    quotas.close();
  });

  test('each quota kind resolves on its own; other users and clients fall through to defaults', () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    const quotas = new QuotaManager(store, KAFKA_DEFAULT, log);
    store.alter(
      [
        set(ent(['user', 'alice']), { consumer_byte_rate: 100 }),
        set(ent(['client-id', null]), { producer_byte_rate: 50, request_percentage: 25 }),
        set(ent(['user', 'bob'], ['client-id', 'batch']), { producer_byte_rate: 10 }),
      ],
      false,
    );
    expect(quotas.resolve('fetch', 'alice', 'app')).toEqual({ limit: 100, user: 'alice', clientId: '' });
    expect(quotas.resolve('produce', 'alice', 'app')).toEqual({ limit: 50, user: '', clientId: 'app' });
    expect(quotas.resolve('request', 'carol', 'x')).toEqual({ limit: 25, user: '', clientId: 'x' });
    expect(quotas.resolve('produce', 'bob', 'batch')).toEqual({ limit: 10, user: 'bob', clientId: 'batch' });
    expect(quotas.resolve('fetch', 'bob', 'batch')).toBeNull();
    // A request without a client id matches no client-id level, as in Kafka.
    expect(quotas.resolve('produce', 'carol', '')).toBeNull();
    expect(quotas.maxValueInWindow('fetch', 'alice', 'any')).toBe(100 * 10 * 1);
    quotas.close();
  });

  test('a user-level quota is one rate shared by all its clients; a default client-id quota is one per client', () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    const quotas = new QuotaManager(store, KAFKA_DEFAULT, log);
    store.alter([set(ent(['user', 'alice']), { producer_byte_rate: 1000 }), set(ent(['client-id', null]), { producer_byte_rate: 1000 })], false);
    // 10 s x 1000 B/s fits in the padded span; the next byte from another client of alice is over.
    expect(quotas.record('produce', 'alice', 'c1', 10_000, 0)).toBe(0);
    expect(quotas.record('produce', 'alice', 'c2', 1000, 0)).toBe(1000);
    // bob's clients each have their own rate.
    expect(quotas.record('produce', 'bob', 'c1', 10_000, 0)).toBe(0);
    expect(quotas.record('produce', 'bob', 'c2', 10_000, 0)).toBe(0);
    expect(quotas.record('produce', 'bob', 'c2', 1000, 0)).toBe(1000);
    // unrecord takes a value back (a throttled fetch's bytes).
    quotas.unrecord('produce', 'bob', 'c2', 1000, 0);
    expect(quotas.record('produce', 'bob', 'c2', 0, 0)).toBe(0);
    quotas.close();
  });

  test('request-time throttles are capped at one window; connection creation rate per ip with a default', () => {
    const store = new ClientQuotaStore(tmpDir(), log);
    const quotas = new QuotaManager(store, KAFKA_DEFAULT, log);
    store.alter([set(ent(['user', null]), { request_percentage: 1 }), set(ent(['ip', null]), { connection_creation_rate: 2 }), set(ent(['ip', '10.0.0.9']), { connection_creation_rate: 100 })], false);
    expect(quotas.record('request', 'u', 'c', 500, 0)).toBe(1000);
    expect(quotas.ipActive).toBe(true);
    // 2/s over the padded 10 s span: 20 connections at once are fine, the 21st is refused for
    // (2.1 - 2) / 2 x 10 s, and refused ones are not counted.
    for (let i = 0; i < 20; i++) expect(quotas.connectionThrottleMs('10.0.0.1', 0)).toBe(0);
    expect(quotas.connectionThrottleMs('10.0.0.1', 0)).toBe(500);
    expect(quotas.connectionThrottleMs('10.0.0.1', 0)).toBe(500);
    expect(quotas.connectionThrottleMs('10.0.0.2', 0)).toBe(0);
    for (let i = 0; i < 100; i++) expect(quotas.connectionThrottleMs('10.0.0.9', 0)).toBe(0);
    quotas.close();
  });
});
