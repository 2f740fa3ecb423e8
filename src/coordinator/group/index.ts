/**
 * The group coordinator of a broker, created on first use: the first group request loads
 * __consumer_offsets (if it exists) into memory, as a Kafka broker loads the offsets
 * partitions it becomes leader of. Everything after that is served from memory.
 *
 * One coordinator per ClusterState object (in-process tests may run several brokers). When the
 * broker's logs are closed (shutdown), the next write fails, and the coordinator closes
 * itself: its timers stop and waiting requests are answered COORDINATOR_NOT_AVAILABLE.
 */
import type { ClusterState } from '../../cluster/cluster-state';
import { DEFAULT_GROUP_CONFIG, GroupCoordinator, GroupCoordinatorConfig, GroupStore } from './group-coordinator';
import { DEFAULT_OFFSETS_TOPIC_PARTITIONS, OffsetsTopicStore } from './offsets-topic';
import type { LogRecord } from './batch-codec';

export { GroupCoordinator } from './group-coordinator';
export { OFFSETS_TOPIC } from './offsets-topic';

const coordinators = new WeakMap<ClusterState, { coordinator: GroupCoordinator; store: OffsetsTopicStore }>();

function configFrom(cluster: ClusterState): GroupCoordinatorConfig {
  const b = cluster.config;
  // Fields may be missing when a caller builds a BrokerConfig by hand from an older shape.
  return {
    ...DEFAULT_GROUP_CONFIG,
    initialRebalanceDelayMs: b.groupInitialRebalanceDelayMs ?? DEFAULT_GROUP_CONFIG.initialRebalanceDelayMs,
    minSessionTimeoutMs: b.groupMinSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.minSessionTimeoutMs,
    maxSessionTimeoutMs: b.groupMaxSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.maxSessionTimeoutMs,
    offsetsRetentionMs:
      b.offsetsRetentionMinutes !== undefined ? b.offsetsRetentionMinutes * 60_000 : DEFAULT_GROUP_CONFIG.offsetsRetentionMs,
    consumerSessionTimeoutMs: b.groupConsumerSessionTimeoutMs ?? DEFAULT_GROUP_CONFIG.consumerSessionTimeoutMs,
    consumerHeartbeatIntervalMs: b.groupConsumerHeartbeatIntervalMs ?? DEFAULT_GROUP_CONFIG.consumerHeartbeatIntervalMs,
    perGroup: (groupId) => ({
      sessionTimeoutMs: cluster.groupConfigs.number(groupId, 'consumer.session.timeout.ms'),
      heartbeatIntervalMs: cluster.groupConfigs.number(groupId, 'consumer.heartbeat.interval.ms'),
    }),
    streamsPerGroup: (groupId) => ({
      sessionTimeoutMs: cluster.groupConfigs.number(groupId, 'streams.session.timeout.ms'),
      heartbeatIntervalMs: cluster.groupConfigs.number(groupId, 'streams.heartbeat.interval.ms'),
      numStandbyReplicas: cluster.groupConfigs.number(groupId, 'streams.num.standby.replicas'),
    }),
  };
}

function entry(cluster: ClusterState): { coordinator: GroupCoordinator; store: OffsetsTopicStore } {
  let e = coordinators.get(cluster);
  if (e) return e;
  const log = cluster.log.child({ component: 'group-coordinator' });
  const store = new OffsetsTopicStore(
    cluster.topics,
    cluster.config.offsetsTopicNumPartitions ?? DEFAULT_OFFSETS_TOPIC_PARTITIONS,
    cluster.waiters,
    log,
  );
  let coordinator: GroupCoordinator;
  // Closes the coordinator when the broker's logs are gone (broker shutdown).
  const guarded: GroupStore = {
    append(groupId: string, records: LogRecord[]) {
      try {
        store.append(groupId, records);
      } catch (err) {
        if (/is closed/.test(String(err))) coordinator.close();
        throw err;
      }
    },
  };
  coordinator = new GroupCoordinator(configFrom(cluster), guarded, log);
  const started = Date.now();
  const records = store.load(
    (k, v) => coordinator.replay(k, v),
    (producerId, k, v) => coordinator.replayPendingTransactional(producerId, k, v),
  );
  coordinator.finishLoading();
  coordinator.start();
  if (records > 0) log.info('loaded the offsets topic', { records, ms: Date.now() - started });
  e = { coordinator, store };
  coordinators.set(cluster, e);
  return e;
}

/** The broker's group coordinator (loaded on first use). */
export function groupCoordinator(cluster: ClusterState): GroupCoordinator {
  return entry(cluster).coordinator;
}

/** The coordinator if a client request already loaded it, else null (metrics must not load it). */
export function loadedGroupCoordinator(broker: ClusterState): GroupCoordinator | null {
  return coordinators.get(broker)?.coordinator ?? null;
}

/** Creates __consumer_offsets if needed (FindCoordinator for a group does this, as in Kafka). */
export function ensureOffsetsTopic(cluster: ClusterState): void {
  entry(cluster).store.ensureTopic();
}
