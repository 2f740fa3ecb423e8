/**
 * Streams groups (KIP-1071) on a real broker, driven by a raw client (no installed client
 * speaks StreamsGroupHeartbeat): joining with a topology creates the internal topics and
 * assigns every task; a second member gets tasks only after the first revoked them; standby
 * tasks go to another process; errors and statuses as Kafka; describe, list, delete, offset
 * commits with member epochs, and the endpoint map for interactive queries.
 */
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';

const METADATA = 3;
const OFFSET_COMMIT = 8;
const OFFSET_FETCH = 9;
const LIST_GROUPS = 16;
const DELETE_GROUPS = 42;
const INCREMENTAL_ALTER_CONFIGS = 44;
const HEARTBEAT = 88;
const DESCRIBE = 89;

const E = {
  NONE: 0,
  INVALID_REQUEST: 42,
  UNKNOWN_MEMBER_ID: 25,
  FENCED_MEMBER_EPOCH: 110,
  STALE_MEMBER_EPOCH: 113,
  NON_EMPTY_GROUP: 68,
  STREAMS_INVALID_TOPOLOGY: 130,
  GROUP_ID_NOT_FOUND: 69,
};

type Tasks = { subtopologyId: string; partitions: number[] }[];

function topology(app: string, source: string, epoch = 1) {
  return {
    epoch,
    subtopologies: [
      {
        subtopologyId: '0',
        sourceTopics: [source],
        sourceTopicRegex: [],
        stateChangelogTopics: [{ name: `${app}-store-changelog`, partitions: 0, replicationFactor: -1, topicConfigs: [{ key: 'cleanup.policy', value: 'compact' }] }],
        repartitionSinkTopics: [`${app}-repartition`],
        repartitionSourceTopics: [],
        copartitionGroups: [],
      },
      {
        subtopologyId: '1',
        sourceTopics: [],
        sourceTopicRegex: [],
        stateChangelogTopics: [{ name: `${app}-agg-changelog`, partitions: 0, replicationFactor: -1, topicConfigs: [] }],
        repartitionSinkTopics: [],
        repartitionSourceTopics: [{ name: `${app}-repartition`, partitions: 0, replicationFactor: -1, topicConfigs: [] }],
        copartitionGroups: [],
      },
    ],
  };
}

function heartbeat(overrides: Record<string, unknown>) {
  return {
    groupId: 'app',
    memberId: 'm',
    memberEpoch: 0,
    endpointInformationEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: 30000,
    topology: null,
    activeTasks: [],
    standbyTasks: [],
    warmupTasks: [],
    processId: 'p',
    userEndpoint: null,
    clientTags: null,
    taskOffsets: null,
    taskEndOffsets: null,
    shutdownApplication: false,
    ...overrides,
  };
}

const flat = (tasks: Tasks | null) => (tasks ?? []).flatMap((t) => t.partitions.map((p) => `${t.subtopologyId}:${p}`)).sort();

