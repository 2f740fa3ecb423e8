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
 * Steps; the JS thread only runs step 2, which does no fsync:
 *   1. prepareSwap (async, after the .cleaned files are fsynced): write cleaner.swap.tmp,
 *      fsync it, rename it to cleaner.swap, fsync the directory   <- commit point
 *   2. commitSwap (sync, with the in-memory segment list change): delete every file of the
 *      replaced segments other than B; rename each <B><suffix>.cleaned over <B><suffix>;
 *      delete B's files of suffixes the new segment does not have (a stale .txnindex)
 *   3. completeSwap (async): fsync the directory, delete cleaner.swap, fsync the directory.
 *   If the log changed between 1 and 2 (retention or DeleteRecords removed a replaced
 *   segment), abandonSwap deletes the record and the .cleaned files instead.
 * The cleaner finishes 3 (or the abandon) before it writes any other .cleaned file, so a
 * stale record can never promote the output of a later cleaning.
 * Recovery (recoverSwap, called by PartitionLog.open before it looks at segments):
 *   - cleaner.swap present: redo step 2 and 3 (idempotent), i.e. roll forward. This is safe
 *     even when the commit was about to be abandoned: the .cleaned segment is a complete
 *     compaction of the replaced range, and the log start offset (partition.state) still
 *     hides whatever retention or DeleteRecords had removed;
 *   - otherwise: delete cleaner.swap.tmp and every *.cleaned file (never committed).
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

/** Step 1: the durable swap record, off the JS thread. */
export async function prepareSwap(dir: string, base: number, replaces: number[], suffixes: string[]): Promise<void> {
  const tmp = path.join(dir, `${SWAP_FILE}.tmp`);
  const fh = await fs.promises.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(`${HEADER}\nbase ${base}\nreplaces ${replaces.join(' ')}\nsuffixes ${suffixes.join(' ')}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, path.join(dir, SWAP_FILE));
  await fsyncDirAsync(dir);
}

/** Drops a prepared record whose swap did not happen (durably, before any new cleaning). */
export async function abandonSwap(dir: string): Promise<void> {
  await fs.promises.rm(path.join(dir, `${SWAP_FILE}.tmp`), { force: true });
  await fs.promises.rm(path.join(dir, SWAP_FILE), { force: true });
  await fsyncDirAsync(dir);
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

/** Steps 2-3; safe to repeat after a crash. */
function swapFiles(dir: string, rec: SwapRecord): void {
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
}

/**
 * Step 2: replaces the segments `replaces` (base offsets, including `base`) by the fsynced
 * `<base><suffix>.cleaned` files, after prepareSwap recorded it. Synchronous, no fsync.
 */
export function commitSwap(dir: string, base: number, replaces: number[], suffixes: string[]): void {
  swapFiles(dir, { base, replaces, suffixes });
}

/** Step 3, off the JS thread. */
export async function completeSwap(dir: string): Promise<void> {
  await fsyncDirAsync(dir);
  await fs.promises.rm(path.join(dir, SWAP_FILE), { force: true });
  await fsyncDirAsync(dir);
}

async function fsyncDirAsync(dir: string): Promise<void> {
  let fh: fs.promises.FileHandle | null = null;
  try {
    fh = await fs.promises.open(dir, 'r');
    await fh.sync();
  } catch {
    // as fsyncDir: best effort where directories cannot be fsynced
  } finally {
    await fh?.close();
  }
}

/** Completes a committed swap or discards an uncommitted one (PartitionLog.open runs this first). */
export function recoverSwap(dir: string, log: Logger): void {
  const rec = readSwapRecord(dir);
  if (rec) {
    log.warn('completing a segment swap interrupted by a crash', { dir, base: rec.base, replaces: rec.replaces });
    swapFiles(dir, rec);
    fsyncDir(dir);
    fs.rmSync(path.join(dir, SWAP_FILE), { force: true });
    fsyncDir(dir);
  }
  fs.rmSync(path.join(dir, `${SWAP_FILE}.tmp`), { force: true });
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(CLEANED_SUFFIX)) {
      log.info('deleting the output of an unfinished cleaning', { file: path.join(dir, name) });
      fs.rmSync(path.join(dir, name), { force: true });
    }
  }
}
