/**
 * Offline checker of a stopped broker's data dir: reads every partition directory's files
 * directly (no broker code path but the batch header and CRC helpers) and reports every
 * inconsistency, and returns the records it decoded so a soak can compare them with what
 * clients were told.
 *
 * Per partition directory (`<topic>-<n>`):
 *   .log        batches back to back up to the end of the file, magic 2, CRC-32C valid,
 *               offsets increasing (contiguous unless the topic is compacted), each segment's
 *               batches at or above its base offset and below the next segment's base
 *   .index      8-byte entries, offsets and positions strictly increasing, each at the start
 *               of a batch whose last offset is the entry's offset
 *   .timeindex  12-byte entries, timestamps strictly increasing, each naming a batch whose
 *               running max timestamp is the entry's timestamp; the last entry of a segment is
 *               its max timestamp when the shutdown was clean
 *   .txnindex   34-byte entries; exactly one per ABORT marker of the segment, naming the
 *               marker's offset and the first offset of that producer's transaction
 *   .snapshot   valid CRC and length, at or below the log end, and for each producer the
 *               epoch, last sequence, last offset and open transaction that replaying the log
 *               up to the snapshot's offset gives
 */
import * as fs from 'fs';
import * as path from 'path';
import { checkBatchCrc, LOG_OVERHEAD, readBatchHeader, BatchHeader, BATCH_HEADER_SIZE, RECORDS_OFFSET } from '../../src/protocol/record-batch';
import { ControlType, readControlRecord } from '../../src/protocol/control-batch';
import { decompress, decompressionLimit } from '../../src/compression/codecs';
import { parseRecords } from '../../src/storage/batch-records';
import { readSnapshot, listSnapshots } from '../../src/storage/producer-state-snapshot';

export interface CheckedRecord {
  offset: number;
  key: string | null;
  value: string | null;
  /** The raw bytes, for internal topics (`__*`, binary keys and values); null elsewhere. */
  keyBytes: Buffer | null;
  valueBytes: Buffer | null;
  producerId: number;
  /** 'plain' (not transactional), 'committed', 'aborted', or 'open' (no marker yet). */
  txn: 'plain' | 'committed' | 'aborted' | 'open';
}

export interface PartitionCheck {
  topic: string;
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  batches: number;
  records: CheckedRecord[];
}

export interface DataDirCheck {
  partitions: PartitionCheck[];
  errors: string[];
}

interface Batch {
  header: BatchHeader;
  segment: number;
  position: number;
  size: number;
  last: number;
  /** For a control batch: ControlType. */
  control: number | null;
  payload: Buffer | null;
}

const SEGMENT = /^(\d{20})\.(log|index|timeindex|txnindex)$/;

function int64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * 4294967296 + buf.readUInt32BE(at + 4);
}

/** Checks every partition directory in `dataDir` (decoding records when `decode`, the default). */
export async function checkDataDir(dataDir: string, opts: { cleanShutdown?: boolean; decode?: boolean } = {}): Promise<DataDirCheck> {
  const errors: string[] = [];
  const partitions: PartitionCheck[] = [];
  for (const name of fs.readdirSync(dataDir).sort()) {
    const m = /^(.+)-(\d+)$/.exec(name);
    const dir = path.join(dataDir, name);
    if (!m || !fs.statSync(dir).isDirectory()) continue;
    partitions.push(await checkPartition(dir, m[1], Number(m[2]), opts, (e) => errors.push(`${name}: ${e}`)));
  }
  return { partitions, errors };
}

