/**
 * KIP-848 consumer groups driven directly: joins, the uniform and range assignors,
 * revocation before re-assignment, epochs and fencing, static members, session and
 * revocation timeouts, request validation, and how consumer groups meet the classic API
 * (offset commits by member epoch, ListGroups/DescribeGroups, conversions of empty groups).
 */
import { ErrorCode } from '../../../src/protocol/errors';
import { DEFAULT_GROUP_CONFIG, GroupCoordinator } from '../../../src/coordinator/group/group-coordinator';
import { ConsumerHeartbeatParams, TopicCatalog } from '../../../src/coordinator/group/consumer-group-coordinator';
import { rangeAssign, uniformAssign } from '../../../src/coordinator/group/assignors';
import { LogRecord } from '../../../src/coordinator/group/batch-codec';
import { createLogger } from '../../../src/logging';

const log = createLogger('silent');

// Topic ids are UUIDs in Kafka's base64url form (they are written to __consumer_offsets).
const ORDERS = 'b3JkZXJzLXRvcGljLWlkAA';
const USERS = 'dXNlcnMtdG9waWMtaWQtAA';
const TOPICS: Record<string, { topicId: string; partitions: number }> = {
  orders: { topicId: ORDERS, partitions: 6 },
  users: { topicId: USERS, partitions: 3 },
};
const catalog: TopicCatalog = {
  byName: (n) => TOPICS[n],
  nameOf: (id) => Object.keys(TOPICS).find((n) => TOPICS[n].topicId === id),
  names: () => Object.keys(TOPICS),
};

class MemoryStore {
  readonly records: LogRecord[] = [];
  append(_groupId: string, records: LogRecord[]): void {
    this.records.push(...records);
  }
  replayInto(c: GroupCoordinator): void {
    for (const r of this.records) c.replay(r.key!, r.value);
    c.finishLoading();
  }
}

function make(store = new MemoryStore()) {
  return new GroupCoordinator({ ...DEFAULT_GROUP_CONFIG, offsetsRetentionCheckIntervalMs: 0 }, store, log);
}

function hb(c: GroupCoordinator, over: Partial<ConsumerHeartbeatParams>) {
  return c.consumerGroupHeartbeat(
    {
      groupId: 'cg',
      memberId: '',
      memberEpoch: 0,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      clientId: 'client',
      clientHost: '/127.0.0.1',
      apiVersion: 1,
      ...over,
    },
    catalog,
  );
}

const join = (c: GroupCoordinator, memberId: string, over: Partial<ConsumerHeartbeatParams> = {}) =>
  hb(c, { memberId, memberEpoch: 0, rebalanceTimeoutMs: 30000, subscribedTopicNames: ['orders'], topicPartitions: [], ...over });

const count = (a: { partitions: number[] }[] | null) => (a ?? []).reduce((n, t) => n + t.partitions.length, 0);

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

describe('assignors', () => {
  const topics = new Map(Object.entries(TOPICS));
  const member = (memberId: string, subscribed: string[], current = new Map<string, Set<number>>()) => ({ memberId, topics: new Set(subscribed), current });

  test('uniform balances identical subscriptions and keeps partitions where they are', () => {
    const three = uniformAssign([member('a', ['orders', 'users']), member('b', ['orders', 'users']), member('c', ['orders', 'users'])], topics);
    const sizes = [...three.values()].map((tp) => [...tp.values()].reduce((n, s) => n + s.size, 0));
    expect(sizes.sort()).toEqual([3, 3, 3]);
    // A fourth member takes partitions from the others; no partition moves between the first three.
    const four = uniformAssign(
      [...three].map(([id, tp]) => member(id, ['orders', 'users'], tp)).concat([member('d', ['orders', 'users'])]),
      topics,
    );
    const sizes4 = [...four.values()].map((tp) => [...tp.values()].reduce((n, s) => n + s.size, 0));
    expect(sizes4.sort()).toEqual([2, 2, 2, 3]);
    for (const id of ['a', 'b', 'c']) {
      for (const [topicId, ps] of four.get(id)!) for (const p of ps) expect(three.get(id)!.get(topicId)?.has(p)).toBe(true);
    }
    const all = [...four.values()].flatMap((tp) => [...tp].flatMap(([t, ps]) => [...ps].map((p) => `${t}:${p}`)));
    expect(new Set(all).size).toBe(9);
  });

  test('uniform respects different subscriptions', () => {
    const out = uniformAssign([member('a', ['orders']), member('b', ['orders', 'users'])], topics);
    expect(out.get('a')!.has(USERS)).toBe(false);
    expect(out.get('b')!.get(USERS)!.size).toBe(3);
    const total = [...out.values()].reduce((n, tp) => n + [...tp.values()].reduce((m, s) => m + s.size, 0), 0);
    expect(total).toBe(9);
  });

  test('range gives each member a contiguous range per topic', () => {
    const out = rangeAssign([member('b', ['orders', 'users']), member('a', ['orders', 'users'])], topics);
    expect([...out.get('a')!.get(ORDERS)!]).toEqual([0, 1, 2]);
    expect([...out.get('b')!.get(ORDERS)!]).toEqual([3, 4, 5]);
    expect([...out.get('a')!.get(USERS)!]).toEqual([0, 1]);
    expect([...out.get('b')!.get(USERS)!]).toEqual([2]);
  });
});

