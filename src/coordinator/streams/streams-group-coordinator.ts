/**
 * StreamsGroupHeartbeat and StreamsGroupDescribe (KIP-1071): membership, topology, task
 * assignment and reconciliation of streams groups. Groups live in the group coordinator's one
 * namespace (a group id is classic, consumer or streams).
 *
 * A heartbeat, in order: validate; join, leave or find the member (fencing stale epochs);
 * take what it reports (topology, owned tasks, endpoint, offsets); resolve the topology
 * against the topics, creating missing internal topics (repartition and changelog topics,
 * with the sizes and configs the topology gives); recompute the target assignment when the
 * group epoch moved; move the member towards its target, revoking active tasks before they
 * go to anyone else; answer with its tasks (when they changed), statuses, and the endpoint
 * map for interactive queries when the client's copy is old.
 *
 * Differences from Kafka: the group's membership and topology are kept in memory only (Kafka
 * also logs them to __consumer_offsets): after a restart members rejoin with epoch 0 (they
 * get UNKNOWN_MEMBER_ID first) and get their tasks again; committed offsets are durable as
 * for every group (the id comes back as an offsets-only group that the first join turns into
 * a streams group again). Internal topics are created within the heartbeat that finds them
 * missing, so MISSING_INTERNAL_TOPICS is reported only for those that cannot be created
 * (Kafka creates them after answering and reports the status once; Kafka Streams only logs
 * it). Static members (instance ids): a leave with epoch -2 keeps the member and its tasks
 * until its session times out or a member with the same instance id joins and takes them over
 * without a rebalance, as in Kafka; a join while the old member is still active replaces it
 * (with a rebalance). No warmup tasks (see streams-assignor.ts).
 */
import { ErrorCode, KafkaError } from '../../protocol/errors';
import type { Logger } from '../../logging';
import type { AnyGroup } from '../group/group-context';
import { assignTasks } from './streams-assignor';
import { decodeStreamsGroupEpoch, encodeStreamsGroupMetadataKey, encodeStreamsGroupMetadataValue } from './streams-group-records';
import { ClassicGroup } from '../group/classic-group';
import type { LogRecord } from '../group/batch-codec';
import { configureTopology, StreamsTopicCatalog, topologyError } from './streams-topology';
import {
  addTask,
  assignmentText,
  copyTasks,
  emptyAssignment,
  fromWire,
  hasTask,
  StreamsGroup,
  StreamsGroupMember,
  StreamsStatus,
  TaskAssignment,
  TaskSet,
  taskKey,
  tasksOf,
  TopicInfo,
  Topology,
  wireTasks,
} from './streams-group';

type WireTasks = { subtopologyId: string; partitions: number[] }[];

export interface StreamsHeartbeatParams {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  endpointInformationEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  topology: Topology | null;
  activeTasks: WireTasks | null;
  standbyTasks: WireTasks | null;
  warmupTasks: WireTasks | null;
  processId: string | null;
  userEndpoint: { host: string; port: number } | null;
  clientTags: { key: string; value: string }[] | null;
  taskOffsets: { subtopologyId: string; partition: number; offset: number }[] | null;
  taskEndOffsets: { subtopologyId: string; partition: number; offset: number }[] | null;
  shutdownApplication: boolean;
  clientId: string;
  clientHost: string;
}

export interface StreamsHeartbeatResult {
  errorCode: number;
  errorMessage: string | null;
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  acceptableRecoveryLag: number;
  taskOffsetIntervalMs: number;
  status: { statusCode: number; statusDetail: string }[] | null;
  activeTasks: WireTasks | null;
  standbyTasks: WireTasks | null;
  warmupTasks: WireTasks | null;
  endpointInformationEpoch: number;
  partitionsByUserEndpoint: EndpointPartitions[] | null;
}

export interface EndpointPartitions {
  userEndpoint: { host: string; port: number };
  activePartitions: { topic: string; partitions: number[] }[];
  standbyPartitions: { topic: string; partitions: number[] }[];
}

export interface StreamsGroupSettings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  numStandbyReplicas: number;
}

