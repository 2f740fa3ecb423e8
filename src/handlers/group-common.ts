/** Helpers shared by the consumer group handlers (keys 8-16, 42, 47). */
import type { RequestContext } from '../server/handler-registry';
import type { ClusterState } from '../cluster/cluster-state';
import type { TopicCatalog } from '../coordinator/group/consumer-group-coordinator';
import { shareCoordinator } from '../coordinator/share';
import { coordinatorError } from '../cluster/coordinator-placement';

/** Kafka reports a member's host as InetAddress.toString(): "/" + the address, no port. */
export function clientHost(ctx: RequestContext): string {
  const addr = ctx.connection.remoteAddress;
  const colon = addr.lastIndexOf(':');
  const host = colon > 0 ? addr.slice(0, colon) : addr;
  return `/${host.replace(/^::ffff:/, '')}`;
}

/** Bit set of Kafka's AclOperation codes a group supports: READ 3, DELETE 6, DESCRIBE 8. */
export const ALL_GROUP_OPERATIONS = (1 << 3) | (1 << 6) | (1 << 8);

/** A group's authorized operations: from the ACLs when they are on. */
export function groupOperations(ctx: RequestContext, groupId: string): number {
  return ctx.cluster.acls.enabled ? ctx.cluster.acls.authorizedOperations(ctx.connection, 3, groupId) : ALL_GROUP_OPERATIONS;
}

/** The broker's topics as the KIP-848 coordinator sees them (names, ids, partition counts). */
export function topicCatalog(cluster: ClusterState): TopicCatalog {
  return {
    byName(name) {
      const t = cluster.topics.get(name);
      return t ? { topicId: t.topicId, partitions: t.partitions.length } : undefined;
    },
    nameOf(topicId) {
      return cluster.topics.getById(topicId)?.name;
    },
    names() {
      return cluster.topics
        .list()
        .filter((t) => !t.isInternal)
        .map((t) => t.name);
    },
  };
}

/** Share groups as ListGroups reports them (protocol type "share"), after the same filters. */
export function listShareGroups(cluster: ClusterState, states: string[], types: string[]): { groupId: string; protocolType: string; state: string; type: string }[] {
  const stateSet = new Set(states.map((s) => s.toLowerCase()));
  if (types.length > 0 && !types.some((t) => t.toLowerCase() === 'share')) return [];
  return shareCoordinator(cluster)
    .list()
    .filter((g) => stateSet.size === 0 || stateSet.has(g.state.toLowerCase()))
    .map((g) => ({ groupId: g.groupId, protocolType: 'share', state: g.state, type: 'share' }));
}

/** NOT_COORDINATOR when another node coordinates the group (src/cluster/coordinator-placement.ts), else NONE. */
export function groupCoordinatorError(ctx: RequestContext, groupId: string): number {
  return coordinatorError(ctx.cluster, ctx.node.id, 'group', groupId);
}
