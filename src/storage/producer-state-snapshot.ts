/**
 * Producer state snapshot files, Kafka's `.snapshot` layout: the producers of one partition
 * as of an offset, so that a restart does not have to re-read the whole log.
 *
 * File `<dataDir>/<topic>-<partition>/<20-digit offset>.snapshot`, where the offset is the
 * log end offset the state covers (every batch below it is reflected, none at or above):
 *
 *   @0  version      int16    1
 *   @2  crc          uint32   CRC-32C of everything from @6 to the end
 *   @6  entryCount   int32
 *   @10 entries, 46 bytes each, big-endian:
 *         producerId             int64
 *         producerEpoch          int16
 *         lastSequence           int32   of the producer's last batch (-1 if none)
 *         lastOffset             int64   of that batch (-1 if none)
 *         offsetDelta            int32   lastOffset - firstOffset of that batch
 *         timestamp              int64   that batch's max timestamp
 *         coordinatorEpoch       int32   of the last marker (-1 if none)
 *         currentTxnFirstOffset  int64   first offset of the open transaction, -1 if none
 *
 * Like Kafka, a snapshot keeps only each producer's last batch: after a restart, a retry of
 * that batch is still recognised as a duplicate; batches written after the snapshot (found by
 * re-reading the log from the snapshot offset) keep their full five-batch history.
 * Files are written to `.tmp`, fsynced and renamed (a snapshot must not reach the disk ahead
 * of what it was written with, see ProducerStateManager.snapshot); a file whose CRC or size
 * does not match is ignored.
 */
import * as fs from 'fs';
import * as path from 'path';
import { crc32c } from '@node-rs/crc32';
import { readInt64, writeInt64 } from '../protocol/record-batch';
import { writeFileSynced } from './file-io';

export const SNAPSHOT_FILE_SUFFIX = '.snapshot';
const VERSION = 1;
const HEADER_SIZE = 10;
const ENTRY_SIZE = 46;

export interface SnapshotEntry {
  producerId: number;
  producerEpoch: number;
  lastSequence: number;
  lastOffset: number;
  offsetDelta: number;
  timestamp: number;
  coordinatorEpoch: number;
  currentTxnFirstOffset: number;
}

const SNAPSHOT_FILE = /^(\d{20})\.snapshot$/;

export function snapshotPath(dir: string, offset: number): string {
  return path.join(dir, String(offset).padStart(20, '0') + SNAPSHOT_FILE_SUFFIX);
}

/** Offsets of the snapshot files in `dir`, ascending. */
export function listSnapshots(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const n of names) {
    const m = SNAPSHOT_FILE.exec(n);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

export function writeSnapshot(dir: string, offset: number, entries: SnapshotEntry[]): void {
  const buf = Buffer.alloc(HEADER_SIZE + entries.length * ENTRY_SIZE);
  buf.writeInt16BE(VERSION, 0);
  buf.writeInt32BE(entries.length, 6);
  let p = HEADER_SIZE;
  for (const e of entries) {
    writeInt64(buf, p, e.producerId);
    buf.writeInt16BE(e.producerEpoch, p + 8);
    buf.writeInt32BE(e.lastSequence, p + 10);
    writeInt64(buf, p + 14, e.lastOffset);
    buf.writeInt32BE(e.offsetDelta, p + 22);
    writeInt64(buf, p + 26, e.timestamp);
    buf.writeInt32BE(e.coordinatorEpoch, p + 34);
    writeInt64(buf, p + 38, e.currentTxnFirstOffset);
    p += ENTRY_SIZE;
  }
  buf.writeUInt32BE(crc32c(buf.subarray(6)), 2);
  const file = snapshotPath(dir, offset);
  const tmp = `${file}.tmp`;
  writeFileSynced(tmp, buf);
  fs.renameSync(tmp, file);
}

/** The entries of a snapshot file, or null when it is missing or damaged. */
export function readSnapshot(dir: string, offset: number): SnapshotEntry[] | null {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(snapshotPath(dir, offset));
  } catch {
    return null;
  }
  if (buf.length < HEADER_SIZE || buf.readInt16BE(0) !== VERSION) return null;
  if (crc32c(buf.subarray(6)) !== buf.readUInt32BE(2)) return null;
  const count = buf.readInt32BE(6);
  if (count < 0 || buf.length !== HEADER_SIZE + count * ENTRY_SIZE) return null;
  const out: SnapshotEntry[] = [];
  for (let i = 0, p = HEADER_SIZE; i < count; i++, p += ENTRY_SIZE) {
    out.push({
      producerId: readInt64(buf, p),
      producerEpoch: buf.readInt16BE(p + 8),
      lastSequence: buf.readInt32BE(p + 10),
      lastOffset: readInt64(buf, p + 14),
      offsetDelta: buf.readInt32BE(p + 22),
      timestamp: readInt64(buf, p + 26),
      coordinatorEpoch: buf.readInt32BE(p + 34),
      currentTxnFirstOffset: readInt64(buf, p + 38),
    });
  }
  return out;
}

export function deleteSnapshot(dir: string, offset: number): void {
  fs.rmSync(snapshotPath(dir, offset), { force: true });
}
