/**
 * Watches the process's open file descriptors against its limit (`ulimit -n`). Every segment
 * keeps its .log open, as in Kafka, so many partitions and segments can use them all; then
 * the kernel refuses new connections (libuv accepts and closes them without telling the
 * broker) and appends that roll a segment fail with KAFKA_STORAGE_ERROR. This makes that
 * visible: one warning when usage passes 90% of the limit, one error when it is reached, one
 * info line when it is back under 80%. Linux only (/proc); a no-op elsewhere.
 */
import * as fs from 'fs';
import type { Logger } from '../logging';

const CHECK_INTERVAL_MS = 2000;

/** The process's soft limit on open files (Linux /proc), or null where unknown. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Counted on the thread pool: with thousands of connections a synchronous listing would hold up requests. */
async function openFiles(limit: number): Promise<number | null> {
  try {
    return (await fs.promises.readdir('/proc/self/fd')).length;
  } catch (err) {
    // Listing needs a descriptor too: failing for want of one means the limit is reached.
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? limit : null;
  }
}

export class FdMonitor {
  private timer: NodeJS.Timeout | null = null;
  private level: 'ok' | 'high' | 'full' = 'ok';

  constructor(private readonly log: Logger) {}

  start(): void {
    const limit = openFilesLimit();
    if (limit === null || !fs.existsSync('/proc/self/fd')) return;
    this.timer = setInterval(() => void this.check(limit), CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  private async check(limit: number): Promise<void> {
    const n = await openFiles(limit);
    if (n === null || this.timer === null) return;
    // A few descriptors are in flux (readdir itself holds one): "full" means within 2 of the limit.
    if (n >= limit - 2 && this.level !== 'full') {
      this.level = 'full';
      this.log.error('open file limit reached: new connections are refused and segment rolls fail until descriptors free up', { openFiles: n, limit });
    } else if (n >= limit * 0.9 && this.level === 'ok') {
      this.level = 'high';
      this.log.warn('open files near the limit (ulimit -n); each segment keeps one open', { openFiles: n, limit });
    } else if (n < limit * 0.8 && this.level !== 'ok') {
      this.level = 'ok';
      this.log.info('open files back under the limit', { openFiles: n, limit });
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
