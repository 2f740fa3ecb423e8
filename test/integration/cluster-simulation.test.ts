/**
 * The simulated cluster (`samsa serve --brokers 3`) against real clients on real sockets:
 * kcat and kafkajs see three brokers; replicas and leaders are spread; idempotent producers
 * and group consumers keep going while a broker stops and starts and leaders move, with
 * nothing lost and nothing duplicated in the log; a transactional producer survives the stop
 * of its coordinator's broker. On the wire (raw client): NOT_LEADER_OR_FOLLOWER with the
 * KIP-951 hints, offline replicas, NOT_ENOUGH_REPLICAS, OffsetForLeaderEpoch from the epoch
 * history, ElectLeaders, reassignment, NOT_COORDINATOR; state kept across a restart.
 */
import { execFile } from 'child_process';
import { promisify } from 'util';
import { Admin, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { simpleBatch } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';
import { startCluster } from '../../src';

jest.setTimeout(120_000);

const exec = promisify(execFile);
let broker: BrokerProcess;
let kafka: Kafka;
let admin: Admin;
const dataDir = tempDataDir('samsa-cluster-');

async function http(method: 'GET' | 'POST', path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${broker.httpPort}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw Object.assign(new Error(json.error), { status: res.status });
  return json;
}

async function partitions(topic: string): Promise<{ partition: number; leader: number; leaderEpoch: number; replicas: number[]; isr: number[] }[]> {
  return (await http('GET', `/admin/partitions/${topic}`)).partitions;
}

const portOf = (id: number) => broker.brokers.find((b) => b.id === id)!.port;

beforeAll(async () => {
  broker = await startBrokerProcess({ dataDir, args: ['--brokers', '3'] });
  kafka = new Kafka({ clientId: 'cluster-test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 } });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  await admin?.disconnect();
  await broker?.stop();
});

test('the startup line and kcat -L list three brokers', async () => {
  expect(broker.brokers.map((b) => b.id)).toEqual([1, 2, 3]);
  expect(new Set(broker.brokers.map((b) => b.port)).size).toBe(3);
  const { stdout } = await exec('kcat', ['-L', '-b', `127.0.0.1:${portOf(2)}`, '-m', '10']);
  expect(stdout).toContain(' 3 brokers:');
  for (const b of broker.brokers) expect(stdout).toContain(`broker ${b.id} at 127.0.0.1:${b.port}`);
});

test('a topic with 6 partitions and replication factor 3 has leaders on all three brokers', async () => {
  await admin.createTopics({ topics: [{ topic: 'spread', numPartitions: 6, replicationFactor: 3 }], waitForLeaders: true });
  const md = await admin.fetchTopicMetadata({ topics: ['spread'] });
  const ps = md.topics[0].partitions;
  expect(ps).toHaveLength(6);
  expect(new Set(ps.map((p) => p.leader))).toEqual(new Set([1, 2, 3]));
  for (const p of ps) {
    expect([...p.replicas].sort()).toEqual([1, 2, 3]);
    expect([...p.isr].sort()).toEqual([1, 2, 3]);
    expect(p.leader).toBe(p.replicas[0]);
  }
  // A replication factor above the brokers is refused as Kafka refuses it.
  const refused = await admin.createTopics({ topics: [{ topic: 'too-many', numPartitions: 1, replicationFactor: 4 }] }).catch((e) => e);
  expect(refused.errors[0]).toMatchObject({ type: 'INVALID_REPLICATION_FACTOR' });
  // New partitions keep the replication factor and continue the round robin.
  await admin.createPartitions({ topicPartitions: [{ topic: 'spread', count: 9 }] });
  const grown = await partitions('spread');
  expect(grown).toHaveLength(9);
  expect(grown.slice(6).every((p) => p.replicas.length === 3 && p.isr.length === 3)).toBe(true);
  expect(new Set(grown.slice(6).map((p) => p.leader))).toEqual(new Set([1, 2, 3]));
  // An explicit assignment is honoured.
  await admin.createTopics({ topics: [{ topic: 'assigned', replicaAssignment: [{ partition: 0, replicas: [3, 1] }, { partition: 1, replicas: [2, 3] }] }] });
  expect((await partitions('assigned')).map((p) => [p.replicas, p.leader])).toEqual([
    [[3, 1], 3],
    [[2, 3], 2],
  ]);
});

test('a request to a broker that does not lead the partition gets NOT_LEADER_OR_FOLLOWER with the current leader (KIP-951)', async () => {
  const [p0] = await partitions('spread');
  const other = [1, 2, 3].find((id) => id !== p0.leader)!;
  const c = await RawClient.connect(portOf(other));
  try {
    const produce = await c.request(0, 11, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'spread', partitionData: [{ index: 0, records: simpleBatch(1) }] }] });
    const pr = produce.body.responses[0].partitionResponses[0];
    expect(pr.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(pr.currentLeader).toEqual({ leaderId: p0.leader, leaderEpoch: p0.leaderEpoch });
    expect(produce.body.nodeEndpoints).toEqual([{ nodeId: p0.leader, host: '127.0.0.1', port: portOf(p0.leader), rack: null }]);

    const topicId = (await admin.fetchTopicMetadata({ topics: ['spread'] })) && (await c.request(3, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'spread' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).body.topics[0].topicId;
    const fetch = await c.request(1, 16, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    const fp = fetch.body.responses[0].partitions[0];
    expect(fp.errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(fp.currentLeader).toEqual({ leaderId: p0.leader, leaderEpoch: p0.leaderEpoch });
    expect(fetch.body.nodeEndpoints.map((e: { nodeId: number; port: number }) => [e.nodeId, e.port])).toEqual([[p0.leader, portOf(p0.leader)]]);

    const lo = await c.request(2, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 'spread', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1 }] }] });
    expect(lo.body.topics[0].partitions[0].errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const ofle = await c.request(23, 4, { replicaId: -1, topics: [{ topic: 'spread', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] });
    expect(ofle.body.topics[0].partitions[0].errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
  } finally {
    c.close();
  }
});

test('idempotent producers and a consumer group keep going through a broker stop, a start and leader moves: nothing lost, nothing duplicated', async () => {
  const topic = 'failover';
  await admin.createTopics({ topics: [{ topic, numPartitions: 6, replicationFactor: 3 }], waitForLeaders: true });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 1000 } });
  await producer.connect();
  const consumer = kafka.consumer({ groupId: 'failover-group', maxWaitTimeInMs: 200, sessionTimeout: 10000, heartbeatInterval: 500, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Set<string>();
  await consumer.run({ eachMessage: async ({ message }) => void seen.add(String(message.value)) });

  let sent = 0;
  let stop = false;
  // Each send goes to one partition: a kafkajs send that spans brokers loses the messages of a
  // partition whose leader moves to a broker that already answered (kafkajs keeps that answer
  // across retries: tulios/kafkajs#1303, PR #1798); this simulation reproduces it at will.
  let round = 0;
  const sending = (async () => {
    while (!stop) {
      const partition = round++ % 6;
      const batch = Array.from({ length: 10 }, () => ({ partition, value: `v${sent++}` }));
      await producer.send({ topic, messages: batch, acks: -1, compression: CompressionTypes.None });
    }
  })();
  const until = async (n: number) => {
    const deadline = Date.now() + 30_000;
    while (sent < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(sent).toBeGreaterThanOrEqual(n);
  };
  await until(200);
  await http('POST', '/admin/brokers/2/stop');
  const afterStop = sent;
  await until(afterStop + 200);
  expect((await partitions(topic)).every((p) => p.leader !== 2 && !p.isr.includes(2))).toBe(true);
  await http('POST', '/admin/brokers/2/start');
  await http('POST', `/admin/partitions/${topic}/0/leader`, { leader: 3 });
  await until(sent + 200);
  await http('POST', '/admin/leaders/elect');
  await until(sent + 200);
  stop = true;
  await sending;
  await producer.disconnect();

  // The log itself holds every value exactly once (idempotence across the leader changes).
  const reader = kafka.consumer({ groupId: 'failover-audit', maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  const inLog: string[] = [];
  await reader.run({ eachMessage: async ({ message }) => void inLog.push(String(message.value)) });
  const auditEnd = Date.now() + 30_000;
  while (inLog.length < sent && Date.now() < auditEnd) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  await reader.disconnect();
  expect(new Set(inLog).size).toBe(inLog.length);
  const expected = Array.from({ length: sent }, (_, i) => `v${i}`);
  const deadline = Date.now() + 30_000;
  while (seen.size < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  expect([...inLog].sort()).toEqual([...expected].sort());
  expect([...seen].sort()).toEqual([...expected].sort());
  // Every partition is back on its preferred leader, all replicas in sync, epochs advanced.
  const final = await partitions(topic);
  for (const p of final) {
    expect(p.leader).toBe(p.replicas[0]);
    expect([...p.isr].sort()).toEqual([1, 2, 3]);
  }
  expect(final.some((p) => p.leaderEpoch > 0)).toBe(true);
});

test('a transactional producer survives the stop of its coordinator broker', async () => {
  const topic = 'txn-failover';
  await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  const producer = kafka.producer({ transactionalId: 'survivor', idempotent: true, maxInFlightRequests: 1, retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 1000 } });
  await producer.connect();
  let txn = await producer.transaction();
  await txn.send({ topic, messages: [{ value: 'a' }, { value: 'b' }] });
  await txn.commit();
  const coordinator = (await partitions('__transaction_state'))[0].leader;
  await http('POST', `/admin/brokers/${coordinator}/stop`);
  try {
    const moved = (await partitions('__transaction_state'))[0].leader;
    expect(moved).not.toBe(coordinator);
    expect(moved).not.toBe(-1);
    txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: 'c' }] });
    await txn.commit();
    txn = await producer.transaction();
    await txn.send({ topic, messages: [{ value: 'aborted' }] });
    await txn.abort();
  } finally {
    await http('POST', `/admin/brokers/${coordinator}/start`);
  }
  await producer.disconnect();
  const reader = kafka.consumer({ groupId: 'txn-failover-reader', readUncommitted: false, maxWaitTimeInMs: 100 });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  const got: string[] = [];
  await reader.run({ eachMessage: async ({ message }) => void got.push(String(message.value)) });
  const deadline = Date.now() + 20_000;
  while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 500));
  await reader.disconnect();
  expect(got.sort()).toEqual(['a', 'b', 'c']);
});

