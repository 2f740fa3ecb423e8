/**
 * One classic consumer group (the JoinGroup/SyncGroup protocol): its members, generation,
 * selected protocol, leader and committed offsets. This module holds the data and the rules
 * that only look at one group (state transitions, protocol selection, member bookkeeping);
 * the coordinator (group-coordinator.ts) drives it from requests and timers.
 *
 * States and the transitions Kafka allows (a transition not listed here is a bug and throws):
 *
 *   Empty               -> PreparingRebalance (a member joins), Dead (deleted, or expired)
 *   PreparingRebalance  -> CompletingRebalance (join complete with members),
 *                          Empty (join complete without members), Dead
 *   CompletingRebalance -> Stable (leader's SyncGroup stored), PreparingRebalance, Dead
 *   Stable              -> PreparingRebalance, Dead
 *   Dead                -> (final)
 *
 * Member metadata and assignments are opaque bytes, returned exactly as received.
 */
import { CONSUMER_PROTOCOL_TYPE, subscribedTopics } from './consumer-protocol';
import { GroupBase } from './group-base';

export type { CommittedOffset } from './group-base';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

const VALID_PREVIOUS: Record<GroupState, GroupState[]> = {
  Empty: ['PreparingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  Dead: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'],
};

export const EMPTY_BYTES = Buffer.alloc(0);

export interface Protocol {
  name: string;
  metadata: Buffer;
}

export interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  skipAssignment: boolean;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncResult {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export class Member {
  assignment: Buffer = EMPTY_BYTES;
  /** Set while a JoinGroup of this member waits for the rebalance to complete. */
  joinWaiter: ((r: JoinResult) => void) | null = null;
  /** Set while a SyncGroup of this member waits for the leader's assignment. */
  syncWaiter: ((r: SyncResult) => void) | null = null;
  /** Joined during the current rebalance and has not yet received a join response. */
  isNew = false;
  /** The member's JoinGroup version understands skipAssignment (v9+). */
  supportsSkipAssignment = false;
  sessionTimer: NodeJS.Timeout | null = null;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocolType: string,
    public protocols: Protocol[],
  ) {}

  metadataFor(protocol: string): Buffer {
    const p = this.protocols.find((x) => x.name === protocol);
    if (!p) throw new Error(`member ${this.memberId} does not support protocol ${protocol}`);
    return p.metadata;
  }

  /** Same protocols, in the same order, with the same metadata bytes. */
  matches(protocols: Protocol[]): boolean {
    if (protocols.length !== this.protocols.length) return false;
    for (let i = 0; i < protocols.length; i++) {
      if (protocols[i].name !== this.protocols[i].name || !protocols[i].metadata.equals(this.protocols[i].metadata)) return false;
    }
    return true;
  }

  get isAwaitingJoin(): boolean {
    return this.joinWaiter !== null;
  }

  get isAwaitingSync(): boolean {
    return this.syncWaiter !== null;
  }
}

export class ClassicGroup extends GroupBase {
  readonly kind = 'classic' as const;
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  /** Members in the order they joined (the first is the default leader). */
  readonly members = new Map<string, Member>();
  /** group.instance.id -> member id of the static members. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined yet, with their expiry timers. */
  readonly pendingMembers = new Map<string, NodeJS.Timeout>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** A member joined while the initial rebalance delay was running (extends the delay). */
  newMemberAdded = false;
  /** The running rebalance is in its initial delay (does not complete early). */
  initialDelayRemainingMs: number | null = null;
  joinTimer: NodeJS.Timeout | null = null;
  syncTimer: NodeJS.Timeout | null = null;

  constructor(groupId: string, now: number) {
    super(groupId, now);
  }

  is(state: GroupState): boolean {
    return this.state === state;
  }

