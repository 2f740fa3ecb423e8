/**
 * kafkajs consumer groups against a real broker process: three members share a six-partition
 * topic and see every message exactly once; a member that leaves, and one that is killed,
 * hand their partitions to the others; committed offsets survive broker restarts (a crash
 * and a clean stop) and consumption resumes exactly where it was committed; the admin API
 * describes, lists and deletes groups and fetches their offsets.
 *
 * Timings (join to stable, rebalance after a kill) are printed, since the issue asks for them.
 */
import { ChildProcess, spawn } from 'child_process';
import * as path from 'path';
import { Admin, Consumer, Kafka, logLevel, Producer } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';

const SESSION_TIMEOUT_MS = 6000;
const CHILD = path.resolve(__dirname, '../helpers/group-consumer-child.js');

interface Received {
  member: string;
  partition: number;
  offset: number;
  value: string;
}

/** A kafkajs group member that records its assignments and what it receives. */
class Member {
  readonly consumer: Consumer;
  partitions: number[] = [];
  joins = 0;
  stopped = false;

  constructor(
    kafka: Kafka,
    readonly name: string,
    readonly groupId: string,
    readonly topic: string,
    readonly sink: Received[],
  ) {
    this.consumer = kafka.consumer({
      groupId,
      sessionTimeout: SESSION_TIMEOUT_MS,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 250,
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.joins++;
      this.partitions = [...(e.payload.memberAssignment[topic] ?? [])].sort((a, b) => a - b);
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        this.sink.push({ member: this.name, partition, offset: Number(message.offset), value: String(message.value) });
      },
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer.disconnect();
  }
}

async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** The group is Stable with exactly these members, whose assignments cover all `partitions` once. */
function assignmentsCover(members: { partitions: number[] }[], partitions: number): boolean {
  const all = members.flatMap((m) => m.partitions).sort((a, b) => a - b);
  return all.length === partitions && all.every((p, i) => p === i);
}

async function stableWith(admin: Admin, groupId: string, members: number): Promise<boolean> {
  const { groups } = await admin.describeGroups([groupId]);
  return groups[0]?.state === 'Stable' && groups[0].members.length === members;
}

async function produceRange(producer: Producer, topic: string, partitions: number, from: number, to: number, tag: string) {
  const messages = [];
  for (let i = from; i < to; i++) messages.push({ partition: i % partitions, key: `k${i}`, value: `${tag}-${i}` });
  await producer.send({ topic, messages });
}

function expectExactlyOnce(received: Received[], tag: string, from: number, to: number): void {
  const counts = new Map<string, number>();
  for (const r of received) if (r.value.startsWith(`${tag}-`)) counts.set(r.value, (counts.get(r.value) ?? 0) + 1);
  const missing: string[] = [];
  const duplicated: string[] = [];
  for (let i = from; i < to; i++) {
    const n = counts.get(`${tag}-${i}`) ?? 0;
    if (n === 0) missing.push(`${tag}-${i}`);
    if (n > 1) duplicated.push(`${tag}-${i} x${n}`);
  }
  expect({ missing: missing.slice(0, 10), duplicated: duplicated.slice(0, 10) }).toEqual({ missing: [], duplicated: [] });
  expect(counts.size).toBe(to - from);
}

async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const res = await admin.fetchOffsets({ groupId, topics: [topic] });
  return res[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
}

describe('kafkajs consumer groups through a real broker', () => {
  let broker: BrokerProcess;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  const members: Member[] = [];
  const children: ChildProcess[] = [];

  const connect = async () => {
    kafka = new Kafka({
      clientId: 'samsa-groups-test',
      brokers: [broker.address],
      logLevel: logLevel.NOTHING,
      retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1000 },
    });
    admin = kafka.admin();
    await admin.connect();
    producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
  };

  beforeAll(async () => {
    broker = await startBrokerProcess();
    await connect();
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const m of members) await m.stop().catch(() => undefined);
    await producer?.disconnect().catch(() => undefined);
    await admin?.disconnect().catch(() => undefined);
    await broker?.stop();
  });

  const newMember = (name: string, groupId: string, topic: string, sink: Received[]) => {
    const m = new Member(kafka, name, groupId, topic, sink);
    members.push(m);
    return m;
  };

