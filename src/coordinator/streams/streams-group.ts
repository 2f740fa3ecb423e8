/**
 * A KIP-1071 streams group (StreamsGroupHeartbeat): Kafka Streams instances that send their
 * topology to the broker and get tasks back. A task is (subtopology id, partition); each
 * member holds active, standby and warmup tasks.
 *
 * Epochs, as for KIP-848 consumer groups: groupEpoch moves with membership, topology and
 * the partition counts of its topics; assignmentEpoch is the group epoch the target
 * assignment was computed for; each member's memberEpoch is the assignment epoch it caught
 * up with. An active task leaves its member (reported in a heartbeat) before another member
 * gets it.
 */
import { GroupBase } from '../group/group-base';

/** subtopology id -> partitions. */
export type TaskSet = Map<string, Set<number>>;

export interface TaskAssignment {
  active: TaskSet;
  standby: TaskSet;
  warmup: TaskSet;
}

export interface TopicInfo {
  name: string;
  partitions: number;
  replicationFactor: number;
  topicConfigs: { key: string; value: string }[];
}

export interface Subtopology {
  subtopologyId: string;
  sourceTopics: string[];
  sourceTopicRegex: string[];
  stateChangelogTopics: TopicInfo[];
  repartitionSinkTopics: string[];
  repartitionSourceTopics: TopicInfo[];
  copartitionGroups: { sourceTopics: number[]; sourceTopicRegex: number[]; repartitionSourceTopics: number[] }[];
}

export interface Topology {
  epoch: number;
  subtopologies: Subtopology[];
}

/** The topology resolved against the cluster's topics: task counts and partition counts. */
export interface ConfiguredTopology {
  /** subtopology id -> number of tasks (0: not ready). */
  taskCounts: Map<string, number>;
  /** subtopology id -> the topics a task reads (source and repartition source), resolved. */
  inputTopics: Map<string, string[]>;
  /** Partition count of every topic in inputTopics (a task p reads partition p where it exists). */
  inputPartitions: Map<string, number>;
  /** Internal topics with their resolved partition counts, changelogs included. */
  internalTopics: TopicInfo[];
  /** Statuses to report (missing source topics, bad partitioning...); empty when ready. */
  statuses: { statusCode: number; statusDetail: string }[];
  ready: boolean;
}

export const StreamsStatus = {
  STALE_TOPOLOGY: 0,
  MISSING_SOURCE_TOPICS: 1,
  INCORRECTLY_PARTITIONED_TOPICS: 2,
  MISSING_INTERNAL_TOPICS: 3,
  SHUTDOWN_APPLICATION: 4,
} as const;

export type StreamsGroupState = 'Empty' | 'NotReady' | 'Assigning' | 'Reconciling' | 'Stable';
export type StreamsMemberState = 'stable' | 'unrevoked_tasks' | 'unreleased_tasks';

export class StreamsGroupMember {
  memberEpoch = 0;
  previousMemberEpoch = -1;
  /** A static member that left with epoch -2: the epoch it had, for its successor. */
  epochBeforeLeave = 0;
  state: StreamsMemberState = 'stable';
  /** What the member was last told to hold. */
  assigned: TaskAssignment = emptyAssignment();
  /** Active tasks it must still give up (it reports them gone in a heartbeat). */
  pendingRevocation: TaskSet = new Map();
  topologyEpoch = -1;
  sessionTimer: NodeJS.Timeout | null = null;
  rebalanceTimer: NodeJS.Timeout | null = null;
  /** The last assignment sent; heartbeats carry tasks only when this changed. */
  lastSent: string | null = null;
  taskOffsets: { subtopologyId: string; partition: number; offset: number }[] = [];
  taskEndOffsets: { subtopologyId: string; partition: number; offset: number }[] = [];

  constructor(
    public memberId: string,
    public instanceId: string | null,
    public rackId: string | null,
    public clientId: string,
    public clientHost: string,
    public rebalanceTimeoutMs: number,
    public processId: string,
    public userEndpoint: { host: string; port: number } | null,
    public clientTags: { key: string; value: string }[],
  ) {}
}

