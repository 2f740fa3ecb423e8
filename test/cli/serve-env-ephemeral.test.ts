/**
 * `samsa serve` settings from KAFKA_* environment variables (the Apache Kafka image's naming)
 * and `--ephemeral`, on a real broker process checked with kafkajs.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Kafka, logLevel } from 'kafkajs';
import { kafkaKeyForEnv, propertiesFromEnv } from '../../src/cli/env-properties';
import { startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

const CLI = path.resolve(__dirname, '../../dist/src/cli/main.js');

test('KAFKA_* names map to server.properties keys as in the Apache Kafka image', () => {
  expect(kafkaKeyForEnv('KAFKA_ADVERTISED_LISTENERS')).toBe('advertised.listeners');
  expect(kafkaKeyForEnv('KAFKA_LOG_DIRS')).toBe('log.dirs');
  expect(kafkaKeyForEnv('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP')).toBe('listener.security.protocol.map');
  expect(kafkaKeyForEnv('KAFKA_SOME__DASHED___UNDER_KEY')).toBe('some-dashed_under.key');
  // JVM and log4j settings of Kafka's start scripts are not broker settings; other names are not ours.
  for (const n of ['KAFKA_HEAP_OPTS', 'KAFKA_OPTS', 'KAFKA_JMX_PORT', 'KAFKA_LOG4J_OPTS', 'KAFKA_', 'SAMSA_LOG_LEVEL', 'PATH']) expect(kafkaKeyForEnv(n)).toBeNull();
  expect(propertiesFromEnv({ KAFKA_NUM_PARTITIONS: '3', KAFKA_HEAP_OPTS: '-Xmx1G', HOME: '/root' })).toEqual({ 'num.partitions': '3' });
});

describe('a broker configured by the environment', () => {
  test('advertised.listeners and num.partitions from KAFKA_*; --override and flags still win over them', async () => {
    const broker = await startBrokerProcess({
      env: {
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false', // the --auto-create-topics flag wins
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '7',
        KAFKA_HEAP_OPTS: '-Xmx1G',
      },
      args: ['--auto-create-topics', 'true', '--override', 'offsets.topic.num.partitions=2', '--log-level', 'info'],
    });
    const kafka = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    try {
      await admin.connect();
      const producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      await producer.send({ topic: 'from-env', messages: [{ value: 'x' }] });
      await producer.disconnect();
      const meta = await admin.fetchTopicMetadata({ topics: ['from-env'] });
      expect(meta.topics[0].partitions).toHaveLength(3);
      const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 4, name: '1' }] });
      const value = (name: string) => configs.resources[0].configEntries.find((e) => e.configName === name)?.configValue;
      expect(value('num.partitions')).toBe('3');
      expect(value('offsets.topic.num.partitions')).toBe('2');
      expect(broker.stderr()).toContain('settings from KAFKA_* environment variables');
      expect(broker.stderr()).not.toContain('heap.opts');
    } finally {
      await admin.disconnect();
      await broker.stop();
    }
  });

  test('KAFKA_ADVERTISED_LISTENERS is what clients are told', async () => {
    const broker = await startBrokerProcess({ env: { KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://samsa.example:19092' } });
    // A raw Metadata request: a real client would go on to connect to the advertised name.
    const raw = await RawClient.connect(broker.port);
    try {
      const md = (await raw.request(3, 12, { topics: [], allowAutoTopicCreation: false })).body;
      expect(md.brokers).toEqual([expect.objectContaining({ host: 'samsa.example', port: 19092 })]);
    } finally {
      raw.close();
      await broker.stop();
    }
  });
});

function serveEphemeral(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [CLI, 'serve', '--ephemeral', '--host', '127.0.0.1', '--port', '0', '--http-port', 'none', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ port: number; dataDir: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line: ${err}`)), 20_000);
    child.stdout.on('data', () => {
      const m = /listening on [^:]+:(\d+) .*data-dir=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), dataDir: m[2] });
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`exited: ${err}`));
    });
  });
  return { child, exited, ready, stderr: () => err };
}

test('--ephemeral serves from a new temporary data dir (over KAFKA_LOG_DIRS) and removes it on SIGTERM', async () => {
  const elsewhere = fs.mkdtempSync(path.join(require('os').tmpdir(), 'samsa-not-used-'));
  const s = serveEphemeral([], { KAFKA_LOG_DIRS: elsewhere });
  const { port, dataDir } = await s.ready;
  expect(dataDir).not.toBe(elsewhere);
  expect(fs.existsSync(path.join(dataDir, 'meta.properties'))).toBe(true);
  const producer = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: true });
  await producer.connect();
  await producer.send({ topic: 'ephemeral', messages: [{ value: 'x' }] });
  await producer.disconnect();
  expect(fs.readdirSync(elsewhere)).toEqual([]);
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
  expect(fs.existsSync(dataDir)).toBe(false);
  fs.rmSync(elsewhere, { recursive: true, force: true });
});

test('--ephemeral with --data-dir is refused', async () => {
  const s = serveEphemeral(['--data-dir', '/tmp/samsa-should-not-exist']);
  s.ready.catch(() => undefined);
  expect(await s.exited).not.toBe(0);
  expect(s.stderr()).toContain('--ephemeral');
  expect(fs.existsSync('/tmp/samsa-should-not-exist')).toBe(false);
});
