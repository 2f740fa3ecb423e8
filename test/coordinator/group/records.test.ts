/**
 * __consumer_offsets records in Kafka's schemas (hand-built bytes for the versions Samsa does
 * not write) and the coordinator's record batch writer/reader.
 */
import { encodeRecordBatch, readRecordBatches } from '../../../src/coordinator/group/batch-codec';
import {
  decodeGroupMetadataValue,
  decodeOffsetCommitValue,
  decodeRecordKey,
  encodeGroupMetadataKey,
  encodeGroupMetadataValue,
  encodeOffsetCommitKey,
  encodeOffsetCommitValue,
} from '../../../src/coordinator/group/records';
import { javaStringHash, offsetsPartitionFor } from '../../../src/coordinator/group/offsets-topic';
import {
  decodeConsumerGroupKey,
  decodeCurrentAssignmentValue,
  decodeMemberMetadataValue,
  decodeTargetMemberValue,
  encodeConsumerGroupKey,
  encodeCurrentAssignmentValue,
  encodeMemberMetadataValue,
  encodeTargetMemberValue,
} from '../../../src/coordinator/group/consumer-group-records';
import { checkBatchCrc, readBatchHeader, setBaseOffset } from '../../../src/protocol/record-batch';

const str = (s: string) => {
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const i16 = (v: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v);
  return b;
};
const i32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
};
const i64 = (v: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};

/** String.hashCode with BigInt arithmetic, as an independent check of the int32 version. */
function javaHashOracle(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = (h * 31n + BigInt(s.charCodeAt(i))) & 0xffffffffn;
  return Number(BigInt.asIntN(32, h));
}

describe('record keys and values', () => {
  test('OffsetCommitKey v1 and GroupMetadataKey v2, byte for byte', () => {
    expect(encodeOffsetCommitKey('grp', 'tp', 7)).toEqual(Buffer.concat([i16(1), str('grp'), str('tp'), i32(7)]));
    expect(encodeGroupMetadataKey('grp')).toEqual(Buffer.concat([i16(2), str('grp')]));
    expect(decodeRecordKey(Buffer.concat([i16(0), str('g'), str('t'), i32(1)]))).toEqual({ type: 'offset', group: 'g', topic: 't', partition: 1 });
    expect(decodeRecordKey(encodeGroupMetadataKey('g'))).toEqual({ type: 'group', group: 'g' });
    expect(decodeRecordKey(Buffer.concat([i16(3), str('g')]))).toEqual({ type: 'other', version: 3 });
  });

  test('OffsetCommitValue: v3 written, v1 with an expire timestamp; v0, v2 and flexible v4 read', () => {
    const v3 = encodeOffsetCommitValue({ offset: 100, leaderEpoch: 5, metadata: 'md', commitTimestamp: 1700000000000, expireTimestamp: -1 });
    expect(v3).toEqual(Buffer.concat([i16(3), i64(100), i32(5), str('md'), i64(1700000000000)]));
    const v1 = encodeOffsetCommitValue({ offset: 1, leaderEpoch: 5, metadata: '', commitTimestamp: 10, expireTimestamp: 20 });
    expect(v1).toEqual(Buffer.concat([i16(1), i64(1), str(''), i64(10), i64(20)]));
    expect(decodeOffsetCommitValue(v1)).toEqual({ offset: 1, leaderEpoch: -1, metadata: '', commitTimestamp: 10, expireTimestamp: 20 });
    expect(decodeOffsetCommitValue(Buffer.concat([i16(0), i64(9), str('x'), i64(11)]))).toEqual({
      offset: 9, leaderEpoch: -1, metadata: 'x', commitTimestamp: 11, expireTimestamp: -1,
    });
    expect(decodeOffsetCommitValue(Buffer.concat([i16(2), i64(9), str('x'), i64(11)])).offset).toBe(9);
    const v4 = Buffer.concat([i16(4), i64(9), i32(2), Buffer.from([3]), Buffer.from('ab'), i64(11), Buffer.from([0])]);
    expect(decodeOffsetCommitValue(v4)).toEqual({ offset: 9, leaderEpoch: 2, metadata: 'ab', commitTimestamp: 11, expireTimestamp: -1 });
  });

  test('GroupMetadataValue v3 round trip; v0 read (no rebalance timeout, instance id, timestamp)', () => {
    const value = {
      protocolType: 'consumer',
      generation: 4,
      protocol: 'range',
      leader: 'm1',
      currentStateTimestamp: 1234,
      members: [
        { memberId: 'm1', groupInstanceId: 'i1', clientId: 'c', clientHost: '/1.2.3.4', rebalanceTimeout: 300, sessionTimeout: 100, subscription: Buffer.from([1, 2]), assignment: Buffer.from([3]) },
        { memberId: 'm2', groupInstanceId: null, clientId: 'c', clientHost: '/1.2.3.4', rebalanceTimeout: 300, sessionTimeout: 100, subscription: Buffer.alloc(0), assignment: Buffer.alloc(0) },
      ],
    };
    const bytes = encodeGroupMetadataValue(value);
    expect(bytes.readInt16BE(0)).toBe(3);
    expect(decodeGroupMetadataValue(bytes)).toEqual(value);
    const v0 = Buffer.concat([
      i16(0), str('consumer'), i32(2), str('range'), str('m1'), i32(1),
      str('m1'), str('cid'), str('/h'), i32(6000), i32(2), Buffer.from([9, 9]), i32(0),
    ]);
    expect(decodeGroupMetadataValue(v0)).toEqual({
      protocolType: 'consumer', generation: 2, protocol: 'range', leader: 'm1', currentStateTimestamp: -1,
      members: [{ memberId: 'm1', groupInstanceId: null, clientId: 'cid', clientHost: '/h', rebalanceTimeout: 6000, sessionTimeout: 6000, subscription: Buffer.from([9, 9]), assignment: Buffer.alloc(0) }],
    });
  });

  test('a group lands on the partition Kafka would choose (Java String.hashCode)', () => {
    expect(javaStringHash('')).toBe(0);
    expect(javaStringHash('a')).toBe(97);
    expect(javaStringHash('console-consumer-12345')).toBe(158455506);
    expect(javaStringHash('\u00e9t\u00e9-group-with-a-long-name-to-overflow')).toBe(javaHashOracle('\u00e9t\u00e9-group-with-a-long-name-to-overflow'));
    expect(offsetsPartitionFor('console-consumer-12345', 50)).toBe(158455506 % 50);
  });
});