export class StreamsGroup extends GroupBase {
  readonly kind = 'streams' as const;
  groupEpoch = 0;
  assignmentEpoch = 0;
  /** num.standby.replicas of the last target assignment (null: none computed yet). */
  assignedStandbyReplicas: number | null = null;
  /** The epoch last written to __consumer_offsets (StreamsGroupMetadata). */
  storedEpoch = -1;
  topology: Topology | null = null;
  configured: ConfiguredTopology | null = null;
  readonly members = new Map<string, StreamsGroupMember>();
  /** memberId -> target assignment. */
  readonly targets = new Map<string, TaskAssignment>();
  /** Which member holds each active task ("subtopology:partition"), assigned or pending revocation. */
  readonly activeOwners = new Map<string, string>();
  /** Moves whenever the members' endpoints or their tasks change (interactive queries). */
  endpointInformationEpoch = 0;
  /** The member that asked the whole application to shut down (SHUTDOWN_APPLICATION), until the group empties. */
  shutdownRequestedBy: string | null = null;

  get state(): StreamsGroupState {
    if (this.members.size === 0) return 'Empty';
    if (!this.configured?.ready) return 'NotReady';
    if (this.assignmentEpoch !== this.groupEpoch) return 'Assigning';
    for (const m of this.members.values()) if (m.memberEpoch !== this.assignmentEpoch || m.state !== 'stable') return 'Reconciling';
    return 'Stable';
  }
}

/** The topics a streams group reads (its committed offsets of other topics may expire or be deleted). */
export function streamsInputTopics(group: StreamsGroup): Set<string> {
  const out = new Set<string>();
  for (const ts of group.configured?.inputTopics.values() ?? []) for (const t of ts) out.add(t);
  return out;
}

export function emptyAssignment(): TaskAssignment {
  return { active: new Map(), standby: new Map(), warmup: new Map() };
}

export function taskKey(subtopologyId: string, partition: number): string {
  return `${subtopologyId}:${partition}`;
}

export function addTask(set: TaskSet, subtopologyId: string, partition: number): void {
  let ps = set.get(subtopologyId);
  if (!ps) set.set(subtopologyId, (ps = new Set()));
  ps.add(partition);
}

export function hasTask(set: TaskSet, subtopologyId: string, partition: number): boolean {
  return set.get(subtopologyId)?.has(partition) ?? false;
}

export function* tasksOf(set: TaskSet): Generator<[string, number]> {
  for (const [s, ps] of set) for (const p of ps) yield [s, p];
}

export function taskCount(set: TaskSet): number {
  let n = 0;
  for (const ps of set.values()) n += ps.size;
  return n;
}

export function copyTasks(set: TaskSet): TaskSet {
  return new Map([...set].map(([k, v]) => [k, new Set(v)]));
}

export function copyAssignment(a: TaskAssignment): TaskAssignment {
  return { active: copyTasks(a.active), standby: copyTasks(a.standby), warmup: copyTasks(a.warmup) };
}

/** A canonical text form, to tell whether an assignment changed. */
export function assignmentText(a: TaskAssignment): string {
  const one = (set: TaskSet) =>
    [...set]
      .filter(([, ps]) => ps.size > 0)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([s, ps]) => `${s}=${[...ps].sort((x, y) => x - y).join(',')}`)
      .join(';');
  return `${one(a.active)}|${one(a.standby)}|${one(a.warmup)}`;
}

/** The wire form of a task set: [{ subtopologyId, partitions }], sorted. */
export function wireTasks(set: TaskSet): { subtopologyId: string; partitions: number[] }[] {
  return [...set]
    .filter(([, ps]) => ps.size > 0)
    .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
    .map(([subtopologyId, ps]) => ({ subtopologyId, partitions: [...ps].sort((x, y) => x - y) }));
}

export function fromWire(tasks: { subtopologyId: string; partitions: number[] }[]): TaskSet {
  const out: TaskSet = new Map();
  for (const t of tasks) for (const p of t.partitions) addTask(out, t.subtopologyId, p);
  return out;
}
