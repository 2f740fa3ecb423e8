/**
 * Long-poll support for Fetch: a fetch that has not yet collected min_bytes parks here
 * and is woken when any partition it reads gets new data, or when its max_wait_ms ends.
 */

type Wake = () => void;

export class PartitionWaiters {
  private readonly byPartition = new Map<string, Set<Wake>>();
  /** Fetches parked right now (metrics). */
  parked = 0;
  /** Set by wakeAll (shutdown): later waits return at once, so draining connections answer. */
  private closing = false;

  private static key(topic: string, partition: number): string {
    return `${topic}\u0000${partition}`;
  }

  /** Called by Produce after an append. */
  notify(topic: string, partition: number): void {
    const set = this.byPartition.get(PartitionWaiters.key(topic, partition));
    if (!set) return;
    for (const wake of [...set]) wake();
  }

  /**
   * Resolves when one of the partitions gets data, or after timeoutMs; returns true if
   * woken by data.
   */
  wait(partitions: { topic: string; partition: number }[], timeoutMs: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    return new Promise((resolve) => {
      const keys = partitions.map((p) => PartitionWaiters.key(p.topic, p.partition));
      let done = false;
      const finish = (byData: boolean) => {
        if (done) return;
        done = true;
        this.parked--;
        clearTimeout(timer);
        for (const k of keys) {
          const set = this.byPartition.get(k);
          if (!set) continue;
          set.delete(wake);
          if (set.size === 0) this.byPartition.delete(k);
        }
        resolve(byData);
      };
      const wake = () => finish(true);
      this.parked++;
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      for (const k of keys) {
        let set = this.byPartition.get(k);
        if (!set) this.byPartition.set(k, (set = new Set()));
        set.add(wake);
      }
    });
  }

  /** Partitions some parked fetch waits on (metrics). */
  get watchedPartitions(): number {
    return this.byPartition.size;
  }

  /** Releases every parked fetch (broker shutdown). */
  wakeAll(): void {
    this.closing = true;
    for (const set of this.byPartition.values()) for (const wake of [...set]) wake();
  }
}