async function checkPartition(
  dir: string,
  topic: string,
  partition: number,
  opts: { cleanShutdown?: boolean; decode?: boolean },
  error: (e: string) => void,
): Promise<PartitionCheck> {
  const names = fs.readdirSync(dir);
  const bases = names
    .map((n) => SEGMENT.exec(n))
    .filter((m): m is RegExpExecArray => m !== null && m[2] === 'log')
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  const compacted = topic.startsWith('__');
  const batches: Batch[] = [];
  let next = -1;
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i];
    const file = path.join(dir, `${String(base).padStart(20, '0')}.log`);
    const buf = fs.readFileSync(file);
    const segBatches: Batch[] = [];
    let pos = 0;
    while (pos < buf.length) {
      if (buf.length - pos < BATCH_HEADER_SIZE) {
        error(`segment ${base}: ${buf.length - pos} trailing bytes at ${pos}`);
        break;
      }
      const size = LOG_OVERHEAD + buf.readInt32BE(pos + 8);
      if (size < BATCH_HEADER_SIZE || pos + size > buf.length) {
        error(`segment ${base}: torn batch at ${pos} (size ${size}, file ${buf.length})`);
        break;
      }
      const h = readBatchHeader(buf, pos);
      if (h.magic !== 2) error(`segment ${base}: magic ${h.magic} at ${pos}`);
      if (!checkBatchCrc(buf, pos)) error(`segment ${base}: CRC mismatch at ${pos} (offset ${h.baseOffset})`);
      if (h.baseOffset < base) error(`segment ${base}: batch offset ${h.baseOffset} below the segment base`);
      if (next >= 0 && (compacted ? h.baseOffset < next : h.baseOffset !== next)) {
        error(`segment ${base}: batch at ${pos} starts at offset ${h.baseOffset}, expected ${next}`);
      }
      const last = h.baseOffset + h.lastOffsetDelta;
      if (i + 1 < bases.length && last >= bases[i + 1]) error(`segment ${base}: offset ${last} reaches the next segment ${bases[i + 1]}`);
      const batch = buf.subarray(pos, pos + size);
      const control = h.isControl ? (readControlRecord(batch, RECORDS_OFFSET)?.type ?? -1) : null;
      segBatches.push({ header: h, segment: base, position: pos, size, last, control, payload: opts.decode === false ? null : batch });
      next = last + 1;
      pos += size;
    }
    checkOffsetIndex(dir, base, segBatches, error);
    checkTimeIndex(dir, base, segBatches, opts.cleanShutdown === true, error);
    batches.push(...segBatches);
  }
  const logEndOffset = batches.length > 0 ? batches[batches.length - 1].last + 1 : bases.length > 0 ? bases[bases.length - 1] : 0;
  checkTxnIndexes(dir, bases, batches, error);
  checkSnapshots(dir, batches, logEndOffset, error);
  const records = opts.decode === false ? [] : await decodeRecords(batches, compacted);
  return { topic, partition, logStartOffset: bases[0] ?? 0, logEndOffset, batches: batches.length, records };
}

function checkOffsetIndex(dir: string, base: number, batches: Batch[], error: (e: string) => void): void {
  const file = path.join(dir, `${String(base).padStart(20, '0')}.index`);
  if (!fs.existsSync(file)) return; // recovery rebuilds a missing index
  const buf = fs.readFileSync(file);
  if (buf.length % 8 !== 0) error(`index ${base}: size ${buf.length} is not a multiple of 8`);
  const byPosition = new Map(batches.map((b) => [b.position, b]));
  let prevRel = -1;
  let prevPos = -1;
  for (let at = 0; at + 8 <= buf.length; at += 8) {
    const rel = buf.readInt32BE(at);
    const position = buf.readInt32BE(at + 4);
    if (rel <= prevRel || position <= prevPos) error(`index ${base}: entry ${at / 8} (${rel}, ${position}) does not increase`);
    const b = byPosition.get(position);
    if (!b) error(`index ${base}: entry ${at / 8} points at ${position}, not a batch start`);
    else if (b.last - base !== rel) error(`index ${base}: entry ${at / 8} says offset ${base + rel}, batch at ${position} ends at ${b.last}`);
    prevRel = rel;
    prevPos = position;
  }
}

