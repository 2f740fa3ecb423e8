/**
 * ListGroups (key 16), v0-5.
 * Every group this broker coordinates (all of them). v4 adds the state and a states filter,
 * v5 the group type ("classic", "consumer" for KIP-848 groups, whose states are Empty,
 * Assigning, Reconciling and Stable, or "share" for share groups, Empty or Stable) and a types filter; both filters compare
 * case-insensitively and an empty filter matches everything.
 * With the authorizer on, DESCRIBE on the cluster lists every group; otherwise only groups
 * with DESCRIBE.
 */
import { listShareGroups } from './group-common';
import { groupCoordinatorError } from './group-common';
import { ListGroupsApi, ListGroupsRequest, ListGroupsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';
import { AclOperation } from '../security/acl/acl-types';

export const listGroupsHandler: Handler<ListGroupsRequest, Encodable<ListGroupsResponse>> = {
  apiKey: ListGroupsApi.key,
  minVersion: ListGroupsApi.minVersion,
  maxVersion: ListGroupsApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const states = version >= 4 ? req.statesFilter : [];
    const types = version >= 5 ? req.typesFilter : [];
    let groups = [...groupCoordinator(ctx.cluster).listGroups(states, types), ...listShareGroups(ctx.cluster, states, types)];
    // Each node lists the groups it coordinates (admin clients ask every node and merge).
    if (ctx.cluster.multiNode) groups = groups.filter((g) => groupCoordinatorError(ctx, g.groupId) === ErrorCode.NONE);
    // DESCRIBE on the cluster lists every group; without it, only the groups the client may DESCRIBE.
    const authz = ctx.cluster.acls;
    const visible =
      !authz.enabled || authz.authorizeCluster(ctx.connection, AclOperation.DESCRIBE, false)
        ? groups
        : groups.filter((g) => authz.authorize(ctx.connection, AclOperation.DESCRIBE, 3, g.groupId, false));
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: visible.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.type })),
    };
  },
};