  describe('three members on a six-partition topic', () => {
    const GROUP = 'split-group';
    const TOPIC = 'split';
    const received: Received[] = [];
    let a: Member;
    let b: Member;
    let c: Member;

    test('they form one stable group, two partitions each', async () => {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 6 }] });
      a = newMember('a', GROUP, TOPIC, received);
      b = newMember('b', GROUP, TOPIC, received);
      c = newMember('c', GROUP, TOPIC, received);
      const t0 = Date.now();
      await Promise.all([a.start(), b.start(), c.start()]);
      await waitFor('a stable group of three', async () => (await stableWith(admin, GROUP, 3)) && assignmentsCover([a, b, c], 6));
      const ms = Date.now() - t0;
      process.stdout.write(`[measure] 3 kafkajs members: join to stable group in ${ms} ms\n`);
      expect([a, b, c].map((m) => m.partitions.length)).toEqual([2, 2, 2]);

      const { groups } = await admin.describeGroups([GROUP]);
      expect(groups[0]).toMatchObject({ groupId: GROUP, state: 'Stable', protocolType: 'consumer' });
      expect(groups[0].protocol).not.toBe('');
      for (const m of groups[0].members) {
        expect(m.clientHost).toBe('/127.0.0.1');
        expect(m.memberAssignment.length).toBeGreaterThan(0);
        expect(m.memberMetadata.length).toBeGreaterThan(0);
      }
      const listed = await admin.listGroups();
      expect(listed.groups).toContainEqual({ groupId: GROUP, protocolType: 'consumer' });
    });

    test('every message is consumed exactly once, each by the member that owns its partition', async () => {
      await produceRange(producer, TOPIC, 6, 0, 600, 'first');
      await waitFor('600 messages', () => received.filter((r) => r.value.startsWith('first-')).length >= 600);
      await new Promise((r) => setTimeout(r, 500)); // room for duplicates to show up
      expectExactlyOnce(received, 'first', 0, 600);
      for (const r of received) {
        const owner = [a, b, c].find((m) => m.name === r.member) as Member;
        expect(owner.partitions).toContain(r.partition);
      }
      await waitFor('all 600 committed', async () => (await committedTotal(admin, GROUP, TOPIC)) === 600);
    });

    test('a member that leaves hands its partitions to the others', async () => {
      const t0 = Date.now();
      await c.stop();
      await waitFor('two members covering six partitions', async () => (await stableWith(admin, GROUP, 2)) && assignmentsCover([a, b], 6));
      process.stdout.write(`[measure] rebalance after a member left (LeaveGroup): ${Date.now() - t0} ms\n`);
      expect([a.partitions.length, b.partitions.length]).toEqual([3, 3]);
      await produceRange(producer, TOPIC, 6, 0, 300, 'second');
      await waitFor('300 more messages', () => received.filter((r) => r.value.startsWith('second-')).length >= 300);
      await new Promise((r) => setTimeout(r, 300));
      expectExactlyOnce(received, 'second', 0, 300);
      expect(received.filter((r) => r.value.startsWith('second-') && r.member === 'c')).toHaveLength(0);
    });

    test('a killed member (no LeaveGroup) loses its partitions within the session timeout', async () => {
      const child = spawn(process.execPath, [CHILD], {
        env: { ...process.env, SAMSA_BROKER: broker.address, GROUP, TOPIC, SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let childPartitions: number[] = [];
      let out = '';
      child.stdout!.on('data', (d) => {
        out += d.toString();
        let nl: number;
        while ((nl = out.indexOf('\n')) >= 0) {
          const line = out.slice(0, nl);
          out = out.slice(nl + 1);
          const ev = JSON.parse(line) as { event: string; partitions?: number[] };
          if (ev.event === 'joined') childPartitions = ev.partitions ?? [];
        }
      });
      await waitFor('the child in a stable group of three', async () =>
        (await stableWith(admin, GROUP, 3)) && assignmentsCover([a, b, { partitions: childPartitions }], 6),
      );
      expect(childPartitions).toHaveLength(2);

      const t0 = Date.now();
      child.kill('SIGKILL');
      await waitFor(
        'the two survivors covering six partitions',
        async () => (await stableWith(admin, GROUP, 2)) && assignmentsCover([a, b], 6),
        SESSION_TIMEOUT_MS + 10000,
      );
      const ms = Date.now() - t0;
      process.stdout.write(`[measure] rebalance after a member was killed (SIGKILL, session ${SESSION_TIMEOUT_MS} ms): ${ms} ms\n`);
      expect(ms).toBeLessThan(SESSION_TIMEOUT_MS + 5000);
      await produceRange(producer, TOPIC, 6, 0, 300, 'third');
      await waitFor('300 messages after the kill', () => received.filter((r) => r.value.startsWith('third-')).length >= 300);
      await new Promise((r) => setTimeout(r, 300));
      expectExactlyOnce(received, 'third', 0, 300);
    });

    test('a group with members cannot be deleted; once empty it can', async () => {
      await expect(admin.deleteGroups([GROUP])).rejects.toMatchObject({
        groups: [expect.objectContaining({ groupId: GROUP, errorCode: 68 })],
      });
      await a.stop();
      await b.stop();
      await waitFor('the group to be empty', async () => (await admin.describeGroups([GROUP])).groups[0].state === 'Empty');
      expect((await admin.listGroups()).groups).toContainEqual({ groupId: GROUP, protocolType: 'consumer' });
      expect(await admin.deleteGroups([GROUP])).toEqual([expect.objectContaining({ groupId: GROUP, errorCode: 0 })]);
      expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(GROUP);
      expect((await admin.describeGroups([GROUP])).groups[0].state).toBe('Dead');
      const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      expect(offsets[0].partitions.map((p) => p.offset)).toEqual(['-1', '-1', '-1', '-1', '-1', '-1']);
      await expect(admin.deleteGroups([GROUP])).rejects.toMatchObject({
        groups: [expect.objectContaining({ groupId: GROUP, errorCode: 69 })],
      });
    });
  });

  describe('committed offsets survive broker restarts', () => {
    const GROUP = 'durable-group';
    const TOPIC = 'durable';
    const received: Received[] = [];
    let committedBefore: { partition: number; offset: string }[] = [];

    test('a consumer commits, the broker crashes (SIGKILL) and restarts, the consumer carries on', async () => {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] });
      const m = newMember('d1', GROUP, TOPIC, received);
      await m.start();
      await waitFor('the consumer to own all partitions', () => assignmentsCover([m], 3));
      await produceRange(producer, TOPIC, 3, 0, 300, 'before');
      await waitFor('300 messages', () => received.length >= 300);
      await waitFor('300 committed', async () => (await committedTotal(admin, GROUP, TOPIC)) === 300);
      committedBefore = (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0].partitions;

      const port = broker.port;
      await broker.kill();
      broker = await startBrokerProcess({ dataDir: broker.dataDir, port });
      const after = (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0].partitions;
      expect(after).toEqual(committedBefore);

      await produceRange(producer, TOPIC, 3, 300, 600, 'before');
      await waitFor('the 300 produced after the restart', () => received.filter((r) => Number(r.value.slice(7)) >= 300).length >= 300, 30000);
      await new Promise((r) => setTimeout(r, 500));
      // Everything was committed before the crash: nothing may come twice, nothing may be missing.
      expectExactlyOnce(received, 'before', 0, 600);
      await waitFor('600 committed', async () => (await committedTotal(admin, GROUP, TOPIC)) === 600);
      await m.stop();
    });

    test('after a clean restart a new consumer resumes at the committed offsets', async () => {
      await waitFor('the group to be empty', async () => (await admin.describeGroups([GROUP])).groups[0].state === 'Empty');
      await produceRange(producer, TOPIC, 3, 600, 750, 'before');
      await producer.disconnect();
      await admin.disconnect();
      await broker.stop();
      broker = await startBrokerProcess({ dataDir: broker.dataDir });
      await connect();

      const offsets = (await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] }))[0].partitions;
      expect(offsets.reduce((s, p) => s + Number(p.offset), 0)).toBe(600);
      const { groups } = await admin.describeGroups([GROUP]);
      expect(groups[0]).toMatchObject({ state: 'Empty', protocolType: 'consumer' });

      const resumed: Received[] = [];
      const m = newMember('d2', GROUP, TOPIC, resumed);
      await m.start();
      await waitFor('the 150 uncommitted messages', () => resumed.length >= 150);
      await new Promise((r) => setTimeout(r, 500));
      expect(resumed.map((r) => r.value).sort()).toEqual(
        Array.from({ length: 150 }, (_, i) => `before-${600 + i}`).sort(),
      );
      // No gap: each partition continues at its committed offset.
      for (const p of offsets) {
        const first = Math.min(...resumed.filter((r) => r.partition === p.partition).map((r) => r.offset));
        expect(first).toBe(Number(p.offset));
      }
      await m.stop();
    });
  });
});