function checkTimeIndex(dir: string, base: number, batches: Batch[], sealed: boolean, error: (e: string) => void): void {
  const file = path.join(dir, `${String(base).padStart(20, '0')}.timeindex`);
  if (!fs.existsSync(file)) return;
  const buf = fs.readFileSync(file);
  if (buf.length % 12 !== 0) error(`timeindex ${base}: size ${buf.length} is not a multiple of 12`);
  // Running max timestamp as of each batch's last offset.
  const runningMax = new Map<number, number>();
  let max = -1;
  for (const b of batches) {
    max = Math.max(max, b.header.maxTimestamp);
    runningMax.set(b.last, max);
  }
  let prevTs = -Infinity;
  let prevRel = -1;
  let lastTs = -1;
  for (let at = 0; at + 12 <= buf.length; at += 12) {
    const ts = int64(buf, at);
    const rel = buf.readInt32BE(at + 8);
    if (ts <= prevTs || rel < prevRel) error(`timeindex ${base}: entry ${at / 12} (${ts}, ${rel}) does not increase`);
    const seen = runningMax.get(base + rel);
    if (seen === undefined) error(`timeindex ${base}: entry ${at / 12} names offset ${base + rel}, not a batch end`);
    else if (seen !== ts) error(`timeindex ${base}: entry ${at / 12} says ${ts}, max timestamp up to offset ${base + rel} is ${seen}`);
    prevTs = ts;
    prevRel = rel;
    lastTs = ts;
  }
  if (sealed && batches.length > 0 && max >= 0 && lastTs !== max) error(`timeindex ${base}: last entry ${lastTs}, segment max timestamp ${max}`);
}

/** Aborted transactions the log implies, by marker offset: [producerId, firstOffset]. */
function abortedFromLog(batches: Batch[]): Map<number, { producerId: number; firstOffset: number; segment: number }> {
  const open = new Map<number, number>();
  const out = new Map<number, { producerId: number; firstOffset: number; segment: number }>();
  for (const b of batches) {
    const pid = b.header.producerId;
    if (!b.header.isTransactional) continue;
    if (b.control === null) {
      if (!open.has(pid)) open.set(pid, b.header.baseOffset);
      continue;
    }
    if (b.control === ControlType.ABORT) out.set(b.header.baseOffset, { producerId: pid, firstOffset: open.get(pid) ?? b.header.baseOffset, segment: b.segment });
    open.delete(pid);
  }
  return out;
}

function checkTxnIndexes(dir: string, bases: number[], batches: Batch[], error: (e: string) => void): void {
  const expected = abortedFromLog(batches);
  const found = new Set<number>();
  for (const name of fs.readdirSync(dir)) {
    const m = SEGMENT.exec(name);
    if (!m || m[2] !== 'txnindex') continue;
    const base = Number(m[1]);
    if (!bases.includes(base)) error(`txnindex ${base}: no segment with that base`);
    const buf = fs.readFileSync(path.join(dir, name));
    if (buf.length % 34 !== 0) error(`txnindex ${base}: size ${buf.length} is not a multiple of 34`);
    for (let at = 0; at + 34 <= buf.length; at += 34) {
      const producerId = int64(buf, at + 2);
      const firstOffset = int64(buf, at + 10);
      const lastOffset = int64(buf, at + 18);
      const want = expected.get(lastOffset);
      if (!want) {
        error(`txnindex ${base}: entry for offset ${lastOffset} (producer ${producerId}) but no ABORT marker there`);
        continue;
      }
      if (found.has(lastOffset)) error(`txnindex ${base}: two entries for the marker at ${lastOffset}`);
      found.add(lastOffset);
      if (want.segment !== base) error(`txnindex ${base}: marker ${lastOffset} lies in segment ${want.segment}`);
      if (want.producerId !== producerId || want.firstOffset !== firstOffset) {
        error(`txnindex ${base}: marker ${lastOffset}: entry (${producerId}, ${firstOffset}), log says (${want.producerId}, ${want.firstOffset})`);
      }
    }
  }
  for (const [offset, want] of expected) {
    if (!found.has(offset)) error(`ABORT marker at ${offset} (producer ${want.producerId}) has no txnindex entry`);
  }
}

