/**
 * SaslHandshake (key 17), v0-1: the client names its SASL mechanism. On SASL listeners the
 * connection's authenticator (src/server/sasl-authenticator.ts) decides; v0 means the
 * tokens that follow travel as bare frames, v1 that they come in SaslAuthenticate requests.
 * On PLAINTEXT and SSL listeners there is nothing to authenticate: ILLEGAL_SASL_STATE, as Kafka.
 */
import { SaslHandshakeApi, SaslHandshakeRequest, SaslHandshakeResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';

export const saslHandshakeHandler: Handler<SaslHandshakeRequest, Encodable<SaslHandshakeResponse>> = {
  apiKey: SaslHandshakeApi.key,
  minVersion: SaslHandshakeApi.minVersion,
  maxVersion: SaslHandshakeApi.maxVersion,
  handle(ctx, req) {
    const sasl = ctx.connection.sasl;
    if (!sasl) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const outcome = sasl.handshake(ctx.header.apiVersion, req.mechanism);
    if (outcome.close) ctx.connection.closeAfterResponse(`SASL handshake refused (${req.mechanism})`);
    return { errorCode: outcome.errorCode, mechanisms: outcome.mechanisms };
  },
};
