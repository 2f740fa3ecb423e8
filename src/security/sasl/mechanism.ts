/**
 * The server side of one SASL mechanism exchange. A connection creates one per
 * authentication (and per KIP-368 re-authentication) and feeds it the client's tokens in
 * order, whether they arrive in SaslAuthenticate requests or as raw frames (SaslHandshake v0).
 */
import type { KafkaPrincipal } from '../principal';

export interface SaslServer {
  readonly mechanism: string;
  /**
   * Takes the client's next token and returns the server's reply (an empty buffer when the
   * mechanism sends none). Throws SaslAuthenticationError when the client fails to
   * authenticate or sends a malformed token.
   */
  evaluate(token: Buffer): Buffer;
  /** True once the exchange has succeeded; `principal` is then set. */
  readonly complete: boolean;
  readonly principal: KafkaPrincipal | null;
  /**
   * When the credential stops being valid (ms since the epoch; OAUTHBEARER token exp, a
   * delegation token's expiry), or null. Bounds the KIP-368 session lifetime.
   */
  readonly credentialExpiresAtMs: number | null;
}

/** Authentication failed: answered with SASL_AUTHENTICATION_FAILED and this message, then the connection closes. */
export class SaslAuthenticationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SaslAuthenticationError';
  }
}

/** The mechanisms Samsa implements; GSSAPI and others are answered with UNSUPPORTED_SASL_MECHANISM. */
export const SUPPORTED_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER'] as const;
export type SupportedMechanism = (typeof SUPPORTED_MECHANISMS)[number];