function checkSnapshots(dir: string, batches: Batch[], logEnd: number, error: (e: string) => void): void {
  for (const offset of listSnapshots(dir)) {
    if (offset > logEnd) {
      error(`snapshot ${offset}: past the log end ${logEnd}`);
      continue;
    }
    const entries = readSnapshot(dir, offset);
    if (!entries) {
      error(`snapshot ${offset}: damaged (CRC or length)`);
      continue;
    }
    // Replay the log below the snapshot's offset.
    const state = new Map<number, { epoch: number; lastSeq: number; lastOffset: number; txnFirst: number }>();
    for (const b of batches) {
      if (b.last >= offset) break;
      const h = b.header;
      if (h.producerId < 0) continue;
      const s = state.get(h.producerId) ?? { epoch: h.producerEpoch, lastSeq: -1, lastOffset: -1, txnFirst: -1 };
      s.epoch = h.producerEpoch;
      if (b.control !== null) {
        s.txnFirst = -1;
      } else {
        s.lastSeq = h.baseSequence + h.lastOffsetDelta;
        s.lastOffset = b.last;
        if (h.isTransactional && s.txnFirst < 0) s.txnFirst = h.baseOffset;
      }
      state.set(h.producerId, s);
    }
    for (const e of entries) {
      const s = state.get(e.producerId);
      if (!s) {
        error(`snapshot ${offset}: producer ${e.producerId} does not occur in the log below it`);
        continue;
      }
      const got = `epoch ${e.producerEpoch} seq ${e.lastSequence} offset ${e.lastOffset} txn ${e.currentTxnFirstOffset}`;
      const want = `epoch ${s.epoch} seq ${s.lastSeq} offset ${s.lastOffset} txn ${s.txnFirst}`;
      if (got !== want) error(`snapshot ${offset}: producer ${e.producerId}: ${got}, log says ${want}`);
    }
  }
}

async function decodeRecords(batches: Batch[], binary: boolean): Promise<CheckedRecord[]> {
  // A transactional batch's fate is the next marker of its producer.
  const fate = new Map<Batch, CheckedRecord['txn']>();
  const pending = new Map<number, Batch[]>();
  for (const b of batches) {
    if (!b.header.isTransactional) continue;
    const pid = b.header.producerId;
    if (b.control === null) {
      const list = pending.get(pid) ?? [];
      list.push(b);
      pending.set(pid, list);
    } else {
      for (const x of pending.get(pid) ?? []) fate.set(x, b.control === ControlType.COMMIT ? 'committed' : 'aborted');
      pending.delete(pid);
    }
  }
  const out: CheckedRecord[] = [];
  for (const b of batches) {
    if (b.control !== null || !b.payload) continue;
    const h = b.header;
    // The checker reads what the broker stored; the broker's own bound is the sane upper limit.
    const payload = await decompress(h.compression, b.payload.subarray(RECORDS_OFFSET), decompressionLimit(Infinity));
    const txn: CheckedRecord['txn'] = h.isTransactional ? (fate.get(b) ?? 'open') : 'plain';
    for (const rec of parseRecords(payload, h.recordCount)) {
      out.push({
        offset: h.baseOffset + rec.offsetDelta,
        key: rec.keyStart < 0 ? null : payload.toString('utf8', rec.keyStart, rec.keyStart + rec.keyLength),
        value: rec.valueStart < 0 ? null : payload.toString('utf8', rec.valueStart, rec.valueStart + rec.valueLength),
        keyBytes: !binary || rec.keyStart < 0 ? null : payload.subarray(rec.keyStart, rec.keyStart + rec.keyLength),
        valueBytes: !binary || rec.valueStart < 0 ? null : payload.subarray(rec.valueStart, rec.valueStart + rec.valueLength),
        producerId: h.producerId,
        txn,
      });
    }
  }
  return out;
}