/** The cluster as a streams group sees it: its topics, and the creation of internal ones. */
export interface StreamsTopics extends StreamsTopicCatalog {
  /** Creates an internal topic; throws KafkaError when it cannot. */
  create(topic: TopicInfo): void;
}

// Kafka's defaults for the two client-side intervals the heartbeat hands out.
const ACCEPTABLE_RECOVERY_LAG = 10_000;
const STATIC_LEAVE_EPOCH = -2;
const TASK_OFFSET_INTERVAL_MS = 60_000;

export class StreamsGroupCoordinator {
  constructor(
    private readonly groups: Map<string, AnyGroup>,
    private readonly settings: (groupId: string) => StreamsGroupSettings,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    /** Appends records to the group's __consumer_offsets partition (throws when it cannot). */
    private readonly persist: (groupId: string, records: LogRecord[]) => void = () => {},
  ) {}

  /** Rebuilds a streams group from its StreamsGroupMetadata record while loading (null: deleted). */
  replayMetadata(groupId: string, value: Buffer | null): void {
    const found = this.groups.get(groupId);
    if (value === null) {
      if (found?.kind !== 'streams') return;
      this.groups.delete(groupId);
      if (found.hasOffsets) {
        const classic = new ClassicGroup(groupId, this.clock());
        classic.takeOffsetsFrom(found);
        this.groups.set(groupId, classic);
      }
      return;
    }
    let group: StreamsGroup;
    if (found?.kind === 'streams') group = found;
    else {
      group = new StreamsGroup(groupId, this.clock());
      if (found) group.takeOffsetsFrom(found);
      this.groups.set(groupId, group);
    }
    group.groupEpoch = group.assignmentEpoch = group.storedEpoch = decodeStreamsGroupEpoch(value);
  }

  /** Writes the group epoch when it moved, so the group survives a restart. */
  private storeEpoch(group: StreamsGroup): void {
    if (group.storedEpoch === group.groupEpoch || this.groups.get(group.groupId) !== group) return;
    try {
      this.persist(group.groupId, [{ key: encodeStreamsGroupMetadataKey(group.groupId), value: encodeStreamsGroupMetadataValue(group.groupEpoch) }]);
      group.storedEpoch = group.groupEpoch;
    } catch (err) {
      this.log.warn('could not store streams group metadata', { group: group.groupId, error: String(err) });
    }
  }

  /**
   * An answer that refuses the heartbeat: as Kafka's, only the error is set (member id empty,
   * epochs and intervals 0).
   */
  refused(_p: StreamsHeartbeatParams, errorCode: number, errorMessage: string | null = null): StreamsHeartbeatResult {
    return {
      memberId: '',
      heartbeatIntervalMs: 0,
      acceptableRecoveryLag: 0,
      taskOffsetIntervalMs: 0,
      errorCode,
      errorMessage,
      memberEpoch: 0,
      status: null,
      activeTasks: null,
      standbyTasks: null,
      warmupTasks: null,
      endpointInformationEpoch: 0,
      partitionsByUserEndpoint: null,
    };
  }

