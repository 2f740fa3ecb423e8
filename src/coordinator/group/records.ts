/**
 * The records of __consumer_offsets, in Kafka's key/value schemas, so that tools reading
 * that topic (kafka-console-consumer with the offsets formatter, Burrow, kcat + a decoder)
 * understand Samsa's copy. Every key and value starts with an int16 version.
 *
 * Keys (the version says which record this is):
 *   v0, v1  OffsetCommitKey     group string, topic string, partition int32   (written: v1)
 *   v2      GroupMetadataKey    group string
 *   v3+     KIP-848 / share group records: not written by Samsa; skipped on load
 *
 * OffsetCommitValue (written: v3, or v1 when an explicit expire timestamp exists):
 *   v0, v2  offset int64, metadata string, commitTimestamp int64
 *   v1      offset int64, metadata string, commitTimestamp int64, expireTimestamp int64
 *   v3      offset int64, leaderEpoch int32, metadata string, commitTimestamp int64
 *   v4      as v3 in the flexible encoding (compact string, trailing tagged fields)
 *
 * GroupMetadataValue (written: v3):
 *   protocolType string, generation int32, protocol nullable string, leader nullable string,
 *   currentStateTimestamp int64 (v2+), members [
 *     memberId string, groupInstanceId nullable string (v3+), clientId string,
 *     clientHost string, rebalanceTimeout int32 (v1+), sessionTimeout int32,
 *     subscription bytes, assignment bytes ]
 *   v4 is the same in the flexible encoding.
 *
 * A null value is a tombstone: the key's offset or group was deleted.
 */
import { Reader } from '../../protocol/reader';
import { Writer } from '../../protocol/writer';

export const OFFSET_COMMIT_KEY_VERSION = 1;
export const GROUP_METADATA_KEY_VERSION = 2;
const OFFSET_COMMIT_VALUE_VERSION = 3;
const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1;
const GROUP_METADATA_VALUE_VERSION = 3;

export interface OffsetCommitKey {
  type: 'offset';
  group: string;
  topic: string;
  partition: number;
}

export interface GroupMetadataKey {
  type: 'group';
  group: string;
}

export interface OtherKey {
  type: 'other';
  version: number;
}

export type RecordKey = OffsetCommitKey | GroupMetadataKey | OtherKey;

export interface OffsetCommitValue {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1 when none (the broker's retention applies). */
  expireTimestamp: number;
}

export interface StoredMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeout: number;
  sessionTimeout: number;
  subscription: Buffer;
  assignment: Buffer;
}

export interface GroupMetadataValue {
  protocolType: string;
  generation: number;
  protocol: string | null;
  leader: string | null;
  currentStateTimestamp: number;
  members: StoredMember[];
}

// ------------------------------------------------------------------ encode

export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  const w = new Writer(64);
  w.int16(OFFSET_COMMIT_KEY_VERSION);
  w.string(group, false);
  w.string(topic, false);
  w.int32(partition);
  return w.toBuffer();
}

export function encodeGroupMetadataKey(group: string): Buffer {
  const w = new Writer(64);
  w.int16(GROUP_METADATA_KEY_VERSION);
  w.string(group, false);
  return w.toBuffer();
}

export function encodeOffsetCommitValue(v: OffsetCommitValue): Buffer {
  const w = new Writer(64);
  if (v.expireTimestamp >= 0) {
    w.int16(OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY);
    w.int64(v.offset);
    w.string(v.metadata, false);
    w.int64(v.commitTimestamp);
    w.int64(v.expireTimestamp);
  } else {
    w.int16(OFFSET_COMMIT_VALUE_VERSION);
    w.int64(v.offset);
    w.int32(v.leaderEpoch);
    w.string(v.metadata, false);
    w.int64(v.commitTimestamp);
  }
  return w.toBuffer();
}

export function encodeGroupMetadataValue(v: GroupMetadataValue): Buffer {
  const w = new Writer(256);
  w.int16(GROUP_METADATA_VALUE_VERSION);
  w.string(v.protocolType, false);
  w.int32(v.generation);
  w.string(v.protocol, false);
  w.string(v.leader, false);
  w.int64(v.currentStateTimestamp);
  w.arrayLength(v.members.length, false);
  for (const m of v.members) {
    w.string(m.memberId, false);
    w.string(m.groupInstanceId, false);
    w.string(m.clientId, false);
    w.string(m.clientHost, false);
    w.int32(m.rebalanceTimeout);
    w.int32(m.sessionTimeout);
    w.bytes(m.subscription, false, false);
    w.bytes(m.assignment, false, false);
  }
  return w.toBuffer();
}

// ------------------------------------------------------------------ decode

export function decodeRecordKey(buf: Buffer): RecordKey {
  const r = new Reader(buf);
  const version = r.int16();
  if (version === 0 || version === 1) {
    return { type: 'offset', group: r.string(), topic: r.string(), partition: r.int32() };
  }
  if (version === 2) return { type: 'group', group: r.string() };
  return { type: 'other', version };
}

function str(r: Reader, flexible: boolean): string {
  return flexible ? r.compactString() : r.string();
}

function nullableStr(r: Reader, flexible: boolean): string | null {
  return flexible ? r.compactNullableString() : r.nullableString();
}

export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 4) throw new Error(`unknown OffsetCommitValue version ${version}`);
  const flexible = version >= 4;
  const offset = r.int64();
  const leaderEpoch = version >= 3 ? r.int32() : -1;
  const metadata = str(r, flexible);
  const commitTimestamp = r.int64();
  const expireTimestamp = version === 1 ? r.int64() : -1;
  return { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp };
}

export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = new Reader(buf);
  const version = r.int16();
  if (version < 0 || version > 4) throw new Error(`unknown GroupMetadataValue version ${version}`);
  const flexible = version >= 4;
  const protocolType = str(r, flexible);
  const generation = r.int32();
  const protocol = nullableStr(r, flexible);
  const leader = nullableStr(r, flexible);
  const currentStateTimestamp = version >= 2 ? r.int64() : -1;
  const n = r.arrayLength(flexible);
  const members: StoredMember[] = [];
  for (let i = 0; i < n; i++) {
    const memberId = str(r, flexible);
    const groupInstanceId = version >= 3 ? nullableStr(r, flexible) : null;
    const clientId = str(r, flexible);
    const clientHost = str(r, flexible);
    const rebalanceTimeout = version >= 1 ? r.int32() : -1;
    const sessionTimeout = r.int32();
    const subscription = Buffer.from(flexible ? r.compactBytes() : r.bytes());
    const assignment = Buffer.from(flexible ? r.compactBytes() : r.bytes());
    if (flexible) r.skipTaggedFields();
    members.push({
      memberId,
      groupInstanceId,
      clientId,
      clientHost,
      rebalanceTimeout: rebalanceTimeout < 0 ? sessionTimeout : rebalanceTimeout,
      sessionTimeout,
      subscription,
      assignment,
    });
  }
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members };
}
