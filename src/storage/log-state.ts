/**
 * Partition state file: the few numbers of a partition log that its segment files cannot
 * tell, kept durably next to them. Kafka keeps the same facts in per-log-dir checkpoint
 * files (log-start-offset-checkpoint, cleaner-offset-checkpoint) written periodically; here
 * each partition has its own small file, rewritten whenever a value changes, so that a
 * DeleteRecords answer or a retention pass is durable when it is acknowledged.
 *
 * File `<dataDir>/<topic>-<partition>/partition.state`, UTF-8 text, one `key value` pair per
 * line after a version line; unknown keys are ignored (newer writers may add some):
 *
 *   samsa-partition-state 1
 *   log-start-offset 1234                  first offset readers may see (>= first segment base)
 *   cleaner-first-dirty-offset 5678        the cleaner has compacted everything below this
 *   cleaner-next-horizon-ms 1700000000000  earliest delete horizon of a retained tombstone or
 *                                          marker (-1: none): the cleaner runs again then
 *
 * Replacement is atomic: write `partition.state.tmp`, fsync it, rename it over the old file,
 * fsync the directory. A missing or unreadable file means "nothing known": the log start is
 * the first segment's base offset and the whole log counts as dirty.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from './file-io';

export const PARTITION_STATE_FILE = 'partition.state';
const HEADER = 'samsa-partition-state 1';

export interface PartitionState {
  logStartOffset: number;
  cleanerFirstDirtyOffset: number;
  cleanerNextHorizonMs: number;
}

export const EMPTY_PARTITION_STATE: Readonly<PartitionState> = Object.freeze({
  logStartOffset: 0,
  cleanerFirstDirtyOffset: 0,
  cleanerNextHorizonMs: -1,
});

const KEYS: Record<string, keyof PartitionState> = {
  'log-start-offset': 'logStartOffset',
  'cleaner-first-dirty-offset': 'cleanerFirstDirtyOffset',
  'cleaner-next-horizon-ms': 'cleanerNextHorizonMs',
};

/** Reads the state file of a partition directory; defaults for anything missing or malformed. */
export function readPartitionState(dir: string): PartitionState {
  const state: PartitionState = { ...EMPTY_PARTITION_STATE };
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, PARTITION_STATE_FILE), 'utf8');
  } catch {
    return state;
  }
  const lines = text.split('\n');
  if (lines[0]?.trim() !== HEADER) return state;
  for (const line of lines.slice(1)) {
    const [k, v] = line.trim().split(/\s+/);
    const field = KEYS[k];
    if (!field) continue;
    const n = Number(v);
    if (Number.isSafeInteger(n)) state[field] = n;
  }
  return state;
}

/** Replaces the state file atomically and durably. */
export function writePartitionState(dir: string, state: PartitionState): void {
  const file = path.join(dir, PARTITION_STATE_FILE);
  const text =
    `${HEADER}\n` +
    `log-start-offset ${state.logStartOffset}\n` +
    `cleaner-first-dirty-offset ${state.cleanerFirstDirtyOffset}\n` +
    `cleaner-next-horizon-ms ${state.cleanerNextHorizonMs}\n`;
  writeFileAtomic(file, text);
}
