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
 * for every group. Internal topics are created within the heartbeat that finds them missing,
 * so MISSING_INTERNAL_TOPICS is never reported. No warmup tasks (see streams-assignor.ts).
 */
import { ErrorCode } from '../../protocol/errors';
import type { Logger } from '../../logging';
import type { AnyGroup } from '../group/group-context';
import { assignTasks } from './streams-assignor';
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
const TASK_OFFSET_INTERVAL_MS = 60_000;

export class StreamsGroupCoordinator {
  constructor(
    private readonly groups: Map<string, AnyGroup>,
    private readonly settings: (groupId: string) => StreamsGroupSettings,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** An answer that refuses the heartbeat with an error. */
  refused(p: StreamsHeartbeatParams, errorCode: number, errorMessage: string | null = null, memberEpoch = p.memberEpoch): StreamsHeartbeatResult {
    return {
      memberId: p.memberId,
      heartbeatIntervalMs: this.settings(p.groupId).heartbeatIntervalMs,
      acceptableRecoveryLag: ACCEPTABLE_RECOVERY_LAG,
      taskOffsetIntervalMs: TASK_OFFSET_INTERVAL_MS,
      errorCode,
      errorMessage,
      memberEpoch,
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
    const fail = (errorCode: number, errorMessage: string | null, memberEpoch = p.memberEpoch) => this.refused(p, errorCode, errorMessage, memberEpoch);
    const invalid = this.validate(p);
    if (invalid) return fail(ErrorCode.INVALID_REQUEST, invalid);
    if (p.topology) {
      const bad = topologyError(p.topology);
      if (bad) return fail(ErrorCode.STREAMS_INVALID_TOPOLOGY, bad);
    }

    const existing = this.groups.get(p.groupId);
    if (existing && existing.kind !== 'streams') {
      return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${p.groupId} is not a streams group.`);
    }
    let group = existing as StreamsGroup | undefined;

    if (p.memberEpoch < 0) {
      const m = group?.members.get(p.memberId);
      if (!group || !m) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      this.removeMember(group, m, p.memberEpoch === -2 ? 'static member left' : 'member left');
      return { ...fail(ErrorCode.NONE, null), memberEpoch: p.memberEpoch };
    }

    let member: StreamsGroupMember | undefined;
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
        if (p.instanceId !== null) {
          for (const other of group.members.values()) {
            if (other.instanceId === p.instanceId) this.removeMember(group, other, 'replaced by a member with the same instance id');
          }
        }
        member = new StreamsGroupMember(p.memberId, p.instanceId, p.rackId, p.clientId, p.clientHost, p.rebalanceTimeoutMs, p.processId!, p.userEndpoint, p.clientTags ?? []);
        group.members.set(p.memberId, member);
        if (member.userEndpoint) group.endpointInformationEpoch++;
      }
      member.topologyEpoch = p.topology!.epoch;
      group.groupEpoch++;
      group.currentStateTimestamp = this.clock();
    } else {
      member = group?.members.get(p.memberId);
      if (!group || !member) return fail(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${p.memberId} is not a member of group ${p.groupId}.`);
      const owned = p.activeTasks ? fromWire(p.activeTasks) : null;
      const catchingUp = p.memberEpoch === member.previousMemberEpoch && owned !== null && [...tasksOf(owned)].every(([s, q]) => hasTask(member!.assigned.active, s, q));
      if (p.memberEpoch !== member.memberEpoch && !catchingUp) {
        return fail(ErrorCode.FENCED_MEMBER_EPOCH, `The streams group member has a invalid member epoch.`, member.memberEpoch);
      }
      if (p.topology) {
        const topologyProblem = this.takeTopology(group, p.topology);
        if (topologyProblem) return fail(topologyProblem.code, topologyProblem.message);
        member.topologyEpoch = p.topology.epoch;
      }
    }

    // What the member reports about itself.
    if (p.rebalanceTimeoutMs !== -1) member.rebalanceTimeoutMs = p.rebalanceTimeoutMs;
    if (p.processId !== null && p.processId !== member.processId) {
      member.processId = p.processId;
      group.groupEpoch++;
    }
    if (p.userEndpoint !== null && !sameEndpoint(p.userEndpoint, member.userEndpoint)) {
      member.userEndpoint = p.userEndpoint;
      group.endpointInformationEpoch++;
    }
    if (p.clientTags !== null) member.clientTags = p.clientTags;
    if (p.rackId !== null) member.rackId = p.rackId;
    if (p.taskOffsets !== null) member.taskOffsets = p.taskOffsets;
    if (p.taskEndOffsets !== null) member.taskEndOffsets = p.taskEndOffsets;
    if (p.shutdownApplication) group.shutdownRequested = true;
    if (p.activeTasks !== null) this.acknowledgeRevocation(group, member, fromWire(p.activeTasks));

    this.configure(group, topics);
    if (group.assignmentEpoch !== group.groupEpoch) this.computeTargets(group, settings);
    this.reconcile(group, member);
    this.scheduleSession(group, member, settings.sessionTimeoutMs);

    const text = assignmentText(member.assigned);
    const changed = text !== member.lastSent;
    member.lastSent = text;
    const status = [...(group.configured?.statuses ?? [])];
    if (group.topology && member.topologyEpoch < group.topology.epoch) {
      status.push({ statusCode: StreamsStatus.STALE_TOPOLOGY, statusDetail: `The member's topology epoch ${member.topologyEpoch} is behind the group's ${group.topology.epoch}.` });
    }
    if (group.shutdownRequested) status.push({ statusCode: StreamsStatus.SHUTDOWN_APPLICATION, statusDetail: 'A member of the group requested to shut down the application.' });
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
      partitionsByUserEndpoint: p.endpointInformationEpoch < group.endpointInformationEpoch ? this.endpointPartitions(group) : null,
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

  private validate(p: StreamsHeartbeatParams): string | null {
    if (p.groupId === '') return 'GroupId can\'t be empty.';
    if (p.memberId === '') return 'MemberId can\'t be empty.';
    if (p.instanceId === '') return 'InstanceId can\'t be empty.';
    if (p.memberEpoch < -2) return `MemberEpoch is ${p.memberEpoch}, but must be greater than or equal to -2.`;
    if (p.memberEpoch === 0) {
      if (p.rebalanceTimeoutMs === -1) return 'RebalanceTimeoutMs must be provided when joining.';
      if (p.topology === null) return 'Topology must be non-empty when joining.';
      if (p.processId === null || p.processId === '') return 'ProcessId must be provided when joining.';
      if (p.activeTasks === null || p.standbyTasks === null || p.warmupTasks === null) return 'Currently owned tasks must be empty when joining.';
      if (p.activeTasks.length + p.standbyTasks.length + p.warmupTasks.length > 0) return 'Currently owned tasks must be empty when joining.';
    }
    return null;
  }

  /**
   * The group takes a member's topology when it has none, when it is empty, or when the
   * member's epoch is newer (an upgrade); an older one is fenced, a different one with the
   * same epoch refused.
   */
  private takeTopology(group: StreamsGroup, topology: Topology): { code: number; message: string } | null {
    const current = group.topology;
    if (!current || group.members.size === 0 || topology.epoch > current.epoch) {
      if (!current || JSON.stringify(current) !== JSON.stringify(topology)) {
        group.topology = topology;
        group.configured = null;
        group.groupEpoch++;
      }
      return null;
    }
    if (topology.epoch < current.epoch) {
      return { code: ErrorCode.STREAMS_TOPOLOGY_FENCED, message: `The topology epoch ${topology.epoch} is older than the group's ${current.epoch}.` };
    }
    if (JSON.stringify(current) !== JSON.stringify(topology)) {
      return { code: ErrorCode.STREAMS_INVALID_TOPOLOGY_EPOCH, message: `A different topology was sent with the group's epoch ${current.epoch}; bump the epoch to change it.` };
    }
    return null;
  }

  /** Resolves the topology against the topics; creates missing internal topics; bumps the epoch when task counts change. */
  private configure(group: StreamsGroup, topics: StreamsTopics): void {
    if (!group.topology) return;
    let configured = configureTopology(group.topology, topics);
    if (configured.missingInternal.length > 0) {
      for (const t of configured.missingInternal) {
        try {
          topics.create(t);
          this.log.info('created internal topic for streams group', { group: group.groupId, topic: t.name, partitions: t.partitions });
        } catch (err) {
          this.log.warn('could not create internal topic', { group: group.groupId, topic: t.name, error: String(err) });
        }
      }
      configured = configureTopology(group.topology, topics);
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
    if (group.members.size === 0) group.shutdownRequested = false;
    this.log.info('streams group member removed', { group: group.groupId, member: m.memberId, why });
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
