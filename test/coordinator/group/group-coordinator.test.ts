/**
 * The classic group coordinator's state machine, driven directly (no sockets) with fake
 * timers and an in-memory store: joins and MEMBER_ID_REQUIRED, rebalances on join/leave/
 * session expiry, rebalance and sync timeouts, static membership and fencing, protocol
 * selection, offset commit validation, persistence by replay, deletion and expiration.
 */
import { ErrorCode } from '../../../src/protocol/errors';
import { GroupCoordinator, DEFAULT_GROUP_CONFIG, GroupCoordinatorConfig, JoinGroupParams } from '../../../src/coordinator/group/group-coordinator';
import { LogRecord } from '../../../src/coordinator/group/batch-codec';
import { JoinResult, SyncResult } from '../../../src/coordinator/group/classic-group';
import { decodeRecordKey } from '../../../src/coordinator/group/records';
import { createLogger } from '../../../src/logging';

const log = createLogger('silent');

class MemoryStore {
  readonly batches: { groupId: string; records: LogRecord[] }[] = [];
  failNext = false;

  append(groupId: string, records: LogRecord[]): void {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('disk full');
    }
    this.batches.push({ groupId, records: records.map((r) => ({ key: Buffer.from(r.key!), value: r.value ? Buffer.from(r.value) : null })) });
  }

  get records(): LogRecord[] {
    return this.batches.flatMap((b) => b.records);
  }

  replayInto(c: GroupCoordinator): void {
    for (const r of this.records) c.replay(r.key!, r.value);
    c.finishLoading();
  }
}

/** A ConsumerProtocolSubscription v0: version, topics, null user data. */
function subscription(topics: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0])];
  const n = Buffer.alloc(4);
  n.writeInt32BE(topics.length);
  parts.push(n);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(Buffer.byteLength(t));
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

const META = subscription(['t1']);

function joinParams(over: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: META }],
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    supportsSkipAssignment: false,
    reason: null,
    ...over,
  };
}

/** Resolves pending promise callbacks (the coordinator answers synchronously inside timers). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A promise's state without waiting: the value, or 'pending'. */
async function peek<T>(p: Promise<T>): Promise<T | 'pending'> {
  let out: T | 'pending' = 'pending';
  void p.then((v) => (out = v));
  await flush();
  return out;
}

function make(config: Partial<GroupCoordinatorConfig> = {}, store = new MemoryStore()) {
  const c = new GroupCoordinator({ ...DEFAULT_GROUP_CONFIG, offsetsRetentionCheckIntervalMs: 0, ...config }, store, log);
  return { c, store };
}

/** Joins one member and completes the first generation (initial delay 0). */
async function joinAlone(c: GroupCoordinator, over: Partial<JoinGroupParams> = {}): Promise<JoinResult> {
  const p = c.joinGroup(joinParams(over));
  jest.advanceTimersByTime(0);
  const r = await p;
  expect(r.errorCode).toBe(ErrorCode.NONE);
  return r;
}

