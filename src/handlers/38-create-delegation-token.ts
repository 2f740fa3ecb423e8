/**
 * CreateDelegationToken (key 38), v1-3.
 * Issues a token owned by the caller or, from v3, by the owner the request names (a user
 * creating tokens on another's behalf). Checks in Kafka's order: the connection may ask for
 * tokens (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED), renewers are User principals
 * (INVALID_PRINCIPAL_TYPE), then the store (DELEGATION_TOKEN_AUTH_DISABLED without a secret key).
 * See src/security/delegation-tokens.ts.
 * With the authorizer on, creating for another owner needs CREATE_TOKENS on that owner (USER
 * resource "User:name"), else DELEGATION_TOKEN_AUTHORIZATION_FAILED.
 * Difference from Kafka: an owner name without a type answers INVALID_REQUEST where Kafka
 * fails with an unexpected server error.
 */
import { CreateDelegationTokenApi, CreateDelegationTokenRequest, CreateDelegationTokenResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { KafkaPrincipal, principalString } from '../security/principal';
import { tokenRequestsAllowed } from './delegation-token-common';
import { AclOperation, ResourceType } from '../security/acl/acl-types';

export const createDelegationTokenHandler: Handler<CreateDelegationTokenRequest, Encodable<CreateDelegationTokenResponse>> = {
  apiKey: CreateDelegationTokenApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, CreateDelegationTokenApi.minVersion),
  maxVersion: CreateDelegationTokenApi.maxVersion,
  handle(ctx, req) {
    const requester: KafkaPrincipal = { type: ctx.connection.principal.type, name: ctx.connection.principal.name };
    const namesOwner = req.ownerPrincipalName !== null && req.ownerPrincipalName !== '';
    const owner: KafkaPrincipal = namesOwner ? { type: req.ownerPrincipalType ?? '', name: req.ownerPrincipalName as string } : requester;
    const principals = {
      principalType: owner.type,
      principalName: owner.name,
      tokenRequesterPrincipalType: requester.type,
      tokenRequesterPrincipalName: requester.name,
    };
    const fail = (errorCode: number): Encodable<CreateDelegationTokenResponse> => ({
      errorCode,
      ...principals,
      issueTimestampMs: -1,
      expiryTimestampMs: -1,
      maxTimestampMs: -1,
      tokenId: '',
      hmac: Buffer.alloc(0),
      throttleTimeMs: 0,
    });
    if (!tokenRequestsAllowed(ctx.connection)) return fail(ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED);
    if (namesOwner && owner.type === '') return fail(ErrorCode.INVALID_REQUEST);
    const forOther = namesOwner && (owner.type !== requester.type || owner.name !== requester.name);
    if (forOther && ctx.cluster.acls.enabled && !ctx.cluster.acls.authorize(ctx.connection, AclOperation.CREATE_TOKENS, ResourceType.USER, principalString(owner))) {
      return fail(ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED);
    }
    const renewers = req.renewers.map((r) => ({ type: r.principalType, name: r.principalName }));
    if (renewers.some((r) => r.type !== 'User')) return fail(ErrorCode.INVALID_PRINCIPAL_TYPE);
    const { errorCode, token } = ctx.cluster.security.tokens.create(owner, requester, renewers, req.maxLifetimeMs, Date.now());
    if (!token) return fail(errorCode);
    return {
      errorCode,
      ...principals,
      issueTimestampMs: token.issueTimestamp,
      expiryTimestampMs: token.expiryTimestamp,
      maxTimestampMs: token.maxTimestamp,
      tokenId: token.tokenId,
      hmac: token.hmac,
      throttleTimeMs: 0,
    };
  },
};