describe('ConsumerGroupHeartbeat', () => {
  test('a first member gets every partition at epoch 1', () => {
    const c = make();
    const r = join(c, 'm1');
    expect(r).toMatchObject({ errorCode: 0, memberId: 'm1', memberEpoch: 1, heartbeatIntervalMs: 5000 });
    expect(r.assignment).toEqual([{ topicId: ORDERS, partitions: [0, 1, 2, 3, 4, 5] }]);
    // A plain heartbeat: same epoch, no assignment repeated.
    expect(hb(c, { memberId: 'm1', memberEpoch: 1 })).toMatchObject({ errorCode: 0, memberEpoch: 1, assignment: null });
    expect(c.listGroups([], [])).toEqual([{ groupId: 'cg', protocolType: 'consumer', state: 'Stable', type: 'consumer' }]);
  });

  test('v0: the coordinator chooses the member id', () => {
    const c = make();
    const r = join(c, '', { apiVersion: 0 });
    expect(r.errorCode).toBe(0);
    expect(r.memberId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(join(c, '', { apiVersion: 1 }).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  test('a second member: partitions are revoked from the first before the second gets them', () => {
    const c = make();
    join(c, 'm1');
    const j2 = join(c, 'm2');
    expect(j2).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    expect(count(j2.assignment)).toBe(0); // its target partitions are still owned by m1
    expect(c.listGroups([], [])[0].state).toBe('Reconciling');

    // m1 learns it must give three partitions up; it stays at epoch 1 meanwhile.
    const r1 = hb(c, { memberId: 'm1', memberEpoch: 1 });
    expect(r1.memberEpoch).toBe(1);
    expect(count(r1.assignment)).toBe(3);
    const kept = r1.assignment!;
    // Still reporting the old partitions: nothing moves.
    const still = hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: [{ topicId: ORDERS, partitions: [0, 1, 2, 3, 4, 5] }] });
    expect(still).toMatchObject({ memberEpoch: 1, assignment: null });
    expect(count(hb(c, { memberId: 'm2', memberEpoch: 2 }).assignment)).toBe(0);
    // m1 reports it let them go: epoch 2; m2 then gets them.
    const done = hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: kept });
    expect(done).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    const r2 = hb(c, { memberId: 'm2', memberEpoch: 2 });
    expect(count(r2.assignment)).toBe(3);
    const all = [...kept, ...r2.assignment!].flatMap((t) => t.partitions).sort();
    expect(all).toEqual([0, 1, 2, 3, 4, 5]);
    expect(c.listGroups([], [])[0].state).toBe('Stable');
  });

  test('a member leaving (epoch -1) hands its partitions back', () => {
    const c = make();
    join(c, 'm1');
    join(c, 'm2');
    const r1 = hb(c, { memberId: 'm1', memberEpoch: 1 });
    hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: r1.assignment });
    hb(c, { memberId: 'm2', memberEpoch: 2 });
    expect(hb(c, { memberId: 'm2', memberEpoch: -1 })).toMatchObject({ errorCode: 0, memberId: 'm2', memberEpoch: -1 });
    const back = hb(c, { memberId: 'm1', memberEpoch: 2 });
    expect(back.memberEpoch).toBe(3);
    expect(count(back.assignment)).toBe(6);
    expect(hb(c, { memberId: 'm2', memberEpoch: 2 }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('epochs: a greater or unknown epoch is fenced; the previous epoch is forgiven (lost answer)', () => {
    const c = make();
    join(c, 'm1');
    join(c, 'm2');
    const r1 = hb(c, { memberId: 'm1', memberEpoch: 1 });
    hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: r1.assignment });
    expect(hb(c, { memberId: 'm1', memberEpoch: 7 }).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: r1.assignment })).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    // Never seen by this coordinator (e.g. from before a broker restart): fenced, so it rejoins.
    expect(hb(c, { memberId: 'ghost', memberEpoch: 1 }).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(hb(c, { groupId: 'nope', memberId: 'm1', memberEpoch: 1 }).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // Removed by it: Kafka's UNKNOWN_MEMBER_ID.
    hb(c, { memberId: 'm2', memberEpoch: -1 });
    expect(hb(c, { memberId: 'm2', memberEpoch: 2 }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('request validation', () => {
    const c = make();
    const bad = (over: Partial<ConsumerHeartbeatParams>) => join(c, 'm', over);
    expect(bad({ groupId: '' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "GroupId can't be empty." });
    expect(bad({ rebalanceTimeoutMs: -1 }).errorMessage).toBe('RebalanceTimeoutMs must be provided in first request.');
    expect(bad({ topicPartitions: null }).errorMessage).toBe('TopicPartitions must be empty when (re-)joining.');
    expect(bad({ subscribedTopicNames: [] }).errorMessage).toBe('SubscribedTopicNames or SubscribedTopicRegex must be set in first request.');
    expect(bad({ memberEpoch: -3 }).errorMessage).toBe('MemberEpoch is invalid.');
    expect(bad({ serverAssignor: 'sticky' }).errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    expect(bad({ subscribedTopicNames: null, subscribedTopicRegex: '(' }).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(bad({ memberEpoch: -2, instanceId: null }).errorMessage).toBe("InstanceId can't be null.");
  });

  test('a regular expression subscription and the range assignor: the regex is resolved after the joining heartbeat', () => {
    const c = make();
    const r = join(c, 'm1', { subscribedTopicNames: null, subscribedTopicRegex: 'ord.*|us.rs', serverAssignor: 'range' });
    // As in Kafka, the new regex is resolved in the background: nothing is assigned yet.
    expect(r).toMatchObject({ errorCode: 0, memberEpoch: 1 });
    expect(r.assignment ?? []).toEqual([]);
    jest.advanceTimersByTime(1); // the background regex resolution (setImmediate)
    const next = hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: [] });
    expect(next.memberEpoch).toBe(2);
    expect(next.assignment).toEqual([
      { topicId: ORDERS, partitions: [0, 1, 2, 3, 4, 5] },
      { topicId: USERS, partitions: [0, 1, 2] },
    ]);
    const d = c.describeConsumerGroup('cg', catalog);
    expect(d).toMatchObject({ groupState: 'Stable', groupEpoch: 2, assignmentEpoch: 2, assignorName: 'range' });
    if (d === null || d === 'classic') throw new Error('not described');
    expect(d.members[0]).toMatchObject({ memberId: 'm1', memberEpoch: 2, subscribedTopicRegex: 'ord.*|us.rs' });
    expect(d.members[0].assignment.map((t) => t.topicName)).toEqual(['orders', 'users']);
  });

  test('named topics first, then a regex added later (librdkafka resubscribe sequence)', () => {
    const c = make();
    const first = join(c, 'm1', { subscribedTopicNames: ['users'] });
    expect(first.assignment).toEqual([{ topicId: USERS, partitions: [0, 1, 2] }]);
    const ack = hb(c, { memberId: 'm1', memberEpoch: first.memberEpoch, topicPartitions: first.assignment });
    // Resubscribe: the regex alone; its topics come one heartbeat later.
    const moved = hb(c, { memberId: 'm1', memberEpoch: ack.memberEpoch, subscribedTopicNames: [], subscribedTopicRegex: 'ord.*', topicPartitions: first.assignment });
    expect(moved.errorCode).toBe(0);
    jest.advanceTimersByTime(1); // the background regex resolution (setImmediate)
    let last = hb(c, { memberId: 'm1', memberEpoch: moved.memberEpoch, topicPartitions: moved.assignment ?? first.assignment });
    for (let i = 0; i < 3 && (last.assignment === null || last.assignment.length === 0 || last.assignment[0].topicId !== ORDERS); i++) {
      last = hb(c, { memberId: 'm1', memberEpoch: last.memberEpoch, topicPartitions: last.assignment ?? [] });
    }
    expect(last.assignment).toEqual([{ topicId: ORDERS, partitions: [0, 1, 2, 3, 4, 5] }]);
  });

  test('a static member leaving with epoch -2 keeps its partitions for its comeback', () => {
    const c = make();
    join(c, 'm1', { instanceId: 'i1' });
    const j2 = join(c, 'm2', { instanceId: 'i2' });
    const r1 = hb(c, { memberId: 'm1', memberEpoch: 1 });
    hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: r1.assignment });
    const r2 = hb(c, { memberId: 'm2', memberEpoch: j2.memberEpoch });
    expect(hb(c, { memberId: 'm2', memberEpoch: -2, instanceId: 'i2' })).toMatchObject({ errorCode: 0, memberEpoch: -2 });
    // Another incarnation while the old one is still active is refused.
    expect(join(c, 'm1b', { instanceId: 'i1' }).errorCode).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
    // i2 comes back with a new member id: same partitions, no new group epoch.
    const back = join(c, 'm2b', { instanceId: 'i2' });
    expect(back).toMatchObject({ errorCode: 0, memberId: 'm2b', memberEpoch: 2 });
    expect(back.assignment).toEqual(r2.assignment);
    const d = c.describeConsumerGroup('cg', catalog);
    if (d === null || d === 'classic') throw new Error('not described');
    expect(d.groupEpoch).toBe(2);
  });

  test('a silent member is removed after the session timeout; one that does not revoke, after its rebalance timeout', () => {
    const c = make();
    join(c, 'm1', { rebalanceTimeoutMs: 10000 });
    join(c, 'm2');
    hb(c, { memberId: 'm1', memberEpoch: 1 }); // asked to revoke
    for (let t = 0; t < 9; t++) {
      jest.advanceTimersByTime(1000);
      hb(c, { memberId: 'm2', memberEpoch: 2 });
      hb(c, { memberId: 'm1', memberEpoch: 1 }); // keeps heartbeating, never revokes
    }
    jest.advanceTimersByTime(1001);
    expect(hb(c, { memberId: 'm1', memberEpoch: 1 }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const r2 = hb(c, { memberId: 'm2', memberEpoch: 2 });
    expect(count(r2.assignment)).toBe(6);
    jest.advanceTimersByTime(45001);
    expect(c.listGroups([], [])[0].state).toBe('Empty');
  });
});

describe('persistence', () => {
  test('a broker restart keeps members, epochs and partitions: heartbeats carry on', () => {
    const store = new MemoryStore();
    const c = make(store);
    join(c, 'm1', { instanceId: 'i1', serverAssignor: 'range' });
    join(c, 'm2', { subscribedTopicNames: ['orders', 'users'] });
    const r1 = hb(c, { memberId: 'm1', memberEpoch: 1 });
    hb(c, { memberId: 'm1', memberEpoch: 1, topicPartitions: r1.assignment });
    const r2 = hb(c, { memberId: 'm2', memberEpoch: 2 });
    const before = c.describeConsumerGroup('cg', catalog);
    c.close();

    const c2 = make();
    store.replayInto(c2);
    const after = c2.describeConsumerGroup('cg', catalog);
    expect(after).toEqual(before);
    expect(c2.listGroups([], [])).toEqual([{ groupId: 'cg', protocolType: 'consumer', state: 'Stable', type: 'consumer' }]);
    // The first heartbeat re-reads topic metadata (one epoch bump) and nothing moves.
    const again = hb(c2, { memberId: 'm2', memberEpoch: 2, topicPartitions: r2.assignment });
    expect(again.errorCode).toBe(0);
    expect(again.assignment).toBeNull();
    c2.close();
  });

  test('members that left and deleted groups stay gone after a replay', () => {
    const store = new MemoryStore();
    const c = make(store);
    join(c, 'm1');
    join(c, 'm2');
    hb(c, { memberId: 'm2', memberEpoch: -1 });
    c.close();
    const c2 = make(store); // writes go on into the same log
    store.replayInto(c2);
    const d = c2.describeConsumerGroup('cg', catalog);
    if (d === null || d === 'classic') throw new Error('not described');
    expect(d.members.map((m) => m.memberId)).toEqual(['m1']);
    hb(c2, { memberId: 'm1', memberEpoch: -1 });
    c2.commitOffsets({ groupId: 'cg', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 9,
      offsets: [{ topic: 'orders', partition: 0, offset: 1, leaderEpoch: -1, metadata: '' }] });
    expect(c2.deleteGroup('cg')).toBe(0);
    c2.close();
    const c3 = make();
    store.replayInto(c3);
    expect(c3.groupKind('cg')).toBeNull();
    c3.close();
  });
});

describe('consumer groups and the classic APIs', () => {
  const commit = (c: GroupCoordinator, over: object) =>
    c.commitOffsets({
      groupId: 'cg',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 9,
      offsets: [{ topic: 'orders', partition: 0, offset: 5, leaderEpoch: -1, metadata: '' }],
      ...over,
    });

  test('offset commits and fetches carry the member epoch', () => {
    const c = make();
    const r = join(c, 'm1');
    expect(commit(c, { memberId: 'm1', generationId: r.memberEpoch })).toEqual([0]);
    expect(commit(c, { memberId: 'm1', generationId: 0 })).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(commit(c, { memberId: 'm1', generationId: r.memberEpoch, apiVersion: 8 })).toEqual([ErrorCode.UNSUPPORTED_VERSION]);
    expect(commit(c, { memberId: 'x', generationId: 1 })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(commit(c, {})).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]); // -1 only while the group is empty
    expect(c.validateOffsetFetch('cg', 'm1', 1)).toBe(0);
    expect(c.validateOffsetFetch('cg', 'm1', 0)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(c.validateOffsetFetch('cg', 'x', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.validateOffsetFetch('cg', null, -1)).toBe(0);
    expect(c.fetchOffsets('cg', null).map((o) => o.offset)).toEqual([5]);
    expect(c.deleteOffsets('cg', [{ topic: 'orders', partition: 0 }]).partitions).toEqual([ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC]);
    expect(c.deleteGroup('cg')).toBe(ErrorCode.NON_EMPTY_GROUP);
    expect(c.describeGroup('cg')).toBeNull();
    expect(c.groupKind('cg')).toBe('consumer');
    hb(c, { memberId: 'm1', memberEpoch: -1 });
    expect(commit(c, {})).toEqual([0]);
    expect(c.deleteGroup('cg')).toBe(0);
    expect(c.groupKind('cg')).toBeNull();
  });

  test('an empty group changes protocol and keeps its offsets; a busy one does not', async () => {
    const c = make();
    commit(c, {}); // a simple (classic) group with offsets
    expect(c.groupKind('cg')).toBe('classic');
    expect(join(c, 'm1').errorCode).toBe(0);
    expect(c.groupKind('cg')).toBe('consumer');
    expect(c.fetchOffsets('cg', null)).toHaveLength(1);
    const busy = await c.joinGroup({
      groupId: 'cg', memberId: '', groupInstanceId: null, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], clientId: 'c', clientHost: 'h', requireKnownMemberId: false,
      supportsSkipAssignment: false, reason: null,
    });
    expect(busy.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect(c.heartbeat('cg', 'm1', null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    hb(c, { memberId: 'm1', memberEpoch: -1 });
    const p = c.joinGroup({
      groupId: 'cg', memberId: '', groupInstanceId: null, sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }], clientId: 'c', clientHost: 'h', requireKnownMemberId: false,
      supportsSkipAssignment: false, reason: null,
    });
    jest.advanceTimersByTime(0);
    expect((await p).errorCode).toBe(0);
    expect(c.groupKind('cg')).toBe('classic');
    expect(c.fetchOffsets('cg', null)).toHaveLength(1);
    // And a busy classic group refuses consumer protocol members.
    expect(join(c, 'm9')).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group cg is not a consumer group.' });
    c.close();
  });
});
