/**
 * CreateAcls (key 30), v1-3.
 * Without an authorizer every creation fails with SECURITY_DISABLED; without ALTER on the
 * cluster with CLUSTER_AUTHORIZATION_FAILED. Otherwise each creation is checked on its own
 * (Kafka's rules and messages, see creationError) and the valid ones are stored together;
 * an ACL that exists already is a success that changes nothing.
 */
import { CreateAclsApi, CreateAclsRequest, CreateAclsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';

export const createAclsHandler: Handler<CreateAclsRequest, Encodable<CreateAclsResponse>> = {
  apiKey: CreateAclsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, CreateAclsApi.minVersion),
  maxVersion: CreateAclsApi.maxVersion,
  handle(ctx, req) {
    const authz = ctx.cluster.acls;
    const all = (errorCode: number, errorMessage: string): Encodable<CreateAclsResponse> => ({
      throttleTimeMs: 0,
      results: req.creations.map(() => ({ errorCode, errorMessage })),
    });
    if (!authz.enabled) return all(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured.');
    if (!authz.authorizeCluster(ctx.connection, AclOperation.ALTER)) return all(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    const errors = authz.createAcls(
      req.creations.map((c) => ({
        resourceType: c.resourceType,
        resourceName: c.resourceName,
        patternType: c.resourcePatternType,
        principal: c.principal,
        host: c.host,
        operation: c.operation,
        permissionType: c.permissionType,
      })),
    );
    return {
      throttleTimeMs: 0,
      results: errors.map((e) => (e === null ? { errorCode: ErrorCode.NONE, errorMessage: null } : { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: e })),
    };
  },
};
