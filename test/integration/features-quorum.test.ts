/**
 * Feature levels and the KRaft quorum through a real broker process, with a raw client (no
 * installed client calls these APIs): UpdateFeatures validation and errors as Kafka 4.2's
 * controller gives them, validate_only, levels surviving a restart; DescribeQuorum as a
 * one-voter quorum whose high watermark advances; UnregisterBroker, AddRaftVoter and
 * RemoveRaftVoter with a one-voter quorum's errors.
 */
import * as fs from 'fs';
import { BrokerProcess, startBrokerProcess, tempDataDir } from '../helpers/broker-process';
import { RawClient } from '../helpers/raw-client';
import { ErrorCode } from '../../src/protocol/errors';

const UPGRADE = 1;
const SAFE_DOWNGRADE = 2;
const UNSAFE_DOWNGRADE = 3;
const NODE_ID = 3;

describe('features and the KRaft quorum through a real broker', () => {
  const dataDir = tempDataDir();
  let broker: BrokerProcess;
  let c: RawClient;

  const start = async () => {
    broker = await startBrokerProcess({ dataDir, args: ['--override', `node.id=${NODE_ID}`] });
    c = await RawClient.connect(broker.port);
  };
  beforeAll(start);
  afterAll(async () => {
    c?.close();
    await broker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const finalized = async () => {
    const r = await c.request(18, 4, { clientSoftwareName: 'samsa-test', clientSoftwareVersion: '1.0' });
    return {
      epoch: r.body.finalizedFeaturesEpoch as number,
      levels: Object.fromEntries(r.body.finalizedFeatures.map((f: { name: string; maxVersionLevel: number }) => [f.name, f.maxVersionLevel])) as Record<string, number>,
    };
  };
  const update = async (version: number, updates: { feature: string; maxVersionLevel: number; upgradeType?: number; allowDowngrade?: boolean }[], validateOnly = false) =>
    (await c.request(57, version, { timeoutMs: 5000, featureUpdates: updates, validateOnly })).body;
  const quorum = async (version = 2, topics = [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }]) =>
    (await c.request(55, version, { topics })).body;

  test('UpdateFeatures refuses what Kafka refuses, with its messages, and changes nothing then', async () => {
    const before = await finalized();
    expect(before.levels).toMatchObject({ 'metadata.version': 29, 'kraft.version': 1, 'transaction.version': 2, 'group.version': 1 });

    let r = await update(1, [{ feature: 'transaction.version', maxVersionLevel: 1, upgradeType: UPGRADE }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, results: [{ feature: 'transaction.version', errorCode: ErrorCode.INVALID_UPDATE_VERSION }] });
    expect(r.errorMessage).toBe(
      "Invalid update version 1 for feature transaction.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.",
    );
    r = await update(2, [{ feature: 'transaction.version', maxVersionLevel: 3, upgradeType: UPGRADE }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: `Invalid update version 3 for feature transaction.version. Local controller ${NODE_ID} only supports versions [0-2]` });
    r = await update(2, [{ feature: 'no.such.feature', maxVersionLevel: 1, upgradeType: UPGRADE }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: `Invalid update version 1 for feature no.such.feature. Local controller ${NODE_ID} does not support this feature.` });
    r = await update(2, [{ feature: 'group.version', maxVersionLevel: 0, upgradeType: 7 }]);
    expect(r.errorMessage).toBe('Invalid update version 0 for feature group.version. The controller does not support the given upgrade type.');
    // 4.0-IV1 (23) changed the metadata format: no downgrade across it.
    r = await update(2, [{ feature: 'metadata.version', maxVersionLevel: 22, upgradeType: SAFE_DOWNGRADE }]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION, errorMessage: 'Invalid metadata.version 22. Refusing to perform the requested downgrade because it might delete metadata information.' });
    r = await update(2, [{ feature: 'metadata.version', maxVersionLevel: 22, upgradeType: UNSAFE_DOWNGRADE }]);
    expect(r.errorMessage).toBe('Invalid metadata.version 22. Unsafe metadata downgrade is not supported in this version.');
    // eligible.leader.replicas.version 1 needs metadata.version 24 (4.0-IV2).
    r = await update(2, [
      { feature: 'metadata.version', maxVersionLevel: 23, upgradeType: SAFE_DOWNGRADE },
      { feature: 'eligible.leader.replicas.version', maxVersionLevel: 1, upgradeType: UPGRADE },
    ]);
    expect(r).toMatchObject({ errorCode: ErrorCode.INVALID_UPDATE_VERSION });
    // One bad update spoils the whole request.
    r = await update(2, [
      { feature: 'group.version', maxVersionLevel: 0, upgradeType: SAFE_DOWNGRADE },
      { feature: 'transaction.version', maxVersionLevel: 9, upgradeType: UPGRADE },
    ]);
    expect(r.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    // validate_only checks and changes nothing.
    r = await update(1, [{ feature: 'group.version', maxVersionLevel: 0, upgradeType: SAFE_DOWNGRADE }], true);
    expect(r).toMatchObject({ errorCode: 0, results: [{ feature: 'group.version', errorCode: 0 }] });
    expect((await finalized()).levels).toEqual(before.levels);
  });

  test('accepted updates show in ApiVersions at once, advance the epoch, and survive a restart', async () => {
    const before = await finalized();
    // v0: allowDowngrade means a safe downgrade. metadata.version 29 -> 24 crosses no format change.
    let r = await update(0, [{ feature: 'group.version', maxVersionLevel: 0, allowDowngrade: true }]);
    expect(r).toMatchObject({ errorCode: 0, results: [{ feature: 'group.version', errorCode: 0, errorMessage: null }] });
    // share.version 1 depends on metadata.version 27: going below it alone is refused.
    r = await update(2, [{ feature: 'metadata.version', maxVersionLevel: 24, upgradeType: SAFE_DOWNGRADE }]);
    expect(r.errorCode).toBe(ErrorCode.INVALID_UPDATE_VERSION);
    r = await update(2, [
      { feature: 'share.version', maxVersionLevel: 0, upgradeType: SAFE_DOWNGRADE },
      { feature: 'metadata.version', maxVersionLevel: 24, upgradeType: SAFE_DOWNGRADE },
    ]);
    expect(r).toMatchObject({ errorCode: 0, errorMessage: null });
    const after = await finalized();
    expect(after.levels['group.version']).toBeUndefined(); // level 0 is not listed
    // group.version 0 turns the KIP-848 consumer protocol off.
    const hb = await c.request(68, 0, {
      groupId: 'fq-group', memberId: '', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000,
      subscribedTopicNames: ['t'], serverAssignor: null, topicPartitions: [],
    });
    expect(hb.body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(after.levels['metadata.version']).toBe(24);
    expect(after.epoch).toBeGreaterThan(before.epoch);

    c.close();
    await broker.stop();
    await start();
    const restarted = await finalized();
    expect(restarted.levels).toEqual(after.levels);
    expect(restarted.epoch).toBeGreaterThanOrEqual(after.epoch);
    r = await update(2, [
      { feature: 'group.version', maxVersionLevel: 1, upgradeType: UPGRADE },
      { feature: 'metadata.version', maxVersionLevel: 29, upgradeType: UPGRADE },
      { feature: 'share.version', maxVersionLevel: 1, upgradeType: UPGRADE },
    ]);
    expect(r.errorCode).toBe(0);
    expect((await finalized()).levels).toEqual(before.levels);
  });

  test('DescribeQuorum: one voter leading __cluster_metadata-0, a high watermark that advances', async () => {
    const first = await quorum(2);
    expect(first.errorCode).toBe(0);
    const p = first.topics[0].partitions[0];
    expect(first.topics[0].topicName).toBe('__cluster_metadata');
    expect(p).toMatchObject({ partitionIndex: 0, errorCode: 0, leaderId: NODE_ID, observers: [] });
    expect(p.leaderEpoch).toBeGreaterThanOrEqual(2); // a new epoch per start, and the broker restarted above
    expect(p.currentVoters).toHaveLength(1);
    expect(p.currentVoters[0]).toMatchObject({ replicaId: NODE_ID, logEndOffset: p.highWatermark });
    expect(p.currentVoters[0].replicaDirectoryId).not.toBe('AAAAAAAAAAAAAAAAAAAAAA');
    expect(first.nodes).toEqual([{ nodeId: NODE_ID, listeners: [{ name: 'CONTROLLER', host: '127.0.0.1', port: broker.port }] }]);
    await new Promise((r) => setTimeout(r, 1200));
    const later = (await quorum(0)).topics[0].partitions[0];
    expect(later.highWatermark).toBeGreaterThan(p.highWatermark);
    expect(later.leaderEpoch).toBe(p.leaderEpoch);
    // Anything but __cluster_metadata-0 is UNKNOWN_TOPIC_OR_PARTITION for what was named.
    const other = await quorum(1, [{ topicName: 'orders', partitions: [{ partitionIndex: 0 }, { partitionIndex: 1 }] }]);
    expect(other.topics[0].partitions.map((x: { errorCode: number }) => x.errorCode)).toEqual([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  });

  test('UnregisterBroker, AddRaftVoter and RemoveRaftVoter answer as a one-voter quorum', async () => {
    expect((await c.request(64, 0, { brokerId: 99 })).body).toMatchObject({ errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED });
    expect((await c.request(64, 0, { brokerId: NODE_ID })).body).toMatchObject({ errorCode: 0 });

    const voterDir = (await quorum(2)).topics[0].partitions[0].currentVoters[0].replicaDirectoryId;
    const dir = 'AAECAwQFBgcICQoLDA0ODw';
    const listeners = [{ name: 'CONTROLLER', host: 'localhost', port: 19093 }];
    const add = async (body: object) => (await c.request(80, 1, { clusterId: null, timeoutMs: 1000, voterId: 7, voterDirectoryId: dir, listeners, ackWhenCommitted: true, ...body })).body;
    expect(await add({ clusterId: 'not-this-cluster' })).toMatchObject({ errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID });
    expect(await add({ voterDirectoryId: 'AAAAAAAAAAAAAAAAAAAAAA' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(await add({ listeners: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 }] })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    expect(await add({ voterId: NODE_ID })).toMatchObject({ errorCode: ErrorCode.DUPLICATE_VOTER });
    expect(await add({})).toMatchObject({ errorCode: ErrorCode.REQUEST_TIMED_OUT, errorMessage: `New voter ReplicaKey(id=7, directoryId=Optional[${dir}]) is not ready to receive requests` });

    const removeLast = (await c.request(81, 0, { clusterId: null, voterId: NODE_ID, voterDirectoryId: voterDir })).body;
    expect(removeLast).toMatchObject({
      errorCode: ErrorCode.VOTER_NOT_FOUND,
      errorMessage: `Cannot remove voter ReplicaKey(id=${NODE_ID}, directoryId=Optional[${voterDir}]) from the set of voters [ReplicaKey(id=${NODE_ID}, directoryId=Optional[${voterDir}])]`,
    });
    expect((await c.request(81, 0, { clusterId: null, voterId: 7, voterDirectoryId: dir })).body.errorCode).toBe(ErrorCode.VOTER_NOT_FOUND);
    expect((await c.request(81, 0, { clusterId: 'other', voterId: NODE_ID, voterDirectoryId: voterDir })).body.errorCode).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
    // The quorum is unchanged.
    expect((await quorum(2)).topics[0].partitions[0].currentVoters.map((v: { replicaId: number }) => v.replicaId)).toEqual([NODE_ID]);
  });
});
