/**
 * __consumer_offsets records of KIP-1071 streams groups, in Kafka's schema. Samsa keeps one
 * of them, so that a streams group outlives a restart as a group (Empty, with its epoch):
 *
 *   17 StreamsGroupMetadataKey   group  -> epoch int32, metadataHash int64,
 *        assignmentConfigs [key, value]   (flexible value, version 0; tag 0 not written)
 *
 * Members, topology and assignments are not written: after a restart the members' heartbeats
 * get UNKNOWN_MEMBER_ID, as when their sessions expire in Kafka, and they rejoin with their
 * topology. Keys are not flexible (int16-length strings).
 */
import { Reader } from '../../protocol/reader';
import { Writer } from '../../protocol/writer';
import type { LogRecord } from '../group/batch-codec';

export const SG_METADATA = 17;

export function encodeStreamsGroupMetadataKey(group: string): Buffer {
  const w = new Writer(64);
  w.int16(SG_METADATA);
  w.string(group, false);
  return w.toBuffer();
}

export function encodeStreamsGroupMetadataValue(epoch: number): Buffer {
  const w = new Writer(32);
  w.int16(0);
  w.int32(epoch);
  w.int64(0); // metadata hash: Samsa re-reads the topics on the first heartbeat after a load
  w.arrayLength(0, true);
  w.uvarint(0);
  return w.toBuffer();
}

/** The group of a StreamsGroupMetadata key; null for other record types. */
export function decodeStreamsGroupMetadataKey(buf: Buffer): string | null {
  const r = new Reader(buf);
  return r.int16() === SG_METADATA ? r.string() : null;
}

export function decodeStreamsGroupEpoch(value: Buffer): number {
  const r = new Reader(value);
  r.int16();
  return r.int32();
}

export function streamsGroupTombstone(groupId: string): LogRecord {
  return { key: encodeStreamsGroupMetadataKey(groupId), value: null };
}
