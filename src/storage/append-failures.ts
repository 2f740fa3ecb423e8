/**
 * Logging of failed appends (ENOSPC, EIO, EMFILE...) for one partition log: one error line
 * when a run of failures starts, then one every FAILURE_LOG_INTERVAL_MS with the count, since
 * clients retry every few hundred milliseconds while the disk stays full; a warning when
 * appends work again.
 */
import type { Logger } from '../logging';

const FAILURE_LOG_INTERVAL_MS = 10_000;

export class AppendFailures {
  private run: { since: number; count: number; loggedAt: number } | null = null;

  constructor(
    private readonly log: Logger,
    private readonly dir: string,
  ) {}

  /** Whether the last append failed. */
  get failing(): boolean {
    return this.run !== null;
  }

  failed(err: Error, now: number): void {
    const code = (err as NodeJS.ErrnoException).code ?? null;
    const f = this.run;
    if (!f) {
      this.run = { since: now, count: 1, loggedAt: now };
      this.log.error('append failed; the partition refuses writes until the disk accepts them', { dir: this.dir, code, error: err.message });
      return;
    }
    f.count++;
    if (now - f.loggedAt >= FAILURE_LOG_INTERVAL_MS) {
      f.loggedAt = now;
      this.log.error('appends still failing', { dir: this.dir, code, error: err.message, failures: f.count, sinceMs: now - f.since });
    }
  }

  /** An append succeeded: ends a run of failures, if one was going on. */
  resumed(now: number): void {
    const f = this.run;
    if (!f) return;
    this.run = null;
    this.log.warn('appends resumed', { dir: this.dir, failures: f.count, afterMs: now - f.since });
  }
}