describe('KIP-848 consumer group records', () => {
  const topicId = 'b3JkZXJzLXRvcGljLWlkAA';
  const uuid = Buffer.from(topicId, 'base64url');

  test('keys: record type, then group (and member) as int16-length strings', () => {
    expect(encodeConsumerGroupKey(5, 'g', 'm')).toEqual(Buffer.from([0, 5, 0, 1, 0x67, 0, 1, 0x6d]));
    expect(encodeConsumerGroupKey(3, 'g')).toEqual(Buffer.from([0, 3, 0, 1, 0x67]));
    expect(decodeConsumerGroupKey(encodeConsumerGroupKey(8, 'grp', 'mem'))).toEqual({ type: 8, group: 'grp', memberId: 'mem' });
    expect(decodeConsumerGroupKey(encodeGroupMetadataKey('g'))).toBeNull();
  });

  test('ConsumerGroupMemberMetadataValue v0, flexible, byte for byte', () => {
    const v = { instanceId: null, rackId: 'r', clientId: 'c', clientHost: 'h', subscribedTopicNames: ['t'], subscribedTopicRegex: null, rebalanceTimeoutMs: 100, serverAssignor: 'uniform' };
    const bytes = encodeMemberMetadataValue(v);
    expect(bytes).toEqual(
      Buffer.concat([
        Buffer.from([0, 0, 0, 2, 0x72, 2, 0x63, 2, 0x68, 2, 2, 0x74, 0, 0, 0, 0, 100, 8]),
        Buffer.from('uniform'),
        Buffer.from([0]),
      ]),
    );
    expect(decodeMemberMetadataValue(bytes)).toEqual(v);
  });

  test('ConsumerGroupCurrentMemberAssignmentValue v0 and TargetAssignmentMemberValue v0', () => {
    const v = { memberEpoch: 5, previousMemberEpoch: 4, state: 'unrevoked_partitions' as const, assigned: new Map([[topicId, new Set([2, 1])]]), pendingRevocation: new Map() };
    const bytes = encodeCurrentAssignmentValue(v);
    expect(bytes).toEqual(
      Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 5, 0, 0, 0, 4, 1, 2]), uuid, Buffer.from([3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0])]),
    );
    expect(decodeCurrentAssignmentValue(bytes)).toEqual({ ...v, assigned: new Map([[topicId, new Set([1, 2])]]) });
    const target = encodeTargetMemberValue(new Map([[topicId, new Set([0])]]));
    expect(target).toEqual(Buffer.concat([Buffer.from([0, 0, 2]), uuid, Buffer.from([2, 0, 0, 0, 0, 0, 0])]));
    expect(decodeTargetMemberValue(target)).toEqual(new Map([[topicId, new Set([0])]]));
  });
});

describe('record batches', () => {
  test('written batches have a valid CRC and read back record by record, tombstones included', () => {
    const records = [
      { key: Buffer.from('k1'), value: Buffer.from('v1') },
      { key: Buffer.from('k2'), value: null },
      { key: Buffer.alloc(300, 1), value: Buffer.alloc(70000, 2) },
    ];
    const batch = encodeRecordBatch(records, { timestamp: 1700000000000 });
    expect(checkBatchCrc(batch, 0)).toBe(true);
    const h = readBatchHeader(batch, 0);
    expect(h).toMatchObject({ magic: 2, recordCount: 3, lastOffsetDelta: 2, producerId: -1, compression: 0, isTransactional: false });
    setBaseOffset(batch, 0, 40); // what the log does on append (outside the CRC)
    const two = Buffer.concat([batch, encodeRecordBatch([{ key: Buffer.from('k4'), value: Buffer.from('v4') }], { timestamp: 1 })]);
    setBaseOffset(two, batch.length, 43);
    const read = [...readRecordBatches(two)];
    expect(read).toHaveLength(2);
    expect(read[0].records).toEqual(records.map((r, i) => ({ ...r, offset: 40 + i })));
    expect(read[1].records).toEqual([{ key: Buffer.from('k4'), value: Buffer.from('v4'), offset: 43 }]);
    // A torn last batch is left out.
    expect([...readRecordBatches(two.subarray(0, two.length - 3))]).toHaveLength(1);
  });
});