test('group requests to a broker that is not the coordinator get NOT_COORDINATOR; FindCoordinator names the right one', async () => {
  const c = await RawClient.connect(portOf(1));
  try {
    const found = await c.request(10, 4, { keyType: 0, coordinatorKeys: ['some-group'] });
    const coord = found.body.coordinators[0];
    expect(coord.errorCode).toBe(0);
    const offsets = await partitions('__consumer_offsets');
    expect(offsets.some((p) => p.leader === coord.nodeId)).toBe(true);
    expect(coord.port).toBe(portOf(coord.nodeId));
    const other = [1, 2, 3].find((id) => id !== coord.nodeId)!;
    const o = await RawClient.connect(portOf(other));
    try {
      const hb = await o.request(12, 4, { groupId: 'some-group', generationId: 1, memberId: 'm', groupInstanceId: null });
      expect(hb.body.errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    } finally {
      o.close();
    }
  } finally {
    c.close();
  }
});

test('a stopped broker: offline replicas, leader -1 when no in-sync replica is up, NOT_ENOUGH_REPLICAS below min.insync.replicas', async () => {
  await admin.createTopics({
    topics: [
      { topic: 'single', replicaAssignment: [{ partition: 0, replicas: [3] }] },
      { topic: 'strict', numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] },
    ],
  });
  const leader = (await partitions('strict'))[0].leader;
  const stopped = [1, 2].find((id) => id !== leader) ?? 3;
  await http('POST', '/admin/brokers/3/stop');
  try {
    const live = [1, 2].find((id) => id !== 3)!;
    const c = await RawClient.connect(portOf(live));
    try {
      const md = await c.request(3, 12, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'single' }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'strict' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.body.brokers.map((b: { nodeId: number }) => b.nodeId).sort()).toEqual([1, 2]);
      const single = md.body.topics.find((t: { name: string }) => t.name === 'single').partitions[0];
      expect(single).toMatchObject({ errorCode: ErrorCode.LEADER_NOT_AVAILABLE, leaderId: -1, replicaNodes: [3], offlineReplicas: [3] });
      const strict = md.body.topics.find((t: { name: string }) => t.name === 'strict').partitions[0];
      expect(strict.offlineReplicas).toEqual([3]);
      expect(strict.isrNodes).not.toContain(3);
      const lc = await RawClient.connect(portOf(strict.leaderId));
      try {
        const r = await lc.request(0, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'strict', partitionData: [{ index: 0, records: simpleBatch(1) }] }] });
        expect(r.body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
        const one = await lc.request(0, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'strict', partitionData: [{ index: 0, records: simpleBatch(1) }] }] });
        expect(one.body.responses[0].partitionResponses[0].errorCode).toBe(0);
      } finally {
        lc.close();
      }
    } finally {
      c.close();
    }
    void stopped;
  } finally {
    await http('POST', '/admin/brokers/3/start');
  }
  // The last in-sync replica came back: it leads again, with a newer epoch.
  const single = (await partitions('single'))[0];
  expect(single.leader).toBe(3);
  expect(single.leaderEpoch).toBe(2);
});

