/**
 * RenewDelegationToken (key 39), v1-2.
 * The owner or a renewer pushes the token's expiry forward, by the requested period capped at
 * delegation.token.expiry.time.ms and at the token's max timestamp. Errors carry expiry -1.
 * See src/security/delegation-tokens.ts for the rules and codes.
 */
import { RenewDelegationTokenApi, RenewDelegationTokenRequest, RenewDelegationTokenResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { tokenRequestsAllowed } from './delegation-token-common';

export const renewDelegationTokenHandler: Handler<RenewDelegationTokenRequest, Encodable<RenewDelegationTokenResponse>> = {
  apiKey: RenewDelegationTokenApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, RenewDelegationTokenApi.minVersion),
  maxVersion: RenewDelegationTokenApi.maxVersion,
  handle(ctx, req) {
    if (!tokenRequestsAllowed(ctx.connection)) {
      return { errorCode: ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED, expiryTimestampMs: -1, throttleTimeMs: 0 };
    }
    const r = ctx.cluster.security.tokens.renew(req.hmac, req.renewPeriodMs, ctx.connection.principal, Date.now());
    return { errorCode: r.errorCode, expiryTimestampMs: r.expiryTimestamp, throttleTimeMs: 0 };
  },
};