async function syncAll(c: GroupCoordinator, leader: JoinResult, followers: JoinResult[], assignments: Record<string, string>) {
  const fs = followers.map((f) =>
    c.syncGroup({ groupId: 'g', generationId: f.generationId, memberId: f.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
  );
  const ls = c.syncGroup({
    groupId: 'g',
    generationId: leader.generationId,
    memberId: leader.memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocolName: leader.protocolName,
    assignments: Object.entries(assignments).map(([memberId, a]) => ({ memberId, assignment: Buffer.from(a) })),
  });
  return Promise.all([ls, ...fs]);
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('joining', () => {
  test('a single member forms generation 1, leads, and gets its assignment after SyncGroup', async () => {
    const { c, store } = make();
    const j = await joinAlone(c);
    expect(j).toMatchObject({ generationId: 1, protocolType: 'consumer', protocolName: 'range' });
    expect(j.leader).toBe(j.memberId);
    expect(j.members).toEqual([{ memberId: j.memberId, groupInstanceId: null, metadata: META }]);
    expect(j.memberId).toMatch(/^client-[0-9a-f-]{36}$/);
    expect(c.group('g')!.state).toBe('CompletingRebalance');
    const [s] = await syncAll(c, j, [], { [j.memberId]: 'A' });
    expect(s).toEqual({ errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from('A') });
    expect(c.group('g')!.state).toBe('Stable');
    // The assignment was stored as a GroupMetadata record before the answer.
    expect(store.records.map((r) => decodeRecordKey(r.key!).type)).toEqual(['group']);
  });

  test('JoinGroup v4+: MEMBER_ID_REQUIRED first, then the join with that id', async () => {
    const { c } = make();
    const first = await c.joinGroup(joinParams({ requireKnownMemberId: true }));
    expect(first).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, generationId: -1 });
    expect(first.memberId).not.toBe('');
    const p = c.joinGroup(joinParams({ requireKnownMemberId: true, memberId: first.memberId }));
    jest.advanceTimersByTime(0);
    const second = await p;
    expect(second).toMatchObject({ errorCode: 0, memberId: first.memberId, generationId: 1 });
  });

  test('a MEMBER_ID_REQUIRED id that is never used expires with the session timeout', async () => {
    const { c } = make();
    const first = await c.joinGroup(joinParams({ requireKnownMemberId: true }));
    jest.advanceTimersByTime(10_001);
    const late = await c.joinGroup(joinParams({ requireKnownMemberId: true, memberId: first.memberId }));
    expect(late.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('invalid requests: empty group id, session timeout out of range, inconsistent protocols', async () => {
    const { c } = make();
    expect((await c.joinGroup(joinParams({ groupId: '' }))).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await c.joinGroup(joinParams({ sessionTimeoutMs: 5999 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.joinGroup(joinParams({ sessionTimeoutMs: 1_800_001 }))).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await c.joinGroup(joinParams({ protocols: [] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(c.group('g')).toBeUndefined(); // failed first joins leave nothing behind
    await joinAlone(c);
    const other = await c.joinGroup(joinParams({ protocolType: 'connect' }));
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const noCommon = await c.joinGroup(joinParams({ protocols: [{ name: 'roundrobin', metadata: META }] }));
    expect(noCommon.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.joinGroup(joinParams({ memberId: 'nobody' }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('protocol selection: the one most members prefer among those all support', async () => {
    const { c } = make({ initialRebalanceDelayMs: 100 });
    const m = (names: string[]) => names.map((name) => ({ name, metadata: Buffer.from(name) }));
    const ps = [
      c.joinGroup(joinParams({ clientId: 'a', protocols: m(['range', 'sticky', 'roundrobin']) })),
      c.joinGroup(joinParams({ clientId: 'b', protocols: m(['sticky', 'range']) })),
      c.joinGroup(joinParams({ clientId: 'c', protocols: m(['sticky', 'range', 'roundrobin']) })),
    ];
    jest.advanceTimersByTime(300);
    const rs = await Promise.all(ps);
    expect(new Set(rs.map((r) => r.protocolName))).toEqual(new Set(['sticky']));
    const leader = rs.find((r) => r.leader === r.memberId)!;
    expect(leader.members.map((x) => x.metadata.toString())).toEqual(['sticky', 'sticky', 'sticky']);
    expect(rs.filter((r) => r.members.length === 0)).toHaveLength(2);
  });

  test('group.initial.rebalance.delay.ms collects members that join meanwhile into one generation', async () => {
    const { c } = make({ initialRebalanceDelayMs: 3000 });
    const a = c.joinGroup(joinParams({ clientId: 'a' }));
    jest.advanceTimersByTime(2000);
    const b = c.joinGroup(joinParams({ clientId: 'b' }));
    jest.advanceTimersByTime(2000);
    // At 3 s the delay ended with a new arrival: it runs once more (Kafka's InitialDelayedJoin).
    expect(await peek(a)).toBe('pending');
    jest.advanceTimersByTime(1999);
    expect(await peek(a)).toBe('pending');
    jest.advanceTimersByTime(2);
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.generationId).toBe(1);
    expect(rb.generationId).toBe(1);
  });
});

describe('rebalancing', () => {
  async function twoMembers(c: GroupCoordinator): Promise<[JoinResult, JoinResult]> {
    const a = await joinAlone(c, { clientId: 'a' });
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    const bp = c.joinGroup(joinParams({ clientId: 'b' }));
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(c.heartbeat('g', a.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(await peek(bp)).toBe('pending');
    const ap = c.joinGroup(joinParams({ clientId: 'a', memberId: a.memberId }));
    const [ra, rb] = await Promise.all([ap, bp]);
    return [ra, rb];
  }

  test('a new member makes everyone rejoin; one generation, the leader gets the member list', async () => {
    const { c } = make();
    const [a, b] = await twoMembers(c);
    expect(a.generationId).toBe(2);
    expect(b.generationId).toBe(2);
    expect(a.leader).toBe(a.memberId);
    expect(b.leader).toBe(a.memberId);
    expect(a.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort());
    expect(b.members).toEqual([]);
    // A heartbeat between the join answer and SyncGroup is fine; the old generation is not.
    expect(c.heartbeat('g', b.memberId, null, 2)).toBe(ErrorCode.NONE);
    expect(c.heartbeat('g', b.memberId, null, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    // The follower's SyncGroup waits for the leader's.
    const bs = c.syncGroup({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(await peek(bs)).toBe('pending');
    const [as] = await syncAll(c, a, [], { [a.memberId]: 'A2', [b.memberId]: 'B2' });
    expect(as.assignment.toString()).toBe('A2');
    expect((await bs).assignment.toString()).toBe('B2');
    // In Stable, SyncGroup again returns the stored assignment at once.
    const again = await c.syncGroup({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(again.assignment.toString()).toBe('B2');
  });

  test('a member leaving triggers a rebalance right away', async () => {
    const { c } = make();
    const [a, b] = await twoMembers(c);
    await syncAll(c, a, [b], { [a.memberId]: 'A', [b.memberId]: 'B' });
    const res = c.leaveGroup('g', [{ memberId: b.memberId, groupInstanceId: null }]);
    expect(res).toEqual({ errorCode: 0, members: [{ memberId: b.memberId, groupInstanceId: null, errorCode: 0 }] });
    expect(c.group('g')!.state).toBe('PreparingRebalance');
    expect(c.leaveGroup('g', [{ memberId: 'ghost', groupInstanceId: null }]).members[0].errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const r = await c.joinGroup(joinParams({ clientId: 'a', memberId: a.memberId }));
    expect(r).toMatchObject({ errorCode: 0, generationId: 3, leader: a.memberId });
  });

  test('the last member leaving empties the group; the empty group is stored', async () => {
    const { c, store } = make();
    const a = await joinAlone(c);
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    c.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    expect(c.group('g')!.state).toBe('Empty');
    expect(c.group('g')!.generationId).toBe(2);
    expect(store.records.filter((r) => decodeRecordKey(r.key!).type === 'group')).toHaveLength(2);
  });

  test('a member that stops heartbeating is removed after its session timeout', async () => {
    const { c } = make();
    const [a, b] = await twoMembers(c);
    await syncAll(c, a, [b], { [a.memberId]: 'A', [b.memberId]: 'B' });
    for (let t = 0; t < 12_000; t += 3000) {
      jest.advanceTimersByTime(3000);
      if (c.group('g')!.state === 'Stable') expect(c.heartbeat('g', a.memberId, null, 2)).toBe(ErrorCode.NONE);
    }
    // b was silent for 10 s: removed, and a is asked to rejoin.
    expect(c.group('g')!.members.has(b.memberId)).toBe(false);
    expect(c.heartbeat('g', a.memberId, null, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(c.heartbeat('g', b.memberId, null, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const r = await c.joinGroup(joinParams({ clientId: 'a', memberId: a.memberId }));
    expect(r.generationId).toBe(3);
  });

  test('members that do not rejoin within the rebalance timeout are dropped', async () => {
    const { c } = make();
    const [a, b] = await twoMembers(c);
    await syncAll(c, a, [b], { [a.memberId]: 'A', [b.memberId]: 'B' });
    const ap = c.joinGroup(joinParams({ clientId: 'a', memberId: a.memberId, protocols: [{ name: 'range', metadata: Buffer.from('new') }] }));
    // b keeps heartbeating but never rejoins.
    for (let t = 0; t < 29_000; t += 1000) {
      jest.advanceTimersByTime(1000);
      c.heartbeat('g', b.memberId, null, 2);
    }
    expect(await peek(ap)).toBe('pending');
    jest.advanceTimersByTime(1001);
    const r = await ap;
    expect(r).toMatchObject({ errorCode: 0, generationId: 3 });
    expect(r.members.map((m) => m.memberId)).toEqual([a.memberId]);
  });

  test('members that never send SyncGroup are removed after the rebalance timeout', async () => {
    const { c } = make();
    const [a, b] = await twoMembers(c);
    const [as] = await syncAll(c, a, [], { [a.memberId]: 'A', [b.memberId]: 'B' });
    expect(as.errorCode).toBe(0);
    for (let t = 0; t < 30_000; t += 2000) {
      jest.advanceTimersByTime(2000);
      c.heartbeat('g', a.memberId, null, 2);
      c.heartbeat('g', b.memberId, null, 2);
    }
    expect(c.group('g')!.members.has(b.memberId)).toBe(false);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });

  test('a new rebalance during the sync phase answers waiting SyncGroups with REBALANCE_IN_PROGRESS', async () => {
    const { c } = make();
    const [a, b] = await twoMembers(c);
    const bs = c.syncGroup({ groupId: 'g', generationId: 2, memberId: b.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    c.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    expect((await bs).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  test('storing the assignment fails: every member is told and the group rebalances', async () => {
    const { c, store } = make();
    const a = await joinAlone(c);
    store.failNext = true;
    const [s] = await syncAll(c, a, [], { [a.memberId]: 'A' });
    expect(s.errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(c.group('g')!.state).toBe('PreparingRebalance');
  });

  test('Heartbeat and SyncGroup errors in the order Kafka checks them', async () => {
    const { c } = make();
    expect(c.heartbeat('nope', 'm', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.heartbeat('', 'm', null, 1)).toBe(ErrorCode.INVALID_GROUP_ID);
    const a = await joinAlone(c);
    expect(c.heartbeat('g', 'other', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.heartbeat('g', a.memberId, null, 7)).toBe(ErrorCode.ILLEGAL_GENERATION);
    const bad = await c.syncGroup({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [] });
    expect(bad.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const old = await c.syncGroup({ groupId: 'g', generationId: 0, memberId: a.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    expect(old.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
  });
});

describe('static membership', () => {
  test('a restarted static member takes its place back without a rebalance; its old id is fenced', async () => {
    const { c } = make();
    const a = await joinAlone(c, { groupInstanceId: 'inst-a', clientId: 'a' });
    expect(a.memberId).toMatch(/^inst-a-/);
    const bp = c.joinGroup(joinParams({ groupInstanceId: 'inst-b', clientId: 'b', requireKnownMemberId: true }));
    // Static members skip MEMBER_ID_REQUIRED.
    expect(await peek(bp)).toBe('pending');
    const ra = await c.joinGroup(joinParams({ groupInstanceId: 'inst-a', clientId: 'a', memberId: a.memberId }));
    const rb = await bp;
    await syncAll(c, ra, [rb], { [ra.memberId]: 'A', [rb.memberId]: 'B' });
    expect(c.group('g')!.generationId).toBe(2);

    // inst-b restarts: new member id, same generation, follower answer, same assignment.
    const rb2 = await c.joinGroup(joinParams({ groupInstanceId: 'inst-b', clientId: 'b' }));
    expect(rb2).toMatchObject({ errorCode: 0, generationId: 2, leader: ra.memberId, members: [] });
    expect(rb2.memberId).not.toBe(rb.memberId);
    expect(c.group('g')!.state).toBe('Stable');
    const s = await c.syncGroup({ groupId: 'g', generationId: 2, memberId: rb2.memberId, groupInstanceId: 'inst-b', protocolType: null, protocolName: null, assignments: [] });
    expect(s.assignment.toString()).toBe('B');
    expect(c.heartbeat('g', rb.memberId, 'inst-b', 2)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(c.heartbeat('g', rb2.memberId, 'inst-b', 2)).toBe(ErrorCode.NONE);
    const fencedJoin = await c.joinGroup(joinParams({ groupInstanceId: 'inst-b', memberId: rb.memberId }));
    expect(fencedJoin.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  test('the static leader rejoining with JoinGroup v9 gets skipAssignment and the members', async () => {
    const { c } = make();
    const a = await joinAlone(c, { groupInstanceId: 'inst-a' });
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    const again = await c.joinGroup(joinParams({ groupInstanceId: 'inst-a', supportsSkipAssignment: true }));
    expect(again).toMatchObject({ errorCode: 0, generationId: 1, skipAssignment: true });
    expect(again.leader).toBe(again.memberId);
    expect(again.members.map((m) => m.groupInstanceId)).toEqual(['inst-a']);
    const older = await c.joinGroup(joinParams({ groupInstanceId: 'inst-a' }));
    expect(older).toMatchObject({ errorCode: 0, skipAssignment: false, members: [], leader: again.memberId });
  });

  test('LeaveGroup by instance id (admin removal); a wrong member id is fenced', async () => {
    const { c } = make();
    const a = await joinAlone(c, { groupInstanceId: 'inst-a' });
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    const fenced = c.leaveGroup('g', [{ memberId: 'someone-else', groupInstanceId: 'inst-a' }]);
    expect(fenced.members[0].errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    const ok = c.leaveGroup('g', [{ memberId: '', groupInstanceId: 'inst-a' }, { memberId: '', groupInstanceId: 'inst-x' }]);
    expect(ok.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(c.group('g')!.state).toBe('Empty');
  });
});

describe('offsets', () => {
  const commit = (c: GroupCoordinator, over: object = {}) =>
    c.commitOffsets({
      groupId: 'g',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      offsets: [{ topic: 't1', partition: 0, offset: 42, leaderEpoch: 3, metadata: 'meta' }],
      ...over,
    });

  test('a consumer without group management commits into a simple group', () => {
    const { c } = make();
    expect(commit(c)).toEqual([0]);
    expect(c.fetchOffsets('g', [{ topic: 't1', partitions: [0, 1] }])).toEqual([
      { topic: 't1', partition: 0, offset: 42, leaderEpoch: 3, metadata: 'meta', errorCode: 0 },
      { topic: 't1', partition: 1, offset: -1, leaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    expect(c.fetchOffsets('g', null)).toHaveLength(1);
    expect(c.fetchOffsets('unknown', null)).toEqual([]);
    expect(c.listGroups([], [])).toEqual([{ groupId: 'g', protocolType: '', state: 'Empty', type: 'classic' }]);
  });

  test('generation checks: unknown group, non-empty group, stale generation, sync phase', async () => {
    const { c } = make();
    expect(commit(c, { generationId: 1, memberId: 'm' })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(commit(c, { generationId: 1, memberId: 'm', apiVersion: 9 })).toEqual([ErrorCode.GROUP_ID_NOT_FOUND]);
    const a = await joinAlone(c);
    expect(commit(c, { generationId: 1, memberId: a.memberId })).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    expect(commit(c, { generationId: 1, memberId: a.memberId })).toEqual([0]);
    expect(commit(c, { generationId: 0, memberId: a.memberId })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(commit(c, { generationId: 1, memberId: 'other' })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(commit(c)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]); // generation -1 while the group has members
    // During PreparingRebalance the current generation may still commit.
    c.joinGroup(joinParams({ clientId: 'b' }));
    expect(commit(c, { generationId: 1, memberId: a.memberId })).toEqual([0]);
  });

  test('metadata over offset.metadata.max.bytes is refused per partition; null metadata is stored as ""', () => {
    const { c } = make();
    const codes = commit(c, {
      offsets: [
        { topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: 'x'.repeat(4097) },
        { topic: 't1', partition: 1, offset: 2, leaderEpoch: -1, metadata: null },
      ],
    });
    expect(codes).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
    expect(c.fetchOffsets('g', [{ topic: 't1', partitions: [0, 1] }]).map((o) => [o.offset, o.metadata])).toEqual([
      [-1, ''],
      [2, ''],
    ]);
  });

  test('a failed write commits nothing', () => {
    const { c, store } = make();
    store.failNext = true;
    expect(commit(c)).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE]);
    expect(c.fetchOffsets('g', null)).toEqual([]);
  });

  test('OffsetDelete: refused for subscribed topics while the group is active', async () => {
    const { c } = make();
    const a = await joinAlone(c);
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    commit(c, { generationId: 1, memberId: a.memberId, offsets: [
      { topic: 't1', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' },
      { topic: 't2', partition: 0, offset: 6, leaderEpoch: -1, metadata: '' },
    ] });
    const res = c.deleteOffsets('g', [{ topic: 't1', partition: 0 }, { topic: 't2', partition: 0 }]);
    expect(res).toEqual({ errorCode: 0, partitions: [ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0] });
    expect(c.fetchOffsets('g', null).map((o) => o.topic)).toEqual(['t1']);
    expect(c.deleteOffsets('nope', []).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});

describe('persistence and lifecycle', () => {
  test('replaying the log restores offsets and the stable group with its members and assignments', async () => {
    const { c, store } = make();
    const a = await joinAlone(c, { groupInstanceId: 'inst-a' });
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    c.commitOffsets({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: 'inst-a', retentionTimeMs: -1, apiVersion: 8,
      offsets: [{ topic: 't1', partition: 0, offset: 7, leaderEpoch: 1, metadata: 'm' }] });
    c.commitOffsets({ groupId: 'simple', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8,
      offsets: [{ topic: 't1', partition: 3, offset: 9, leaderEpoch: -1, metadata: '' }] });
    c.close();

    const { c: c2 } = make();
    store.replayInto(c2);
    const g = c2.group('g')!;
    expect(g).toMatchObject({ state: 'Stable', generationId: 1, protocolType: 'consumer', protocolName: 'range', leaderId: a.memberId });
    expect(c2.describeGroup('g')!.members).toEqual([
      { memberId: a.memberId, groupInstanceId: 'inst-a', clientId: 'client', clientHost: '/127.0.0.1', metadata: META, assignment: Buffer.from('A') },
    ]);
    expect(c2.fetchOffsets('g', null)).toEqual([{ topic: 't1', partition: 0, offset: 7, leaderEpoch: 1, metadata: 'm', errorCode: 0 }]);
    expect(c2.fetchOffsets('simple', null)).toHaveLength(1);
    // The member carries on with its generation; silence still ends its session.
    expect(c2.heartbeat('g', a.memberId, 'inst-a', 1)).toBe(ErrorCode.NONE);
    jest.advanceTimersByTime(10_001);
    expect(c2.group('g')!.members.size).toBe(0);
    c2.close();
  });

  test('DeleteGroups: only empty groups; tombstones make the deletion survive a replay', async () => {
    const { c, store } = make();
    const a = await joinAlone(c);
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    c.commitOffsets({ groupId: 'g', generationId: 1, memberId: a.memberId, groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8,
      offsets: [{ topic: 't1', partition: 0, offset: 7, leaderEpoch: 1, metadata: '' }] });
    expect(c.deleteGroup('g')).toBe(ErrorCode.NON_EMPTY_GROUP);
    expect(c.deleteGroup('zzz')).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    c.leaveGroup('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    expect(c.deleteGroup('g')).toBe(ErrorCode.NONE);
    expect(c.describeGroup('g')).toBeNull();
    expect(c.deleteGroup('g')).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    const { c: c2 } = make();
    store.replayInto(c2);
    expect(c2.group('g')).toBeUndefined();
    expect(c2.listGroups([], [])).toEqual([]);
  });

  test('offsets of an empty group expire after the retention; the group goes with them', async () => {
    const { c, store } = make({ offsetsRetentionMs: 60_000 });
    c.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8,
      offsets: [{ topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }] });
    c.commitOffsets({ groupId: 'h', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: 5_000, apiVersion: 2,
      offsets: [{ topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }] });
    jest.advanceTimersByTime(10_000);
    c.expireOffsets();
    expect(c.group('h')).toBeUndefined(); // explicit retention of 5 s (OffsetCommit v2-4)
    expect(c.group('g')).toBeDefined();
    jest.advanceTimersByTime(50_001);
    c.expireOffsets();
    expect(c.group('g')).toBeUndefined();
    const { c: c2 } = make();
    store.replayInto(c2);
    expect(c2.listGroups([], [])).toEqual([]);
  });

  test('ListGroups filters by state and type, case-insensitively', async () => {
    const { c } = make();
    const a = await joinAlone(c);
    await syncAll(c, a, [], { [a.memberId]: 'A' });
    c.commitOffsets({ groupId: 's', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8,
      offsets: [{ topic: 't1', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }] });
    expect(c.listGroups(['stable'], []).map((g) => g.groupId)).toEqual(['g']);
    expect(c.listGroups(['Empty', 'Dead'], []).map((g) => g.groupId)).toEqual(['s']);
    expect(c.listGroups([], ['Classic']).map((g) => g.groupId)).toEqual(['g', 's']);
    expect(c.listGroups([], ['consumer'])).toEqual([]);
  });
});
