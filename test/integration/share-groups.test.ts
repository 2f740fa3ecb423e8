/**
 * Share groups (KIP-932) through the raw client against a real broker process: no client
 * installed here speaks ShareGroupHeartbeat / ShareFetch / ShareAcknowledge (librdkafka 2.x,
 * kafka-python 2.0.2 and kafkajs 2.2.4 do not). Checks membership and the simple assignor,
 * disjoint delivery to two members, acquisition lock expiry, release / reject / delivery
 * limit, share sessions, the offsets admin APIs, ListGroups / DescribeGroups / DeleteGroups,
 * the state APIs and state surviving a restart.
 */
import { Kafka, logLevel } from 'kafkajs';
import { BrokerProcess, startBrokerProcess } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { decodeBatchValues, simpleBatch } from '../helpers/record-batch-builder';
import { ErrorCode } from '../../src/protocol/errors';

const LOCK_MS = 1500;
const BROKER_ARGS = [
  '--override', 'group.share.min.record.lock.duration.ms=100',
  '--override', `group.share.record.lock.duration.ms=${LOCK_MS}`,
  '--override', 'group.share.min.session.timeout.ms=1000',
  '--override', 'group.share.min.heartbeat.interval.ms=100',
];
const GROUP = 32;
const ACCEPT = 1;
const RELEASE = 2;
const REJECT = 3;

