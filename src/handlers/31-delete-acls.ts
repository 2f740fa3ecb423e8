/**
 * DeleteAcls (key 31), v1-3.
 * Without an authorizer every filter fails with SECURITY_DISABLED; without ALTER on the
 * cluster with CLUSTER_AUTHORIZATION_FAILED. A filter with an UNKNOWN part fails alone
 * (INVALID_REQUEST); the others delete what they match, all in one write, and each lists
 * the ACLs it matched (an ACL matched by two filters is listed under both, as in Kafka).
 */
import { DeleteAclsApi, DeleteAclsRequest, DeleteAclsResponse, DeleteAclsResponseFilterResults } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclFilter, AclOperation, filterIsUnknown, normPatternType, normResourceType } from '../security/acl/acl-types';

export const deleteAclsHandler: Handler<DeleteAclsRequest, Encodable<DeleteAclsResponse>> = {
  apiKey: DeleteAclsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, DeleteAclsApi.minVersion),
  maxVersion: DeleteAclsApi.maxVersion,
  handle(ctx, req) {
    const authz = ctx.cluster.acls;
    const all = (errorCode: number, errorMessage: string): Encodable<DeleteAclsResponse> => ({
      throttleTimeMs: 0,
      filterResults: req.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })),
    });
    if (!authz.enabled) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!authz.authorizeCluster(ctx.connection, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    const filters: AclFilter[] = req.filters.map((f) => ({
      resourceType: f.resourceTypeFilter,
      resourceName: f.resourceNameFilter,
      patternType: f.patternTypeFilter,
      principal: f.principalFilter,
      host: f.hostFilter,
      operation: f.operation,
      permissionType: f.permissionType,
    }));
    const valid = filters.filter((f) => !filterIsUnknown(f));
    const removed = authz.deleteAcls(valid);
    let next = 0;
    const filterResults: Encodable<DeleteAclsResponseFilterResults>[] = filters.map((f) => {
      if (filterIsUnknown(f)) {
        const patternUnknown = normResourceType(f.resourceType) === 0 || normPatternType(f.patternType) === 0;
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: patternUnknown ? 'Unknown patternFilter.' : 'Unknown entryFilter.', matchingAcls: [] };
      }
      return {
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        matchingAcls: removed[next++].map((b) => ({ errorCode: ErrorCode.NONE, errorMessage: null, ...b })),
      };
    });
    return { throttleTimeMs: 0, filterResults };
  },
};
