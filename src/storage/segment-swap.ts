/**
 * Segment swap: how the cleaner replaces a run of closed segments by one rewritten segment
 * so that a crash at any instant leaves either the old segments or the new one, never a mix
 * and never a hole (Kafka's .cleaned / .swap protocol, in our own form).
 *
 * Files in the partition directory while a swap is prepared or committed:
 *
 *   <B>.log.cleaned, <B>.index.cleaned,        the rewritten segment with base offset B (the
 *   <B>.timeindex.cleaned, [<B>.txnindex.cleaned]  first replaced segment's base), written and
 *                                              fsynced by the cleaner before the commit
 *   cleaner.swap                               the commit record (text):
 *                                                samsa-segment-swap 1
 *                                                base <B>
 *                                                replaces <b1> <b2> ...   (B is among them)
 *                                                suffixes .log .index .timeindex [.txnindex]
 *
 * Commit (commitSwap, synchronous):
 *   1. write cleaner.swap atomically (tmp, fsync, rename, fsync dir)  <- the commit point
 *   2. delete every file of the replaced segments other than B
 *   3. rename each <B><suffix>.cleaned over <B><suffix>; delete B's files of suffixes the
 *      new segment does not have (a stale .txnindex)
 *   4. fsync the directory, delete cleaner.swap, fsync the directory
 * Recovery (recoverSwap, called by PartitionLog.open before it looks at segments):
 *   - cleaner.swap present: redo steps 2-4 (each is idempotent), i.e. roll forward;
 *   - otherwise: delete every *.cleaned file (a cleaning that never committed).
 * Open file descriptors of replaced segments keep their (unlinked or renamed-over) data
 * readable, so fetches already holding FileRegions are not disturbed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { fsyncDir } from './file-io';
import { segmentFileName } from './segment';
import type { Logger } from '../logging';

export const CLEANED_SUFFIX = '.cleaned';
export const SWAP_FILE = 'cleaner.swap';
/** Every per-segment file kind, the .log first. `.txnindex` exists only for segments with aborted transactions. */
export const SEGMENT_FILE_SUFFIXES = ['.log', '.index', '.timeindex', '.txnindex'] as const;

const HEADER = 'samsa-segment-swap 1';

export function cleanedPath(dir: string, baseOffset: number, suffix: string): string {
  return path.join(dir, segmentFileName(baseOffset, suffix) + CLEANED_SUFFIX);
}

/** Deletes every file belonging to the segment with this base offset. */
export function deleteSegmentFiles(dir: string, baseOffset: number): void {
  for (const suffix of SEGMENT_FILE_SUFFIXES) fs.rmSync(path.join(dir, segmentFileName(baseOffset, suffix)), { force: true });
}

interface SwapRecord {
  base: number;
  replaces: number[];
  suffixes: string[];
}

function writeSwapRecord(dir: string, rec: SwapRecord): void {
  const file = path.join(dir, SWAP_FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, `${HEADER}\nbase ${rec.base}\nreplaces ${rec.replaces.join(' ')}\nsuffixes ${rec.suffixes.join(' ')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}

function readSwapRecord(dir: string): SwapRecord | null {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, SWAP_FILE), 'utf8');
  } catch {
    return null;
  }
  const lines = text.split('\n').map((l) => l.trim().split(/\s+/));
  if (lines[0]?.join(' ') !== HEADER) throw new Error(`${path.join(dir, SWAP_FILE)} is not a segment swap record`);
  const field = (name: string) => lines.find((l) => l[0] === name)?.slice(1) ?? [];
  const base = Number(field('base')[0]);
  const replaces = field('replaces').map(Number);
  const suffixes = field('suffixes');
  if (!Number.isSafeInteger(base) || replaces.some((b) => !Number.isSafeInteger(b)) || !suffixes.includes('.log')) {
    throw new Error(`${path.join(dir, SWAP_FILE)} is malformed`);
  }
  return { base, replaces, suffixes };
}

/** Steps 2-4 of the commit; safe to repeat after a crash. */
function finishSwap(dir: string, rec: SwapRecord): void {
  for (const b of rec.replaces) if (b !== rec.base) deleteSegmentFiles(dir, b);
  for (const suffix of SEGMENT_FILE_SUFFIXES) {
    const target = path.join(dir, segmentFileName(rec.base, suffix));
    const cleaned = target + CLEANED_SUFFIX;
    if (rec.suffixes.includes(suffix)) {
      if (fs.existsSync(cleaned)) fs.renameSync(cleaned, target);
    } else {
      fs.rmSync(target, { force: true });
    }
  }
  fsyncDir(dir);
  fs.rmSync(path.join(dir, SWAP_FILE), { force: true });
  fsyncDir(dir);
}

/**
 * Replaces the segments `replaces` (base offsets, including `base`) by the fsynced
 * `<base><suffix>.cleaned` files. Synchronous; see the module comment for the steps.
 */
export function commitSwap(dir: string, base: number, replaces: number[], suffixes: string[]): void {
  const rec = { base, replaces, suffixes };
  writeSwapRecord(dir, rec);
  finishSwap(dir, rec);
}

/** Completes a committed swap or discards an uncommitted one (PartitionLog.open runs this first). */
export function recoverSwap(dir: string, log: Logger): void {
  const rec = readSwapRecord(dir);
  if (rec) {
    log.warn('completing a segment swap interrupted by a crash', { dir, base: rec.base, replaces: rec.replaces });
    finishSwap(dir, rec);
  }
  fs.rmSync(path.join(dir, `${SWAP_FILE}.tmp`), { force: true });
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      log.info('deleting the output of an unfinished cleaning', { file: path.join(dir, name) });
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}
