/**
 * What the parts of the group coordinator share: its configuration, the store its records go
 * to, and the one map of groups (classic and KIP-848 alike, one namespace). GroupCoordinator
 * (group-coordinator.ts) builds one GroupContext and hands it to each part, so that the classic
 * protocol, committed offsets, admin operations and loading all see the same groups and the
 * same closed flag.
 */
import type { Logger } from '../../logging';
import type { LogRecord } from './batch-codec';
import type { ClassicGroup } from './classic-group';
import type { ConsumerGroup } from './consumer-group';
import type { StreamsGroup } from '../streams/streams-group';
import { ConsumerGroupCoordinator, ConsumerGroupSettings, DEFAULT_CONSUMER_GROUP_SETTINGS } from './consumer-group-coordinator';
import type { StreamsGroupCoordinator, StreamsGroupSettings } from '../streams/streams-group-coordinator';

export interface GroupCoordinatorConfig extends ConsumerGroupSettings {
  /** group.initial.rebalance.delay.ms (Kafka: 3000; Samsa: 0 so tests start fast). */
  initialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms. */
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** group.max.size */
  maxGroupSize: number;
  /** offset.metadata.max.bytes */
  offsetMetadataMaxBytes: number;
  /** offsets.retention.minutes, in ms. */
  offsetsRetentionMs: number;
  /** offsets.retention.check.interval.ms */
  offsetsRetentionCheckIntervalMs: number;
  /** Session timeout, heartbeat interval and standby replicas of a streams group (group configs over broker defaults). */
  streamsPerGroup: (groupId: string) => StreamsGroupSettings;
}

export const DEFAULT_GROUP_CONFIG: GroupCoordinatorConfig = {
  ...DEFAULT_CONSUMER_GROUP_SETTINGS,
  initialRebalanceDelayMs: 0,
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 1_800_000,
  maxGroupSize: 0x7fffffff,
  offsetMetadataMaxBytes: 4096,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
  offsetsRetentionCheckIntervalMs: 600_000,
  streamsPerGroup: () => ({ sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, numStandbyReplicas: 0 }),
};

/** Where the coordinator writes its records (the __consumer_offsets topic, or memory in tests). */
export interface GroupStore {
  /** Appends the records of one group as one batch, before the caller answers; throws on failure. */
  append(groupId: string, records: LogRecord[]): void;
}

/** A group of any kind (classic-group.ts, consumer-group.ts, ../streams/streams-group.ts): one namespace for all. */
export type AnyGroup = ClassicGroup | ConsumerGroup | StreamsGroup;

export interface GroupContext {
  readonly groups: Map<string, AnyGroup>;
  readonly config: GroupCoordinatorConfig;
  readonly store: GroupStore;
  readonly log: Logger;
  readonly clock: () => number;
  /** KIP-848 groups; shares `groups` with the classic protocol. */
  readonly consumerGroups: ConsumerGroupCoordinator;
  /** KIP-1071 groups; also in `groups`. */
  readonly streamsGroups: StreamsGroupCoordinator;
  isClosed(): boolean;
}

/** Base of the coordinator's parts: the shared context under short names. */
export abstract class GroupCoordinatorPart {
  constructor(protected readonly ctx: GroupContext) {}

  protected get groups(): Map<string, AnyGroup> {
    return this.ctx.groups;
  }

  protected get config(): GroupCoordinatorConfig {
    return this.ctx.config;
  }

  protected get store(): GroupStore {
    return this.ctx.store;
  }

  protected get log(): Logger {
    return this.ctx.log;
  }

  protected get consumerGroups(): ConsumerGroupCoordinator {
    return this.ctx.consumerGroups;
  }

  protected get streamsGroups(): StreamsGroupCoordinator {
    return this.ctx.streamsGroups;
  }

  protected get closed(): boolean {
    return this.ctx.isClosed();
  }

  protected clock(): number {
    return this.ctx.clock();
  }

  /** A classic group (undefined for unknown ids and for KIP-848 groups). */
  protected group(groupId: string): ClassicGroup | undefined {
    const g = this.groups.get(groupId);
    return g?.kind === 'classic' ? g : undefined;
  }
}