  heartbeat(p: StreamsHeartbeatParams, topics: StreamsTopics): StreamsHeartbeatResult {
    const settings = this.settings(p.groupId);
    const base = {
      memberId: p.memberId,
      heartbeatIntervalMs: settings.heartbeatIntervalMs,
      acceptableRecoveryLag: ACCEPTABLE_RECOVERY_LAG,
      taskOffsetIntervalMs: TASK_OFFSET_INTERVAL_MS,
    };
    const fail = (errorCode: number, errorMessage: string | null) => this.refused(p, errorCode, errorMessage);
    const invalid = this.validate(p);
    if (invalid) return fail(invalid.code, invalid.message);
    if (p.topology) {
      const bad = topologyError(p.topology);
      if (bad) return fail(ErrorCode.STREAMS_INVALID_TOPOLOGY, bad);
    }

    const existing = this.groups.get(p.groupId);
    let group: StreamsGroup | undefined;
    if (existing?.kind === 'streams') group = existing;
    else if (existing?.kind === 'classic' && p.memberEpoch === 0 && existing.is('Empty') && existing.members.size === 0 && existing.pendingMembers.size === 0) {
      // An empty classic group (committed offsets only, e.g. a streams group after a restart)
      // becomes a streams group on the first join and keeps its offsets, as in Kafka.
      group = new StreamsGroup(p.groupId, this.clock());
      group.takeOffsetsFrom(existing);
      this.groups.set(p.groupId, group);
      this.log.info('empty classic group converted to a streams group', { group: p.groupId });
    } else if (existing) {
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a streams group.`);
    }

    if (p.memberEpoch < 0) {
      if (!group) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} not found.`);
      const m = group.members.get(p.memberId);
      if (!m) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      if (p.shutdownApplication) group.shutdownRequestedBy = p.memberId;
      if (p.memberEpoch === STATIC_LEAVE_EPOCH && m.instanceId !== null) {
        // A static member leaves for a while: it keeps its tasks (no rebalance) until a member
        // with its instance id takes them over or its session times out.
        if (m.memberEpoch !== STATIC_LEAVE_EPOCH) m.epochBeforeLeave = m.memberEpoch;
        m.memberEpoch = STATIC_LEAVE_EPOCH;
        this.clearRevocationDeadline(m);
        this.scheduleSession(group, m, this.settings(p.groupId).sessionTimeoutMs);
      } else this.removeMember(group, m, 'member left');
      // Kafka answers a leave with the member id and the leave epoch only.
      return { ...fail(ErrorCode.NONE, null), memberId: p.memberId, memberEpoch: p.memberEpoch };
    }
    if (!group && p.memberEpoch !== 0) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Streams group ${p.groupId} not found.`);

    let member: StreamsGroupMember | undefined;
    let replacesStatic: StreamsGroupMember | undefined;
    if (p.memberEpoch === 0) {
      if (!group) {
        group = new StreamsGroup(p.groupId, this.clock());
        this.groups.set(p.groupId, group);
      }
      const topologyProblem = this.takeTopology(group, p.topology!);
      if (topologyProblem) return fail(topologyProblem.code, topologyProblem.message);
      member = group.members.get(p.memberId);
      if (member) {
        // A member rejoining (epoch 0) starts over: what it held is released.
        this.releaseAll(group, member);
        member.memberEpoch = 0;
        member.previousMemberEpoch = -1;
        member.lastSent = null;
      } else {
        // Kafka does not insist on a process id; without one a member is a process of its own.
        member = new StreamsGroupMember(p.memberId, p.instanceId, p.rackId, p.clientId, p.clientHost, p.rebalanceTimeoutMs, p.processId ?? p.memberId, p.userEndpoint, p.clientTags ?? []);
        const previous = p.instanceId === null ? undefined : [...group.members.values()].find((o) => o.instanceId === p.instanceId);
        if (previous && previous.memberEpoch === STATIC_LEAVE_EPOCH) replacesStatic = previous;
        else if (previous) this.removeMember(group, previous, 'replaced by a member with the same instance id');
        if (replacesStatic) this.takeOver(group, replacesStatic, member);
        group.members.set(p.memberId, member);
        if (member.userEndpoint) group.endpointInformationEpoch++;
      }
      member.topologyEpoch = p.topology!.epoch;
      // A static member taking over from its predecessor (same instance id, left with epoch -2)
      // gets its tasks and epoch back without a rebalance.
      if (!replacesStatic) group.groupEpoch++;
      group.currentStateTimestamp = this.clock();
    } else {
      member = group!.members.get(p.memberId);
      if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      const fenced = epochFenced(member, p);
      if (fenced) return fail(ErrorCode.FENCED_MEMBER_EPOCH, fenced);
      const badTask = group!.configured?.ready ? invalidTask(group!.configured.taskCounts, [p.activeTasks, p.standbyTasks, p.warmupTasks]) : null;
      if (badTask) return fail(ErrorCode.INVALID_REQUEST, badTask);
    }
    if (!group) throw new Error('unreachable: a streams heartbeat without a group');

    // What the member reports about itself. As in Kafka, a change of its metadata (process,
    // endpoint, rack, client tags, rebalance timeout) is a new group epoch.
    let metadataChanged = false;
    if (p.rebalanceTimeoutMs !== -1 && p.rebalanceTimeoutMs !== member.rebalanceTimeoutMs) {
      member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
      metadataChanged = true;
    }
    if (p.processId !== null && p.processId !== member.processId) {
      member.processId = p.processId;
      metadataChanged = true;
    }
    if (p.userEndpoint !== null && !sameEndpoint(p.userEndpoint, member.userEndpoint)) {
      member.userEndpoint = p.userEndpoint;
      group.endpointInformationEpoch++;
      metadataChanged = true;
    }
    if (p.clientTags !== null && JSON.stringify(tagMap(p.clientTags)) !== JSON.stringify(tagMap(member.clientTags))) {
      member.clientTags = p.clientTags;
      metadataChanged = true;
    }
    if (p.rackId !== null && p.rackId !== member.rackId) {
      member.rackId = p.rackId;
      metadataChanged = true;
    }
    if (metadataChanged && p.memberEpoch !== 0) group.groupEpoch++;
    if (p.taskOffsets !== null) member.taskOffsets = p.taskOffsets;
    if (p.taskEndOffsets !== null) member.taskEndOffsets = p.taskEndOffsets;
    if (p.shutdownApplication) group.shutdownRequestedBy = p.memberId;
    if (p.activeTasks !== null) this.acknowledgeRevocation(group, member, fromWire(p.activeTasks));

    this.configure(group, topics);
    // As Kafka, a changed assignment configuration (streams.num.standby.replicas) is a new rebalance.
    if (group.assignedStandbyReplicas !== null && group.assignedStandbyReplicas !== settings.numStandbyReplicas) group.groupEpoch++;
    if (group.assignmentEpoch !== group.groupEpoch) this.computeTargets(group, settings);
    this.reconcile(group, member);
    this.scheduleSession(group, member, settings.sessionTimeoutMs);
    this.storeEpoch(group);

    const text = assignmentText(member.assigned);
    const changed = text !== member.lastSent;
    member.lastSent = text;
    const status = [...(group.configured?.statuses ?? [])];
    if (group.topology && member.topologyEpoch < group.topology.epoch) {
      status.push({ statusCode: StreamsStatus.STALE_TOPOLOGY, statusDetail: `The member's topology epoch ${member.topologyEpoch} is behind the group's topology epoch ${group.topology.epoch}.` });
    }
    if (group.shutdownRequestedBy !== null) {
      status.push({ statusCode: StreamsStatus.SHUTDOWN_APPLICATION, statusDetail: `Streams group member ${group.shutdownRequestedBy} encountered a fatal error and requested a shutdown for the entire application.` });
    }
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberEpoch: member.memberEpoch,
      status,
      activeTasks: changed ? wireTasks(member.assigned.active) : null,
      standbyTasks: changed ? wireTasks(member.assigned.standby) : null,
      warmupTasks: changed ? wireTasks(member.assigned.warmup) : null,
      endpointInformationEpoch: group.endpointInformationEpoch,
      partitionsByUserEndpoint: p.endpointInformationEpoch !== group.endpointInformationEpoch ? this.endpointPartitions(group) : null,
    };
  }

  describe(group: StreamsGroup) {
    return {
      groupId: group.groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      topology: group.topology
        ? {
            epoch: group.topology.epoch,
            subtopologies: group.topology.subtopologies.map((s) => ({
              subtopologyId: s.subtopologyId,
              sourceTopics: [...s.sourceTopics, ...(group.configured?.inputTopics.get(s.subtopologyId) ?? []).filter((t) => !s.sourceTopics.includes(t) && !s.repartitionSourceTopics.some((r) => r.name === t))],
              repartitionSinkTopics: s.repartitionSinkTopics,
              stateChangelogTopics: s.stateChangelogTopics.map((t) => this.resolvedTopic(group, t)),
              repartitionSourceTopics: s.repartitionSourceTopics.map((t) => this.resolvedTopic(group, t)),
            })),
          }
        : null,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        memberEpoch: m.memberEpoch,
        instanceId: m.instanceId,
        rackId: m.rackId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        topologyEpoch: m.topologyEpoch,
        processId: m.processId,
        userEndpoint: m.userEndpoint,
        clientTags: m.clientTags,
        taskOffsets: m.taskOffsets,
        taskEndOffsets: m.taskEndOffsets,
        assignment: wireAssignment(m.assigned),
        targetAssignment: wireAssignment(group.targets.get(m.memberId) ?? emptyAssignment()),
        isClassic: false,
      })),
    };
  }

  clearTimers(group: StreamsGroup): void {
    for (const m of group.members.values()) this.clearMemberTimers(m);
  }

  // ---------------------------------------------------------------- steps

  /** Kafka's checks of a heartbeat before it reaches the group, in Kafka's order and words. */
  private validate(p: StreamsHeartbeatParams): { code: number; message: string } | null {
    const invalid = (message: string) => ({ code: ErrorCode.INVALID_REQUEST, message });
    if (p.topology?.subtopologies.some((s) => s.sourceTopicRegex.length > 0)) return invalid('Regular expressions for source topics are not supported yet.');
    if (p.memberId === '') return invalid('MemberId can\'t be empty.');
    if (p.groupId === '') return invalid('GroupId can\'t be empty.');
    if (p.instanceId === '') return invalid('InstanceId can\'t be empty.');
    if (p.rackId === '') return invalid('RackId can\'t be empty.');
    if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1) return invalid('RebalanceTimeoutMs must be provided in first request.');
      // A null list is refused as well: a joining member states that it owns nothing.
      if (p.activeTasks === null || p.activeTasks.length > 0) return invalid('ActiveTasks must be empty when (re-)joining.');
      if (p.standbyTasks === null || p.standbyTasks.length > 0) return invalid('StandbyTasks must be empty when (re-)joining.');
      if (p.warmupTasks === null || p.warmupTasks.length > 0) return invalid('WarmupTasks must be empty when (re-)joining.');
      if (p.topology === null) return invalid('Topology must be non-null when (re-)joining.');
      for (const s of p.topology.subtopologies) {
        for (const c of s.stateChangelogTopics) {
          if (c.partitions !== 0) {
            return { code: ErrorCode.STREAMS_INVALID_TOPOLOGY, message: `Changelog topic ${c.name} must have an undefined partition count, but it is set to ${c.partitions}.` };
          }
        }
      }
    } else if (p.memberEpoch === STATIC_LEAVE_EPOCH) {
      if (p.instanceId === null) return invalid('InstanceId can\'t be null.');
    } else if (p.memberEpoch < STATIC_LEAVE_EPOCH) {
      return invalid(`MemberEpoch is ${p.memberEpoch}, but must be greater than or equal to -2.`);
    }
    if ((p.activeTasks !== null || p.standbyTasks !== null || p.warmupTasks !== null) && (p.activeTasks === null || p.standbyTasks === null || p.warmupTasks === null)) {
      return invalid('If one task-type is non-null, all must be non-null.');
    }
    if (p.memberEpoch !== 0 && p.topology !== null) return invalid('Topology can only be provided when (re-)joining.');
    return null;
  }

  /**
   * A joining member's topology, as Kafka 4.2 takes it: the first one sets the group's; an
   * older epoch leaves the group's in place (the member is told STALE_TOPOLOGY); any other
   * difference is refused, since Kafka does not support topology updates yet.
   */
  private takeTopology(group: StreamsGroup, topology: Topology): { code: number; message: string } | null {
    const current = group.topology;
    if (!current) {
      group.topology = topology;
      group.configured = null;
      group.groupEpoch++;
      return null;
    }
    if (topology.epoch < current.epoch) return null;
    if (JSON.stringify(current) !== JSON.stringify(topology)) return { code: ErrorCode.INVALID_REQUEST, message: 'Topology updates are not supported yet.' };
    return null;
  }

  /** Resolves the topology against the topics; creates missing internal topics; bumps the epoch when task counts change. */
  private configure(group: StreamsGroup, topics: StreamsTopics): void {
    if (!group.topology) return;
    let configured = configureTopology(group.topology, topics);
    if (configured.missingInternal.length > 0) {
      const unauthorized: string[] = [];
      for (const t of configured.missingInternal) {
        try {
          topics.create(t);
          this.log.info('created internal topic for streams group', { group: group.groupId, topic: t.name, partitions: t.partitions });
        } catch (err) {
          if (err instanceof KafkaError && err.code === ErrorCode.TOPIC_AUTHORIZATION_FAILED) unauthorized.push(t.name);
          this.log.warn('could not create internal topic', { group: group.groupId, topic: t.name, error: String(err) });
        }
      }
      configured = configureTopology(group.topology, topics);
      // What could not be created keeps the group not ready, reported as Kafka does.
      if (configured.missingInternal.length > 0) {
        const names = configured.missingInternal.map((t) => t.name).sort();
        configured.statuses.push({ statusCode: StreamsStatus.MISSING_INTERNAL_TOPICS, statusDetail: `Internal topics are missing: [${names.join(', ')}]` });
        if (unauthorized.length > 0) {
          configured.statuses.push({ statusCode: StreamsStatus.MISSING_INTERNAL_TOPICS, statusDetail: `Unauthorized to CREATE on topics ${unauthorized.join(', ')}.` });
        }
        configured.ready = false;
      }
    }
    const before = group.configured ? JSON.stringify([...group.configured.taskCounts]) + group.configured.ready : null;
    const after = JSON.stringify([...configured.taskCounts]) + configured.ready;
    group.configured = configured;
    if (before !== after) group.groupEpoch++;
  }

  private computeTargets(group: StreamsGroup, settings: StreamsGroupSettings): void {
    const members = [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      processId: m.processId,
      previous: group.targets.get(m.memberId) ?? emptyAssignment(),
    }));
    const counts = group.configured?.ready ? group.configured.taskCounts : new Map<string, number>();
    const targets = assignTasks(members, counts, settings.numStandbyReplicas);
    group.targets.clear();
    for (const [id, a] of targets) group.targets.set(id, a);
    group.assignmentEpoch = group.groupEpoch;
    group.assignedStandbyReplicas = settings.numStandbyReplicas;
  }

  /** Moves a member towards its target: revoke first, then take what nobody else holds. */
  private reconcile(group: StreamsGroup, m: StreamsGroupMember): void {
    if (m.state === 'unrevoked_tasks') return;
    const target = group.targets.get(m.memberId) ?? emptyAssignment();
    const revoke: TaskSet = new Map();
    const keep: TaskSet = new Map();
    for (const [s, q] of tasksOf(m.assigned.active)) addTask(hasTask(target.active, s, q) ? keep : revoke, s, q);
    if (revoke.size > 0) {
      m.state = 'unrevoked_tasks';
      m.pendingRevocation = revoke;
      m.assigned = { active: keep, standby: intersect(m.assigned.standby, target.standby), warmup: intersect(m.assigned.warmup, target.warmup) };
      this.scheduleRevocationDeadline(group, m);
      return;
    }
    const active = copyTasks(m.assigned.active);
    let unreleased = false;
    for (const [s, q] of tasksOf(target.active)) {
      if (hasTask(active, s, q)) continue;
      const owner = group.activeOwners.get(taskKey(s, q));
      if (owner !== undefined && owner !== m.memberId) {
        unreleased = true;
        continue;
      }
      addTask(active, s, q);
      group.activeOwners.set(taskKey(s, q), m.memberId);
    }
    const next: TaskAssignment = { active, standby: copyTasks(target.standby), warmup: copyTasks(target.warmup) };
    if (assignmentText(next) !== assignmentText(m.assigned)) group.endpointInformationEpoch++;
    m.assigned = next;
    if (m.memberEpoch !== group.assignmentEpoch) {
      m.previousMemberEpoch = m.memberEpoch;
      m.memberEpoch = group.assignmentEpoch;
    }
    m.state = unreleased ? 'unreleased_tasks' : 'stable';
  }

  /** The member reported the active tasks it still runs: what it let go is free for others. */
  private acknowledgeRevocation(group: StreamsGroup, m: StreamsGroupMember, owned: TaskSet): void {
    if (m.state !== 'unrevoked_tasks') return;
    for (const [s, q] of tasksOf(m.pendingRevocation)) if (hasTask(owned, s, q)) return;
    for (const [s, q] of tasksOf(m.pendingRevocation)) {
      if (group.activeOwners.get(taskKey(s, q)) === m.memberId) group.activeOwners.delete(taskKey(s, q));
    }
    m.pendingRevocation = new Map();
    m.state = 'stable';
    this.clearRevocationDeadline(m);
    group.endpointInformationEpoch++;
  }

  /** A static member's successor takes its place: tasks, target, epoch; the old one is gone. */
  private takeOver(group: StreamsGroup, old: StreamsGroupMember, next: StreamsGroupMember): void {
    this.clearMemberTimers(old);
    group.members.delete(old.memberId);
    next.assigned = old.assigned;
    next.pendingRevocation = old.pendingRevocation;
    next.state = old.state;
    next.memberEpoch = old.epochBeforeLeave;
    for (const [key, owner] of group.activeOwners) if (owner === old.memberId) group.activeOwners.set(key, next.memberId);
    const target = group.targets.get(old.memberId);
    group.targets.delete(old.memberId);
    if (target) group.targets.set(next.memberId, target);
    if (next.state === 'unrevoked_tasks') this.scheduleRevocationDeadline(group, next);
    this.log.info('static streams group member replaced', { group: group.groupId, old: old.memberId, member: next.memberId });
  }

  private releaseAll(group: StreamsGroup, m: StreamsGroupMember): void {
    for (const set of [m.assigned.active, m.pendingRevocation]) {
      for (const [s, q] of tasksOf(set)) if (group.activeOwners.get(taskKey(s, q)) === m.memberId) group.activeOwners.delete(taskKey(s, q));
    }
    m.assigned = emptyAssignment();
    m.pendingRevocation = new Map();
    m.state = 'stable';
    this.clearMemberTimers(m);
  }

  private removeMember(group: StreamsGroup, m: StreamsGroupMember, why: string): void {
    this.releaseAll(group, m);
    group.members.delete(m.memberId);
    group.targets.delete(m.memberId);
    group.groupEpoch++;
    if (m.userEndpoint) group.endpointInformationEpoch++;
    group.currentStateTimestamp = this.clock();
    if (group.members.size === 0) group.shutdownRequestedBy = null;
    this.log.info('streams group member removed', { group: group.groupId, member: m.memberId, why });
    this.storeEpoch(group);
  }

  private endpointPartitions(group: StreamsGroup): EndpointPartitions[] {
    const out: EndpointPartitions[] = [];
    for (const m of group.members.values()) {
      if (!m.userEndpoint) continue;
      out.push({
        userEndpoint: m.userEndpoint,
        activePartitions: this.topicPartitions(group, m.assigned.active),
        standbyPartitions: this.topicPartitions(group, m.assigned.standby),
      });
    }
    return out;
  }

  /** The partitions of the input topics behind some tasks (task p reads partition p of each). */
  private topicPartitions(group: StreamsGroup, tasks: TaskSet): { topic: string; partitions: number[] }[] {
    const byTopic = new Map<string, Set<number>>();
    for (const [s, q] of tasksOf(tasks)) {
      for (const t of group.configured?.inputTopics.get(s) ?? []) {
        // A topic with fewer partitions than the subtopology has tasks has none for the higher tasks.
        if (q >= (group.configured?.inputPartitions.get(t) ?? 0)) continue;
        let ps = byTopic.get(t);
        if (!ps) byTopic.set(t, (ps = new Set()));
        ps.add(q);
      }
    }
    return [...byTopic]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([topic, ps]) => ({ topic, partitions: [...ps].sort((a, b) => a - b) }));
  }

  private resolvedTopic(group: StreamsGroup, t: TopicInfo): TopicInfo {
    return group.configured?.internalTopics.find((x) => x.name === t.name) ?? t;
  }

  // ---------------------------------------------------------------- timers

  private scheduleSession(group: StreamsGroup, m: StreamsGroupMember, sessionTimeoutMs: number): void {
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    m.sessionTimer = setTimeout(() => {
      if (group.members.get(m.memberId) === m) this.removeMember(group, m, 'session timed out');
    }, sessionTimeoutMs);
    m.sessionTimer.unref();
  }

  private scheduleRevocationDeadline(group: StreamsGroup, m: StreamsGroupMember): void {
    this.clearRevocationDeadline(m);
    m.rebalanceTimer = setTimeout(() => {
      if (group.members.get(m.memberId) === m && m.state === 'unrevoked_tasks') this.removeMember(group, m, 'did not revoke its tasks within the rebalance timeout');
    }, Math.max(1, m.rebalanceTimeoutMs));
    m.rebalanceTimer.unref();
  }

  private clearRevocationDeadline(m: StreamsGroupMember): void {
    if (m.rebalanceTimer) clearTimeout(m.rebalanceTimer);
    m.rebalanceTimer = null;
  }

  private clearMemberTimers(m: StreamsGroupMember): void {
    if (m.sessionTimer) clearTimeout(m.sessionTimer);
    m.sessionTimer = null;
    this.clearRevocationDeadline(m);
  }
}

function intersect(a: TaskSet, b: TaskSet): TaskSet {
  const out: TaskSet = new Map();
  for (const [s, q] of tasksOf(a)) if (hasTask(b, s, q)) addTask(out, s, q);
  return out;
}

function sameEndpoint(a: { host: string; port: number } | null, b: { host: string; port: number } | null): boolean {
  return a === b || (a !== null && b !== null && a.host === b.host && a.port === b.port);
}

function wireAssignment(a: TaskAssignment) {
  return { activeTasks: wireTasks(a.active), standbyTasks: wireTasks(a.standby), warmupTasks: wireTasks(a.warmup) };
}

/** Kafka's member epoch check: a newer epoch is fenced; the previous one only with owned tasks it was given. */
function epochFenced(m: StreamsGroupMember, p: StreamsHeartbeatParams): string | null {
  if (p.memberEpoch > m.memberEpoch) {
    return `The streams group member has a greater member epoch (${p.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`;
  }
  if (p.memberEpoch < m.memberEpoch) {
    const held = (owned: WireTasks | null, set: TaskSet) => owned !== null && owned.every((t) => t.partitions.every((q) => hasTask(set, t.subtopologyId, q)));
    const active = new Map([...m.assigned.active].map(([k, v]) => [k, new Set(v)]));
    for (const [s, q] of tasksOf(m.pendingRevocation)) addTask(active, s, q);
    if (p.memberEpoch !== m.previousMemberEpoch || !held(p.activeTasks, active) || !held(p.standbyTasks, m.assigned.standby) || !held(p.warmupTasks, m.assigned.warmup)) {
      return `The streams group member has a smaller member epoch (${p.memberEpoch}) than the one known by the group coordinator (${m.memberEpoch}). The member must abandon all its partitions and rejoin.`;
    }
  }
  return null;
}

/** Owned tasks must name subtopologies of the topology and partitions below their task counts. */
function invalidTask(taskCounts: Map<string, number>, lists: (WireTasks | null)[]): string | null {
  for (const list of lists) {
    for (const t of list ?? []) {
      const n = taskCounts.get(t.subtopologyId);
      if (n === undefined) return `Subtopology ${t.subtopologyId} does not exist in the topology.`;
      for (const q of t.partitions) if (q < 0 || q >= n) return `Task ${q} for subtopology ${t.subtopologyId} is invalid. Number of tasks for this subtopology: ${n}`;
    }
  }
  return null;
}

function tagMap(tags: { key: string; value: string }[]): [string, string][] {
  return tags.map((t): [string, string] => [t.key, t.value]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
