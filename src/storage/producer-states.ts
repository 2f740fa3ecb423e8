/**
 * The producer state of every partition log this broker has touched, loaded on first use
 * (the first idempotent produce, fetch or ListOffsets of the partition) so that start-up
 * does not read any log. No files of its own: see producer-state.ts.
 *
 * Concurrency: JS thread only. A partition log deleted with its topic keeps its manager until
 * close(), which then finds its directory gone and skips it.
 */
import type { Logger } from '../logging';
import type { PartitionLog } from './partition-log';
import { ProducerStateManager } from './producer-state';

/** producer.id.expiration.ms: Kafka's default, one day. */
export const PRODUCER_ID_EXPIRATION_MS = 86_400_000;

export class ProducerStates {
  private readonly byLog = new Map<PartitionLog, ProducerStateManager>();

  constructor(private readonly logger: Logger) {}

  /** The partition's producer state, recovered from disk on first use. */
  of(log: PartitionLog): ProducerStateManager {
    let m = this.byLog.get(log);
    if (!m) {
      m = ProducerStateManager.load(log, this.logger.child({ dir: log.dir }));
      this.byLog.set(log, m);
    }
    return m;
  }

  /** The state if it is loaded, without loading it. */
  peek(log: PartitionLog): ProducerStateManager | undefined {
    return this.byLog.get(log);
  }

  expireProducers(now: number, expirationMs = PRODUCER_ID_EXPIRATION_MS): void {
    for (const m of this.byLog.values()) m.expireProducers(now, expirationMs);
  }

  /** Snapshots every loaded state (broker shutdown, before the logs close). */
  close(): void {
    for (const m of this.byLog.values()) m.snapshot();
    this.byLog.clear();
  }
}
