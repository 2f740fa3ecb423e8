/**
 * The group APIs at the versions real clients of this repo never send (flexible versions,
 * batched keys and groups, topic ids, static membership, filters), through the raw client
 * against a real broker process: FindCoordinator v0-6, JoinGroup v0-9 (MEMBER_ID_REQUIRED,
 * static members, skipAssignment), SyncGroup v5, Heartbeat v4, LeaveGroup v0/v5,
 * OffsetCommit v2/v8/v10, OffsetFetch v1/v7/v8/v10, DescribeGroups v6, ListGroups v5,
 * DeleteGroups v2, OffsetDelete v0. Also: a JoinGroup waiting for a rebalance does not block
 * the other members' connections, and a stable group survives a broker restart.
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';

const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

/** ConsumerProtocolSubscription v0 for the given topics. */
function subscription(topics: string[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0, 0]), Buffer.alloc(4)];
  parts[1].writeInt32BE(topics.length);
  for (const t of topics) {
    const len = Buffer.alloc(2);
    len.writeInt16BE(t.length);
    parts.push(len, Buffer.from(t));
  }
  parts.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  return Buffer.concat(parts);
}

const SUB = subscription(['gp-topic']);

function join(version: number, over: Record<string, unknown> = {}) {
  return {
    groupId: 'gp',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 20000,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: SUB }],
    reason: null,
    ...over,
  };
}