test('leader epochs advance with each move and OffsetForLeaderEpoch answers from the epoch history; ElectLeaders and reassignment work', async () => {
  await admin.createTopics({ topics: [{ topic: 'epochs', replicaAssignment: [{ partition: 0, replicas: [1, 2, 3] }] }] });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: 'epochs', messages: [{ value: '1' }, { value: '2' }] }); // epoch 0: offsets 0-1
  await http('POST', '/admin/partitions/epochs/0/leader', { leader: 2 }); // epoch 1 from 2
  await producer.send({ topic: 'epochs', messages: [{ value: '3' }] }); // epoch 1: offset 2
  await http('POST', '/admin/partitions/epochs/0/leader', { leader: 3 }); // epoch 2 from 3
  await producer.send({ topic: 'epochs', messages: [{ value: '4' }, { value: '5' }] });
  await producer.disconnect();
  const [p] = await partitions('epochs');
  expect(p).toMatchObject({ leader: 3, leaderEpoch: 2 });
  const c = await RawClient.connect(portOf(3));
  try {
    const ask = async (leaderEpoch: number) =>
      (await c.request(23, 4, { replicaId: -1, topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: 2, leaderEpoch }] }] })).body.topics[0].partitions[0];
    expect(await ask(0)).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 2 });
    expect(await ask(1)).toMatchObject({ errorCode: 0, leaderEpoch: 1, endOffset: 3 });
    expect(await ask(2)).toMatchObject({ errorCode: 0, leaderEpoch: 2, endOffset: 5 });
    expect(await ask(3)).toMatchObject({ leaderEpoch: -1, endOffset: -1 });
    // The leader epoch is stamped into each stored batch.
    const fetched = await c.request(1, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'epochs', partitions: [{ partition: 0, currentLeaderEpoch: 2, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const records: Buffer = fetched.body.responses[0].partitions[0].records;
    const epochs: number[] = [];
    for (let pos = 0; pos + 61 <= records.length; pos += 12 + records.readInt32BE(pos + 8)) epochs.push(records.readInt32BE(pos + 12));
    expect(epochs).toEqual([0, 1, 2]);
    // Preferred election brings leadership back to broker 1.
    const elect = await c.request(43, 2, { electionType: 0, topicPartitions: [{ topic: 'epochs', partitions: [0] }], timeoutMs: 1000 });
    expect(elect.body.replicaElectionResults[0].partitionResult[0]).toMatchObject({ partitionId: 0, errorCode: 0 });
    const again = await c.request(43, 2, { electionType: 0, topicPartitions: [{ topic: 'epochs', partitions: [0] }], timeoutMs: 1000 });
    expect(again.body.replicaElectionResults[0].partitionResult[0].errorCode).toBe(ErrorCode.ELECTION_NOT_NEEDED);
    // Reassignment to [2, 3]: the leader (1) is no longer a replica, so 2 takes over.
    const re = await c.request(45, 0, { timeoutMs: 1000, topics: [{ name: 'epochs', partitions: [{ partitionIndex: 0, replicas: [2, 3] }] }] });
    expect(re.body.responses[0].partitions[0].errorCode).toBe(0);
    expect((await partitions('epochs'))[0]).toMatchObject({ replicas: [2, 3], isr: [2, 3], leader: 2, leaderEpoch: 4 });
    const listed = await c.request(46, 0, { timeoutMs: 1000, topics: null });
    expect(listed.body.topics).toEqual([]);
    // DescribeCluster lists all three; DescribeLogDirs of broker 1 no longer holds 'epochs'.
    const dc = await c.request(60, 1, { includeClusterAuthorizedOperations: false, endpointType: 1 });
    expect(dc.body.brokers.map((b: { brokerId: number }) => b.brokerId).sort()).toEqual([1, 2, 3]);
  } finally {
    c.close();
  }
  const one = await RawClient.connect(portOf(1));
  try {
    const dirs = await one.request(35, 4, { topics: [{ topic: 'epochs', partitions: [0] }] });
    expect(dirs.body.results[0].topics).toEqual([]);
  } finally {
    one.close();
  }
});

