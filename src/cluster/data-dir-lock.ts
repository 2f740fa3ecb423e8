/**
 * One broker per data directory, as Kafka's `.lock`: a second `samsa serve` on the same folder
 * would append to the same segments. The lock file holds the owner's pid; a lock left by a
 * process that no longer runs (kill -9, a crash) is taken over.
 */
import * as fs from 'fs';
import * as path from 'path';

const LOCK_FILE = '.lock';
/** Data dirs locked by this process (two in-process brokers on one folder are refused too). */
const held = new Set<string>();

export class DataDirLock {
  private released = false;

  private constructor(private readonly file: string, private readonly key: string) {}

  static acquire(dataDir: string): DataDirLock {
    const key = fs.realpathSync(dataDir);
    const file = path.join(dataDir, LOCK_FILE);
    if (held.has(key)) throw new Error(`data dir ${dataDir} is already in use by a broker in this process`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx');
        try {
          fs.writeSync(fd, `${process.pid}\n`);
        } finally {
          fs.closeSync(fd);
        }
        held.add(key);
        return new DataDirLock(file, key);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = Number(fs.readFileSync(file, 'utf8').trim());
        if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
          throw new Error(`data dir ${dataDir} is in use by another samsa process (pid ${owner}); stop it or use another --data-dir`);
        }
        // Stale: its owner is gone (or it is our own pid from a crashed earlier life).
        fs.rmSync(file, { force: true });
      }
    }
    throw new Error(`could not lock data dir ${dataDir}`);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.key);
    fs.rmSync(this.file, { force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