  transitionTo(state: GroupState, now: number): void {
    if (!VALID_PREVIOUS[state].includes(this.state)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.state} -> ${state}`);
    }
    this.state = state;
    this.currentStateTimestamp = now;
  }

  get canRebalance(): boolean {
    return VALID_PREVIOUS.PreparingRebalance.includes(this.state);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: Member): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
    if (this.leaderId === null) this.leaderId = member.memberId;
  }

  /** Removes a member; the leader passes to the next member that is waiting to join, else the next member. */
  remove(memberId: string): Member | undefined {
    const member = this.members.get(memberId);
    if (!member) return undefined;
    this.members.delete(memberId);
    this.pendingSync.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      let next: string | null = null;
      for (const m of this.members.values()) {
        if (m.isAwaitingJoin) {
          next = m.memberId;
          break;
        }
      }
      this.leaderId = next ?? this.members.keys().next().value ?? null;
    }
    return member;
  }

  /** Gives a static member a new member id (a restarted instance); keeps its position and assignment. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): Member {
    const member = this.members.get(oldMemberId);
    if (!member) throw new Error(`static member ${groupInstanceId} (${oldMemberId}) is not in group ${this.groupId}`);
    const entries = [...this.members.entries()];
    this.members.clear();
    for (const [id, m] of entries) this.members.set(id === oldMemberId ? newMemberId : id, m);
    member.memberId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    if (this.pendingSync.delete(oldMemberId)) this.pendingSync.add(newMemberId);
    return member;
  }

  /** The member id a group.instance.id is known under, if any. */
  staticMemberId(groupInstanceId: string | null): string | undefined {
    return groupInstanceId === null ? undefined : this.staticMembers.get(groupInstanceId);
  }

  /** The request names a static member by instance id, but with a member id that is no longer its own. */
  isStaticMemberFenced(memberId: string, groupInstanceId: string | null): boolean {
    const current = this.staticMemberId(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  get numAwaitingJoin(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.isAwaitingJoin) n++;
    return n;
  }

  /** Every member has sent its JoinGroup for this rebalance and no MEMBER_ID_REQUIRED member is outstanding. */
  get allMembersJoined(): boolean {
    return this.numAwaitingJoin === this.members.size && this.pendingMembers.size === 0;
  }

  /** The longest rebalance timeout among the members (how long a rebalance may wait for them). */
  get rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Protocols every member supports, in the first member's order of preference. */
  candidateProtocols(): string[] {
    const all = [...this.members.values()];
    if (all.length === 0) return [];
    return all[0].protocols.map((p) => p.name).filter((name) => all.every((m) => m.protocols.some((p) => p.name === name)));
  }

  /**
   * Kafka's protocol selection: among the protocols every member supports, each member votes
   * for the first one in its own preference order; most votes wins (ties: the first
   * member's preference order).
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    if (candidates.length === 0) throw new Error(`group ${this.groupId} has no protocol all members support`);
    const votes = new Map<string, number>(candidates.map((c) => [c, 0]));
    for (const m of this.members.values()) {
      const choice = m.protocols.find((p) => votes.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = candidates[0];
    for (const c of candidates) if ((votes.get(c) ?? 0) > (votes.get(best) ?? 0)) best = c;
    return best;
  }

  /**
   * Whether a member with this protocol type and these protocols may join: an empty group
   * takes any non-empty type and protocol list; otherwise the type must match and one of
   * the protocols must be supported by every current member.
   */
  supportsProtocols(protocolType: string, protocols: string[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (protocolType !== this.protocolType) return false;
    const candidates = new Set(this.candidateProtocols());
    return protocols.some((p) => candidates.has(p));
  }

  /** Topics the members subscribe to, when the group uses the consumer protocol and all subscriptions parse. */
  subscribedTopics(): Set<string> | null {
    if (this.protocolType !== CONSUMER_PROTOCOL_TYPE || this.protocolName === null) return null;
    const topics = new Set<string>();
    for (const m of this.members.values()) {
      const p = m.protocols.find((x) => x.name === this.protocolName);
      const t = p ? subscribedTopics(p.metadata) : null;
      if (t === null) return null;
      for (const x of t) topics.add(x);
    }
    return topics;
  }
}
