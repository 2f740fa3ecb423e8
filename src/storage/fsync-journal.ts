/**
 * Test-only fsync journal, for power-loss simulation. With SAMSA_FSYNC_JOURNAL=<file> set,
 * `samsa serve` installs it before opening any log: every successful fsync/fdatasync of a
 * regular file (sync or on the thread pool) appends one line to <file>:
 *
 *   <dev>:<inode> <size>\n          a file; size = its length when the fsync was issued
 *   dir <dev>:<inode> <json>\n      a directory; json = its entries then, ["name/inode", ...]
 *
 * Bytes up to `size` are on stable storage once the call returns (later ones might be too:
 * the pessimistic figure); so are the listed entries of a directory (read on Linux through
 * /proc/self/fd; this is a test tool). Files are
 * named by device and inode so that write-to-tmp-then-rename keeps its synced length. A power
 * cut is then simulated on a stopped broker's data dir by cutting every file to the last size
 * the journal holds for it, 0 when it was never fsynced, and removing the files and
 * directories created after their directory's last fsync (bench/soak/power-loss.ts).
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
  /** The journal line for `fd` as of now: a file's length, a directory's entries; null for anything else. */
  const describe = (fd: number): string | null => {
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      if (st.isFile()) return `${st.dev}:${st.ino} ${st.size}`;
      if (!st.isDirectory()) return null;
      const dir = fs.readlinkSync(`/proc/self/fd/${fd}`);
      const entries = fs.readdirSync(dir).map((name) => `${name}/${fs.lstatSync(`${dir}/${name}`, { bigint: true }).ino}`);
      return `dir ${st.dev}:${st.ino} ${JSON.stringify(entries)}`;
    } catch {
      return null;
    }
  };
  const mutableFs = fs as unknown as Record<string, unknown>;
  for (const name of ['fsyncSync', 'fdatasyncSync'] as const) {
    const original = fs[name];
    mutableFs[name] = (fd: number): void => {
      const line = describe(fd);
      original(fd);
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
