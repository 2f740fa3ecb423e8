/**
 * Background log maintenance of the broker: the retention pass and the log cleaner, the two
 * jobs that Kafka's log manager schedules. No on-disk format of its own (see
 * src/storage/log-retention.ts, log-cleaner.ts, log-state.ts).
 *
 *   - retention: every log.retention.check.interval.ms, every partition gets applyRetention
 *     (time, size, log start offset). Synchronous per partition: it only unlinks files.
 *   - cleaner (log.cleaner.enable): picks the compacted partition that needs cleaning most
 *     (max.compaction.lag.ms overdue first, then the highest dirty ratio, then a passed
 *     tombstone horizon), cleans it, and looks again at once; when nothing is due it sleeps
 *     log.cleaner.backoff.ms. One partition at a time. A partition whose cleaning fails is
 *     skipped for a while and the error logged (Kafka marks it uncleanable).
 *
 * Both read their settings at each run, so dynamic broker configs apply without a restart
 * (the retention interval is fixed at start-up, as in Kafka).
 */
import type { Logger } from '../logging';
import type { PartitionLog } from '../storage/partition-log';
import { applyRetention } from '../storage/log-retention';
import { cleaningNeed, CleaningNeed, CleaningStats, LogCleaner } from '../storage/log-cleaner';
import type { BrokerConfigStore } from './broker-config';
import type { TopicManager } from './topic-manager';
import { splitList } from './topic-config';

const FAILED_CLEANING_BACKOFF_MS = 10 * 60 * 1000;

export class LogMaintenance {
  private retentionTimer: NodeJS.Timeout | null = null;
  private cleanerTimer: NodeJS.Timeout | null = null;
  private cleaner: LogCleaner | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Partition directory -> time until which the cleaner leaves it alone. */
  private readonly failed = new Map<string, number>();
  /** Totals since start (tests, logs). */
  readonly totals = { cleanings: 0, bytesRead: 0, bytesWritten: 0, retentionDeletedSegments: 0 };

  constructor(
    private readonly topics: TopicManager,
    private readonly settings: BrokerConfigStore,
    private readonly log: Logger,
  ) {}

  start(): void {
    const interval = this.settings.number('log.retention.check.interval.ms', 300_000);
    this.retentionTimer = setInterval(() => this.runRetention(), Math.max(1, interval));
    this.retentionTimer.unref();
    if (this.settings.get('log.cleaner.enable') !== 'false') this.scheduleCleaner(0);
  }

  /** One retention pass over every partition. */
  runRetention(): void {
    for (const topic of this.topics.list()) {
      for (const p of topic.partitions) {
        if (p.log.isClosed) continue;
        try {
          const r = applyRetention(p.log);
          this.totals.retentionDeletedSegments += r.deletedSegments;
        } catch (err) {
          this.log.error('retention failed', { topic: topic.name, partition: p.index, error: (err as Error).message });
        }
      }
    }
  }

  /** The partition the cleaner should work on now, if any. */
  pickFilthiest(now = Date.now()): { log: PartitionLog; need: CleaningNeed } | null {
    let best: { log: PartitionLog; need: CleaningNeed } | null = null;
    const rank = (n: CleaningNeed) => (n.reason === 'max-compaction-lag' ? 3 : n.reason === 'dirty-ratio' ? 2 : 1);
    for (const topic of this.topics.list()) {
      // Only compacted topics can need cleaning: the others' logs stay unopened until used.
      if (!splitList(this.topics.config(topic, 'cleanup.policy')).includes('compact')) continue;
      for (const p of topic.partitions) {
        if ((this.failed.get(p.log.dir) ?? 0) > now) continue;
        const need = cleaningNeed(p.log, p.log.now());
        if (!need) continue;
        if (!best || rank(need) > rank(best.need) || (rank(need) === rank(best.need) && need.dirtyRatio > best.need.dirtyRatio)) {
          best = { log: p.log, need };
        }
      }
    }
    return best;
  }

  /** Cleans the filthiest partition once; null when none needed it. */
  async cleanOnce(): Promise<CleaningStats | null> {
    const pick = this.pickFilthiest();
    if (!pick) return null;
    this.cleaner = new LogCleaner(this.log.child({ component: 'log-cleaner' }), {
      dedupeBufferBytes: this.settings.number('log.cleaner.dedupe.buffer.size', 128 * 1024 * 1024),
      ioMaxBytesPerSecond: this.settings.number('log.cleaner.io.max.bytes.per.second', Number.POSITIVE_INFINITY),
    });
    try {
      const stats = await this.cleaner.clean(pick.log, pick.need);
      if (stats) {
        this.totals.cleanings++;
        this.totals.bytesRead += stats.bytesRead;
        this.totals.bytesWritten += stats.bytesWritten;
      }
      return stats;
    } catch (err) {
      this.failed.set(pick.log.dir, Date.now() + FAILED_CLEANING_BACKOFF_MS);
      this.log.error('cleaning failed; the partition is skipped for a while', { dir: pick.log.dir, error: (err as Error).stack ?? String(err) });
      return null;
    } finally {
      this.cleaner = null;
    }
  }

  private scheduleCleaner(delayMs: number): void {
    if (this.stopped) return;
    this.cleanerTimer = setTimeout(() => {
      this.cleanerTimer = null;
      this.running = this.cleanerPass().finally(() => (this.running = null));
    }, delayMs);
    this.cleanerTimer.unref();
  }

  private async cleanerPass(): Promise<void> {
    let cleaned = false;
    try {
      cleaned = (await this.cleanOnce()) !== null;
    } catch (err) {
      this.log.error('log cleaner pass failed', { error: (err as Error).message });
    }
    // Straight on to the next partition while there is work; otherwise sleep.
    this.scheduleCleaner(cleaned ? 0 : this.settings.number('log.cleaner.backoff.ms', 15_000));
  }

  /** Dynamic broker settings changed: a sleeping cleaner restarts its wait with the current log.cleaner.backoff.ms. */
  settingsChanged(): void {
    if (this.stopped || !this.cleanerTimer) return;
    clearTimeout(this.cleanerTimer);
    this.scheduleCleaner(this.settings.number('log.cleaner.backoff.ms', 15_000));
  }

  /** Stops both jobs; a cleaning in progress stops at its next batch and its output is discarded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    if (this.cleanerTimer) clearTimeout(this.cleanerTimer);
    this.cleaner?.abort();
    if (this.running) await this.running;
  }
}
