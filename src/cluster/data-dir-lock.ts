/**
 * One broker per data directory, as Kafka's `.lock`: a second `samsa serve` on the same folder
 * would append to the same segments. The lock file holds one line, `<pid> <boot id> <start
 * time>` (Linux: /proc/sys/kernel/random/boot_id and the process start time in clock ticks,
 * `-` elsewhere); a lock left by a process that no longer runs (kill -9, a crash) is taken
 * over. The lock is not fsynced, so after a power cut it may hold a torn line, or a pid that
 * another process of the new boot now has: only a whole line naming a running process of this
 * boot that started at the recorded time counts as held. (A line with just a pid, as older
 * versions wrote, is checked by pid alone.)
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
          fs.writeSync(fd, `${process.pid} ${bootId()} ${startTime(process.pid)}\n`);
        } finally {
          fs.closeSync(fd);
        }
        held.add(key);
        return new DataDirLock(file, key);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = heldBy(fs.readFileSync(file, 'utf8'));
        if (owner !== null && owner !== process.pid) {
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

/** The pid of the live process a lock file names, null when the line is torn or stale. */
function heldBy(text: string): number | null {
  if (!text.endsWith('\n')) return null;
  const parts = text.trim().split(' ');
  const pid = Number(parts[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isRunning(pid)) return null;
  if (parts.length === 1) return pid;
  if (parts.length !== 3 || parts[1] !== bootId() || parts[2] !== startTime(pid)) return null;
  return pid;
}

function bootId(): string {
  try {
    return fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || '-';
  } catch {
    return '-';
  }
}

/** Start time of a process (field 22 of /proc/<pid>/stat), '-' where /proc is not there. */
function startTime(pid: number): string {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '-';
  } catch {
    return '-';
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