describe('group APIs at every version through the raw client', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  let topicId: string;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    c = await RawClient.connect(broker.port);
    const created = await c.request(19, 7, {
      topics: [{ name: 'gp-topic', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    topicId = created.body.topics[0].topicId;
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('FindCoordinator: v0 group, v1-3 group and transaction keys, v4+ batches; this broker answers', async () => {
    const me = { nodeId: 1, host: '127.0.0.1', port: broker.port };
    expect((await c.request(10, 0, { key: 'g' })).body).toMatchObject({ errorCode: 0, ...me });
    expect((await c.request(10, 1, { key: 'txn', keyType: 1 })).body).toMatchObject({ errorCode: 0, ...me });
    expect((await c.request(10, 3, { key: 'g', keyType: 0 })).body).toMatchObject({ errorCode: 0, errorMessage: null, ...me });
    const batch = await c.request(10, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] });
    expect(batch.body.coordinators).toEqual([
      { key: 'a', ...me, errorCode: 0, errorMessage: null },
      { key: 'b', ...me, errorCode: 0, errorMessage: null },
    ]);
    const txn = await c.request(10, 6, { keyType: 1, coordinatorKeys: ['t1'] });
    expect(txn.body.coordinators[0]).toMatchObject({ key: 't1', errorCode: 0, ...me });
    const share = await c.request(10, 6, { keyType: 2, coordinatorKeys: ['s'] });
    expect(share.body.coordinators[0].errorCode).toBe(ErrorCode.INVALID_REQUEST);
    // The first group lookup created the offsets topic, marked internal.
    const md = await c.request(3, 12, { topics: [{ name: '__consumer_offsets', topicId: ZERO_UUID }], allowAutoTopicCreation: false });
    expect(md.body.topics[0]).toMatchObject({ errorCode: 0, name: '__consumer_offsets', isInternal: true });
    expect(md.body.topics[0].partitions).toHaveLength(10);
  });

  test('JoinGroup v4+ MEMBER_ID_REQUIRED, v7 protocol fields, SyncGroup v5, Heartbeat v4', async () => {
    const first = await c.request(11, 9, join(9));
    expect(first.body).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, generationId: -1 });
    const memberId = first.body.memberId as string;
    expect(memberId).toMatch(/^raw-test-/);
    const joined = await c.request(11, 9, join(9, { memberId }));
    expect(joined.body).toMatchObject({
      errorCode: 0,
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: memberId,
      skipAssignment: false,
      memberId,
      members: [{ memberId, groupInstanceId: null, metadata: SUB }],
    });
    const wrong = await c.request(14, 5, {
      groupId: 'gp', generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'roundrobin', assignments: [],
    });
    expect(wrong.body.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const synced = await c.request(14, 5, {
      groupId: 'gp', generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range',
      assignments: [{ memberId, assignment: Buffer.from([1, 2, 3]) }],
    });
    expect(synced.body).toEqual({ throttleTimeMs: 0, errorCode: 0, protocolType: 'consumer', protocolName: 'range', assignment: Buffer.from([1, 2, 3]) });
    expect((await c.request(12, 4, { groupId: 'gp', generationId: 1, memberId, groupInstanceId: null })).body.errorCode).toBe(0);
    expect((await c.request(12, 4, { groupId: 'gp', generationId: 0, memberId, groupInstanceId: null })).body.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await c.request(12, 0, { groupId: 'nope', generationId: 1, memberId })).body.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

    const described = await c.request(15, 6, { groups: ['gp', 'missing'], includeAuthorizedOperations: true });
    expect(described.body.groups[0]).toMatchObject({
      errorCode: 0, groupId: 'gp', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range',
      members: [{ memberId, groupInstanceId: null, clientId: 'raw-test', clientHost: '/127.0.0.1', memberMetadata: SUB, memberAssignment: Buffer.from([1, 2, 3]) }],
    });
    expect(described.body.groups[0].authorizedOperations).toBe((1 << 3) | (1 << 6) | (1 << 8));
    expect(described.body.groups[1]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group missing not found.', groupState: 'Dead' });
    const v0 = await c.request(15, 0, { groups: ['missing'] });
    expect(v0.body.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Dead' });

    const left = await c.request(13, 5, { groupId: 'gp', members: [{ memberId, groupInstanceId: null, reason: 'test' }, { memberId: 'ghost', groupInstanceId: null, reason: null }] });
    expect(left.body).toEqual({
      throttleTimeMs: 0,
      errorCode: 0,
      members: [
        { memberId, groupInstanceId: null, errorCode: 0 },
        { memberId: 'ghost', groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID },
      ],
    });
    expect((await c.request(13, 0, { groupId: 'gp', memberId: 'ghost' })).body.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await c.request(15, 5, { groups: ['gp'], includeAuthorizedOperations: false })).body.groups[0].groupState).toBe('Empty');
  });

  test('JoinGroup v0 (no rebalance timeout) and a member that joins while another waits on its own connection', async () => {
    const a = await c.request(11, 0, join(0, { groupId: 'two', sessionTimeoutMs: 60000 }));
    expect(a.body).toMatchObject({ errorCode: 0, generationId: 1 });
    const aId = a.body.memberId as string;
    await c.request(14, 0, { groupId: 'two', generationId: 1, memberId: aId, assignments: [{ memberId: aId, assignment: Buffer.from('a') }] });

    const other = await RawClient.connect(broker.port);
    try {
      // b's JoinGroup stays open until a rejoins; meanwhile a's own connection is served.
      const required = await other.request(11, 5, join(5, { groupId: 'two', sessionTimeoutMs: 60000 }));
      expect(required.body).toMatchObject({ errorCode: ErrorCode.MEMBER_ID_REQUIRED, protocolName: '', leader: '' });
      const bJoin = other.request(11, 5, join(5, { groupId: 'two', sessionTimeoutMs: 60000, memberId: required.body.memberId }));
      let hb = await c.request(12, 3, { groupId: 'two', generationId: 1, memberId: aId, groupInstanceId: null });
      for (let i = 0; i < 100 && hb.body.errorCode === 0; i++) {
        // b's request travels on another socket: wait until the broker has it.
        await new Promise((r) => setTimeout(r, 10));
        hb = await c.request(12, 3, { groupId: 'two', generationId: 1, memberId: aId, groupInstanceId: null });
      }
      expect(hb.body.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
      const offsets = await c.request(8, 8, {
        groupId: 'two', generationIdOrMemberEpoch: 1, memberId: aId, groupInstanceId: null,
        topics: [{ name: 'gp-topic', partitions: [{ partitionIndex: 0, committedOffset: 5, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      expect(offsets.body.topics[0].partitions[0].errorCode).toBe(0); // commits are allowed while preparing
      const aJoin = await c.request(11, 0, join(0, { groupId: 'two', memberId: aId, sessionTimeoutMs: 60000 }));
      const bJoined = (await bJoin).body;
      expect(aJoin.body).toMatchObject({ errorCode: 0, generationId: 2, leader: aId });
      expect(aJoin.body.members).toHaveLength(2);
      expect(bJoined).toMatchObject({ errorCode: 0, generationId: 2, leader: aId, members: [] });
      const bSync = other.request(14, 3, { groupId: 'two', generationId: 2, memberId: bJoined.memberId, groupInstanceId: null, assignments: [] });
      await c.request(14, 0, {
        groupId: 'two', generationId: 2, memberId: aId,
        assignments: [{ memberId: aId, assignment: Buffer.from('A') }, { memberId: bJoined.memberId, assignment: Buffer.from('B') }],
      });
      expect((await bSync).body).toMatchObject({ errorCode: 0, assignment: Buffer.from('B') });
    } finally {
      other.close();
    }
  });

  test('static members (JoinGroup v5+): a restart keeps the assignment, the old id is fenced, v9 leader skips assignment', async () => {
    const j = await c.request(11, 7, join(7, { groupId: 'static', groupInstanceId: 'inst-1' }));
    expect(j.body).toMatchObject({ errorCode: 0, generationId: 1 }); // no MEMBER_ID_REQUIRED for static members
    const id1 = j.body.memberId as string;
    expect(id1).toMatch(/^inst-1-/);
    await c.request(14, 5, {
      groupId: 'static', generationId: 1, memberId: id1, groupInstanceId: 'inst-1', protocolType: 'consumer', protocolName: 'range',
      assignments: [{ memberId: id1, assignment: Buffer.from('S') }],
    });
    const again = await c.request(11, 9, join(9, { groupId: 'static', groupInstanceId: 'inst-1' }));
    expect(again.body).toMatchObject({ errorCode: 0, generationId: 1, skipAssignment: true });
    const id2 = again.body.memberId as string;
    expect(again.body.leader).toBe(id2);
    expect(again.body.members).toEqual([{ memberId: id2, groupInstanceId: 'inst-1', metadata: SUB }]);
    expect((await c.request(12, 4, { groupId: 'static', generationId: 1, memberId: id1, groupInstanceId: 'inst-1' })).body.errorCode).toBe(
      ErrorCode.FENCED_INSTANCE_ID,
    );
    const sync = await c.request(14, 5, {
      groupId: 'static', generationId: 1, memberId: id2, groupInstanceId: 'inst-1', protocolType: 'consumer', protocolName: 'range', assignments: [],
    });
    expect(sync.body.assignment).toEqual(Buffer.from('S'));

    // The group and its static member survive a broker restart (loaded from __consumer_offsets).
    c.close();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir: broker.dataDir });
    c = await RawClient.connect(broker.port);
    expect((await c.request(12, 4, { groupId: 'static', generationId: 1, memberId: id2, groupInstanceId: 'inst-1' })).body.errorCode).toBe(0);
    const described = await c.request(15, 5, { groups: ['static'], includeAuthorizedOperations: false });
    expect(described.body.groups[0]).toMatchObject({ groupState: 'Stable', members: [{ memberId: id2, groupInstanceId: 'inst-1', memberAssignment: Buffer.from('S') }] });
    const removed = await c.request(13, 4, { groupId: 'static', members: [{ memberId: '', groupInstanceId: 'inst-1' }] });
    expect(removed.body.members).toEqual([{ memberId: '', groupInstanceId: 'inst-1', errorCode: 0 }]);
  });

  test('OffsetCommit v2/v8/v10 and OffsetFetch v1/v7/v8/v10: names, topic ids, batches, unknown topics', async () => {
    const commit10 = await c.request(8, 10, {
      groupId: 'offs', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
      topics: [
        { topicId, partitions: [{ partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 0, committedMetadata: 'm0' }, { partitionIndex: 9, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
        { topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    expect(commit10.body.topics).toEqual([
      { topicId, partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 9, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      { topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_ID }] },
    ].map((t) => ({ name: '', ...t })));
    const commit8 = await c.request(8, 8, {
      groupId: 'offs', generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
      topics: [
        { name: 'gp-topic', partitions: [{ partitionIndex: 1, committedOffset: 11, committedLeaderEpoch: 0, committedMetadata: '' }] },
        { name: 'no-such-topic', partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, committedMetadata: null }] },
      ],
    });
    expect(commit8.body.topics.map((t: { partitions: { errorCode: number }[] }) => t.partitions[0].errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
    const commit2 = await c.request(8, 2, {
      groupId: 'offs', generationIdOrMemberEpoch: -1, memberId: '', retentionTimeMs: 86400000,
      topics: [{ name: 'gp-topic', partitions: [{ partitionIndex: 2, committedOffset: 12, committedMetadata: 'kept verbatim \u00e9' }] }],
    });
    expect(commit2.body.topics[0].partitions[0].errorCode).toBe(0);

    const v1 = await c.request(9, 1, { groupId: 'offs', topics: [{ name: 'gp-topic', partitionIndexes: [0, 1, 2] }] });
    expect(v1.body.topics[0].partitions).toEqual([
      { partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: -1, metadata: 'm0', errorCode: 0 },
      { partitionIndex: 1, committedOffset: 11, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
      { partitionIndex: 2, committedOffset: 12, committedLeaderEpoch: -1, metadata: 'kept verbatim \u00e9', errorCode: 0 },
    ]);
    const v7 = await c.request(9, 7, { groupId: 'offs', topics: null, requireStable: true });
    expect(v7.body.errorCode).toBe(0);
    expect(v7.body.topics).toHaveLength(1);
    expect(v7.body.topics[0].partitions.map((p: { committedLeaderEpoch: number }) => p.committedLeaderEpoch).sort()).toEqual([-1, 0, 0]);
    const v8 = await c.request(9, 8, {
      groups: [
        { groupId: 'offs', topics: [{ name: 'gp-topic', partitionIndexes: [0] }] },
        { groupId: 'nobody', topics: [{ name: 'gp-topic', partitionIndexes: [0] }] },
        { groupId: 'nobody2', topics: null },
      ],
      requireStable: false,
    });
    expect(v8.body.groups).toEqual([
      { groupId: 'offs', errorCode: 0, topics: [{ name: 'gp-topic', topicId: ZERO_UUID, partitions: [{ partitionIndex: 0, committedOffset: 10, committedLeaderEpoch: 0, metadata: 'm0', errorCode: 0 }] }] },
      { groupId: 'nobody', errorCode: 0, topics: [{ name: 'gp-topic', topicId: ZERO_UUID, partitions: [{ partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 }] }] },
      { groupId: 'nobody2', errorCode: 0, topics: [] },
    ]);
    const v10 = await c.request(9, 10, {
      groups: [{ groupId: 'offs', memberId: null, memberEpoch: -1, topics: [{ topicId, partitionIndexes: [1] }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitionIndexes: [0] }] }],
      requireStable: true,
    });
    expect(v10.body.groups[0].topics).toEqual([
      { name: '', topicId, partitions: [{ partitionIndex: 1, committedOffset: 11, committedLeaderEpoch: 0, metadata: '', errorCode: 0 }] },
      { name: '', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', partitions: [{ partitionIndex: 0, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_ID }] },
    ]);
  });

  test('ListGroups v5 filters, OffsetDelete, DeleteGroups v2', async () => {
    const all = await c.request(16, 5, { statesFilter: [], typesFilter: [] });
    const byId = Object.fromEntries(all.body.groups.map((g: { groupId: string }) => [g.groupId, g]));
    expect(byId.offs).toEqual({ groupId: 'offs', protocolType: '', groupState: 'Empty', groupType: 'classic' });
    expect(byId.two).toEqual({ groupId: 'two', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' });
    const stable = await c.request(16, 4, { statesFilter: ['STABLE'] });
    expect(stable.body.groups.map((g: { groupId: string }) => g.groupId)).toEqual(['two']);
    expect((await c.request(16, 5, { statesFilter: [], typesFilter: ['consumer'] })).body.groups).toEqual([]);
    expect((await c.request(16, 0, {})).body.groups.length).toBe(all.body.groups.length);

    const del = await c.request(47, 0, {
      groupId: 'offs',
      topics: [{ name: 'gp-topic', partitions: [{ partitionIndex: 0 }] }, { name: 'no-such-topic', partitions: [{ partitionIndex: 0 }] }],
    });
    expect(del.body).toEqual({
      errorCode: 0,
      throttleTimeMs: 0,
      topics: [
        { name: 'gp-topic', partitions: [{ partitionIndex: 0, errorCode: 0 }] },
        { name: 'no-such-topic', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] },
      ],
    });
    const subscribed = await c.request(47, 0, { groupId: 'two', topics: [{ name: 'gp-topic', partitions: [{ partitionIndex: 0 }] }] });
    expect(subscribed.body.topics[0].partitions[0].errorCode).toBe(ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
    expect((await c.request(47, 0, { groupId: 'nope', topics: [] })).body.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    const deleted = await c.request(42, 2, { groupsNames: ['offs', 'two', 'nope', ''] });
    expect(deleted.body.results).toEqual([
      { groupId: 'offs', errorCode: 0 },
      { groupId: 'two', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      { groupId: '', errorCode: ErrorCode.INVALID_GROUP_ID },
    ]);
    const after = await c.request(9, 1, { groupId: 'offs', topics: [{ name: 'gp-topic', partitionIndexes: [1] }] });
    expect(after.body.topics[0].partitions[0].committedOffset).toBe(-1);
  });
});
