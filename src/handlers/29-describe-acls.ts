/**
 * DescribeAcls (key 29), v1-3.
 * SECURITY_DISABLED when no authorizer is configured; CLUSTER_AUTHORIZATION_FAILED without
 * DESCRIBE on the cluster; INVALID_REQUEST for a filter with an UNKNOWN part. Matching ACLs are grouped by resource pattern.
 * v0 carries no pattern type: its filter is LITERAL, so it never sees prefixed ACLs it
 * could not tell apart from literal ones.
 */
import { DescribeAclsApi, DescribeAclsRequest, DescribeAclsResponse, DescribeAclsResponseResources } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation, filterIsUnknown } from '../security/acl/acl-types';

export const describeAclsHandler: Handler<DescribeAclsRequest, Encodable<DescribeAclsResponse>> = {
  apiKey: DescribeAclsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, DescribeAclsApi.minVersion),
  maxVersion: DescribeAclsApi.maxVersion,
  handle(ctx, req) {
    const authz = ctx.cluster.acls;
    const fail = (errorCode: number, errorMessage: string): Encodable<DescribeAclsResponse> => ({ throttleTimeMs: 0, errorCode, errorMessage, resources: [] });
    if (!authz.enabled) return fail(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!authz.authorizeCluster(ctx.connection, AclOperation.DESCRIBE)) {
      return fail(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    }
    const filter = {
      resourceType: req.resourceTypeFilter,
      resourceName: req.resourceNameFilter,
      patternType: req.patternTypeFilter,
      principal: req.principalFilter,
      host: req.hostFilter,
      operation: req.operation,
      permissionType: req.permissionType,
    };
    if (filterIsUnknown(filter)) return fail(ErrorCode.INVALID_REQUEST, 'The filter contains UNKNOWN elements');
    const byPattern = new Map<string, Encodable<DescribeAclsResponseResources>>();
    for (const b of authz.acls(filter)) {
      const k = `${b.resourceType}\u0000${b.patternType}\u0000${b.resourceName}`;
      let r = byPattern.get(k);
      if (!r) byPattern.set(k, (r = { resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType, acls: [] }));
      r.acls!.push({ principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType });
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...byPattern.values()] };
  },
};
