/**
 * SaslAuthenticate (key 36), v0-2: one SASL token each way. v1 adds session_lifetime_ms
 * (KIP-368): the client must re-authenticate before it runs out, or the connection is
 * closed at its next request. A failure answers SASL_AUTHENTICATION_FAILED with a message,
 * then the connection closes. Off SASL listeners: ILLEGAL_SASL_STATE, as Kafka.
 */
import { SaslAuthenticateApi, SaslAuthenticateRequest, SaslAuthenticateResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';

export const saslAuthenticateHandler: Handler<SaslAuthenticateRequest, Encodable<SaslAuthenticateResponse>> = {
  apiKey: SaslAuthenticateApi.key,
  minVersion: SaslAuthenticateApi.minVersion,
  maxVersion: SaslAuthenticateApi.maxVersion,
  handle(ctx, req) {
    const sasl = ctx.connection.sasl;
    if (!sasl) {
      return {
        errorCode: ErrorCode.ILLEGAL_SASL_STATE,
        errorMessage: 'SaslAuthenticate request received on a listener without SASL',
        authBytes: Buffer.alloc(0),
        sessionLifetimeMs: 0,
      };
    }
    const outcome = sasl.authenticate(ctx.header.apiVersion, req.authBytes);
    if (outcome.close) ctx.connection.closeAfterResponse('SASL authentication failed');
    return {
      errorCode: outcome.errorCode,
      errorMessage: outcome.errorMessage,
      authBytes: outcome.authBytes,
      sessionLifetimeMs: outcome.sessionLifetimeMs,
    };
  },
};
