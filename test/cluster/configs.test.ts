/**
 * Config plumbing without a broker: Java properties parsing, a Kafka server.properties
 * turned into broker settings, topic config resolution in Kafka's priority order, and value
 * validation messages.
 */
import { brokerConfigFromProperties, parseListeners, parseProperties } from '../../src/cluster/broker-config';
import { resolveListeners } from '../../src/server/listeners';
import { DEFAULT_CONFIG } from '../../src/config';
import { resolveTopicConfig, validateTopicConfig, validateTopicConfigs, SYNONYM_DEFAULTS } from '../../src/cluster/topic-config';
import { createLogger } from '../../src/logging';
import { ErrorCode } from '../../src/protocol/errors';

const quiet = createLogger('silent');

describe('properties files', () => {
  test('Java properties syntax: separators, comments, continuations, escapes', () => {
    const text = [
      '# comment',
      '! also a comment',
      '  a=1',
      'b : two words ',
      'c three',
      'long.value=first,\\',
      '    second',
      'esc\\:key=tab\\there\\u0041',
      'empty=',
      '',
    ].join('\n');
    expect(parseProperties(text)).toEqual({
      a: '1',
      b: 'two words ',
      c: 'three',
      'long.value': 'first,second',
      'esc:key': 'tab\there' + 'A',
      empty: '',
    });
  });

  test('listeners', () => {
    expect(parseListeners('PLAINTEXT://:9092,CONTROLLER://localhost:9093')).toEqual([
      { name: 'PLAINTEXT', host: '', port: 9092 },
      { name: 'CONTROLLER', host: 'localhost', port: 9093 },
    ]);
    expect(parseListeners('PLAINTEXT://[::1]:19092')).toEqual([{ name: 'PLAINTEXT', host: '::1', port: 19092 }]);
    expect(() => parseListeners('9092')).toThrow(/NAME:\/\/host:port/);
  });

  test('a KRaft server.properties maps onto the broker settings', () => {
    const cfg = brokerConfigFromProperties(
      parseProperties(
        [
          'process.roles=broker,controller',
          'node.id=4',
          'controller.quorum.voters=4@localhost:9093',
          'listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://:9093',
          'controller.listener.names=CONTROLLER',
          'advertised.listeners=PLAINTEXT://kafka.local:19092',
          'log.dirs=/var/lib/samsa,/other',
          'num.partitions=3',
          'auto.create.topics.enable=false',
          'log.retention.hours=24',
          'log.segment.bytes=1048576',
          'offsets.topic.replication.factor=1',
          'made.up.key=1',
        ].join('\n'),
      ),
      quiet,
    );
    expect(cfg).toMatchObject({
      nodeId: 4,
      host: '127.0.0.1',
      port: 19092,
      advertisedHost: 'kafka.local',
      advertisedPort: 19092,
      dataDir: '/var/lib/samsa',
      numPartitions: 3,
      autoCreateTopics: false,
      logDefaults: { 'log.retention.hours': '24', 'log.segment.bytes': '1048576' },
    });
    expect(cfg.brokerProperties).not.toHaveProperty('made.up.key');
    expect(() => brokerConfigFromProperties({ 'log.retention.ms': 'soon' }, quiet)).toThrow('Invalid value soon for configuration log.retention.ms: Not a number of type LONG');
    expect(brokerConfigFromProperties({ listeners: 'SSL://:9093' }, quiet)).not.toHaveProperty('port');
    expect(() => brokerConfigFromProperties({ listeners: 'SSL://:9093', 'ssl.client.auth': 'sometimes' }, quiet)).toThrow(/ssl.client.auth/);
    // Per-listener security keys take the spec of the key they prefix.
    expect(brokerConfigFromProperties({ 'listener.name.client.ssl.client.auth': 'required' }, quiet).brokerProperties).toEqual({
      'listener.name.client.ssl.client.auth': 'required',
    });
    expect(() => brokerConfigFromProperties({ 'listener.name.client.ssl.client.auth': 'maybe' }, quiet)).toThrow(/ssl.client.auth/);
    expect(Object.keys(brokerConfigFromProperties({ 'listener.name.client.scram-sha-256.sasl.jaas.config': 'x required;' }, quiet).brokerProperties ?? {})).toEqual([
      'listener.name.client.scram-sha-256.sasl.jaas.config',
    ]);
    expect(brokerConfigFromProperties({ 'listener.name.client.log.retention.ms': '1' }, quiet).brokerProperties).toEqual({});
  });
});

