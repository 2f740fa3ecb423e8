/**
 * __consumer_offsets records of KIP-848 consumer groups, in Kafka's schemas. Keys start with
 * an int16 record type and are not flexible (int16-length strings); values start with an
 * int16 version (0) and use the flexible encoding (uvarint-length compact strings and arrays,
 * a tagged-field section after every struct; Samsa writes no tagged fields and skips the ones
 * it reads).
 *
 *   3 ConsumerGroupMetadataKey            group                -> epoch int32
 *   5 ConsumerGroupMemberMetadataKey      group, memberId      -> instanceId?, rackId?, clientId,
 *       clientHost, subscribedTopicNames [string], subscribedTopicRegex?, rebalanceTimeoutMs
 *       int32, serverAssignor?   (tag 0: classic member metadata, unused here)
 *   6 ConsumerGroupTargetAssignmentMetadataKey  group          -> assignmentEpoch int32
 *   7 ConsumerGroupTargetAssignmentMemberKey    group, memberId -> topicPartitions
 *       [topicId uuid, partitions [int32]]
 *   8 ConsumerGroupCurrentMemberAssignmentKey   group, memberId -> memberEpoch int32,
 *       previousMemberEpoch int32, state int8 (0 stable, 1 unrevoked, 2 unreleased),
 *       assignedPartitions [topicId, partitions], partitionsPendingRevocation [...]
 *
 * (Type 4, ConsumerGroupPartitionMetadata, is not written: subscribed topics' metadata is
 * re-read from the topics on the first heartbeat after a load. Type 16, regular expression
 * resolutions, neither: regexes are resolved on each assignment.)
 */
import { Reader } from '../../protocol/reader';
import { Writer } from '../../protocol/writer';
import type { MemberState, TopicPartitions } from './consumer-group';

export const CG_METADATA = 3;
export const CG_MEMBER_METADATA = 5;
export const CG_TARGET_METADATA = 6;
export const CG_TARGET_MEMBER = 7;
export const CG_CURRENT_ASSIGNMENT = 8;

export type ConsumerGroupRecordKey =
  | { type: typeof CG_METADATA | typeof CG_TARGET_METADATA; group: string }
  | { type: typeof CG_MEMBER_METADATA | typeof CG_TARGET_MEMBER | typeof CG_CURRENT_ASSIGNMENT; group: string; memberId: string };

