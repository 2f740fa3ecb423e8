/**
 * What every group kind shares: its id and its committed offsets. Classic groups
 * (JoinGroup/SyncGroup, classic-group.ts) and KIP-848 consumer groups (ConsumerGroupHeartbeat,
 * consumer-group.ts) live in one namespace: a group id is one kind or the other.
 */

export interface CommittedOffset {
  offset: number;
  leaderEpoch: number;
  metadata: string;
  commitTimestamp: number;
  /** -1: none (retention counts from the commit or from the group becoming empty). */
  expireTimestamp: number;
}

export abstract class GroupBase {
  abstract readonly kind: 'classic' | 'consumer' | 'streams';
  /** topic -> partition -> committed offset. */
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** When the group last changed state (ms); offsets of an empty group expire from here. */
  currentStateTimestamp: number;

  constructor(
    readonly groupId: string,
    now: number,
  ) {
    this.currentStateTimestamp = now;
  }

  offset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  setOffset(topic: string, partition: number, value: CommittedOffset): void {
    let byPartition = this.offsets.get(topic);
    if (!byPartition) this.offsets.set(topic, (byPartition = new Map()));
    byPartition.set(partition, value);
  }

  deleteOffset(topic: string, partition: number): void {
    const byPartition = this.offsets.get(topic);
    if (!byPartition) return;
    byPartition.delete(partition);
    if (byPartition.size === 0) this.offsets.delete(topic);
  }

  get hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  get offsetCount(): number {
    let n = 0;
    for (const byPartition of this.offsets.values()) n += byPartition.size;
    return n;
  }

  /** Moves the committed offsets of another group object (a group changing kind) into this one. */
  takeOffsetsFrom(other: GroupBase): void {
    for (const [topic, byPartition] of other.offsets) for (const [p, o] of byPartition) this.setOffset(topic, p, o);
    other.offsets.clear();
  }
}
