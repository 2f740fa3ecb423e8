/**
 * Simulated power cut on a stopped broker's data dir, from the fsync journal the broker kept
 * (SAMSA_FSYNC_JOURNAL, see src/storage/fsync-journal.ts): every file is cut to the length it
 * had at its last fsync, 0 when it was never fsynced. With `tornTail`, a random part of the
 * unsynced bytes is kept instead, as when the OS wrote back some dirty pages before the cut,
 * which leaves torn batches for recovery to find; `keepUnsynced(file)` keeps all of a file's
 * unsynced bytes (the OS wrote that file back, not the others). A file or directory that was
 * not listed (same name, same inode) at the last fsync of its directory is removed: its entry
 * was not durable.
 * Deletions and renames are not modelled: a file deleted or renamed before the cut stays so.
 */
import * as fs from 'fs';
import * as path from 'path';

export interface PowerLossResult {
  filesCut: number;
  bytesCut: number;
  /** Files and directories removed because their directory entry was never fsynced. */
  entriesLost: number;
}

interface Journal {
  /** dev:ino -> last fsynced length. */
  files: Map<string, number>;
  /** dev:ino of a directory -> its "name/inode" entries at its last fsync. */
  dirs: Map<string, Set<string>>;
}

function readJournal(journal: string): Journal {
  const out: Journal = { files: new Map(), dirs: new Map() };
  if (!fs.existsSync(journal)) return out;
  for (const line of fs.readFileSync(journal, 'utf8').split('\n')) {
    if (line.startsWith('dir ')) {
      const at = line.indexOf(' ', 4);
      out.dirs.set(line.slice(4, at), new Set(JSON.parse(line.slice(at + 1)) as string[]));
      continue;
    }
    const parts = line.split(' ');
    if (parts.length === 2) out.files.set(parts[0], Number(parts[1]));
  }
  return out;
}

export function simulatePowerLoss(dataDir: string, journal: string, opts: { tornTail?: boolean; random?: () => number; keepUnsynced?: (file: string) => boolean } = {}): PowerLossResult {
  const { files: synced, dirs } = readJournal(journal);
  const random = opts.random ?? Math.random;
  const result: PowerLossResult = { filesCut: 0, bytesCut: 0, entriesLost: 0 };
  const walk = (dir: string): void => {
    const d = fs.statSync(dir, { bigint: true });
    const durableEntries = dirs.get(`${d.dev}:${d.ino}`) ?? new Set<string>();
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (!durableEntries.has(`${entry.name}/${fs.lstatSync(file, { bigint: true }).ino}`)) {
        fs.rmSync(file, { recursive: true, force: true });
        result.entriesLost++;
        continue;
      }
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
