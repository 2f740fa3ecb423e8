/**
 * Share sessions (KIP-932): per (group, member), the partitions a member's ShareFetch
 * requests read, so that later requests need only name what changes. The epoch in each
 * ShareFetch / ShareAcknowledge says what the request does:
 *    0   opens a session (replacing an existing one) with the request's partitions
 *   -1   closes the session after its acknowledgements (no fetching)
 *   n>0  continues the session; n must be the session's next epoch, which then rises by one
 */
import { ErrorCode } from '../../protocol/errors';

export const INITIAL_EPOCH = 0;
export const FINAL_EPOCH = -1;

export interface SharePartitionRef {
  topicId: string;
  partition: number;
}

export class ShareSession {
  nextEpoch = 1;
  /** "topicId:partition" -> ref, in the order partitions were added. */
  readonly partitions = new Map<string, SharePartitionRef>();

  add(topicId: string, partition: number): void {
    this.partitions.set(`${topicId}:${partition}`, { topicId, partition });
  }

  forget(topicId: string, partition: number): boolean {
    return this.partitions.delete(`${topicId}:${partition}`);
  }
}

export class ShareSessions {
  private readonly byMember = new Map<string, ShareSession>();

  constructor(private readonly maxSessions = 2000) {}

  private static key(groupId: string, memberId: string): string {
    return `${groupId}\u0000${memberId}`;
  }

  get(groupId: string, memberId: string): ShareSession | undefined {
    return this.byMember.get(ShareSessions.key(groupId, memberId));
  }

  /** Opens (or replaces) a session; null when the broker holds too many sessions. */
  open(groupId: string, memberId: string): ShareSession | null {
    const key = ShareSessions.key(groupId, memberId);
    if (!this.byMember.has(key) && this.byMember.size >= this.maxSessions) return null;
    const s = new ShareSession();
    this.byMember.set(key, s);
    return s;
  }

  remove(groupId: string, memberId: string): ShareSession | undefined {
    const key = ShareSessions.key(groupId, memberId);
    const s = this.byMember.get(key);
    this.byMember.delete(key);
    return s;
  }

  /**
   * Checks a continuing request's epoch (n > 0 or -1) against the session and, for n > 0,
   * moves the session to the next epoch. NONE, SHARE_SESSION_NOT_FOUND or INVALID_SHARE_SESSION_EPOCH.
   */
  advance(groupId: string, memberId: string, epoch: number): { errorCode: number; session?: ShareSession } {
    const session = this.get(groupId, memberId);
    if (!session) return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND };
    if (epoch === FINAL_EPOCH) return { errorCode: ErrorCode.NONE, session };
    if (epoch !== session.nextEpoch) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH };
    session.nextEpoch = session.nextEpoch === 0x7fffffff ? 1 : session.nextEpoch + 1;
    return { errorCode: ErrorCode.NONE, session };
  }
}
