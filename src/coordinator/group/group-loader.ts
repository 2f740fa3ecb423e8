/**
 * Loading: the records of __consumer_offsets (offsets-topic.ts reads them) replayed into the
 * coordinator's groups at start, latest value per key winning, a null value deleting.
 * Classic groups come back from their GroupMetadata record with their members, who then get a
 * fresh session; KIP-848 records go to the consumer group coordinator, StreamsGroupMetadata
 * records to the streams group coordinator.
 */
import { ClassicGroup, Member } from './classic-group';
import { decodeConsumerGroupKey } from './consumer-group-records';
import { decodeStreamsGroupMetadataKey } from '../streams/streams-group-records';
import { decodeGroupMetadataValue, decodeOffsetCommitValue, decodeRecordKey } from './records';
import type { ClassicGroupProtocol } from './classic-group-protocol';
import { GroupContext, GroupCoordinatorPart } from './group-context';

export class GroupLoader extends GroupCoordinatorPart {
  constructor(
    ctx: GroupContext,
    private readonly classic: ClassicGroupProtocol,
  ) {
    super(ctx);
  }

  /**
   * Applies one record of __consumer_offsets while loading (latest value per key wins, a null
   * value deletes). Call finishLoading() after the last one.
   */
  replay(key: Buffer, value: Buffer | null): void {
    const k = decodeRecordKey(key);
    if (k.type === 'other') {
      const ck = decodeConsumerGroupKey(key);
      if (ck) this.consumerGroups.replay(ck, value);
      const streamsGroup = decodeStreamsGroupMetadataKey(key);
      if (streamsGroup !== null) this.streamsGroups.replayMetadata(streamsGroup, value);
      return;
    }
    if (k.type === 'offset') {
      if (value === null) {
        this.groups.get(k.group)?.deleteOffset(k.topic, k.partition);
        return;
      }
      const v = decodeOffsetCommitValue(value);
      let group = this.groups.get(k.group);
      if (!group) this.groups.set(k.group, (group = new ClassicGroup(k.group, v.commitTimestamp)));
      group.setOffset(k.topic, k.partition, v);
      return;
    }
    if (value === null) {
      // Group deleted: its offsets were tombstoned just before.
      const group = this.group(k.group);
      if (group) {
        group.members.clear();
        group.staticMembers.clear();
        group.generationId = 0;
        group.protocolType = null;
        group.protocolName = null;
        group.leaderId = null;
        if (!group.hasOffsets) this.groups.delete(k.group);
      }
      return;
    }
    const v = decodeGroupMetadataValue(value);
    const found = this.groups.get(k.group);
    const now = this.clock();
    let group: ClassicGroup;
    if (found?.kind === 'classic') group = found;
    else {
      group = new ClassicGroup(k.group, now);
      if (found) group.takeOffsetsFrom(found);
      this.groups.set(k.group, group);
    }
    group.members.clear();
    group.staticMembers.clear();
    group.generationId = v.generation;
    group.protocolType = v.protocolType === '' ? null : v.protocolType;
    group.protocolName = v.protocol;
    group.leaderId = v.leader;
    group.currentStateTimestamp = v.currentStateTimestamp >= 0 ? v.currentStateTimestamp : now;
    for (const sm of v.members) {
      const m = new Member(
        sm.memberId,
        sm.groupInstanceId,
        sm.clientId,
        sm.clientHost,
        sm.sessionTimeout,
        sm.rebalanceTimeout,
        v.protocolType,
        [{ name: v.protocol ?? '', metadata: sm.subscription }],
      );
      m.assignment = sm.assignment;
      group.add(m);
    }
    group.leaderId = v.leader;
    group.state = group.members.size > 0 ? 'Stable' : 'Empty';
  }

  /** After the replay: loaded members get a fresh session (they must heartbeat to stay). */
  finishLoading(): void {
    for (const g of this.groups.values()) {
      if (g.kind !== 'classic') continue;
      for (const m of g.members.values()) this.classic.scheduleSession(g, m, m.sessionTimeoutMs);
    }
    this.consumerGroups.finishLoading();
  }
}
