/**
 * ExpireDelegationToken (key 40), v1-2.
 * The owner or a renewer sets the token's expiry to now + the period (capped at its max
 * timestamp); a negative period removes the token at once. Errors carry expiry -1.
 * See src/security/delegation-tokens.ts for the rules and codes.
 */
import { ExpireDelegationTokenApi, ExpireDelegationTokenRequest, ExpireDelegationTokenResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { tokenRequestsAllowed } from './delegation-token-common';

export const expireDelegationTokenHandler: Handler<ExpireDelegationTokenRequest, Encodable<ExpireDelegationTokenResponse>> = {
  apiKey: ExpireDelegationTokenApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, ExpireDelegationTokenApi.minVersion),
  maxVersion: ExpireDelegationTokenApi.maxVersion,
  handle(ctx, req) {
    if (!tokenRequestsAllowed(ctx.connection)) {
      return { errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 };
    }
    const r = ctx.cluster.security.tokens.expire(req.hmac, req.expiryTimePeriodMs, ctx.connection.principal, Date.now());
    return { errorCode: r.errorCode, expiryTimestampMs: r.expiryTimestamp, throttleTimeMs: 0 };
  },
};