describe('listeners', () => {
  const base = { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 9092 };
  test('without listeners: one PLAINTEXT listener on --host/--port', () => {
    expect(resolveListeners(base)).toEqual([
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 9092, advertisedHost: '127.0.0.1', advertisedPort: null },
    ]);
  });
  test('several listeners, custom names through the protocol map, per-listener advertised addresses', () => {
    const ls = resolveListeners({
      ...base,
      port: 19092,
      brokerProperties: {
        listeners: 'PLAINTEXT://127.0.0.1:19092,CLIENT://0.0.0.0:9094,SSL://127.0.0.1:9093,CONTROLLER://:9095',
        'advertised.listeners': 'CLIENT://kafka.example:443,SSL://:9093',
        'listener.security.protocol.map': 'CLIENT:SASL_SSL,CONTROLLER:PLAINTEXT',
        'controller.listener.names': 'CONTROLLER',
      },
    });
    expect(ls.map((l) => [l.name, l.securityProtocol, l.host, l.port, l.advertisedHost, l.advertisedPort])).toEqual([
      ['PLAINTEXT', 'PLAINTEXT', '127.0.0.1', 19092, '127.0.0.1', null],
      ['CLIENT', 'SASL_SSL', '0.0.0.0', 9094, 'kafka.example', 443],
      ['SSL', 'SSL', '127.0.0.1', 9093, '127.0.0.1', 9093],
    ]);
  });
  test('errors', () => {
    const withProps = (brokerProperties: Record<string, string>) => () => resolveListeners({ ...base, brokerProperties });
    expect(withProps({ listeners: 'FOO://:1' })).toThrow(/No security protocol defined for listener FOO/);
    expect(withProps({ listeners: 'SSL://:1,SSL://:2' })).toThrow(/different name/);
    expect(withProps({ listeners: 'SSL://:9093,SASL_SSL://:9093' })).toThrow(/both use port 9093/);
    expect(withProps({ listeners: 'SSL://:1', 'listener.security.protocol.map': 'SSL:TLS' })).toThrow(/listener.security.protocol.map/);
  });
});

describe('topic config resolution', () => {
  const layers = {
    dynamicBroker: {} as Record<string, string>,
    dynamicDefault: {} as Record<string, string>,
    static: {} as Record<string, string>,
    defaults: SYNONYM_DEFAULTS,
  };

  test('built-in default: no synonyms (Kafka lists them from the own broker key on, and log.retention.ms has no default)', () => {
    expect(resolveTopicConfig('retention.ms', {}, layers)).toEqual({ value: '604800000', source: 5, synonyms: [] });
    expect(resolveTopicConfig('cleanup.policy', {}, layers)).toEqual({ value: 'delete', source: 5, synonyms: [{ name: 'log.cleanup.policy', value: 'delete', source: 5 }] });
    expect(resolveTopicConfig('remote.storage.enable', {}, layers)).toEqual({ value: 'false', source: 5, synonyms: [] });
  });

  test('priority: topic, dynamic broker, dynamic default, static; finer synonyms first within a level', () => {
    const l = { ...layers, static: { 'log.retention.minutes': '2', 'log.retention.hours': '1' }, dynamicDefault: {}, dynamicBroker: {} };
    // Coarser synonyms alone give the value but, as in Kafka, not the source.
    expect(resolveTopicConfig('retention.ms', {}, l)).toEqual({ value: '120000', source: 5, synonyms: [] });
    l.dynamicDefault = { 'log.retention.ms': '5000' };
    expect(resolveTopicConfig('retention.ms', {}, l)).toMatchObject({ value: '5000', source: 3 });
    l.dynamicBroker = { 'log.retention.ms': '6000' };
    expect(resolveTopicConfig('retention.ms', {}, l).synonyms.map((s) => [s.name, s.source])).toEqual([
      ['log.retention.ms', 2],
      ['log.retention.ms', 3],
      ['log.retention.minutes', 4],
      ['log.retention.hours', 4],
      ['log.retention.hours', 5],
    ]);
    expect(resolveTopicConfig('retention.ms', { 'retention.ms': '7' }, l)).toMatchObject({ value: '7', source: 1 });
    // A plain record is the static layer alone.
    expect(resolveTopicConfig('segment.bytes', {}, { 'log.segment.bytes': '2048' })).toMatchObject({ value: '2048', source: 4 });
  });

  test('validation messages and codes', () => {
    const code = (fn: () => void) => {
      try {
        fn();
        return null;
      } catch (err) {
        return [(err as { code: number }).code, (err as Error).message];
      }
    };
    expect(code(() => validateTopicConfig('retention.ms', '1.5'))).toEqual([ErrorCode.INVALID_CONFIG, 'Invalid value 1.5 for configuration retention.ms: Not a number of type LONG']);
    expect(code(() => validateTopicConfig('segment.bytes', '13'))).toEqual([ErrorCode.INVALID_CONFIG, 'Invalid value 13 for configuration segment.bytes: Value must be at least 14']);
    expect(code(() => validateTopicConfig('min.cleanable.dirty.ratio', '2'))).toEqual([
      ErrorCode.INVALID_CONFIG,
      'Invalid value 2 for configuration min.cleanable.dirty.ratio: Value must be no more than 1',
    ]);
    expect(code(() => validateTopicConfig('cleanup.policy', 'compact,delete'))).toBeNull();
    expect(code(() => validateTopicConfig('cleanup.policy', ''))).toEqual([ErrorCode.INVALID_CONFIG, expect.stringMatching(/Empty list/)]);
    expect(code(() => validateTopicConfig('compression.type', 'brotli'))).toEqual([ErrorCode.INVALID_CONFIG, expect.stringMatching(/String must be one of/)]);
    expect(code(() => validateTopicConfig('retention.ms', '9223372036854775808'))).toEqual([ErrorCode.INVALID_CONFIG, expect.stringMatching(/LONG/)]);
    expect(code(() => validateTopicConfig('remote.storage.enable', 'true'))).toEqual([ErrorCode.INVALID_CONFIG, expect.stringMatching(/Tiered Storage/)]);
    expect(code(() => validateTopicConfigs({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' }, {}))).toEqual([
      ErrorCode.INVALID_CONFIG,
      'conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)',
    ]);
  });
});
