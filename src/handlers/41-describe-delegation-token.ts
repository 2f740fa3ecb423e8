/**
 * DescribeDelegationToken (key 41), v1-3.
 * Lists tokens with their HMACs: owners null means all owners, an empty list none; a token
 * matches an owner that is its owner, requester or renewer. The token requester fields are v3+.
 * Who sees what: the caller's own tokens (as owner, requester or renewer) and others' where
 * the authorizer allows DESCRIBE on the token (DELEGATION_TOKEN resource, its id) or
 * DESCRIBE_TOKENS on the owner (USER resource, "User:name"). Without an authorizer every
 * check passes, as in Kafka, so any caller the token APIs accept sees every matching token.
 */
import {
  DescribeDelegationTokenApi,
  DescribeDelegationTokenRequest,
  DescribeDelegationTokenResponse,
  DescribeDelegationTokenResponseTokens,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { tokenRequestsAllowed } from './delegation-token-common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';
import type { DelegationTokenInfo } from '../security/delegation-tokens';
import { principalString } from '../security/principal';

/** What an authorizer would decide for tokens the caller is not involved in; none is configured. */

export const describeDelegationTokenHandler: Handler<DescribeDelegationTokenRequest, Encodable<DescribeDelegationTokenResponse>> = {
  apiKey: DescribeDelegationTokenApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, DescribeDelegationTokenApi.minVersion),
  maxVersion: DescribeDelegationTokenApi.maxVersion,
  handle(ctx, req) {
    if (!tokenRequestsAllowed(ctx.connection)) {
      return { errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, tokens: [], throttleTimeMs: 0 };
    }
    const owners = req.owners === null ? null : req.owners.map((o) => ({ type: o.principalType, name: o.principalName }));
    const authz = ctx.cluster.acls;
    const mayDescribe = (t: DelegationTokenInfo) =>
      !authz.enabled ||
      authz.authorize(ctx.connection, AclOperation.DESCRIBE, ResourceType.DELEGATION_TOKEN, t.tokenId, false) ||
      authz.authorize(ctx.connection, AclOperation.DESCRIBE_TOKENS, ResourceType.USER, principalString(t.owner), false);
    const r = ctx.cluster.security.tokens.describe(owners, ctx.connection.principal, mayDescribe);
    const tokens: Encodable<DescribeDelegationTokenResponseTokens>[] = r.tokens.map((t) => ({
      principalType: t.owner.type,
      principalName: t.owner.name,
      tokenRequesterPrincipalType: t.tokenRequester.type,
      tokenRequesterPrincipalName: t.tokenRequester.name,
      issueTimestamp: t.issueTimestamp,
      expiryTimestamp: t.expiryTimestamp,
      maxTimestamp: t.maxTimestamp,
      tokenId: t.tokenId,
      hmac: t.hmac,
      renewers: t.renewers.map((p) => ({ principalType: p.type, principalName: p.name })),
    }));
    return { errorCode: r.errorCode, tokens, throttleTimeMs: 0 };
  },
};
