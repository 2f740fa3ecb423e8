/**
 * Test-only fsync journal, for power-loss simulation. With SAMSA_FSYNC_JOURNAL=<file> set,
 * `samsa serve` installs it before opening any log: every successful fsync/fdatasync of a
 * regular file (sync or on the thread pool) appends one line to <file>:
 *
 *   <dev>:<inode> <size>\n
 *
 * where size is the file's length when the fsync was issued (bytes up to it are on stable
 * storage once the call returns; later bytes might be too, so this is the pessimistic figure).
 * Files are named by device and inode so that write-to-tmp-then-rename keeps its synced length.
 * A power cut is then simulated on a stopped broker's data dir by cutting every file to the
 * last size the journal holds for it, 0 when it was never fsynced (test/helpers/power-loss.ts).
 *
 * The journal is written with appendFileSync: it lives in the page cache, which a SIGKILL of
 * the broker does not lose. Nothing reads the variable in normal runs; the wrappers are not
 * installed unless it is set.
 */
// The module object itself (not an import-star copy), so the other storage modules see the wrappers.
import fs = require('fs');

let installed = false;

export function installFsyncJournal(journalFile: string): void {
  if (installed) return;
  installed = true;
  /** "<dev>:<inode> <size>" of a regular file, null for anything else (directories, closed fds). */
  const describe = (fd: number): string | null => {
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      return st.isFile() ? `${st.dev}:${st.ino} ${st.size}` : null;
    } catch {
      return null;
    }
  };
  const mutableFs = fs as unknown as Record<string, unknown>;
  for (const name of ['fsyncSync', 'fdatasyncSync'] as const) {
    const original = fs[name];
    mutableFs[name] = (fd: number): void => {
      original(fd);
      const line = describe(fd);
      if (line) fs.appendFileSync(journalFile, `${line}\n`);
    };
  }
  for (const name of ['fsync', 'fdatasync'] as const) {
    const original = fs[name];
    mutableFs[name] = (fd: number, cb: fs.NoParamCallback): void => {
      // Size at issue time: bytes appended while the fsync runs may not be covered.
      const line = describe(fd);
      original(fd, (err) => {
        if (!err && line) fs.appendFileSync(journalFile, `${line}\n`);
        cb(err);
      });
    };
  }
}