test('replicas, leaders and leader epochs survive a restart of the process', async () => {
  const before = await partitions('epochs');
  const spread = await partitions('spread');
  await admin.disconnect();
  await broker.stop();
  broker = await startBrokerProcess({ dataDir, args: ['--brokers', '3'] });
  kafka = new Kafka({ clientId: 'cluster-test', brokers: broker.bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
  admin = kafka.admin();
  await admin.connect();
  expect(await partitions('epochs')).toEqual(before);
  expect(await partitions('spread')).toEqual(spread);
});

test('samsa brokers and samsa partitions drive the cluster over its HTTP endpoint', async () => {
  const cli = (...args: string[]) => exec(process.execPath, [require.resolve('../../dist/src/cli/main.js'), ...args, '--admin-url', `http://127.0.0.1:${broker.httpPort}`]);
  const listed = (await cli('brokers', 'list')).stdout;
  for (const b of broker.brokers) expect(listed).toMatch(new RegExp(`^${b.id}\\s+127\\.0\\.0\\.1:${b.port}\\s+up`, 'm'));
  expect((await cli('brokers', 'stop', '3')).stdout).toContain('broker 3 stopped');
  expect((await cli('brokers', 'list', '--json')).stdout).toContain('"id":3,"host":"127.0.0.1","port":' + portOf(3));
  expect(JSON.parse((await cli('brokers', 'list', '--json')).stdout).brokers.find((b: { id: number }) => b.id === 3).up).toBe(false);
  expect((await cli('brokers', 'start', '3')).stdout).toContain('broker 3 started');
  const before = (await partitions('spread'))[1];
  const target = before.replicas.find((r) => r !== before.leader)!;
  expect((await cli('partitions', 'move-leader', 'spread', '1', String(target))).stdout).toBe(`spread partition 1: leader ${target} epoch ${before.leaderEpoch + 1}\n`);
  expect((await cli('partitions', 'describe', 'spread')).stdout).toContain(`spread partition 1: leader ${target} epoch ${before.leaderEpoch + 1}`);
  expect((await cli('partitions', 'elect')).stdout).toMatch(/partition\(s\) moved to their preferred leader/);
  await expect(cli('brokers', 'stop', '7')).rejects.toMatchObject({ stderr: expect.stringContaining('No broker 7') });
});

test('HTTP admin errors: unknown broker 404, a leader that is not a replica 400', async () => {
  await expect(http('POST', '/admin/brokers/9/stop')).rejects.toMatchObject({ status: 404 });
  await expect(http('POST', '/admin/partitions/epochs/0/leader', { leader: 1 })).rejects.toMatchObject({ status: 400 });
  await expect(http('POST', '/admin/partitions/nope/0/leader', { leader: 1 })).rejects.toMatchObject({ status: 404 });
});

test('startCluster runs a cluster in-process: the TypeScript API', async () => {
  const cluster = await startCluster({
    brokers: 3,
    port: 0,
    dataDir: tempDataDir('samsa-cluster-inproc-'),
    brokerProperties: { 'leader.imbalance.check.interval.seconds': '1' },
  });
  const k = new Kafka({ clientId: 'inproc', brokers: cluster.bootstrapServers.split(','), logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100 } });
  const a = k.admin();
  try {
    await a.connect();
    await a.createTopics({ topics: [{ topic: 'inproc', numPartitions: 3, replicationFactor: 2 }], waitForLeaders: true });
    expect((await a.describeCluster()).brokers).toHaveLength(3);
    const led = cluster.state.topics.get('inproc')!.partitions.map((p) => p.leader);
    await cluster.stopBroker(led[0]);
    expect(cluster.brokers().find((b) => b.id === led[0])!.up).toBe(false);
    expect(cluster.state.topics.get('inproc')!.partitions[0].leader).not.toBe(led[0]);
    const p = k.producer({ idempotent: true });
    await p.connect();
    await p.send({ topic: 'inproc', messages: [{ partition: 0, value: 'x' }] });
    await p.disconnect();
    await cluster.startBroker(led[0]);
    // auto.leader.rebalance.enable (on, as in Kafka): the restarted broker gets its partitions back.
    const partitions = cluster.state.topics.get('inproc')!.partitions;
    const deadline = Date.now() + 15_000;
    while (partitions.some((x) => x.leader !== x.replicas[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(partitions.map((x) => x.leader)).toEqual(led);
    const replicas = partitions[0].replicas;
    expect(cluster.movePartitionLeader('inproc', 0, replicas[1])).toMatchObject({ leader: replicas[1] });
  } finally {
    await a.disconnect();
    await cluster.close();
  }
});
