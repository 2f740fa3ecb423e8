/**
 * The KIP-848 consumer group protocol through the raw client against a real broker process:
 * ConsumerGroupHeartbeat v0/v1 (join, revocation before re-assignment, leave),
 * ConsumerGroupDescribe v0/v1, OffsetCommit v9 and OffsetFetch v9 with member epochs,
 * ListGroups v5 with the "consumer" type, DescribeGroups v6 on a consumer group. No client
 * installed here speaks KIP-848 (librdkafka 2.0.2, kafka-python 2.0.2, kafkajs 2.2.4).
 */
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';

type Assignment = { topicPartitions: { topicId: string; partitions: number[] }[] } | null;

const size = (a: Assignment) => (a?.topicPartitions ?? []).reduce((n, t) => n + t.partitions.length, 0);

describe('KIP-848 consumer groups through the raw client', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  let topicId: string;

  beforeAll(async () => {
    broker = await startBrokerProcess();
    c = await RawClient.connect(broker.port);
    const created = await c.request(19, 7, {
      topics: [{ name: 'kip848', numPartitions: 4, replicationFactor: 1, assignments: [], configs: [] }],
      timeoutMs: 5000,
      validateOnly: false,
    });
    topicId = created.body.topics[0].topicId;
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  const heartbeat = (version: number, body: Record<string, unknown>) =>
    c.request(68, version, {
      groupId: 'g848',
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: -1,
      subscribedTopicNames: null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: null,
      ...body,
    });

  test('two members share a topic; partitions move only after they were revoked', async () => {
    const a = await heartbeat(0, { memberId: '', memberEpoch: 0, rebalanceTimeoutMs: 30000, subscribedTopicNames: ['kip848'], topicPartitions: [] });
    expect(a.body).toMatchObject({ errorCode: 0, errorMessage: null, memberEpoch: 1, heartbeatIntervalMs: 5000 });
    const aId = a.body.memberId as string;
    expect(a.body.assignment).toEqual({ topicPartitions: [{ topicId, partitions: [0, 1, 2, 3] }] });

    const b = await heartbeat(1, { memberId: 'member-b-0000000000000', memberEpoch: 0, rebalanceTimeoutMs: 30000, subscribedTopicNames: ['kip848'], topicPartitions: [], serverAssignor: 'uniform' });
    expect(b.body).toMatchObject({ errorCode: 0, memberId: 'member-b-0000000000000', memberEpoch: 2 });
    expect(size(b.body.assignment)).toBe(0);

    const revoke = await heartbeat(0, { memberId: aId, memberEpoch: 1 });
    expect(revoke.body.memberEpoch).toBe(1);
    expect(size(revoke.body.assignment)).toBe(2);
    const revoked = await heartbeat(0, { memberId: aId, memberEpoch: 1, topicPartitions: revoke.body.assignment.topicPartitions });
    expect(revoked.body).toMatchObject({ errorCode: 0, memberEpoch: 2 });
    const got = await heartbeat(1, { memberId: 'member-b-0000000000000', memberEpoch: 2 });
    expect(size(got.body.assignment)).toBe(2);

    const described = await c.request(69, 1, { groupIds: ['g848', 'missing'], includeAuthorizedOperations: false });
    const g = described.body.groups[0];
    expect(g).toMatchObject({ errorCode: 0, groupId: 'g848', groupState: 'Stable', groupEpoch: 2, assignmentEpoch: 2, assignorName: 'uniform' });
    expect(g.members).toHaveLength(2);
    for (const m of g.members) {
      expect(m).toMatchObject({ memberEpoch: 2, clientId: 'raw-test', clientHost: '/127.0.0.1', subscribedTopicNames: ['kip848'], memberType: 1 });
      expect(m.assignment.topicPartitions[0]).toMatchObject({ topicId, topicName: 'kip848' });
      expect(m.assignment).toEqual(m.targetAssignment);
    }
    expect(described.body.groups[1]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group missing not found.' });

    const listed = await c.request(16, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(listed.body.groups).toEqual([{ groupId: 'g848', protocolType: 'consumer', groupState: 'Stable', groupType: 'consumer' }]);
    const classic = await c.request(15, 6, { groups: ['g848'], includeAuthorizedOperations: false });
    expect(classic.body.groups[0]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group g848 is not a classic group.' });

    // Offsets: member epoch instead of the generation (v9+).
    const commit = await c.request(8, 9, {
      groupId: 'g848', generationIdOrMemberEpoch: 2, memberId: aId, groupInstanceId: null,
      topics: [{ name: 'kip848', partitions: [{ partitionIndex: 0, committedOffset: 17, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(commit.body.topics[0].partitions[0].errorCode).toBe(0);
    const stale = await c.request(8, 9, {
      groupId: 'g848', generationIdOrMemberEpoch: 1, memberId: aId, groupInstanceId: null,
      topics: [{ name: 'kip848', partitions: [{ partitionIndex: 0, committedOffset: 18, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    expect(stale.body.topics[0].partitions[0].errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    const fetched = await c.request(9, 9, {
      groups: [
        { groupId: 'g848', memberId: aId, memberEpoch: 2, topics: [{ name: 'kip848', partitionIndexes: [0] }] },
        { groupId: 'g848', memberId: aId, memberEpoch: 1, topics: [{ name: 'kip848', partitionIndexes: [0] }] },
      ],
      requireStable: true,
    });
    expect(fetched.body.groups[0].topics[0].partitions[0]).toMatchObject({ committedOffset: 17, errorCode: 0 });
    expect(fetched.body.groups[1]).toMatchObject({ errorCode: ErrorCode.STALE_MEMBER_EPOCH, topics: [] });

    // Leaving: the other member gets everything back.
    const left = await heartbeat(1, { memberId: 'member-b-0000000000000', memberEpoch: -1 });
    expect(left.body).toMatchObject({ errorCode: 0, memberEpoch: -1, memberId: 'member-b-0000000000000' });
    const all = await heartbeat(0, { memberId: aId, memberEpoch: 2 });
    expect(all.body.memberEpoch).toBe(3);
    expect(size(all.body.assignment)).toBe(4);

    // A broker restart: the member carries on with its epoch and partitions (loaded from __consumer_offsets).
    c.close();
    await broker.stop();
    broker = await startBrokerProcess({ dataDir: broker.dataDir });
    c = await RawClient.connect(broker.port);
    const after = await heartbeat(0, { memberId: aId, memberEpoch: 3, topicPartitions: all.body.assignment.topicPartitions });
    expect(after.body).toMatchObject({ errorCode: 0, memberId: aId, assignment: null });
    const reloaded = await c.request(69, 0, { groupIds: ['g848'], includeAuthorizedOperations: false });
    expect(reloaded.body.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', assignorName: 'uniform' });
    expect(reloaded.body.groups[0].members.map((m: { memberId: string }) => m.memberId)).toEqual([aId]);
    const offsets = await c.request(9, 9, { groups: [{ groupId: 'g848', memberId: null, memberEpoch: -1, topics: null }], requireStable: false });
    expect(offsets.body.groups[0].topics[0].partitions[0].committedOffset).toBe(17);
  });

  test('errors: invalid requests, unknown members, fenced epochs, unsupported assignors', async () => {
    const noTimeout = await heartbeat(0, { memberId: '', memberEpoch: 0, subscribedTopicNames: ['kip848'], topicPartitions: [] });
    expect(noTimeout.body).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'RebalanceTimeoutMs must be provided in first request.' });
    const unknown = await heartbeat(1, { memberId: 'nobody', memberEpoch: 5 });
    expect(unknown.body.errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH); // never seen: rejoin
    const gone = await heartbeat(1, { memberId: 'member-b-0000000000000', memberEpoch: 2 });
    expect(gone.body.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID); // it left earlier
    const assignor = await heartbeat(1, { memberId: 'x', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicNames: ['kip848'], topicPartitions: [], serverAssignor: 'cooperative-sticky' });
    expect(assignor.body.errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    const regex = await heartbeat(1, { memberId: 'x', memberEpoch: 0, rebalanceTimeoutMs: 1000, subscribedTopicRegex: 'kip[', topicPartitions: [] });
    expect(regex.body.errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
  });

  test('a named topic first, then a regex: the regex\'s topics come one heartbeat after it (as Kafka resolves regexes in the background)', async () => {
    const mk = async (name: string, partitions: number) =>
      (await c.request(19, 7, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false })).body.topics[0].topicId as string;
    const named = await mk('rx-named', 2);
    const matched = await mk('rx-match-1', 3);
    const hb = async (body: object) =>
      (await c.request(68, 1, { groupId: 'g-regex', instanceId: null, rackId: null, rebalanceTimeoutMs: 30000, subscribedTopicNames: null, subscribedTopicRegex: null, serverAssignor: null, topicPartitions: null, ...body })).body;
    const first = await hb({ memberId: 'rx-member-000000000000', memberEpoch: 0, subscribedTopicNames: ['rx-named'], topicPartitions: [] });
    expect(first.assignment).toEqual({ topicPartitions: [{ topicId: named, partitions: [0, 1] }] });
    const owned = first.assignment.topicPartitions;
    const resub = await hb({ memberId: 'rx-member-000000000000', memberEpoch: first.memberEpoch, subscribedTopicNames: [], subscribedTopicRegex: 'rx-match-.*', topicPartitions: owned });
    expect(resub.errorCode).toBe(0);
    // The heartbeat that brings the regex does not assign its topics yet.
    expect((resub.assignment?.topicPartitions ?? []).some((t: { topicId: string }) => t.topicId === matched)).toBe(false);
    let last = resub;
    let current = resub.assignment?.topicPartitions ?? owned;
    // An assignment of null means "unchanged": the member keeps what it was last given.
    for (let i = 0; i < 5 && !current.some((t: { topicId: string }) => t.topicId === matched); i++) {
      last = await hb({ memberId: 'rx-member-000000000000', memberEpoch: last.memberEpoch, topicPartitions: current });
      current = last.assignment?.topicPartitions ?? current;
    }
    expect(current).toEqual([{ topicId: matched, partitions: [0, 1, 2] }]);
  });
});
