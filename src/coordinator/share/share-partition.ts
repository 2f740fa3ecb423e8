/**
 * The delivery state of one share partition (group, topic, partition), KIP-932:
 *
 *   startOffset (SPSO)   first offset not yet acknowledged or archived; everything below is done
 *   endOffset   (SPEO)   first offset never acquired; [SPSO, SPEO) are the in-flight records
 *
 * Each in-flight offset has a state (Available, Acquired, Acknowledged, Archived), a delivery
 * count and, while Acquired, the member holding it and when its acquisition lock expires.
 * An expired lock, a release, or a closed share session makes the record Available again,
 * unless its delivery count reached the limit, which archives it. Accept acknowledges, reject
 * archives, renew (KIP-1222) extends the lock. SPSO moves past a done prefix.
 *
 * This class does no I/O and reads no clock of its own: the coordinator passes `now`, reads
 * the log for it and persists what persisted() returns after each change. One slot per
 * in-flight offset: the in-flight window is bounded (group.share.partition.max.record.locks),
 * so this stays small. Offsets the log does not hold (control batches, compacted gaps) are
 * archived as they are passed.
 */
import { ErrorCode } from '../../protocol/errors';

/** Delivery states with Kafka's persisted codes (Acquired is never persisted: it reads as Available). */
export const DeliveryState = { AVAILABLE: 0, ACQUIRED: 1, ACKNOWLEDGED: 2, ARCHIVED: 4 } as const;
export type DeliveryStateCode = (typeof DeliveryState)[keyof typeof DeliveryState];

