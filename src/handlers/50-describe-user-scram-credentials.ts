/**
 * DescribeUserScramCredentials (key 50), v0.
 * Null or empty users: every user with a SCRAM credential. Named users, as Kafka answers:
 * one result per distinct name; a name without credentials is RESOURCE_NOT_FOUND, a name
 * asked twice is DUPLICATE_RESOURCE. Only mechanisms and iteration counts are revealed.
 * With the authorizer on, DESCRIBE on the cluster is needed (else CLUSTER_AUTHORIZATION_FAILED).
 */
import {
  DescribeUserScramCredentialsApi,
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
  DescribeUserScramCredentialsResponseResults,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { ErrorCode } from '../protocol/errors';
import { scramMechanismType } from '../security/scram-credentials';
import { AclOperation } from '../security/acl/acl-types';

export const describeUserScramCredentialsHandler: Handler<
  DescribeUserScramCredentialsRequest,
  Encodable<DescribeUserScramCredentialsResponse>
> = {
  apiKey: DescribeUserScramCredentialsApi.key,
  minVersion: DescribeUserScramCredentialsApi.minVersion,
  maxVersion: DescribeUserScramCredentialsApi.maxVersion,
  handle(ctx, req) {
    if (ctx.cluster.acls.enabled && !ctx.cluster.acls.authorizeCluster(ctx.connection, AclOperation.DESCRIBE)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.', results: [] };
    }
    const all = ctx.cluster.security.scram.describe();
    // name -> asked more than once
    const wanted = new Map<string, boolean>();
    if (req.users === null || req.users.length === 0) {
      for (const user of all.keys()) wanted.set(user, false);
    } else {
      for (const u of req.users) wanted.set(u.name, wanted.has(u.name));
    }
    const results: Encodable<DescribeUserScramCredentialsResponseResults>[] = [];
    for (const [user, duplicate] of wanted) {
      const infos = all.get(user);
      if (duplicate) {
        results.push({
          user,
          errorCode: ErrorCode.DUPLICATE_RESOURCE,
          errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${user}`,
          credentialInfos: [],
        });
      } else if (!infos || infos.length === 0) {
        results.push({
          user,
          errorCode: ErrorCode.RESOURCE_NOT_FOUND,
          errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
          credentialInfos: [],
        });
      } else {
        results.push({
          user,
          errorCode: ErrorCode.NONE,
          errorMessage: null,
          credentialInfos: infos.map((i) => ({ mechanism: scramMechanismType(i.mechanism), iterations: i.iterations })),
        });
      }
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
  },
};