interface Acquired {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

/** The values of the records a share fetch partition hands to the member: only acquired offsets. */
function acquiredValues(part: { records: Buffer | null; acquiredRecords: Acquired[] }): Map<number, string | null> {
  const out = new Map<number, string | null>();
  const buf = part.records ?? Buffer.alloc(0);
  const held = (o: number) => part.acquiredRecords.some((r) => o >= r.firstOffset && o <= r.lastOffset);
  for (let pos = 0; pos + 12 <= buf.length; pos += 12 + buf.readInt32BE(pos + 8)) {
    for (const r of decodeBatchValues(buf, pos)) if (held(r.offset)) out.set(r.offset, r.value);
  }
  return out;
}

const offsetsOf = (ranges: Acquired[]) => ranges.flatMap((r) => Array.from({ length: r.lastOffset - r.firstOffset + 1 }, (_, i) => r.firstOffset + i));

describe('share groups through the raw client', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  const topicIds: Record<string, string> = {};

  async function connect(args: string[] = BROKER_ARGS, dataDir?: string) {
    broker = await startBrokerProcess({ args, dataDir });
    c = await RawClient.connect(broker.port);
  }

  async function createTopic(name: string, partitions = 1) {
    const r = await c.request(19, 7, { topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    expect(r.body.topics[0].errorCode).toBe(0);
    topicIds[name] = r.body.topics[0].topicId;
  }

  async function produce(topic: string, n: number, prefix: string) {
    const r = await c.request(0, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: simpleBatch(n, { prefix }) }] }] });
    expect(r.body.responses[0].partitionResponses[0].errorCode).toBe(0);
  }

  async function groupConfig(group: string, configs: Record<string, string>) {
    const r = await c.request(44, 1, {
      resources: [{ resourceType: GROUP, resourceName: group, configs: Object.entries(configs).map(([name, value]) => ({ name, configOperation: 0, value })) }],
      validateOnly: false,
    });
    expect(r.body.responses[0].errorCode).toBe(0);
  }

  const heartbeat = (group: string, memberId: string, memberEpoch: number, topics: string[] | null) =>
    c.request(76, 1, { groupId: group, memberId, memberEpoch, rackId: null, subscribedTopicNames: topics });

  async function join(group: string, memberId: string, topics: string[]) {
    const r = await heartbeat(group, memberId, 0, topics);
    expect(r.body.errorCode).toBe(0);
    return r.body;
  }

  type AckBatch = { firstOffset: number; lastOffset: number; acknowledgeTypes: number[] };

  async function shareFetch(
    group: string,
    memberId: string,
    epoch: number,
    topic: string,
    opts: { acks?: AckBatch[]; maxRecords?: number; maxWaitMs?: number; version?: number; client?: RawClient } = {},
  ) {
    const r = await (opts.client ?? c).request(78, opts.version ?? 1, {
      groupId: group,
      memberId,
      shareSessionEpoch: epoch,
      maxWaitMs: opts.maxWaitMs ?? 200,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: opts.maxRecords ?? 500,
      batchSize: 500,
      shareAcquireMode: 0,
      isRenewAck: false,
      topics: [{ topicId: topicIds[topic], partitions: [{ partitionIndex: 0, partitionMaxBytes: 0, acknowledgementBatches: opts.acks ?? [] }] }],
      forgottenTopicsData: [],
    });
    const part = r.body.responses.flatMap((t: any) => t.partitions).find((p: any) => p.partitionIndex === 0);
    return { body: r.body, part: part ?? { errorCode: 0, acknowledgeErrorCode: 0, records: null, acquiredRecords: [] } };
  }

  const shareAck = (group: string, memberId: string, epoch: number, topic: string, acks: AckBatch[]) =>
    c.request(79, 1, {
      groupId: group,
      memberId,
      shareSessionEpoch: epoch,
      isRenewAck: false,
      topics: [{ topicId: topicIds[topic], partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
    });

  async function describeOffsets(group: string, topic: string) {
    const r = await c.request(90, 1, { groups: [{ groupId: group, topics: [{ topicName: topic, partitions: [0] }] }] });
    return r.body.groups[0];
  }

  beforeAll(async () => {
    await connect();
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('two members of one share group receive disjoint records from one partition', async () => {
    await createTopic('queue');
    await groupConfig('sg-disjoint', { 'share.auto.offset.reset': 'earliest' });
    for (let i = 0; i < 3; i++) await produce('queue', 10, `b${i}`);

    const a = await join('sg-disjoint', 'member-a', ['queue']);
    const b = await join('sg-disjoint', 'member-b', ['queue']);
    // One partition and two members: the simple assignor gives it to both.
    expect(b.assignment.topicPartitions).toEqual([{ topicId: topicIds.queue, partitions: [0] }]);
    const again = await heartbeat('sg-disjoint', 'member-a', a.memberEpoch, null);
    expect(again.body.errorCode).toBe(0);
    expect(again.body.memberEpoch).toBe(b.memberEpoch);

    const describe = await c.request(77, 1, { groupIds: ['sg-disjoint'], includeAuthorizedOperations: false });
    expect(describe.body.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', assignorName: 'simple' });
    expect(describe.body.groups[0].members.map((m: any) => m.memberId).sort()).toEqual(['member-a', 'member-b']);

    const fa = await shareFetch('sg-disjoint', 'member-a', 0, 'queue', { maxRecords: 10 });
    const fb = await shareFetch('sg-disjoint', 'member-b', 0, 'queue', { maxRecords: 10 });
    const fa2 = await shareFetch('sg-disjoint', 'member-a', 1, 'queue', { maxRecords: 10 });
    expect(fa.body.errorCode).toBe(0);
    expect(fa.body.acquisitionLockTimeoutMs).toBe(LOCK_MS);
    const seenA = [...acquiredValues(fa.part).keys(), ...acquiredValues(fa2.part).keys()];
    const seenB = [...acquiredValues(fb.part).keys()];
    expect(seenA.filter((o) => seenB.includes(o))).toEqual([]);
    expect([...seenA, ...seenB].sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(acquiredValues(fb.part).get(10)).toBe('b1-0');

    // Accept everything; the start offset moves to the end and nothing is left to deliver.
    const ackA = await shareFetch('sg-disjoint', 'member-a', 2, 'queue', {
      acks: [...fa.part.acquiredRecords, ...fa2.part.acquiredRecords].map((r: Acquired) => ({ firstOffset: r.firstOffset, lastOffset: r.lastOffset, acknowledgeTypes: [ACCEPT] })),
      maxWaitMs: 0,
    });
    expect(ackA.part.acknowledgeErrorCode).toBe(0);
    const ackB = await shareAck('sg-disjoint', 'member-b', 1, 'queue', [{ firstOffset: 10, lastOffset: 19, acknowledgeTypes: [ACCEPT] }]);
    expect(ackB.body.errorCode).toBe(0);
    expect(ackB.body.responses[0].partitions[0].errorCode).toBe(0);
    const offsets = await describeOffsets('sg-disjoint', 'queue');
    expect(offsets.topics[0].partitions[0]).toMatchObject({ startOffset: 30, lag: 0, errorCode: 0 });

    // ListGroups v5 knows the share group and its type filter.
    const listed = await c.request(16, 5, { statesFilter: [], typesFilter: ['share'] });
    expect(listed.body.groups).toContainEqual({ groupId: 'sg-disjoint', protocolType: 'share', groupState: 'Stable', groupType: 'share' });
    const consumers = await c.request(16, 5, { statesFilter: [], typesFilter: ['consumer'] });
    expect(consumers.body.groups.map((g: any) => g.groupId)).not.toContain('sg-disjoint');
    // The id belongs to a share group: the classic and KIP-848 protocols cannot use it.
    const joinClassic = await c.request(11, 5, { groupId: 'sg-disjoint', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    expect(joinClassic.body.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const join848 = await c.request(68, 0, { groupId: 'sg-disjoint', memberId: '', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000, subscribedTopicNames: ['queue'], serverAssignor: null, topicPartitions: [] });
    expect(join848.body).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg-disjoint is not a consumer group.' });
    const described848 = await c.request(69, 1, { groupIds: ['sg-disjoint'], includeAuthorizedOperations: false });
    expect(described848.body.groups[0]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg-disjoint is not a consumer group.' });
    const classic = await c.request(15, 6, { groups: ['sg-disjoint'], includeAuthorizedOperations: false });
    expect(classic.body.groups[0]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: 'Group sg-disjoint is not a classic group.' });
  });

  test('share sessions: epochs must follow, and a session must exist', async () => {
    const notFound = await shareFetch('sg-disjoint', 'member-nobody', 3, 'queue');
    expect(notFound.body.errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
    const wrong = await shareFetch('sg-disjoint', 'member-a', 9, 'queue');
    expect(wrong.body.errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
    const ackOnOpen = await shareFetch('sg-disjoint', 'member-c', 0, 'queue', { acks: [{ firstOffset: 0, lastOffset: 0, acknowledgeTypes: [ACCEPT] }] });
    expect(ackOnOpen.body.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const ackOpens = await shareAck('sg-disjoint', 'member-a', 0, 'queue', []);
    expect(ackOpens.body.errorCode).toBe(ErrorCode.INVALID_SHARE_SESSION_EPOCH);
  });

  test('a partition forgotten by the share session gives its records back', async () => {
    await createTopic('forget');
    await groupConfig('sg-forget', { 'share.auto.offset.reset': 'earliest' });
    await produce('forget', 2, 'f');
    const held = await shareFetch('sg-forget', 'member-a', 0, 'forget');
    expect(held.part.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 1 }]);
    const forgot = await c.request(78, 1, {
      groupId: 'sg-forget',
      memberId: 'member-a',
      shareSessionEpoch: 1,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 10,
      batchSize: 10,
      topics: [],
      forgottenTopicsData: [{ topicId: topicIds.forget, partitions: [0] }],
    });
    expect(forgot.body).toMatchObject({ errorCode: 0, responses: [] });
    const other = await shareFetch('sg-forget', 'member-b', 0, 'forget');
    expect(other.part.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 1, deliveryCount: 2 }]);
  });

  test('share.auto.offset.reset: latest by default; by_duration starts at the first record that recent', async () => {
    await createTopic('latest');
    await produce('latest', 3, 'old');
    await join('sg-latest', 'member-a', ['latest']);
    const none = await shareFetch('sg-latest', 'member-a', 0, 'latest', { maxWaitMs: 0 });
    expect(none.part.acquiredRecords).toEqual([]);
    expect((await describeOffsets('sg-latest', 'latest')).topics[0].partitions[0]).toMatchObject({ startOffset: 3, lag: 0 });
    // A long poll is answered by the next produce.
    const waiting = shareFetch('sg-latest', 'member-a', 1, 'latest', { maxWaitMs: 10000 });
    await new Promise((r) => setTimeout(r, 200));
    const producer = await RawClient.connect(broker.port);
    await producer.request(0, 9, { acks: -1, timeoutMs: 5000, topicData: [{ name: 'latest', partitionData: [{ index: 0, records: simpleBatch(2, { prefix: 'new', timestamp: Date.now() }) }] }] });
    producer.close();
    expect((await waiting).part.acquiredRecords).toEqual([{ firstOffset: 3, lastOffset: 4, deliveryCount: 1 }]);

    // The old batch is stamped 2023: a one-day window starts at the new records.
    await groupConfig('sg-duration', { 'share.auto.offset.reset': 'by_duration:P1D' });
    await join('sg-duration', 'member-a', ['latest']);
    const recent = await shareFetch('sg-duration', 'member-a', 0, 'latest');
    expect(offsetsOf(recent.part.acquiredRecords)).toEqual([3, 4]);
  });

  test('share.isolation.level=read_committed delivers committed records only; aborted ones are archived', async () => {
    await createTopic('txn');
    const kafka = new Kafka({ clientId: 'share-txn', brokers: [broker.address], logLevel: logLevel.NOTHING, retry: { retries: 5, initialRetryTime: 100 } });
    const producer = kafka.producer({ transactionalId: 'share-txn', idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const aborted = await producer.transaction();
      await aborted.send({ topic: 'txn', messages: [{ value: 'aborted-0' }, { value: 'aborted-1' }] });
      await aborted.abort();
      const committed = await producer.transaction();
      await committed.send({ topic: 'txn', messages: [{ value: 'committed-0' }] });
      await committed.commit();
    } finally {
      await producer.disconnect();
    }
    await groupConfig('sg-committed', { 'share.auto.offset.reset': 'earliest', 'share.isolation.level': 'read_committed' });
    await join('sg-committed', 'member-a', ['txn']);
    const got = await shareFetch('sg-committed', 'member-a', 0, 'txn');
    // Offsets 0-1 aborted, 2 the abort marker, 3 committed, 4 the commit marker.
    expect(got.part.acquiredRecords).toEqual([{ firstOffset: 3, lastOffset: 3, deliveryCount: 1 }]);
    expect([...acquiredValues(got.part).values()]).toEqual(['committed-0']);
    await shareAck('sg-committed', 'member-a', 1, 'txn', [{ firstOffset: 3, lastOffset: 3, acknowledgeTypes: [ACCEPT] }]);
    expect((await describeOffsets('sg-committed', 'txn')).topics[0].partitions[0]).toMatchObject({ startOffset: 5, lag: 0 });
    // read_uncommitted (the default) delivers the aborted records too.
    await groupConfig('sg-uncommitted', { 'share.auto.offset.reset': 'earliest' });
    await join('sg-uncommitted', 'member-a', ['txn']);
    const all = await shareFetch('sg-uncommitted', 'member-a', 0, 'txn');
    expect(offsetsOf(all.part.acquiredRecords)).toEqual([0, 1, 3]);
  });

  test('an unacknowledged record is redelivered once its acquisition lock expires', async () => {
    await createTopic('redeliver');
    await groupConfig('sg-lock', { 'share.auto.offset.reset': 'earliest' });
    await join('sg-lock', 'member-a', ['redeliver']);
    await join('sg-lock', 'member-b', ['redeliver']);
    await produce('redeliver', 5, 'r');

    const first = await shareFetch('sg-lock', 'member-a', 0, 'redeliver');
    expect(first.part.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 4, deliveryCount: 1 }]);
    // While A holds the lock, B gets nothing.
    const blocked = await shareFetch('sg-lock', 'member-b', 0, 'redeliver', { maxWaitMs: 0 });
    expect(blocked.part.acquiredRecords).toEqual([]);
    // After the lock expires, B's long poll receives the same records, second delivery.
    const started = Date.now();
    const redelivered = await shareFetch('sg-lock', 'member-b', 1, 'redeliver', { maxWaitMs: LOCK_MS * 4 });
    expect(Date.now() - started).toBeLessThan(LOCK_MS * 4);
    expect(redelivered.part.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 4, deliveryCount: 2 }]);
    expect([...acquiredValues(redelivered.part).values()]).toEqual(['r-0', 'r-1', 'r-2', 'r-3', 'r-4']);
    // A no longer holds them: its acknowledgement is refused.
    const late = await shareAck('sg-lock', 'member-a', 1, 'redeliver', [{ firstOffset: 0, lastOffset: 4, acknowledgeTypes: [ACCEPT] }]);
    expect(late.body.responses[0].partitions[0].errorCode).toBe(ErrorCode.INVALID_RECORD_STATE);
    const accepted = await shareAck('sg-lock', 'member-b', 2, 'redeliver', [{ firstOffset: 0, lastOffset: 4, acknowledgeTypes: [ACCEPT] }]);
    expect(accepted.body.responses[0].partitions[0].errorCode).toBe(0);
  });

  test('release makes a record available again; rejected records and records at the delivery limit are archived', async () => {
    await createTopic('limits');
    await groupConfig('sg-limits', { 'share.auto.offset.reset': 'earliest', 'share.delivery.count.limit': '2' });
    await join('sg-limits', 'member-a', ['limits']);
    await produce('limits', 3, 'l');

    const first = await shareFetch('sg-limits', 'member-a', 0, 'limits');
    expect(offsetsOf(first.part.acquiredRecords)).toEqual([0, 1, 2]);
    // Offset 0 rejected, 1 and 2 released: one type per offset.
    const second = await shareFetch('sg-limits', 'member-a', 1, 'limits', { acks: [{ firstOffset: 0, lastOffset: 2, acknowledgeTypes: [REJECT, RELEASE, RELEASE] }] });
    expect(second.part.acknowledgeErrorCode).toBe(0);
    expect(second.part.acquiredRecords).toEqual([{ firstOffset: 1, lastOffset: 2, deliveryCount: 2 }]);
    expect([...acquiredValues(second.part).entries()]).toEqual([[1, 'l-1'], [2, 'l-2']]);
    // Released at the delivery limit (2 here): archived, never delivered again.
    const third = await shareFetch('sg-limits', 'member-a', 2, 'limits', { acks: [{ firstOffset: 1, lastOffset: 2, acknowledgeTypes: [RELEASE] }], maxWaitMs: 300 });
    expect(third.part.acknowledgeErrorCode).toBe(0);
    expect(third.part.acquiredRecords).toEqual([]);
    const offsets = await describeOffsets('sg-limits', 'limits');
    expect(offsets.topics[0].partitions[0]).toMatchObject({ startOffset: 3, lag: 0 });

    // A record whose lock expires at the limit is archived too.
    await produce('limits', 1, 'x');
    const x1 = await shareFetch('sg-limits', 'member-a', 3, 'limits');
    expect(x1.part.acquiredRecords).toEqual([{ firstOffset: 3, lastOffset: 3, deliveryCount: 1 }]);
    const x2 = await shareFetch('sg-limits', 'member-a', 4, 'limits', { maxWaitMs: LOCK_MS * 4 });
    expect(x2.part.acquiredRecords).toEqual([{ firstOffset: 3, lastOffset: 3, deliveryCount: 2 }]);
    await new Promise((r) => setTimeout(r, LOCK_MS + 500));
    const x3 = await shareFetch('sg-limits', 'member-a', 5, 'limits', { maxWaitMs: 300 });
    expect(x3.part.acquiredRecords).toEqual([]);
    expect((await describeOffsets('sg-limits', 'limits')).topics[0].partitions[0].startOffset).toBe(4);

    // Renew (type 4) needs v2 of ShareAcknowledge; it keeps the record with the member.
    await produce('limits', 1, 'y');
    const y = await shareFetch('sg-limits', 'member-a', 6, 'limits');
    expect(y.part.acquiredRecords).toEqual([{ firstOffset: 4, lastOffset: 4, deliveryCount: 1 }]);
    const renewV1 = await shareAck('sg-limits', 'member-a', 7, 'limits', [{ firstOffset: 4, lastOffset: 4, acknowledgeTypes: [4] }]);
    expect(renewV1.body.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const renew = await c.request(79, 2, {
      groupId: 'sg-limits',
      memberId: 'member-a',
      shareSessionEpoch: 7,
      isRenewAck: true,
      topics: [{ topicId: topicIds.limits, partitions: [{ partitionIndex: 0, acknowledgementBatches: [{ firstOffset: 4, lastOffset: 4, acknowledgeTypes: [4] }] }] }],
    });
    expect(renew.body).toMatchObject({ errorCode: 0, acquisitionLockTimeoutMs: LOCK_MS });
    expect(renew.body.responses[0].partitions[0].errorCode).toBe(0);
    const accepted = await shareAck('sg-limits', 'member-a', 8, 'limits', [{ firstOffset: 4, lastOffset: 4, acknowledgeTypes: [ACCEPT] }]);
    expect(accepted.body.responses[0].partitions[0].errorCode).toBe(0);
    // Closing the session (epoch -1) answers and forgets it.
    const closed = await shareAck('sg-limits', 'member-a', -1, 'limits', []);
    expect(closed.body.errorCode).toBe(0);
    expect((await shareAck('sg-limits', 'member-a', 9, 'limits', [])).body.errorCode).toBe(ErrorCode.SHARE_SESSION_NOT_FOUND);
  });

  test('a member that stops heartbeating leaves the group and the records it held go to others', async () => {
    await createTopic('timeout');
    await groupConfig('sg-timeout', {
      'share.auto.offset.reset': 'earliest',
      'share.session.timeout.ms': '2000',
      'share.heartbeat.interval.ms': '500',
      'share.record.lock.duration.ms': '60000',
    });
    await produce('timeout', 4, 't');
    const a = await join('sg-timeout', 'member-a', ['timeout']);
    expect(a.heartbeatIntervalMs).toBe(500);
    const held = await shareFetch('sg-timeout', 'member-a', 0, 'timeout');
    expect(offsetsOf(held.part.acquiredRecords)).toEqual([0, 1, 2, 3]);
    const b = await join('sg-timeout', 'member-b', ['timeout']);
    // member-b keeps heartbeating while its long poll waits for member-a's session to time out.
    const beat = setInterval(() => void heartbeat('sg-timeout', 'member-b', b.memberEpoch, null).catch(() => undefined), 400);
    try {
      const other = await RawClient.connect(broker.port);
      const got = await shareFetch('sg-timeout', 'member-b', 0, 'timeout', { maxWaitMs: 10000, client: other });
      other.close();
      expect(got.part.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 3, deliveryCount: 2 }]);
    } finally {
      clearInterval(beat);
    }
    const described = await c.request(77, 1, { groupIds: ['sg-timeout'], includeAuthorizedOperations: false });
    expect(described.body.groups[0].members.map((m: any) => m.memberId)).toEqual(['member-b']);
    const gone = await heartbeat('sg-timeout', 'member-a', a.memberEpoch, null);
    expect(gone.body.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test('Alter, Describe and Delete share group offsets; DeleteGroups removes an empty share group', async () => {
    const busy = await c.request(91, 0, { groupId: 'sg-disjoint', topics: [{ topicName: 'queue', partitions: [{ partitionIndex: 0, startOffset: 5 }] }] });
    expect(busy.body.errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
    for (const m of ['member-a', 'member-b']) {
      const left = await heartbeat('sg-disjoint', m, -1, null);
      expect(left.body).toMatchObject({ errorCode: 0, memberEpoch: -1 });
    }
    const altered = await c.request(91, 0, { groupId: 'sg-disjoint', topics: [{ topicName: 'queue', partitions: [{ partitionIndex: 0, startOffset: 5 }] }, { topicName: 'nope', partitions: [{ partitionIndex: 0, startOffset: 1 }] }] });
    expect(altered.body.errorCode).toBe(0);
    expect(altered.body.responses[0]).toMatchObject({ topicName: 'queue', topicId: topicIds.queue, partitions: [{ partitionIndex: 0, errorCode: 0 }] });
    expect(altered.body.responses[1].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await describeOffsets('sg-disjoint', 'queue')).topics[0].partitions[0]).toMatchObject({ startOffset: 5, lag: 25 });
    // All topics with state when topics is null.
    const all = await c.request(90, 1, { groups: [{ groupId: 'sg-disjoint', topics: null }] });
    expect(all.body.groups[0].topics).toEqual([expect.objectContaining({ topicName: 'queue', partitions: [expect.objectContaining({ startOffset: 5 })] })]);

    // The next member resumes at offset 5.
    await join('sg-disjoint', 'member-c', ['queue']);
    const resumed = await shareFetch('sg-disjoint', 'member-c', 0, 'queue', { maxRecords: 1 });
    expect(resumed.part.acquiredRecords[0]).toEqual({ firstOffset: 5, lastOffset: 9, deliveryCount: 1 });
    const stale = await heartbeat('sg-disjoint', 'member-c', 99, null);
    expect(stale.body.errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect((await heartbeat('sg-disjoint', 'member-c', -1, null)).body.errorCode).toBe(0);

    const deleted = await c.request(92, 0, { groupId: 'sg-disjoint', topics: [{ topicName: 'queue' }] });
    expect(deleted.body.errorCode).toBe(0);
    expect(deleted.body.responses[0]).toMatchObject({ topicName: 'queue', errorCode: 0 });
    expect((await describeOffsets('sg-disjoint', 'queue')).topics[0].partitions[0]).toMatchObject({ startOffset: -1 });
    const unknown = await c.request(92, 0, { groupId: 'sg-none', topics: [{ topicName: 'queue' }] });
    expect(unknown.body.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);

    const gone = await c.request(42, 2, { groupsNames: ['sg-disjoint'] });
    expect(gone.body.results[0]).toMatchObject({ groupId: 'sg-disjoint', errorCode: 0 });
    const listed = await c.request(16, 5, { statesFilter: [], typesFilter: ['share'] });
    expect(listed.body.groups.map((g: any) => g.groupId)).not.toContain('sg-disjoint');
  });

  test('share-partition state (start offset, acknowledged ranges, delivery counts) survives a restart', async () => {
    await createTopic('durable');
    await groupConfig('sg-durable', { 'share.auto.offset.reset': 'earliest' });
    await join('sg-durable', 'member-a', ['durable']);
    await produce('durable', 5, 'd0');
    await produce('durable', 5, 'd1');
    const got = await shareFetch('sg-durable', 'member-a', 0, 'durable', { maxRecords: 5 });
    expect(got.part.acquiredRecords).toEqual([{ firstOffset: 0, lastOffset: 4, deliveryCount: 1 }]);
    // Accept 0, 1, 3 and 4; offset 2 stays acquired when the broker stops.
    const acked = await shareAck('sg-durable', 'member-a', 1, 'durable', [
      { firstOffset: 0, lastOffset: 1, acknowledgeTypes: [ACCEPT] },
      { firstOffset: 3, lastOffset: 4, acknowledgeTypes: [ACCEPT] },
    ]);
    expect(acked.body.responses[0].partitions[0].errorCode).toBe(0);

    // Killed, not stopped: the state was written before the acknowledgement was answered.
    const dataDir = broker.dataDir;
    c.close();
    await broker.kill();
    await connect(BROKER_ARGS, dataDir);

    const listed = await c.request(16, 5, { statesFilter: [], typesFilter: ['share'] });
    expect(listed.body.groups).toContainEqual({ groupId: 'sg-durable', protocolType: 'share', groupState: 'Empty', groupType: 'share' });
    expect((await describeOffsets('sg-durable', 'durable')).topics[0].partitions[0]).toMatchObject({ startOffset: 2, lag: 6 });
    const state = await c.request(84, 0, { groupId: 'sg-durable', topics: [{ topicId: topicIds.durable, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
    expect(state.body.results[0].partitions[0]).toMatchObject({
      errorCode: 0,
      startOffset: 2,
      stateBatches: [
        { firstOffset: 2, lastOffset: 2, deliveryState: 0, deliveryCount: 1 },
        { firstOffset: 3, lastOffset: 4, deliveryState: 2, deliveryCount: 1 },
      ],
    });
    const summary = await c.request(87, 1, { groupId: 'sg-durable', topics: [{ topicId: topicIds.durable, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
    expect(summary.body.results[0].partitions[0]).toMatchObject({ errorCode: 0, startOffset: 2, deliveryCompleteCount: 2 });

    // A new member gets offset 2 again (second delivery) and the records never acquired; never 0, 1, 3, 4.
    await join('sg-durable', 'member-b', ['durable']);
    const after = await shareFetch('sg-durable', 'member-b', 0, 'durable');
    expect(after.part.acquiredRecords).toEqual([
      { firstOffset: 2, lastOffset: 2, deliveryCount: 2 },
      { firstOffset: 5, lastOffset: 9, deliveryCount: 1 },
    ]);
    expect(acquiredValues(after.part).get(2)).toBe('d0-2');
  });

  test('the share-group state APIs answer as a one-node share coordinator', async () => {
    const id = topicIds.durable;
    const fenced = await c.request(83, 0, { groupId: 'sg-state', topics: [{ topicId: id, partitions: [{ partition: 0, stateEpoch: 3, startOffset: 4 }] }] });
    expect(fenced.body.results[0].partitions[0].errorCode).toBe(0);
    const older = await c.request(85, 1, {
      groupId: 'sg-state',
      topics: [{ topicId: id, partitions: [{ partition: 0, stateEpoch: 2, leaderEpoch: 0, startOffset: 6, deliveryCompleteCount: -1, stateBatches: [] }] }],
    });
    expect(older.body.results[0].partitions[0].errorCode).toBe(ErrorCode.FENCED_STATE_EPOCH);
    const write = await c.request(85, 1, {
      groupId: 'sg-state',
      topics: [{ topicId: id, partitions: [{ partition: 0, stateEpoch: 3, leaderEpoch: 0, startOffset: 6, deliveryCompleteCount: 1, stateBatches: [{ firstOffset: 7, lastOffset: 7, deliveryState: 2, deliveryCount: 1 }] }] }],
    });
    expect(write.body.results[0].partitions[0].errorCode).toBe(0);
    const read = await c.request(84, 0, { groupId: 'sg-state', topics: [{ topicId: id, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
    expect(read.body.results[0].partitions[0]).toMatchObject({ errorCode: 0, stateEpoch: 3, startOffset: 6, stateBatches: [{ firstOffset: 7, lastOffset: 7, deliveryState: 2, deliveryCount: 1 }] });
    const del = await c.request(86, 0, { groupId: 'sg-state', topics: [{ topicId: id, partitions: [{ partition: 0 }] }] });
    expect(del.body.results[0].partitions[0].errorCode).toBe(0);
    const missing = await c.request(84, 0, { groupId: 'sg-state', topics: [{ topicId: id, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
    expect(missing.body.results[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});

describe('share groups with the authorizer on', () => {
  let broker: BrokerProcess;
  let c: RawClient;
  const DENY = 2;
  const TOPIC = 2, GROUP_RESOURCE = 3, CLUSTER = 4;
  const READ = 3, CLUSTER_ACTION = 9;
  const denyAnonymous = (resourceType: number, resourceName: string, operation: number) => ({
    resourceType,
    resourceName,
    resourcePatternType: 3,
    principal: 'User:ANONYMOUS',
    host: '*',
    operation,
    permissionType: DENY,
  });

  beforeAll(async () => {
    // Resources without ACLs stay open, so the anonymous client can set up and only the denied ones refuse.
    broker = await startBrokerProcess({
      args: ['--override', 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', '--override', 'allow.everyone.if.no.acl.found=true'],
    });
    c = await RawClient.connect(broker.port);
  });

  afterAll(async () => {
    c?.close();
    await broker?.stop();
  });

  test('READ on the group and the topic, CLUSTER_ACTION for the state APIs', async () => {
    const created = await c.request(19, 7, { topics: [{ name: 'secret', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false });
    const topicId = created.body.topics[0].topicId;
    const acls = await c.request(30, 3, { creations: [denyAnonymous(GROUP_RESOURCE, 'sg-denied', READ), denyAnonymous(TOPIC, 'secret', READ)] });
    expect(acls.body.results.map((r: any) => r.errorCode)).toEqual([0, 0]);

    const hb = await c.request(76, 1, { groupId: 'sg-denied', memberId: 'm1', memberEpoch: 0, rackId: null, subscribedTopicNames: ['secret'] });
    expect(hb.body.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const fetchBody = (groupId: string) => ({
      groupId,
      memberId: 'm1',
      shareSessionEpoch: 0,
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      maxRecords: 10,
      batchSize: 10,
      topics: [{ topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: [] }] }],
      forgottenTopicsData: [],
    });
    const deniedGroup = await c.request(78, 1, fetchBody('sg-denied'));
    expect(deniedGroup.body.errorCode).toBe(ErrorCode.GROUP_AUTHORIZATION_FAILED);
    const deniedTopic = await c.request(78, 1, fetchBody('sg-open'));
    expect(deniedTopic.body.errorCode).toBe(0);
    expect(deniedTopic.body.responses[0].partitions[0].errorCode).toBe(ErrorCode.TOPIC_AUTHORIZATION_FAILED);

    const before = await c.request(84, 0, { groupId: 'sg-open', topics: [{ topicId, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
    expect(before.body.results[0].partitions[0].errorCode).not.toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    await c.request(30, 3, { creations: [denyAnonymous(CLUSTER, 'kafka-cluster', CLUSTER_ACTION)] });
    const after = await c.request(84, 0, { groupId: 'sg-open', topics: [{ topicId, partitions: [{ partition: 0, leaderEpoch: 0 }] }] });
    expect(after.body.results[0].partitions[0].errorCode).toBe(ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});