export interface MemberMetadataValue {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface CurrentAssignmentValue {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  assigned: TopicPartitions;
  pendingRevocation: TopicPartitions;
}

const STATE_CODES: Record<MemberState, number> = { stable: 0, unrevoked_partitions: 1, unreleased_partitions: 2 };

// ------------------------------------------------------------------ keys

export function encodeConsumerGroupKey(type: number, group: string, memberId?: string): Buffer {
  const w = new Writer(64);
  w.int16(type);
  w.string(group, false);
  if (type === CG_MEMBER_METADATA || type === CG_TARGET_MEMBER || type === CG_CURRENT_ASSIGNMENT) w.string(memberId ?? '', false);
  return w.toBuffer();
}

/** Decodes a consumer group key (types 3, 5-8); null for other record types. */
export function decodeConsumerGroupKey(buf: Buffer): ConsumerGroupRecordKey | null {
  const r = new Reader(buf);
  const type = r.int16();
  if (type === CG_METADATA || type === CG_TARGET_METADATA) return { type, group: r.string() };
  if (type === CG_MEMBER_METADATA || type === CG_TARGET_MEMBER || type === CG_CURRENT_ASSIGNMENT) {
    return { type, group: r.string(), memberId: r.string() };
  }
  return null;
}

// ------------------------------------------------------------------ values

function writePartitions(w: Writer, tp: TopicPartitions): void {
  const topics = [...tp].filter(([, s]) => s.size > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  w.arrayLength(topics.length, true);
  for (const [topicId, s] of topics) {
    w.uuid(topicId);
    const ps = [...s].sort((a, b) => a - b);
    w.arrayLength(ps.length, true);
    for (const p of ps) w.int32(p);
    w.uvarint(0);
  }
}

function readPartitions(r: Reader): TopicPartitions {
  const out: TopicPartitions = new Map();
  const n = r.arrayLength(true);
  for (let i = 0; i < n; i++) {
    const topicId = r.uuid();
    const m = r.arrayLength(true);
    const s = new Set<number>();
    for (let j = 0; j < m; j++) s.add(r.int32());
    r.skipTaggedFields();
    out.set(topicId, s);
  }
  return out;
}

function version0(r: Reader, what: string): void {
  const v = r.int16();
  if (v !== 0) throw new Error(`unknown ${what} version ${v}`);
}

export function encodeGroupEpochValue(epoch: number): Buffer {
  const w = new Writer(16);
  w.int16(0);
  w.int32(epoch);
  w.uvarint(0);
  return w.toBuffer();
}

export function decodeGroupEpochValue(buf: Buffer): number {
  const r = new Reader(buf);
  version0(r, 'ConsumerGroupMetadataValue');
  return r.int32();
}

export const encodeAssignmentEpochValue = encodeGroupEpochValue;

export function decodeAssignmentEpochValue(buf: Buffer): number {
  const r = new Reader(buf);
  version0(r, 'ConsumerGroupTargetAssignmentMetadataValue');
  return r.int32();
}

export function encodeMemberMetadataValue(v: MemberMetadataValue): Buffer {
  const w = new Writer(128);
  w.int16(0);
  w.string(v.instanceId, true);
  w.string(v.rackId, true);
  w.string(v.clientId, true);
  w.string(v.clientHost, true);
  w.arrayLength(v.subscribedTopicNames.length, true);
  for (const t of v.subscribedTopicNames) w.string(t, true);
  w.string(v.subscribedTopicRegex, true);
  w.int32(v.rebalanceTimeoutMs);
  w.string(v.serverAssignor, true);
  w.uvarint(0);
  return w.toBuffer();
}

export function decodeMemberMetadataValue(buf: Buffer): MemberMetadataValue {
  const r = new Reader(buf);
  version0(r, 'ConsumerGroupMemberMetadataValue');
  const instanceId = r.compactNullableString();
  const rackId = r.compactNullableString();
  const clientId = r.compactString();
  const clientHost = r.compactString();
  const n = r.arrayLength(true);
  const subscribedTopicNames: string[] = [];
  for (let i = 0; i < n; i++) subscribedTopicNames.push(r.compactString());
  const subscribedTopicRegex = r.compactNullableString();
  const rebalanceTimeoutMs = r.int32();
  const serverAssignor = r.compactNullableString();
  r.skipTaggedFields();
  return { instanceId, rackId, clientId, clientHost, subscribedTopicNames, subscribedTopicRegex, rebalanceTimeoutMs, serverAssignor };
}

export function encodeTargetMemberValue(tp: TopicPartitions): Buffer {
  const w = new Writer(64);
  w.int16(0);
  writePartitions(w, tp);
  w.uvarint(0);
  return w.toBuffer();
}

export function decodeTargetMemberValue(buf: Buffer): TopicPartitions {
  const r = new Reader(buf);
  version0(r, 'ConsumerGroupTargetAssignmentMemberValue');
  const tp = readPartitions(r);
  r.skipTaggedFields();
  return tp;
}

export function encodeCurrentAssignmentValue(v: CurrentAssignmentValue): Buffer {
  const w = new Writer(64);
  w.int16(0);
  w.int32(v.memberEpoch);
  w.int32(v.previousMemberEpoch);
  w.int8(STATE_CODES[v.state]);
  writePartitions(w, v.assigned);
  writePartitions(w, v.pendingRevocation);
  w.uvarint(0);
  return w.toBuffer();
}

export function decodeCurrentAssignmentValue(buf: Buffer): CurrentAssignmentValue {
  const r = new Reader(buf);
  version0(r, 'ConsumerGroupCurrentMemberAssignmentValue');
  const memberEpoch = r.int32();
  const previousMemberEpoch = r.int32();
  const code = r.int8();
  const state: MemberState = code === 1 ? 'unrevoked_partitions' : code === 2 ? 'unreleased_partitions' : 'stable';
  const assigned = readPartitions(r);
  const pendingRevocation = readPartitions(r);
  r.skipTaggedFields();
  return { memberEpoch, previousMemberEpoch, state, assigned, pendingRevocation };
}
