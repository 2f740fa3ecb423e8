/**
 * The samsa client subcommands against a real Samsa process, each checked with an
 * independent client: kcat (librdkafka) for topics and records, kafkajs for groups and the
 * Java-compatible key partitioner.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { kcat, samsa, samsaOk } from '../helpers/cli-process';
import { RawClient } from '../helpers/raw-client';

let broker: BrokerProcess;
let B: string[];
let K: string[];

beforeAll(async () => {
  broker = await startBrokerProcess();
  B = ['-b', broker.address];
  K = ['-b', broker.address];
});

afterAll(async () => {
  await broker?.stop();
});

function kcatMetadata(): Promise<{ brokers: { id: number; name: string }[]; topics: { topic: string; partitions: { partition: number; leader: number }[] }[] }> {
  return kcat([...K, '-L', '-J']).then((s) => JSON.parse(s));
}

function kafka(): Kafka {
  return new Kafka({ clientId: 'cli-test', brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
}

describe('topics', () => {
  test('create (positional and Kafka flags) is seen by kcat; describe, alter and delete agree with it', async () => {
    expect(await samsaOk(['topics', 'create', 'orders', '--partitions', '3', '--config', 'retention.ms=3600000', ...B])).toBe('Created topic orders.\n');
    await samsaOk(['topics', 'create', '--topic', 'legacy', '--partitions', '2', '--replication-factor', '1', ...B]);
    let md = await kcatMetadata();
    expect(md.topics.find((t) => t.topic === 'orders')?.partitions).toHaveLength(3);
    expect(md.topics.find((t) => t.topic === 'legacy')?.partitions).toHaveLength(2);
    expect((await samsaOk(['topics', 'list', ...B])).split('\n')).toEqual(expect.arrayContaining(['orders', 'legacy']));

    await kcat([...K, '-P', '-t', 'orders', '-p', '1'], { input: 'a\nb\nc\n' });
    const [desc] = JSON.parse(await samsaOk(['topics', 'describe', 'orders', '--json', ...B]));
    expect(desc.partitionCount).toBe(3);
    expect(desc.configs['retention.ms']).toBe('3600000');
    expect(desc.partitions[1]).toMatchObject({ partition: 1, leader: md.brokers[0].id, earliestOffset: 0, latestOffset: 3, messages: 3 });
    expect(desc.partitions[1].sizeBytes).toBeGreaterThan(0);
    expect(desc.partitions[0]).toMatchObject({ latestOffset: 0, messages: 0, sizeBytes: 0 });
    const text = await samsaOk(['topics', 'describe', 'orders', ...B]);
    expect(text).toMatch(/PartitionCount: 3/);
    expect(text).toMatch(/^1\s+\d+\s+\d+\s+\d+\s+0\s+3\s+3\s+\d+ B$/m);

    await samsaOk(['topics', 'alter', 'orders', '--partitions', '4', '--config', 'cleanup.policy=compact', ...B]);
    md = await kcatMetadata();
    expect(md.topics.find((t) => t.topic === 'orders')?.partitions).toHaveLength(4);
    expect(await samsaOk(['configs', 'describe', '--topic', 'orders', ...B])).toMatch(/cleanup\.policy\s+compact\s+dynamic-topic/);
    await samsaOk(['configs', 'alter', '--entity-type', 'topics', '--entity-name', 'orders', '--delete-config', 'cleanup.policy', ...B]);
    expect(await samsaOk(['configs', 'describe', '--topic', 'orders', ...B])).not.toMatch(/cleanup\.policy/);

    await samsaOk(['topics', 'delete', 'legacy', ...B]);
    md = await kcatMetadata();
    expect(md.topics.map((t) => t.topic)).not.toContain('legacy');
  });

  test('errors are one line naming the Kafka error, with a non-zero exit', async () => {
    const dup = await samsa(['topics', 'create', 'orders', ...B]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/^samsa: error: cannot create topic "orders": TOPIC_ALREADY_EXISTS \(36\).*\n$/);
    expect(dup.stderr.trim().split('\n')).toHaveLength(1);
    expect((await samsa(['topics', 'create', 'orders', '--if-not-exists', ...B])).code).toBe(0);

    const unknown = await samsa(['consume', 'no-such-topic', '-e', ...B]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^samsa: error: topic "no-such-topic": UNKNOWN_TOPIC_OR_PARTITION \(3\); check the topic name.*\n$/);

    const down = await samsa(['topics', 'list', '-b', '127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^samsa: error: cannot reach 127\.0\.0\.1:1: connection refused; check --bootstrap-server.*\n$/);

    const bad = await samsa(['topics', 'list', '--bogus-flag', ...B]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^samsa: error: Unknown argument: bogus-flag; see samsa topics list --help\n$/);

    const noPartition = await samsa(['produce', 'orders', '--partition', '9', ...B], { input: 'x\n' });
    expect(noPartition.code).toBe(1);
    expect(noPartition.stderr).toMatch(/has no partition 9/);
  });

  test('--help of every command shows examples', async () => {
    for (const cmd of [['topics', 'create'], ['topics', 'describe'], ['produce'], ['consume'], ['groups', 'reset-offsets'], ['configs', 'alter'], ['users', 'add'], ['acls', 'add'], ['cluster'], ['records', 'delete']]) {
      const out = await samsaOk([...cmd, '--help']);
      expect(out).toMatch(/Examples:\n[^\n]*samsa /);
    }
  });
});

describe('produce and consume', () => {
  beforeAll(async () => {
    await samsaOk(['topics', 'create', 'events', '--partitions', '3', ...B]);
    await samsaOk(['topics', 'create', 'single', '--partitions', '1', ...B]);
  });

  test('samsa produce with keys and headers, read back by kcat; keys land where the Java partitioner puts them', async () => {
    const lines = Array.from({ length: 30 }, (_, i) => `key-${i}:value ${i}`);
    const out = JSON.parse(await samsaOk(['produce', 'events', '-K:', '-H', 'source=cli', '--header', 'run=7', '--json', ...B], { input: lines.join('\n') + '\n' }));
    expect(out.records).toBe(30);
    const got = (await kcat([...K, '-C', '-t', 'events', '-e', '-q', '-f', '%p|%k|%s|%h\n'])).trim().split('\n');
    expect(got).toHaveLength(30);
    const javaPartitioner = Partitioners.DefaultPartitioner();
    const meta = { topic: 'events', partitionMetadata: [0, 1, 2].map((p) => ({ partitionId: p, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] })) };
    for (let i = 0; i < 30; i++) {
      const expectedPartition = javaPartitioner({ ...meta, message: { key: `key-${i}`, value: '' } } as never);
      expect(got).toContain(`${expectedPartition}|key-${i}|value ${i}|source=cli,run=7`);
    }
  });

  test('kcat produce, samsa consume: json, --format template and Kafka print properties', async () => {
    await kcat([...K, '-P', '-t', 'single', '-K:', '-H', 'h1=x', '-H', 'h2=y'], { input: 'k1:v1\nk2:v2\nk3:v3\n' });
    const json = (await samsaOk(['consume', 'single', '--from-beginning', '--exit-at-end', '--json', ...B])).trim().split('\n').map((l) => JSON.parse(l));
    expect(json.map((r) => [r.partition, r.offset, r.key, r.value])).toEqual([
      [0, 0, 'k1', 'v1'],
      [0, 1, 'k2', 'v2'],
      [0, 2, 'k3', 'v3'],
    ]);
    expect(json[0].headers).toEqual([{ key: 'h1', value: 'x' }, { key: 'h2', value: 'y' }]);
    expect(Math.abs(json[0].timestamp - Date.now())).toBeLessThan(60_000);
    expect(json[0]).toMatchObject({ topic: 'single', timestampType: 'CreateTime' });

    expect(await samsaOk(['consume', 'single', '-o', 'beginning', '-e', '--format', '%t/%p/%o %k=%s (%K,%S) [%h]\\n', ...B])).toBe(
      'single/0/0 k1=v1 (2,2) [h1=x,h2=y]\nsingle/0/1 k2=v2 (2,2) [h1=x,h2=y]\nsingle/0/2 k3=v3 (2,2) [h1=x,h2=y]\n',
    );
    expect(await samsaOk(['consume', '--topic', 'single', '--from-beginning', '--max-messages', '2', '--property', 'print.key=true', '--property', 'key.separator=:', ...B])).toBe('k1:v1\nk2:v2\n');
    expect(await samsaOk(['consume', 'single', '-o', '-1', '-e', ...B])).toBe('v3\n');
    expect(await samsaOk(['consume', 'single', '-o', '1', '-e', '--format', '%o\\n', ...B])).toBe('1\n2\n');
  });

  test('--property parse.key=true, --file, compression codecs and idempotence; kcat reads every record', async () => {
    await samsaOk(['topics', 'create', 'codecs', '--partitions', '1', ...B]);
    for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
      const input = Array.from({ length: 50 }, (_, i) => `${codec}-${i}=payload ${'x'.repeat(i)}`).join('\n');
      await samsaOk(['produce', '--topic', 'codecs', '--property', 'parse.key=true', '--property', 'key.separator==', '--compression', codec, ...B], { input });
    }
    await samsaOk(['produce', 'codecs', '--idempotent', '--acks', 'all', ...B], { input: 'idem-1\nidem-2\n' });
    const got = (await kcat([...K, '-C', '-t', 'codecs', '-e', '-q', '-f', '%k|%s\n'])).trim().split('\n');
    expect(got).toHaveLength(202);
    expect(got).toContain('zstd-49|payload ' + 'x'.repeat(49));
    expect(got).toContain('snappy-0|payload ');
    expect(got.slice(-2)).toEqual(['|idem-1', '|idem-2']);
  });

  test('consume from a timestamp, and follow mode picks up records produced later', async () => {
    await samsaOk(['topics', 'create', 'timed', '--partitions', '1', ...B]);
    await kcat([...K, '-P', '-t', 'timed'], { input: 'old\n' });
    await new Promise((r) => setTimeout(r, 50));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    await kcat([...K, '-P', '-t', 'timed'], { input: 'new\n' });
    expect(await samsaOk(['consume', 'timed', '--timestamp', String(cut), '-e', ...B])).toBe('new\n');
    expect(await samsaOk(['consume', 'timed', '--timestamp', new Date(cut).toISOString(), '-e', ...B])).toBe('new\n');

    const follower = samsa(['consume', 'timed', '--max-messages', '1', ...B]);
    await new Promise((r) => setTimeout(r, 1500));
    await kcat([...K, '-P', '-t', 'timed'], { input: 'later\n' });
    const r = await follower;
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('later\n');
  });
  test('--isolation-level read_committed hides an aborted kafkajs transaction', async () => {
    await samsaOk(['topics', 'create', 'txns', '--partitions', '1', ...B]);
    const producer = kafka().producer({ transactionalId: 'cli-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: 'txns', messages: [{ value: 'kept' }] });
      await committed.commit();
      const aborted = await producer.transaction();
      await aborted.send({ topic: 'txns', messages: [{ value: 'dropped' }] });
      await aborted.abort();
    } finally {
      await producer.disconnect();
    }
    await kcat([...K, '-P', '-t', 'txns'], { input: 'plain\n' });
    expect(await samsaOk(['consume', 'txns', '-o', 'beginning', '-e', '--isolation-level', 'read_committed', ...B])).toBe('kept\nplain\n');
    expect(await samsaOk(['consume', 'txns', '-o', 'beginning', '-e', ...B])).toBe('kept\ndropped\nplain\n');
  });
});

describe('groups', () => {
  test('lag from samsa groups describe equals what a kafkajs consumer committed; reset-offsets moves it back', async () => {
    await samsaOk(['topics', 'create', 'lagged', '--partitions', '2', ...B]);
    await kcat([...K, '-P', '-t', 'lagged', '-p', '0'], { input: Array.from({ length: 10 }, (_, i) => `p0-${i}`).join('\n') + '\n' });
    await kcat([...K, '-P', '-t', 'lagged', '-p', '1'], { input: Array.from({ length: 6 }, (_, i) => `p1-${i}`).join('\n') + '\n' });
    const readAll = async (commit: { partition: number; offset: string }[] | null) => {
      const consumer = kafka().consumer({ groupId: 'billing' });
      await consumer.connect();
      await consumer.subscribe({ topic: 'lagged', fromBeginning: true });
      const seen: string[] = [];
      await new Promise<void>((resolve) => {
        void consumer.run({
          autoCommit: false,
          eachMessage: async ({ message }) => {
            seen.push(message.value!.toString());
            if (seen.length === 16) resolve();
          },
        });
      });
      // The member's own commit (with its generation): partition 0 at 4, partition 1 at 6.
      if (commit) await consumer.commitOffsets(commit.map((c) => ({ topic: 'lagged', ...c })));
      // While it is a member, describe shows it owning both partitions (its assignment decoded).
      const [live] = JSON.parse(await samsaOk(['groups', 'describe', 'billing', '--json', ...B]));
      expect(live).toMatchObject({ state: 'Stable', members: 1 });
      expect(live.partitions.map((p: any) => [p.partition, p.clientId, typeof p.consumerId])).toEqual([
        [0, 'cli-test', 'string'],
        [1, 'cli-test', 'string'],
      ]);
      await consumer.disconnect();
      return seen;
    };
    expect(await readAll([{ partition: 0, offset: '4' }, { partition: 1, offset: '6' }])).toHaveLength(16);
    const [g] = JSON.parse(await samsaOk(['groups', 'describe', 'billing', '--json', ...B]));
    expect(g.partitions.map((p: any) => [p.partition, p.currentOffset, p.logEndOffset, p.lag])).toEqual([
      [0, 4, 10, 6],
      [1, 6, 6, 0],
    ]);
    expect(await samsaOk(['groups', 'describe', '--group', 'billing', ...B])).toMatch(/total lag 6/);
    expect(await samsaOk(['groups', 'list', ...B])).toMatch(/^billing\s+Empty\s+consumer$/m);

    const dry = await samsa(['groups', 'reset-offsets', 'billing', '--topic', 'lagged:0', '--to-offset', '1', ...B]);
    expect(dry.stdout).toMatch(/^billing\s+lagged\s+0\s+1$/m);
    expect(dry.stderr).toMatch(/Dry run/);
    const admin = kafka().admin();
    await admin.connect();
    try {
      expect((await admin.fetchOffsets({ groupId: 'billing', topics: ['lagged'] }))[0].partitions.find((p) => p.partition === 0)!.offset).toBe('4');
    } finally {
      await admin.disconnect();
    }

    await samsaOk(['groups', 'reset-offsets', '--group', 'billing', '--topic', 'lagged', '--to-earliest', '--execute', ...B]);
    // A real consumer in the group now starts from the beginning of both partitions again.
    const again = await readAll(null);
    expect(again.filter((v) => v.startsWith('p0-'))).toHaveLength(10);
    expect(again).toContain('p1-0');

    expect((await samsa(['groups', 'delete', 'billing', ...B])).code).toBe(0); // the consumer left on disconnect
    expect((await samsaOk(['groups', 'list', ...B])).includes('billing')).toBe(false);
  });

  test('samsa consume --group commits what it printed, as kafkajs reads it', async () => {
    await samsaOk(['topics', 'create', 'grouped', '--partitions', '1', ...B]);
    await kcat([...K, '-P', '-t', 'grouped'], { input: 'a\nb\nc\nd\ne\n' });
    expect(await samsaOk(['consume', 'grouped', '--group', 'cli-group', '--from-beginning', '--max-messages', '3', ...B])).toBe('a\nb\nc\n');
    const admin = kafka().admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId: 'cli-group', topics: ['grouped'] });
      expect(t.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '3' })]);
    } finally {
      await admin.disconnect();
    }
    // The next run in the group continues where the last one stopped.
    expect(await samsaOk(['consume', 'grouped', '--group', 'cli-group', '-e', ...B])).toBe('d\ne\n');
    const [g] = JSON.parse(await samsaOk(['groups', 'describe', 'cli-group', '--json', ...B]));
    expect(g.partitions[0]).toMatchObject({ currentOffset: 5, logEndOffset: 5, lag: 0 });
  });
  test('follow mode stops on Ctrl-C, commits what it printed and leaves the group', async () => {
    await samsaOk(['topics', 'create', 'followed', '--partitions', '1', ...B]);
    await kcat([...K, '-P', '-t', 'followed'], { input: 'one\ntwo\n' });
    const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/src/cli/main.js'), 'consume', 'followed', '--group', 'follower', '-o', 'beginning', ...B]);
    let out = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (d) => ((out += d), out === 'one\ntwo\n' && resolve())));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    const [g] = JSON.parse(await samsaOk(['groups', 'describe', 'follower', '--json', ...B]));
    expect(g).toMatchObject({ state: 'Empty', members: 0 });
    expect(g.partitions[0]).toMatchObject({ currentOffset: 2, lag: 0 });
  });
});

describe('cluster and records', () => {
  test('cluster lists the brokers kcat sees and the ApiVersions', async () => {
    const c = JSON.parse(await samsaOk(['cluster', '--json', ...B]));
    const md = await kcatMetadata();
    expect(c.brokers.map((b: any) => `${b.host}:${b.port}`)).toEqual(md.brokers.map((b) => b.name));
    expect(c.controllerId).toBe(md.brokers[0].id);
    expect(c.apiVersions).toEqual(expect.arrayContaining([expect.objectContaining({ apiKey: 0, name: 'Produce' }), expect.objectContaining({ apiKey: 18, name: 'ApiVersions' })]));
    expect(await samsaOk(['cluster', '--api-versions', ...B])).toMatch(/^1\s+Fetch\s+\d+\s+\d+$/m);
  });

  test('records delete moves the log start offset; kcat reads from there', async () => {
    await samsaOk(['topics', 'create', 'trimmed', '--partitions', '1', ...B]);
    await kcat([...K, '-P', '-t', 'trimmed'], { input: 'r0\nr1\nr2\nr3\n' });
    const rows = JSON.parse(await samsaOk(['records', 'delete', '--topic', 'trimmed', '--partition', '0', '--offset', '2', '--json', ...B]));
    expect(rows).toEqual([{ topic: 'trimmed', partition: 0, lowWatermark: 2 }]);
    expect(await kcat([...K, '-C', '-t', 'trimmed', '-o', 'beginning', '-e', '-q', '-f', '%o %s\n'])).toBe('2 r2\n3 r3\n');
  });
});

describe('quotas and leaders', () => {
  test('quotas alter sets and removes quotas; DescribeClientQuotas on the wire sees the same', async () => {
    await samsaOk(['quotas', 'alter', '--user', 'alice', '--add-config', 'producer_byte_rate=1048576,consumer_byte_rate=2097152', ...B]);
    await samsaOk(['quotas', 'alter', '--client-default', '--add-config', 'request_percentage=50', ...B]);
    const listed = JSON.parse(await samsaOk(['quotas', 'list', '--json', ...B]));
    expect(listed).toEqual(
      expect.arrayContaining([
        { entity: [{ type: 'user', name: 'alice' }], values: { producer_byte_rate: 1048576, consumer_byte_rate: 2097152 } },
        { entity: [{ type: 'client-id', name: null }], values: { request_percentage: 50 } },
      ]),
    );
    const c = await RawClient.connect(broker.port);
    try {
      const wire = (await c.request(48, 1, { components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: true })).body;
      expect(wire.entries[0].values).toEqual(expect.arrayContaining([{ key: 'producer_byte_rate', value: 1048576 }]));
      await samsaOk(['quotas', 'alter', '--user', 'alice', '--delete-config', 'producer_byte_rate', ...B]);
      const after = (await c.request(48, 1, { components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: true })).body;
      expect(after.entries[0].values).toEqual([{ key: 'consumer_byte_rate', value: 2097152 }]);
    } finally {
      c.close();
    }
    expect(await samsaOk(['quotas', 'list', '--user', 'alice', ...B])).toMatch(/user=alice\s+consumer_byte_rate=2097152/);
    const bad = await samsa(['quotas', 'alter', '--user', 'alice', '--add-config', 'made_up_rate=1', ...B]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  test('leaders elect: the one broker already leads every partition (ELECTION_NOT_NEEDED), as kcat -L shows', async () => {
    await samsaOk(['topics', 'create', 'elect-me', '--partitions', '2', ...B]);
    const rows = JSON.parse(await samsaOk(['leaders', 'elect', '--topic', 'elect-me', '--json', ...B]));
    expect(rows).toEqual([
      { topic: 'elect-me', partition: 0, errorCode: 84, errorMessage: expect.anything() },
      { topic: 'elect-me', partition: 1, errorCode: 84, errorMessage: expect.anything() },
    ]);
    const md = await kcatMetadata();
    expect(md.topics.find((t) => t.topic === 'elect-me')!.partitions.map((p) => p.leader)).toEqual([md.brokers[0].id, md.brokers[0].id]);
    expect(await samsaOk(['leaders', 'elect', '--topic', 'elect-me', ...B])).toMatch(/already the preferred leader/);
  });

  test('shell completion script', async () => {
    expect(await samsaOk(['completion'])).toMatch(/samsa/);
  });
});
