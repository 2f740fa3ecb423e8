/**
 * The admin operations on groups of either kind: ListGroups, DescribeGroups (classic groups;
 * KIP-848 groups are described by ConsumerGroupDescribe) and DeleteGroups. Deleting a group,
 * or expiring the last offsets of an empty one, tombstones its records and forgets it
 * (markDead).
 */
import { streamsGroupTombstone } from '../streams/streams-group-records';
import { ErrorCode } from '../../protocol/errors';
import type { LogRecord } from './batch-codec';
import { EMPTY_BYTES, GroupState } from './classic-group';
import { CONSUMER_PROTOCOL_TYPE } from './consumer-protocol';
import { encodeGroupMetadataKey, encodeOffsetCommitKey } from './records';
import type { ClassicGroupProtocol } from './classic-group-protocol';
import { AnyGroup, GroupContext, GroupCoordinatorPart } from './group-context';

export interface GroupDescription {
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocolData: string;
  members: {
    memberId: string;
    groupInstanceId: string | null;
    clientId: string;
    clientHost: string;
    metadata: Buffer;
    assignment: Buffer;
  }[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: 'classic' | 'consumer' | 'streams';
}

export class GroupAdmin extends GroupCoordinatorPart {
  constructor(
    ctx: GroupContext,
    private readonly classic: ClassicGroupProtocol,
  ) {
    super(ctx);
  }

  /** DescribeGroups: null for unknown groups and for KIP-848 groups (see groupKind). */
  describeGroup(groupId: string): GroupDescription | null {
    const group = this.group(groupId);
    if (!group || group.is('Dead')) return null;
    const stable = group.is('Stable');
    const protocol = group.protocolName;
    return {
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable && protocol !== null ? protocol : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable && protocol !== null ? m.metadataFor(protocol) : EMPTY_BYTES,
        assignment: stable ? m.assignment : EMPTY_BYTES,
      })),
    };
  }

  /** Groups matching the filters (case-insensitive; an empty filter matches everything). */
  listGroups(states: string[], types: string[]): GroupListing[] {
    const stateSet = new Set(states.map((s) => s.toLowerCase()));
    const typeSet = new Set(types.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      if (g.kind === 'classic' && g.is('Dead')) continue;
      if (stateSet.size > 0 && !stateSet.has(g.state.toLowerCase())) continue;
      if (typeSet.size > 0 && !typeSet.has(g.kind)) continue;
      // Kafka lists streams groups with the protocol type "streams".
      const protocolType = g.kind === 'consumer' ? CONSUMER_PROTOCOL_TYPE : g.kind === 'streams' ? 'streams' : g.protocolType ?? '';
      out.push({ groupId: g.groupId, protocolType, state: g.state, type: g.kind });
    }
    return out;
  }

  groupKind(groupId: string): 'classic' | 'consumer' | 'streams' | null {
    return this.groups.get(groupId)?.kind ?? null;
  }

  deleteGroup(groupId: string): number {
    if (this.closed) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (!group || (group.kind === 'classic' && group.is('Dead'))) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (group.kind !== 'classic' ? group.members.size > 0 : !group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    const records: LogRecord[] = [];
    for (const [topic, byPartition] of group.offsets) {
      for (const partition of byPartition.keys()) records.push({ key: encodeOffsetCommitKey(groupId, topic, partition), value: null });
    }
    records.push({ key: encodeGroupMetadataKey(groupId), value: null });
    if (group.kind === 'consumer') records.push(...this.consumerGroups.groupTombstones(groupId));
    if (group.kind === 'streams') records.push(streamsGroupTombstone(groupId));
    try {
      this.store.append(groupId, records);
    } catch (err) {
      this.log.warn('could not delete group', { group: groupId, error: String(err) });
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    }
    this.markDead(group);
    this.log.info('group deleted', { group: groupId });
    return ErrorCode.NONE;
  }

  /** Forgets a group whose tombstones are stored: its timers stop, a classic group becomes Dead. */
  markDead(group: AnyGroup): void {
    if (group.kind === 'consumer') this.consumerGroups.clearTimers(group);
    else if (group.kind === 'streams') {
      // Only empty streams groups are deleted or expire: no member timers are left.
    } else {
      this.classic.clearGroupTimers(group);
      group.transitionTo('Dead', this.clock());
    }
    group.offsets.clear();
    this.groups.delete(group.groupId);
  }
}
