/**
 * ListConfigResources (key 74), v0-1; ListClientMetricsResources before Kafka 4.1 (KIP-1142).
 * v0 lists the client metrics subscriptions (CLIENT_METRICS resources); v1 lists the config
 * resources of the types asked for (all when the list is empty): topics, this broker (and its
 * logger), groups with members or settings, and client metrics subscriptions. A type with no
 * config resources answers UNSUPPORTED_VERSION, as Kafka does. Needs DESCRIBE_CONFIGS on the
 * cluster when the authorizer is on (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { ListClientMetricsResourcesApi, ListClientMetricsResourcesRequest, ListClientMetricsResourcesResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { ResourceType } from '../cluster/config-admin';
import { groupCoordinator } from '../coordinator/group';

const LISTABLE = [ResourceType.TOPIC, ResourceType.BROKER, ResourceType.BROKER_LOGGER, ResourceType.CLIENT_METRICS, ResourceType.GROUP];

export const listConfigResourcesHandler: Handler<ListClientMetricsResourcesRequest, Encodable<ListClientMetricsResourcesResponse>> = {
  apiKey: ListClientMetricsResourcesApi.key,
  minVersion: ListClientMetricsResourcesApi.minVersion,
  maxVersion: ListClientMetricsResourcesApi.maxVersion,
  handle(ctx, req) {
    const authz = ctx.cluster.acls;
    if (authz.enabled && !authz.authorizeCluster(ctx.connection, AclOperation.DESCRIBE_CONFIGS)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, clientMetricsResources: [] };
    }
    const asked = ctx.header.apiVersion === 0 ? [ResourceType.CLIENT_METRICS] : req.resourceTypes.length === 0 ? LISTABLE : req.resourceTypes;
    if (asked.some((t) => !(LISTABLE as number[]).includes(t))) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_VERSION, clientMetricsResources: [] };
    }
    const out: { name: string; resourceType: number }[] = [];
    for (const type of new Set(asked)) for (const name of resourceNames(ctx, type)) out.push({ name, resourceType: type });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, clientMetricsResources: out };
  },
};

function resourceNames(ctx: RequestContext, type: number): string[] {
  const { cluster } = ctx;
  switch (type) {
    case ResourceType.TOPIC:
      return cluster.topics.list().map((t) => t.name);
    case ResourceType.BROKER:
    case ResourceType.BROKER_LOGGER:
      return [String(ctx.node.id)];
    case ResourceType.CLIENT_METRICS:
      return cluster.telemetry.subscriptions.names();
    case ResourceType.GROUP: {
      const names = new Set(groupCoordinator(cluster).listGroups([], []).map((g) => g.groupId));
      for (const g of cluster.groupConfigs.groupIds()) names.add(g);
      return [...names].sort();
    }
    default:
      return [];
  }
}