describe('streams groups (KIP-1071)', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  const hb = async (o: Record<string, unknown>) => (await c.request(HEARTBEAT, 0, heartbeat(o))).body;

  beforeAll(async () => {
    broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
    const admin = new Kafka({ brokers: [broker.address], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'clicks', numPartitions: 2 }] });
    await admin.disconnect();
    c = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('join creates internal topics and assigns every task; a second member gets tasks only after revocation', async () => {
    const a = await hb({ groupId: 'app', memberId: 'a', processId: 'pa', topology: topology('app', 'orders'), userEndpoint: { host: 'a.local', port: 8080 } });
    expect(a.errorCode).toBe(E.NONE);
    expect(a.memberEpoch).toBeGreaterThan(0);
    expect(a.status).toEqual([]);
    expect(flat(a.activeTasks)).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2']);
    expect(a.heartbeatIntervalMs).toBe(5000);

    // Repartition and changelog topics now exist with one partition per task.
    const md = (await c.request(METADATA, 12, { topics: ['app-repartition', 'app-store-changelog', 'app-agg-changelog'].map((name) => ({ name, topicId: 'AAAAAAAAAAAAAAAAAAAAAA' })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).body;
    expect(md.topics.map((t: any) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      ['app-repartition', 0, 3],
      ['app-store-changelog', 0, 3],
      ['app-agg-changelog', 0, 3],
    ]);

    const b1 = await hb({ groupId: 'app', memberId: 'b', processId: 'pb', topology: topology('app', 'orders'), userEndpoint: { host: 'b.local', port: 8080 } });
    expect(b1.errorCode).toBe(E.NONE);
    // a still holds everything: b gets nothing yet.
    expect(flat(b1.activeTasks)).toEqual([]);

    // a is told to keep only its share, at the same epoch, until it reports the rest gone.
    const a2 = await hb({ groupId: 'app', memberId: 'a', memberEpoch: a.memberEpoch, activeTasks: a.activeTasks, standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    expect(a2.errorCode).toBe(E.NONE);
    expect(a2.memberEpoch).toBe(a.memberEpoch);
    const kept = flat(a2.activeTasks);
    expect(kept.length).toBe(3);
    const a3 = await hb({ groupId: 'app', memberId: 'a', memberEpoch: a2.memberEpoch, activeTasks: a2.activeTasks, standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    expect(a3.memberEpoch).toBeGreaterThan(a.memberEpoch);

    const b2 = await hb({ groupId: 'app', memberId: 'b', memberEpoch: b1.memberEpoch, activeTasks: [], standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    const taken = flat(b2.activeTasks);
    expect(taken.length).toBe(3);
    expect([...kept, ...taken].sort()).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2']);

    // The endpoint map: each member's active partitions of the topics its tasks read.
    const b3 = await hb({ groupId: 'app', memberId: 'b', memberEpoch: b2.memberEpoch, endpointInformationEpoch: 0, activeTasks: b2.activeTasks, standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    expect(b3.endpointInformationEpoch).toBeGreaterThan(0);
    const hosts = (b3.partitionsByUserEndpoint as any[]).map((e) => e.userEndpoint.host).sort();
    expect(hosts).toEqual(['a.local', 'b.local']);
    const bEntry = (b3.partitionsByUserEndpoint as any[]).find((e) => e.userEndpoint.host === 'b.local');
    const bTopics = bEntry.activePartitions.map((t: any) => t.topic).sort();
    expect(bTopics.every((t: string) => ['orders', 'app-repartition'].includes(t))).toBe(true);
    // Up to date: no map sent.
    const b4 = await hb({ groupId: 'app', memberId: 'b', memberEpoch: b3.memberEpoch, endpointInformationEpoch: b3.endpointInformationEpoch, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect(b4.partitionsByUserEndpoint).toBeNull();

    // Describe: both members, the resolved topology, stable.
    const d = (await c.request(DESCRIBE, 0, { groupIds: ['app', 'nope'], includeAuthorizedOperations: false })).body.groups;
    expect(d[0]).toMatchObject({ errorCode: 0, groupId: 'app', groupState: 'Stable' });
    expect(d[0].members.map((m: any) => m.memberId).sort()).toEqual(['a', 'b']);
    const sub1 = d[0].topology.subtopologies.find((s: any) => s.subtopologyId === '1');
    expect(sub1.repartitionSourceTopics[0]).toMatchObject({ name: 'app-repartition', partitions: 3 });
    expect(d[1]).toMatchObject({ errorCode: 69, groupId: 'nope' });

    // Offsets are committed with the member epoch; a stale one is refused.
    const commit = async (epoch: number) =>
      (await c.request(OFFSET_COMMIT, 9, { groupId: 'app', generationIdOrMemberEpoch: epoch, memberId: 'b', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: '' }] }] })).body
        .topics[0].partitions[0].errorCode;
    expect(await commit(b4.memberEpoch)).toBe(E.NONE);
    expect(await commit(b4.memberEpoch - 1)).toBe(E.STALE_MEMBER_EPOCH);

    const listed = (await c.request(LIST_GROUPS, 5, { statesFilter: [], typesFilter: ['streams'] })).body.groups;
    expect(listed).toEqual([expect.objectContaining({ groupId: 'app', groupType: 'streams', groupState: 'Stable' })]);
    expect((await c.request(DELETE_GROUPS, 2, { groupsNames: ['app'] })).body.results[0].errorCode).toBe(E.NON_EMPTY_GROUP);

    // a leaves: b ends up with every task.
    const left = await hb({ groupId: 'app', memberId: 'a', memberEpoch: -1, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect(left).toMatchObject({ errorCode: 0, memberEpoch: -1 });
    const b5 = await hb({ groupId: 'app', memberId: 'b', memberEpoch: b4.memberEpoch, activeTasks: b2.activeTasks, standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    expect(flat(b5.activeTasks)).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2']);
    // A fenced epoch.
    const fenced = await hb({ groupId: 'app', memberId: 'b', memberEpoch: b5.memberEpoch + 5, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect(fenced.errorCode).toBe(E.FENCED_MEMBER_EPOCH);
    // An older topology epoch joins under the group's topology and is told it is stale.
    const old = await hb({ groupId: 'app', memberId: 'c', processId: 'pc', topology: topology('app', 'orders', 0) });
    expect(old.errorCode).toBe(E.NONE);
    expect(old.status).toEqual([{ statusCode: 0, statusDetail: "The member's topology epoch 0 is behind the group's topology epoch 1." }]);
  });

  test('standby tasks go to another process; missing source topics make the group not ready', async () => {
    const set = await c.request(INCREMENTAL_ALTER_CONFIGS, 1, {
      resources: [{ resourceType: 32, resourceName: 'standby-app', configs: [{ name: 'streams.num.standby.replicas', configOperation: 0, value: '1' }] }],
      validateOnly: false,
    });
    expect(set.body.responses[0].errorCode).toBe(0);
    const x = await hb({ groupId: 'standby-app', memberId: 'x', processId: 'px', topology: topology('sb', 'clicks') });
    expect(flat(x.activeTasks).length).toBe(4);
    expect(flat(x.standbyTasks)).toEqual([]);
    const y = await hb({ groupId: 'standby-app', memberId: 'y', processId: 'py', topology: topology('sb', 'clicks') });
    // x revokes, y takes, then both hold standbys of the other's active tasks.
    let xs = await hb({ groupId: 'standby-app', memberId: 'x', memberEpoch: x.memberEpoch, activeTasks: x.activeTasks, standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    xs = await hb({ groupId: 'standby-app', memberId: 'x', memberEpoch: xs.memberEpoch, activeTasks: xs.activeTasks, standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    const ys = await hb({ groupId: 'standby-app', memberId: 'y', memberEpoch: y.memberEpoch, activeTasks: [], standbyTasks: [], warmupTasks: [], processId: null, topology: null });
    const d = (await c.request(DESCRIBE, 0, { groupIds: ['standby-app'], includeAuthorizedOperations: false })).body.groups[0];
    const byId = Object.fromEntries(d.members.map((m: any) => [m.memberId, m]));
    const xActive = flat(byId.x.targetAssignment.activeTasks);
    const yActive = flat(byId.y.targetAssignment.activeTasks);
    expect(flat(byId.x.targetAssignment.standbyTasks)).toEqual(yActive);
    expect(flat(byId.y.targetAssignment.standbyTasks)).toEqual(xActive);
    expect(xActive.length + yActive.length).toBe(4);
    expect(ys.errorCode).toBe(0);

    const missing = await hb({ groupId: 'missing-app', memberId: 'z', processId: 'pz', topology: topology('ms', 'no-such-topic') });
    expect(missing.errorCode).toBe(0);
    expect(missing.status).toEqual([expect.objectContaining({ statusCode: 1 })]);
    expect(flat(missing.activeTasks)).toEqual([]);
    const dm = (await c.request(DESCRIBE, 0, { groupIds: ['missing-app'], includeAuthorizedOperations: false })).body.groups[0];
    expect(dm.groupState).toBe('NotReady');
  });

  test('requests Kafka refuses, with its messages', async () => {
    const join = (o: Record<string, unknown>) => hb({ groupId: 'bad', memberId: 'q', topology: topology('bad', 'orders'), ...o });
    const answer = async (o: Record<string, unknown>) => {
      const r = await join(o);
      // As Kafka, a refusal carries the error only.
      expect([r.memberId, r.memberEpoch, r.heartbeatIntervalMs, r.activeTasks]).toEqual(['', 0, 0, null]);
      return [r.errorCode, r.errorMessage];
    };
    const regex = topology('bad', 'orders');
    regex.subtopologies[0].sourceTopicRegex = ['ord.*'] as never[];
    const sizedChangelog = topology('bad', 'orders');
    sizedChangelog.subtopologies[0].stateChangelogTopics[0].partitions = 3;
    const rows: [Record<string, unknown>, number, string][] = [
      [{ topology: regex }, E.INVALID_REQUEST, 'Regular expressions for source topics are not supported yet.'],
      [{ memberId: '', groupId: '' }, E.INVALID_REQUEST, "MemberId can't be empty."],
      [{ groupId: '' }, E.INVALID_REQUEST, "GroupId can't be empty."],
      [{ instanceId: '' }, E.INVALID_REQUEST, "InstanceId can't be empty."],
      [{ rackId: '' }, E.INVALID_REQUEST, "RackId can't be empty."],
      [{ rebalanceTimeoutMs: -1 }, E.INVALID_REQUEST, 'RebalanceTimeoutMs must be provided in first request.'],
      [{ activeTasks: null }, E.INVALID_REQUEST, 'ActiveTasks must be empty when (re-)joining.'],
      [{ standbyTasks: [{ subtopologyId: '0', partitions: [0] }] }, E.INVALID_REQUEST, 'StandbyTasks must be empty when (re-)joining.'],
      [{ warmupTasks: null }, E.INVALID_REQUEST, 'WarmupTasks must be empty when (re-)joining.'],
      [{ topology: null }, E.INVALID_REQUEST, 'Topology must be non-null when (re-)joining.'],
      [{ topology: sizedChangelog }, E.STREAMS_INVALID_TOPOLOGY, 'Changelog topic bad-store-changelog must have an undefined partition count, but it is set to 3.'],
      [{ memberEpoch: -2, topology: null, activeTasks: null, standbyTasks: null, warmupTasks: null }, E.INVALID_REQUEST, "InstanceId can't be null."],
      [{ memberEpoch: -3, topology: null }, E.INVALID_REQUEST, 'MemberEpoch is -3, but must be greater than or equal to -2.'],
      [{ memberEpoch: 4, topology: null, activeTasks: null }, E.INVALID_REQUEST, 'If one task-type is non-null, all must be non-null.'],
      [{ memberEpoch: 4, activeTasks: null, standbyTasks: null, warmupTasks: null }, E.INVALID_REQUEST, 'Topology can only be provided when (re-)joining.'],
      [{ memberEpoch: 4, topology: null }, E.GROUP_ID_NOT_FOUND, 'Streams group bad not found.'],
      [{ memberEpoch: -1, topology: null }, E.GROUP_ID_NOT_FOUND, 'Group bad not found.'],
    ];
    for (const [o, code, message] of rows) expect([o, await answer(o)]).toEqual([o, [code, message]]);
    const dup = topology('dup', 'orders');
    dup.subtopologies[1].subtopologyId = '0';
    expect((await join({ topology: dup })).errorCode).toBe(E.STREAMS_INVALID_TOPOLOGY);
    // An unknown member of an existing group.
    expect((await hb({ groupId: 'app', memberId: 'q', memberEpoch: 4, topology: null, activeTasks: null, standbyTasks: null, warmupTasks: null })).errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test('topology rules: a changed topology is refused, a stale one is flagged', async () => {
    const first = await hb({ groupId: 'topo', memberId: 't1', topology: topology('topo', 'orders', 2) });
    expect(first.errorCode).toBe(E.NONE);
    const newer = await hb({ groupId: 'topo', memberId: 't2', topology: topology('topo', 'orders', 3) });
    expect([newer.errorCode, newer.errorMessage]).toEqual([E.INVALID_REQUEST, 'Topology updates are not supported yet.']);
    const other = await hb({ groupId: 'topo', memberId: 't2', topology: topology('topo', 'clicks', 2) });
    expect([other.errorCode, other.errorMessage]).toEqual([E.INVALID_REQUEST, 'Topology updates are not supported yet.']);
    const stale = await hb({ groupId: 'topo', memberId: 't2', topology: topology('topo', 'clicks', 1) });
    expect(stale.errorCode).toBe(E.NONE);
    expect(stale.status.map((x: any) => x.statusCode)).toEqual([0]);
    // Heartbeats of t2 keep saying so: its topology is behind the group's.
    const again = await hb({ groupId: 'topo', memberId: 't2', memberEpoch: stale.memberEpoch, activeTasks: null, standbyTasks: null, warmupTasks: null, topology: null, processId: null });
    expect(again.status.map((x: any) => x.statusCode)).toEqual([0]);
  });

  test('member epoch fencing, owned tasks checked against the topology, shutdown requests', async () => {
    const none = { activeTasks: null, standbyTasks: null, warmupTasks: null, topology: null, processId: null };
    const f1 = await hb({ groupId: 'fence', memberId: 'f1', processId: 'pf1', topology: topology('fence', 'orders') });
    const f1b = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1.memberEpoch, ...none });
    expect(f1b.errorCode).toBe(E.NONE);
    // A second member moves the group on; f1 at its previous epoch is accepted only with tasks it was given.
    await hb({ groupId: 'fence', memberId: 'f2', processId: 'pf2', topology: topology('fence', 'orders') });
    const owned = { activeTasks: f1.activeTasks, standbyTasks: [], warmupTasks: [] };
    const f1c = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1.memberEpoch, ...none, ...owned });
    const f1d = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1c.memberEpoch, ...none, activeTasks: f1c.activeTasks, standbyTasks: [], warmupTasks: [] });
    expect(f1d.memberEpoch).toBeGreaterThan(f1.memberEpoch);
    const wrongStandby = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1.memberEpoch, ...none, activeTasks: [], standbyTasks: [{ subtopologyId: '0', partitions: [0] }], warmupTasks: [] });
    expect([wrongStandby.errorCode, wrongStandby.errorMessage]).toEqual([
      E.FENCED_MEMBER_EPOCH,
      `The streams group member has a smaller member epoch (${f1.memberEpoch}) than the one known by the group coordinator (${f1d.memberEpoch}). The member must abandon all its partitions and rejoin.`,
    ]);
    const ahead = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1d.memberEpoch + 1, ...none });
    expect(ahead.errorMessage).toBe(`The streams group member has a greater member epoch (${f1d.memberEpoch + 1}) than the one known by the group coordinator (${f1d.memberEpoch}). The member must abandon all its partitions and rejoin.`);
    // Tasks outside the topology.
    const unknownSub = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1d.memberEpoch, ...none, activeTasks: [{ subtopologyId: '7', partitions: [0] }], standbyTasks: [], warmupTasks: [] });
    expect([unknownSub.errorCode, unknownSub.errorMessage]).toEqual([E.INVALID_REQUEST, 'Subtopology 7 does not exist in the topology.']);
    const badPartition = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1d.memberEpoch, ...none, activeTasks: [{ subtopologyId: '0', partitions: [3] }], standbyTasks: [], warmupTasks: [] });
    expect([badPartition.errorCode, badPartition.errorMessage]).toEqual([E.INVALID_REQUEST, 'Task 3 for subtopology 0 is invalid. Number of tasks for this subtopology: 3']);
    // A shutdown request is passed on to every member, naming the one that asked.
    const shut = await hb({ groupId: 'fence', memberId: 'f1', memberEpoch: f1d.memberEpoch, ...none, shutdownApplication: true });
    const detail = 'Streams group member f1 encountered a fatal error and requested a shutdown for the entire application.';
    expect(shut.status).toEqual([{ statusCode: 4, statusDetail: detail }]);
  });

  test('the endpoint map leaves out partitions a smaller input topic does not have', async () => {
    const t = topology('ep', 'orders');
    t.subtopologies = [{ ...t.subtopologies[0], sourceTopics: ['orders', 'clicks'], repartitionSinkTopics: [], stateChangelogTopics: [] }];
    const r = await hb({ groupId: 'ep', memberId: 'e', processId: 'pe', topology: t, userEndpoint: { host: 'e.local', port: 1 } });
    expect(flat(r.activeTasks)).toEqual(['0:0', '0:1', '0:2']);
    const r2 = await hb({ groupId: 'ep', memberId: 'e', memberEpoch: r.memberEpoch, endpointInformationEpoch: 0, activeTasks: r.activeTasks, standbyTasks: [], warmupTasks: [], topology: null, processId: null });
    const entry = (r2.partitionsByUserEndpoint as any[])[0];
    expect(entry.activePartitions).toEqual([
      { topic: 'clicks', partitions: [0, 1] },
      { topic: 'orders', partitions: [0, 1, 2] },
    ]);
  });

  test('an id holding only committed offsets becomes a streams group on the first join and keeps them', async () => {
    const committed = (await c.request(OFFSET_COMMIT, 9, { groupId: 'conv', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 7, committedLeaderEpoch: -1, committedMetadata: '' }] }] })).body;
    expect(committed.topics[0].partitions[0].errorCode).toBe(E.NONE);
    const j = await hb({ groupId: 'conv', memberId: 'v', processId: 'pv', topology: topology('conv', 'orders') });
    expect(j.errorCode).toBe(E.NONE);
    const fetched = (await c.request(OFFSET_FETCH, 8, { groups: [{ groupId: 'conv', memberId: null, memberEpoch: -1, topics: [{ name: 'orders', partitionIndexes: [1] }] }], requireStable: false })).body;
    expect(fetched.groups[0].topics[0].partitions[0].committedOffset).toBe(7);
  });

  test('active tasks stay balanced when members join one by one', async () => {
    for (const id of ['b1', 'b2', 'b3', 'b4']) {
      expect((await hb({ groupId: 'bal', memberId: id, processId: `p-${id}`, topology: topology('bal', 'orders') })).errorCode).toBe(E.NONE);
    }
    const d = (await c.request(DESCRIBE, 0, { groupIds: ['bal'], includeAuthorizedOperations: false })).body.groups[0];
    const counts = d.members.map((m: any) => flat(m.targetAssignment.activeTasks).length).sort();
    // 6 tasks over 4 members: 1, 1, 2, 2 - the last to join is not left without tasks.
    expect(counts).toEqual([1, 1, 2, 2]);
    const all = d.members.flatMap((m: any) => flat(m.targetAssignment.activeTasks)).sort();
    expect(all).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2']);
  });

  test('changing streams.num.standby.replicas rebalances the group', async () => {
    const none = { activeTasks: null, standbyTasks: null, warmupTasks: null, topology: null, processId: null };
    const x = await hb({ groupId: 'cfg', memberId: 'x', processId: 'px', topology: topology('cfg', 'clicks') });
    const y = await hb({ groupId: 'cfg', memberId: 'y', processId: 'py', topology: topology('cfg', 'clicks') });
    const standbys = async () => {
      const d = (await c.request(DESCRIBE, 0, { groupIds: ['cfg'], includeAuthorizedOperations: false })).body.groups[0];
      return [d.groupEpoch, d.members.flatMap((m: any) => flat(m.targetAssignment.standbyTasks)).length];
    };
    const [epoch, before] = await standbys();
    expect(before).toBe(0);
    const set = await c.request(INCREMENTAL_ALTER_CONFIGS, 1, {
      resources: [{ resourceType: 32, resourceName: 'cfg', configs: [{ name: 'streams.num.standby.replicas', configOperation: 0, value: '1' }] }],
      validateOnly: false,
    });
    expect(set.body.responses[0].errorCode).toBe(0);
    const next = await hb({ groupId: 'cfg', memberId: 'y', memberEpoch: y.memberEpoch, ...none });
    expect(next.errorCode).toBe(E.NONE);
    const [epochAfter, after] = await standbys();
    expect(epochAfter).toBe(epoch + 1);
    expect(after).toBe(4);
    expect(x.errorCode).toBe(E.NONE);
  });

  test('a static member that leaves with epoch -2 keeps its tasks for its successor, without a rebalance', async () => {
    const s1 = await hb({ groupId: 'static', memberId: 's1', instanceId: 'i1', processId: 'ps1', topology: topology('st', 'orders') });
    expect(flat(s1.activeTasks).length).toBe(6);
    const left = await hb({ groupId: 'static', memberId: 's1', instanceId: 'i1', memberEpoch: -2, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect([left.errorCode, left.memberId, left.memberEpoch]).toEqual([E.NONE, 's1', -2]);
    const describe = async () => (await c.request(DESCRIBE, 0, { groupIds: ['static'], includeAuthorizedOperations: false })).body.groups[0];
    const during = await describe();
    expect([during.groupEpoch, during.members.map((m: any) => [m.memberId, m.memberEpoch])]).toEqual([s1.memberEpoch, [['s1', -2]]]);

    const s2 = await hb({ groupId: 'static', memberId: 's2', instanceId: 'i1', processId: 'ps2', topology: topology('st', 'orders') });
    expect([s2.errorCode, s2.memberEpoch]).toEqual([E.NONE, s1.memberEpoch]);
    expect(flat(s2.activeTasks)).toEqual(flat(s1.activeTasks));
    const after = await describe();
    expect([after.groupEpoch, after.members.map((m: any) => m.memberId)]).toEqual([s1.memberEpoch, ['s2']]);
    const old = await hb({ groupId: 'static', memberId: 's1', memberEpoch: s1.memberEpoch, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect(old.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
  });

  test('a member whose metadata changes (client tags, rack) moves the group to a new epoch', async () => {
    const none = { activeTasks: null, standbyTasks: null, warmupTasks: null, topology: null, processId: null };
    const m = await hb({ groupId: 'meta', memberId: 'm', processId: 'pm', topology: topology('meta', 'clicks'), clientTags: [{ key: 'zone', value: 'a' }] });
    const same = await hb({ groupId: 'meta', memberId: 'm', memberEpoch: m.memberEpoch, ...none, clientTags: [{ key: 'zone', value: 'a' }] });
    expect(same.memberEpoch).toBe(m.memberEpoch);
    const moved = await hb({ groupId: 'meta', memberId: 'm', memberEpoch: m.memberEpoch, ...none, clientTags: [{ key: 'zone', value: 'b' }] });
    expect(moved.memberEpoch).toBe(m.memberEpoch + 1);
    const rack = await hb({ groupId: 'meta', memberId: 'm', memberEpoch: moved.memberEpoch, ...none, rackId: 'r2' });
    expect(rack.memberEpoch).toBe(moved.memberEpoch + 1);
  });

  test('internal topics that cannot be created: MISSING_INTERNAL_TOPICS, group not ready, no tasks', async () => {
    const t = topology('mi', 'orders');
    t.subtopologies[0].stateChangelogTopics[0].name = 'bad/changelog';
    const r = await hb({ groupId: 'mi', memberId: 'i', processId: 'pi', topology: t });
    expect(r.errorCode).toBe(E.NONE);
    expect(r.status).toEqual([{ statusCode: 3, statusDetail: 'Internal topics are missing: [bad/changelog]' }]);
    expect(flat(r.activeTasks)).toEqual([]);
    const d = (await c.request(DESCRIBE, 0, { groupIds: ['mi'], includeAuthorizedOperations: false })).body.groups[0];
    expect(d.groupState).toBe('NotReady');
  });
});

describe('streams groups with the authorizer on', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  const DENY = 2, ALLOW = 3;
  const TOPIC = 2, GROUP_RESOURCE = 3, CLUSTER = 4;
  const READ = 3, CREATE = 7, DESCRIBE_OP = 8;
  const deny = (resourceType: number, resourceName: string, operation: number) => ({
    resourceType,
    resourceName,
    resourcePatternType: 3,
    principal: 'User:ANONYMOUS',
    host: '*',
    operation,
    permissionType: DENY,
  });
  const hb = async (o: Record<string, unknown>) => (await c.request(HEARTBEAT, 0, heartbeat(o))).body;

  beforeAll(async () => {
    // Resources without ACLs stay open; only what a test denies refuses.
    broker = await startBrokerProcess({
      args: ['--auto-create-topics', 'false', '--override', 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--override', 'allow.everyone.if.no.acl.found=true'],
    });
    c = await RawClient.connect(broker.port);
    const created = await c.request(19, 7, { topics: [{ name: 'pub', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(created.body.topics[0].errorCode).toBe(0);
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('READ on the group, DESCRIBE on the topology topics, CREATE for internal topics', async () => {
    const ok = await hb({ groupId: 'acl', memberId: 'a', processId: 'pa', topology: topology('acl', 'pub') });
    expect([ok.errorCode, flat(ok.activeTasks).length]).toEqual([E.NONE, 4]);
    const acls = await c.request(30, 3, { creations: [deny(GROUP_RESOURCE, 'acl-denied', READ), deny(TOPIC, 'acl-store-changelog', DESCRIBE_OP), deny(CLUSTER, 'kafka-cluster', CREATE), { ...deny(TOPIC, 'nc-', CREATE), resourcePatternType: 4 }, { ...deny(TOPIC, 'nc-', DESCRIBE_OP), resourcePatternType: 4, permissionType: ALLOW }] });
    expect(acls.body.results.map((r: any) => r.errorCode)).toEqual([0, 0, 0, 0, 0]);

    expect((await hb({ groupId: 'acl-denied', memberId: 'a', processId: 'pa', topology: topology('acl', 'pub') })).errorCode).toBe(30);
    const hidden = await hb({ groupId: 'acl', memberId: 'b', processId: 'pb', topology: topology('acl', 'pub') });
    expect(hidden.errorCode).toBe(29);
    const d = (await c.request(DESCRIBE, 0, { groupIds: ['acl'], includeAuthorizedOperations: false })).body.groups[0];
    expect([d.errorCode, d.errorMessage, d.members]).toEqual([29, 'The described group uses topics that the client is not authorized to describe.', []]);

    // Without CREATE (cluster or topic) the internal topics stay missing and are reported
    // (DESCRIBE is granted: a topic with ACLs is no longer open to everyone).
    const nc = await hb({ groupId: 'nocreate', memberId: 'n', processId: 'pn', topology: topology('nc', 'pub') });
    expect(nc.errorCode).toBe(E.NONE);
    expect(nc.status).toEqual([
      { statusCode: 3, statusDetail: 'Internal topics are missing: [nc-agg-changelog, nc-repartition, nc-store-changelog]' },
      { statusCode: 3, statusDetail: 'Unauthorized to CREATE on topics nc-store-changelog, nc-repartition, nc-agg-changelog.' },
    ]);
    expect(flat(nc.activeTasks)).toEqual([]);
  });
});

describe('streams groups across a restart', () => {
  let broker: BrokerProcess | undefined;
  let c: RawClient | undefined;

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('the group comes back Empty with its epoch and offsets; old members are told to rejoin', async () => {
    broker = await startBrokerProcess({ args: ['--auto-create-topics', 'false'] });
    c = await RawClient.connect(broker.port);
    const created = await c.request(19, 7, { topics: [{ name: 'src', numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(created.body.topics[0].errorCode).toBe(0);
    const hb = async (o: Record<string, unknown>) => (await c!.request(HEARTBEAT, 0, heartbeat(o))).body;
    const j = await hb({ groupId: 'durable', memberId: 'd', processId: 'pd', topology: topology('durable', 'src') });
    expect(j.errorCode).toBe(E.NONE);
    const commit = (await c.request(OFFSET_COMMIT, 9, { groupId: 'durable', generationIdOrMemberEpoch: j.memberEpoch, memberId: 'd', groupInstanceId: null, retentionTimeMs: -1, topics: [{ name: 'src', partitions: [{ partitionIndex: 0, committedOffset: 11, committedLeaderEpoch: -1, committedMetadata: '' }] }] })).body;
    expect(commit.topics[0].partitions[0].errorCode).toBe(E.NONE);

    // Killed, not stopped: the metadata record was written when the epoch moved.
    const dataDir = broker.dataDir;
    c.close();
    await broker.kill();
    broker = await startBrokerProcess({ dataDir, args: ['--auto-create-topics', 'false'] });
    c = await RawClient.connect(broker.port);

    const listed = (await c.request(LIST_GROUPS, 5, { statesFilter: [], typesFilter: ['streams'] })).body.groups;
    expect(listed).toEqual([expect.objectContaining({ groupId: 'durable', groupType: 'streams', groupState: 'Empty' })]);
    const d = (await c.request(DESCRIBE, 0, { groupIds: ['durable'], includeAuthorizedOperations: false })).body.groups[0];
    expect([d.errorCode, d.groupState, d.groupEpoch]).toEqual([E.NONE, 'Empty', j.memberEpoch]);
    // The member's next heartbeat: unknown member (rejoin), not an unknown group.
    const old = await hb({ groupId: 'durable', memberId: 'd', memberEpoch: j.memberEpoch, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect(old.errorCode).toBe(E.UNKNOWN_MEMBER_ID);
    const again = await hb({ groupId: 'durable', memberId: 'd', processId: 'pd', topology: topology('durable', 'src') });
    expect(again.errorCode).toBe(E.NONE);
    expect(again.memberEpoch).toBeGreaterThan(j.memberEpoch);
    expect(flat(again.activeTasks)).toEqual(['0:0', '0:1', '1:0', '1:1']);
    const fetched = (await c.request(OFFSET_FETCH, 8, { groups: [{ groupId: 'durable', topics: [{ name: 'src', partitionIndexes: [0] }] }], requireStable: false })).body;
    expect(fetched.groups[0].topics[0].partitions[0].committedOffset).toBe(11);

    // Deleted once empty: gone after the next restart too.
    const left = await hb({ groupId: 'durable', memberId: 'd', memberEpoch: -1, activeTasks: null, standbyTasks: null, warmupTasks: null, processId: null, topology: null });
    expect(left.errorCode).toBe(E.NONE);
    expect((await c.request(DELETE_GROUPS, 2, { groupsNames: ['durable'] })).body.results[0].errorCode).toBe(E.NONE);
    c.close();
    await broker.kill();
    broker = await startBrokerProcess({ dataDir, args: ['--auto-create-topics', 'false'] });
    c = await RawClient.connect(broker.port);
    expect((await c.request(LIST_GROUPS, 5, { statesFilter: [], typesFilter: [] })).body.groups).toEqual([]);
  });
});
