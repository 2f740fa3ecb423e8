/**
 * The share-group coordinator of a broker, created on first use (like the group
 * coordinator): it reads `<dataDir>/share-group-state.log` then. One per ClusterState object;
 * closed with the cluster (closeShareCoordinator, registered with ClusterState.onClose).
 */
import type { ClusterState } from '../../cluster/cluster-state';
import { groupCoordinator } from '../group';
import { ShareCoordinator, ShareCoordinatorConfig } from './share-coordinator';
import { ShareStateStore } from './share-state-store';

export { ShareCoordinator, SIMPLE_ASSIGNOR } from './share-coordinator';

const coordinators = new WeakMap<ClusterState, ShareCoordinator>();

function configFrom(cluster: ClusterState): ShareCoordinatorConfig {
  const broker = (name: string, fallback: number) => Number(cluster.settings.get(name) ?? fallback);
  const group = (groupId: string, name: string) => cluster.groupConfigs.effective(groupId, name);
  return {
    sessionTimeoutMs: (g) => Number(group(g, 'share.session.timeout.ms')),
    heartbeatIntervalMs: (g) => Number(group(g, 'share.heartbeat.interval.ms')),
    lockDurationMs: (g) => Number(group(g, 'share.record.lock.duration.ms')),
    autoOffsetReset: (g) => group(g, 'share.auto.offset.reset'),
    readCommitted: (g) => group(g, 'share.isolation.level') === 'read_committed',
    deliveryCountLimit: (g) => Number(group(g, 'share.delivery.count.limit')),
    maxRecordLocks: (g) => Number(group(g, 'share.partition.max.record.locks')),
    maxGroupSize: () => broker('group.share.max.size', 200),
  };
}

/** The broker's share coordinator (loaded on first use). */
export function shareCoordinator(cluster: ClusterState): ShareCoordinator {
  let c = coordinators.get(cluster);
  if (c) return c;
  const log = cluster.log.child({ component: 'share-coordinator' });
  const store = new ShareStateStore(cluster.config.dataDir, log);
  c = new ShareCoordinator(
    configFrom(cluster),
    store,
    {
      log: (topicId, partition) => cluster.topics.getById(topicId)?.partitions[partition]?.log,
      lastStableOffset: (l) => cluster.producerStates.of(l).lastStableOffset,
      isAborted: (l, b) => cluster.producerStates.of(l).isAbortedBatch({ isTransactional: b.transactional, isControl: b.control, producerId: b.producerId, baseOffset: b.baseOffset }),
      topicName: (topicId) => cluster.topics.getById(topicId)?.name,
      wake: (topicId, partition) => {
        const name = cluster.topics.getById(topicId)?.name;
        if (name !== undefined) cluster.waiters.notify(name, partition);
      },
    },
    log,
    (groupId) => groupCoordinator(cluster).groupKind(groupId),
  );
  coordinators.set(cluster, c);
  cluster.onClose(() => closeShareCoordinator(cluster));
  return c;
}

export function closeShareCoordinator(cluster: ClusterState): void {
  coordinators.get(cluster)?.close();
  coordinators.delete(cluster);
}
