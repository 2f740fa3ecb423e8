/**
 * Transaction index: the aborted transactions of one segment, Kafka's `.txnindex` layout.
 *
 * File `<dataDir>/<topic>-<partition>/<20-digit segment base offset>.txnindex`, next to the
 * segment's .log; one fixed-size entry per aborted transaction whose abort marker lies in
 * that segment, in marker-offset order, no header:
 *
 *   @0  version           int16   0
 *   @2  producerId        int64
 *   @10 firstOffset       int64   first offset of the transaction in this partition
 *   @18 lastOffset        int64   offset of the ABORT marker
 *   @26 lastStableOffset  int64   the partition's LSO right after the marker was written
 *   (34 bytes, big-endian)
 *
 * Fetch with read_committed lists, for the range it returns, the (producerId, firstOffset)
 * of every aborted transaction that overlaps it; the client drops those producers' records
 * from firstOffset until it meets their ABORT marker.
 *
 * Entries are appended (not fsynced: like the log itself they reach the disk with the page
 * cache, and a recovery that cuts the log drops entries past its end). A producer state
 * snapshot covers the markers below its offset, so recovery replays only the log after it:
 * the entries are fsynced before a snapshot is written (ProducerStateManager.snapshot), and a
 * rewrite by recovery is fsynced before it replaces the file. A torn trailing entry is
 * ignored on read.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readInt64, writeInt64 } from '../protocol/record-batch';
import { writeFileSynced } from './file-io';

export const TXN_INDEX_FILE_SUFFIX = '.txnindex';
export const TXN_INDEX_ENTRY_SIZE = 34;
const ENTRY_VERSION = 0;

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  lastOffset: number;
  lastStableOffset: number;
}

export function txnIndexPath(dir: string, segmentBaseOffset: number): string {
  return path.join(dir, String(segmentBaseOffset).padStart(20, '0') + TXN_INDEX_FILE_SUFFIX);
}

const TXN_INDEX_FILE = /^(\d{20})\.txnindex$/;

/** Base offset of a `.txnindex` file name, or null for any other name. */
export function parseTxnIndexFileName(name: string): number | null {
  const m = TXN_INDEX_FILE.exec(name);
  return m ? Number(m[1]) : null;
}

function encode(entries: AbortedTxn[]): Buffer {
  const buf = Buffer.alloc(entries.length * TXN_INDEX_ENTRY_SIZE);
  entries.forEach((e, i) => {
    const at = i * TXN_INDEX_ENTRY_SIZE;
    buf.writeInt16BE(ENTRY_VERSION, at);
    writeInt64(buf, at + 2, e.producerId);
    writeInt64(buf, at + 10, e.firstOffset);
    writeInt64(buf, at + 18, e.lastOffset);
    writeInt64(buf, at + 26, e.lastStableOffset);
  });
  return buf;
}

/** Reads every whole entry of a transaction index file ([] when it does not exist). */
export function readTxnIndex(file: string): AbortedTxn[] {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: AbortedTxn[] = [];
  for (let at = 0; at + TXN_INDEX_ENTRY_SIZE <= buf.length; at += TXN_INDEX_ENTRY_SIZE) {
    if (buf.readInt16BE(at) !== ENTRY_VERSION) break;
    out.push({
      producerId: readInt64(buf, at + 2),
      firstOffset: readInt64(buf, at + 10),
      lastOffset: readInt64(buf, at + 18),
      lastStableOffset: readInt64(buf, at + 26),
    });
  }
  return out;
}

export function appendTxnIndex(file: string, entry: AbortedTxn): void {
  const fd = fs.openSync(file, 'a');
  try {
    fs.writeSync(fd, encode([entry]));
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces the file's content by `entries` (recovery drops entries past the log end). */
export function rewriteTxnIndex(file: string, entries: AbortedTxn[]): void {
  if (entries.length === 0) {
    fs.rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.tmp`;
  writeFileSynced(tmp, encode(entries));
  fs.renameSync(tmp, file);
}