/** Acknowledge types on the wire. */
export const AckType = { GAP: 0, ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;

interface Slot {
  state: DeliveryStateCode;
  deliveryCount: number;
  owner: string | null;
  lockUntil: number;
}

/** A run of offsets with one state and delivery count, as the state is persisted. */
export interface StateBatch {
  firstOffset: number;
  lastOffset: number;
  deliveryState: number;
  deliveryCount: number;
}

export interface PersistedShareState {
  stateEpoch: number;
  startOffset: number;
  stateBatches: StateBatch[];
}

export interface AcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

export interface ShareLimits {
  lockDurationMs: number;
  deliveryCountLimit: number;
}

export class SharePartition {
  private slots: Slot[] = [];

  constructor(
    public startOffset: number,
    public stateEpoch: number,
  ) {}

  get endOffset(): number {
    return this.startOffset + this.slots.length;
  }

  get inFlight(): number {
    return this.slots.length;
  }

  static fromPersisted(p: PersistedShareState): SharePartition {
    const sp = new SharePartition(p.startOffset, p.stateEpoch);
    for (const b of p.stateBatches) {
      if (b.lastOffset < sp.endOffset) continue;
      sp.fillTo(b.firstOffset, DeliveryState.AVAILABLE, 0);
      const state = b.deliveryState === DeliveryState.ACKNOWLEDGED || b.deliveryState === DeliveryState.ARCHIVED ? b.deliveryState : DeliveryState.AVAILABLE;
      for (let o = Math.max(b.firstOffset, sp.endOffset); o <= b.lastOffset; o++) sp.slots.push({ state, deliveryCount: b.deliveryCount, owner: null, lockUntil: 0 });
    }
    sp.advance();
    return sp;
  }

  /** The state as Kafka persists it: runs of equal (state, count); Acquired reads as Available. */
  persisted(): PersistedShareState {
    const stateBatches: StateBatch[] = [];
    this.slots.forEach((s, i) => {
      const offset = this.startOffset + i;
      const state = s.state === DeliveryState.ACQUIRED ? DeliveryState.AVAILABLE : s.state;
      const last = stateBatches[stateBatches.length - 1];
      if (last && last.deliveryState === state && last.deliveryCount === s.deliveryCount && last.lastOffset === offset - 1) last.lastOffset = offset;
      else stateBatches.push({ firstOffset: offset, lastOffset: offset, deliveryState: state, deliveryCount: s.deliveryCount });
    });
    return { stateEpoch: this.stateEpoch, startOffset: this.startOffset, stateBatches };
  }

  /** Records acknowledged or archived in the in-flight window (Kafka's delivery-complete count). */
  doneInFlight(): number {
    return this.slots.reduce((n, s) => n + (s.state === DeliveryState.ACKNOWLEDGED || s.state === DeliveryState.ARCHIVED ? 1 : 0), 0);
  }

  /** Starts over at `offset` with nothing in flight (AlterShareGroupOffsets, a reset). */
  resetTo(offset: number): void {
    this.startOffset = offset;
    this.slots = [];
  }

  /** Drops in-flight offsets below the log start (retention, DeleteRecords). Returns whether anything changed. */
  followLogStart(logStartOffset: number): boolean {
    if (logStartOffset <= this.startOffset) return false;
    const drop = Math.min(this.slots.length, logStartOffset - this.startOffset);
    this.slots.splice(0, drop);
    this.startOffset = logStartOffset;
    return true;
  }

  /** Expired acquisition locks go back to Available (or Archived at the delivery limit). */
  expireLocks(now: number, limits: ShareLimits): boolean {
    let changed = false;
    for (const s of this.slots) {
      if (s.state === DeliveryState.ACQUIRED && s.lockUntil <= now) {
        this.releaseSlot(s, limits);
        changed = true;
      }
    }
    if (changed) this.advance();
    return changed;
  }

  /** The earliest lock expiry among acquired records, or Infinity. */
  nextLockExpiry(): number {
    let next = Infinity;
    for (const s of this.slots) if (s.state === DeliveryState.ACQUIRED && s.lockUntil < next) next = s.lockUntil;
    return next;
  }

  /** The first Available offset at or after `from`, or -1. */
  nextAvailable(from: number): number {
    for (let i = Math.max(0, from - this.startOffset); i < this.slots.length; i++) {
      if (this.slots[i].state === DeliveryState.AVAILABLE) return this.startOffset + i;
    }
    return -1;
  }

  hasAvailable(): boolean {
    return this.nextAvailable(this.startOffset) >= 0;
  }

  /**
   * Acquires the Available in-flight offsets of [first, last] for `member`, at most `max`.
   * Returns the acquired ranges (contiguous offsets with equal delivery counts merged).
   */
  acquireInFlight(member: string, first: number, last: number, max: number, now: number, limits: ShareLimits): AcquiredRange[] {
    const out: AcquiredRange[] = [];
    const end = Math.min(last, this.endOffset - 1);
    let taken = 0;
    for (let o = Math.max(first, this.startOffset); o <= end && taken < max; o++) {
      const s = this.slots[o - this.startOffset];
      if (s.state !== DeliveryState.AVAILABLE) continue;
      s.state = DeliveryState.ACQUIRED;
      s.deliveryCount++;
      s.owner = member;
      s.lockUntil = now + limits.lockDurationMs;
      taken++;
      pushRange(out, o, s.deliveryCount);
    }
    return out;
  }

  /**
   * Takes the offsets of a batch read from the log at SPEO into flight: [endOffset, first)
   * are archived as gaps; [first, last] are acquired by `member` (at most `max`, from the
   * start) or, when `skip` (control batches, aborted transactions), archived. Returns what
   * was acquired.
   */
  acquireNew(member: string, first: number, last: number, skip: boolean, max: number, now: number, limits: ShareLimits): AcquiredRange[] {
    if (last < this.endOffset) return [];
    // A gap with nothing in flight moves SPSO instead of archiving offset by offset.
    if (this.slots.length === 0 && first > this.startOffset) this.startOffset = first;
    this.fillTo(first, DeliveryState.ARCHIVED, 0);
    if (skip) {
      this.fillTo(last + 1, DeliveryState.ARCHIVED, 0);
      this.advance();
      return [];
    }
    const out: AcquiredRange[] = [];
    const stop = Math.min(last, this.endOffset + max - 1);
    for (let o = this.endOffset; o <= stop; o++) {
      this.slots.push({ state: DeliveryState.ACQUIRED, deliveryCount: 1, owner: member, lockUntil: now + limits.lockDurationMs });
      pushRange(out, o, 1);
    }
    return out;
  }

  /**
   * Applies one acknowledgement batch from `member`: `types` holds one type for the whole
   * range or one per offset. Every offset must be Acquired by the member (gaps excepted),
   * else INVALID_RECORD_STATE and nothing changes.
   */
  acknowledge(member: string, first: number, last: number, types: number[], now: number, limits: ShareLimits): number {
    if (last < first || (types.length !== 1 && types.length !== last - first + 1)) return ErrorCode.INVALID_REQUEST;
    if (types.some((t) => t < AckType.GAP || t > AckType.RENEW)) return ErrorCode.INVALID_REQUEST;
    if (first < this.startOffset || last >= this.endOffset) return ErrorCode.INVALID_RECORD_STATE;
    const typeAt = (o: number) => (types.length === 1 ? types[0] : types[o - first]);
    for (let o = first; o <= last; o++) {
      const s = this.slots[o - this.startOffset];
      if (typeAt(o) === AckType.GAP && s.state !== DeliveryState.ACKNOWLEDGED) continue;
      if (s.state !== DeliveryState.ACQUIRED || s.owner !== member) return ErrorCode.INVALID_RECORD_STATE;
    }
    for (let o = first; o <= last; o++) {
      const s = this.slots[o - this.startOffset];
      switch (typeAt(o)) {
        case AckType.GAP:
          s.state = DeliveryState.ARCHIVED;
          break;
        case AckType.ACCEPT:
          s.state = DeliveryState.ACKNOWLEDGED;
          break;
        case AckType.RELEASE:
          this.releaseSlot(s, limits);
          break;
        case AckType.REJECT:
          s.state = DeliveryState.ARCHIVED;
          break;
        case AckType.RENEW:
          s.lockUntil = now + limits.lockDurationMs;
          continue;
      }
      s.owner = null;
    }
    this.advance();
    return ErrorCode.NONE;
  }

  /** Releases every record `member` holds (its share session closed or it left). */
  releaseMember(member: string, limits: ShareLimits): boolean {
    let changed = false;
    for (const s of this.slots) {
      if (s.state === DeliveryState.ACQUIRED && s.owner === member) {
        this.releaseSlot(s, limits);
        changed = true;
      }
    }
    if (changed) this.advance();
    return changed;
  }

  /** Moves SPSO past acknowledged and archived records. */
  advance(): void {
    let n = 0;
    while (n < this.slots.length && (this.slots[n].state === DeliveryState.ACKNOWLEDGED || this.slots[n].state === DeliveryState.ARCHIVED)) n++;
    if (n === 0) return;
    this.slots.splice(0, n);
    this.startOffset += n;
  }

  private releaseSlot(s: Slot, limits: ShareLimits): void {
    s.state = s.deliveryCount >= limits.deliveryCountLimit ? DeliveryState.ARCHIVED : DeliveryState.AVAILABLE;
    s.owner = null;
    s.lockUntil = 0;
  }

  /** Extends the in-flight window to `offset` (exclusive) with slots in `state`. */
  private fillTo(offset: number, state: DeliveryStateCode, deliveryCount: number): void {
    while (this.endOffset < offset) this.slots.push({ state, deliveryCount, owner: null, lockUntil: 0 });
  }
}

/** Records acknowledged or archived in persisted state batches (Kafka's delivery-complete count). */
export function completedCount(batches: StateBatch[]): number {
  let n = 0;
  for (const b of batches) if (b.deliveryState === DeliveryState.ACKNOWLEDGED || b.deliveryState === DeliveryState.ARCHIVED) n += b.lastOffset - b.firstOffset + 1;
  return n;
}

function pushRange(out: AcquiredRange[], offset: number, deliveryCount: number): void {
  const last = out[out.length - 1];
  if (last && last.lastOffset === offset - 1 && last.deliveryCount === deliveryCount) last.lastOffset = offset;
  else out.push({ firstOffset: offset, lastOffset: offset, deliveryCount });
}
