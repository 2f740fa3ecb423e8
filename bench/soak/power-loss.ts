/**
 * Simulated power cut on a stopped broker's data dir, from the fsync journal the broker kept
 * (SAMSA_FSYNC_JOURNAL, see src/storage/fsync-journal.ts): every file is cut to the length it
 * had at its last fsync, 0 when it was never fsynced. With `tornTail`, a random part of the
 * unsynced bytes is kept instead, as when the OS wrote back some dirty pages before the cut,
 * which leaves torn batches for recovery to find; `keepUnsynced(file)` keeps all of a file's
 * unsynced bytes (the OS wrote that file back, not the others). Directory entries are not modelled: files
 * created or deleted since the last directory fsync keep their entry.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface PowerLossResult {
  filesCut: number;
  bytesCut: number;
}

function syncedLengths(journal: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!fs.existsSync(journal)) return out;
  for (const line of fs.readFileSync(journal, 'utf8').split('\n')) {
    const [id, size] = line.split(' ');
    if (id && size) out.set(id, Number(size));
  }
  return out;
}

export function simulatePowerLoss(dataDir: string, journal: string, opts: { tornTail?: boolean; random?: () => number; keepUnsynced?: (file: string) => boolean } = {}): PowerLossResult {
  const synced = syncedLengths(journal);
  const random = opts.random ?? Math.random;
  const result: PowerLossResult = { filesCut: 0, bytesCut: 0 };
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(file);
        continue;
      }
      if (!entry.isFile()) continue;
      const st = fs.statSync(file, { bigint: true });
      const size = Number(st.size);
      const durable = Math.min(size, synced.get(`${st.dev}:${st.ino}`) ?? 0);
      if (durable >= size || opts.keepUnsynced?.(file)) continue;
      const keep = opts.tornTail ? durable + Math.floor(random() * (size - durable)) : durable;
      fs.truncateSync(file, keep);
      result.filesCut++;
      result.bytesCut += size - keep;
    }
  };
  walk(dataDir);
  return result;
}
