/**
 * ListGroups (key 16), v0-5.
 * Every group this broker coordinates (all of them). v4 adds the state and a states filter,
 * v5 the group type ("classic", or "consumer" for KIP-848 groups, whose states are Empty,
 * Assigning, Reconciling and Stable) and a types filter; both filters compare
 * case-insensitively and an empty filter matches everything.
 */
import { ListGroupsApi, ListGroupsRequest, ListGroupsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { groupCoordinator } from '../coordinator/group';

export const listGroupsHandler: Handler<ListGroupsRequest, Encodable<ListGroupsResponse>> = {
  apiKey: ListGroupsApi.key,
  minVersion: ListGroupsApi.minVersion,
  maxVersion: ListGroupsApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const groups = groupCoordinator(ctx.broker).listGroups(
      version >= 4 ? req.statesFilter : [],
      version >= 5 ? req.typesFilter : [],
    );
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      groups: groups.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.state, groupType: g.type })),
    };
  },
};
