/**
 * The SASL state of one connection on a SASL_PLAINTEXT or SASL_SSL listener, following
 * Kafka's server-side authenticator:
 *
 *   handshake     -> only ApiVersions and SaslHandshake are answered; anything else closes
 *                    the connection (Kafka does not answer requests before authentication).
 *   authenticate  -> after SaslHandshake v1, only SaslAuthenticate requests; after v0 the
 *                    client sends bare SASL tokens in size-prefixed frames with no Kafka
 *                    header, and gets bare tokens back.
 *   authenticated -> every request is served until the session expires (KIP-368). A new
 *                    SaslHandshake + SaslAuthenticate re-authenticates in place; the
 *                    principal and mechanism may not change.
 *
 * A failed authentication answers SASL_AUTHENTICATION_FAILED with a message and then
 * closes the connection. Secrets never reach a log line.
 */
import { ErrorCode } from '../protocol/errors';
import type { Logger } from '../logging';
import { KafkaPrincipal, principalString } from '../security/principal';
import { SaslAuthenticationError, SaslServer } from '../security/sasl/mechanism';
import type { Security } from '../security/security';

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

type State = 'handshake' | 'authenticate' | 'authenticated';

export interface HandshakeOutcome {
  errorCode: number;
  mechanisms: string[];
  /** The connection closes once the answer is sent. */
  close: boolean;
}

export interface AuthenticateOutcome {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: number;
  close: boolean;
}

export class SaslAuthenticator {
  private state: State = 'handshake';
  private server: SaslServer | null = null;
  private handshakeVersion = 1;
  private reauthenticating = false;
  private sessionMechanism: string | null = null;
  private sessionPrincipal: KafkaPrincipal | null = null;
  /** When the current session ends (ms since the epoch), or null for never. */
  private sessionExpiresAtMs: number | null = null;

  constructor(
    private readonly security: Security,
    private readonly listenerName: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** The authenticated principal, or null before the first successful authentication. */
  get principal(): KafkaPrincipal | null {
    return this.sessionPrincipal;
  }

  /** True when the next frame is a bare SASL token (after SaslHandshake v0). */
  get expectsRawToken(): boolean {
    return this.state === 'authenticate' && this.handshakeVersion === 0;
  }

  /**
   * Whether a request may be served now; returns the reason to close the connection when
   * it may not. Called for every request frame before it is decoded.
   */
  refusal(apiKey: number): string | null {
    switch (this.state) {
      case 'handshake':
        return apiKey === API_VERSIONS || apiKey === SASL_HANDSHAKE ? null : `unexpected request (API key ${apiKey}) before SASL authentication`;
      case 'authenticate':
        return apiKey === SASL_AUTHENTICATE ? null : `unexpected request (API key ${apiKey}) during SASL authentication`;
      case 'authenticated': {
        if (this.reauthenticating && apiKey === SASL_AUTHENTICATE) return null;
        if (apiKey === SASL_HANDSHAKE || apiKey === API_VERSIONS) return null;
        if (this.sessionExpiresAtMs !== null && this.now() >= this.sessionExpiresAtMs) return 'SASL session expired without re-authentication';
        return null;
      }
    }
  }

  handshake(version: number, mechanism: string): HandshakeOutcome {
    const enabled = this.security.enabledMechanisms(this.listenerName);
    if (this.state === 'authenticate' || (this.state === 'authenticated' && this.reauthenticating)) {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled, close: true };
    }
    if (!enabled.includes(mechanism)) {
      this.log.info('SASL mechanism not enabled', { mechanism, enabled });
      return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled, close: true };
    }
    if (this.state === 'authenticated') {
      // KIP-368 re-authentication needs SaslHandshake v1+ and the same mechanism.
      if (version < 1 || mechanism !== this.sessionMechanism) {
        return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: enabled, close: true };
      }
      this.reauthenticating = true;
    } else {
      this.state = 'authenticate';
    }
    const server = this.security.newSaslServer(this.listenerName, mechanism);
    if (!server) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: enabled, close: true };
    this.server = server;
    this.handshakeVersion = version;
    return { errorCode: ErrorCode.NONE, mechanisms: enabled, close: false };
  }

  /** One SaslAuthenticate request (v0-2). */
  authenticate(version: number, token: Buffer): AuthenticateOutcome {
    const fail = (errorCode: number, errorMessage: string): AuthenticateOutcome => ({
      errorCode,
      errorMessage,
      authBytes: Buffer.alloc(0),
      sessionLifetimeMs: 0,
      close: true,
    });
    const server = this.server;
    if (!server || (this.state !== 'authenticate' && !this.reauthenticating)) {
      return fail(ErrorCode.ILLEGAL_SASL_STATE, 'SaslAuthenticate request received before SaslHandshake');
    }
    let reply: Buffer;
    try {
      reply = server.evaluate(token);
    } catch (err) {
      return fail(ErrorCode.SASL_AUTHENTICATION_FAILED, this.failed(server, err));
    }
    if (!server.complete) {
      return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: reply, sessionLifetimeMs: 0, close: false };
    }
    const done = this.completed(server, version);
    if (typeof done === 'string') return fail(ErrorCode.SASL_AUTHENTICATION_FAILED, done);
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: reply, sessionLifetimeMs: done, close: false };
  }

  /** One bare token after SaslHandshake v0; returns the bare reply, or null to close the connection. */
  rawToken(token: Buffer): Buffer | null {
    const server = this.server;
    if (!server) return null;
    let reply: Buffer;
    try {
      reply = server.evaluate(token);
    } catch (err) {
      this.failed(server, err);
      return null;
    }
    if (server.complete && typeof this.completed(server, 0) === 'string') return null;
    return reply;
  }

  private failed(server: SaslServer, err: unknown): string {
    const message = err instanceof SaslAuthenticationError ? err.message : 'Authentication failed: malformed SASL message';
    if (!(err instanceof SaslAuthenticationError)) this.log.warn('SASL mechanism error', { mechanism: server.mechanism, error: (err as Error).message });
    this.log.info('SASL authentication failed', { mechanism: server.mechanism, reason: message });
    this.server = null;
    return message;
  }

  /** Finishes a successful exchange; returns the session lifetime in ms (0: none), or a failure message. */
  private completed(server: SaslServer, version: number): number | string {
    const principal = server.principal as KafkaPrincipal;
    this.server = null;
    if (this.reauthenticating) {
      this.reauthenticating = false;
      const before = this.sessionPrincipal as KafkaPrincipal;
      if (principalString(before) !== principalString(principal)) {
        this.log.info('SASL re-authentication changed the principal', { before: principalString(before), after: principalString(principal) });
        return 'Cannot change principals during re-authentication';
      }
    }
    const now = this.now();
    const reauthMs = this.security.reauthMs(this.listenerName);
    let lifetime = reauthMs > 0 ? reauthMs : null;
    const expires = server.credentialExpiresAtMs;
    if (expires !== null) {
      const left = expires - now;
      if (left <= 0) return 'Authentication failed: the credential has expired';
      lifetime = lifetime === null ? left : Math.min(lifetime, left);
    }
    this.sessionExpiresAtMs = lifetime === null ? null : now + lifetime;
    this.sessionMechanism = server.mechanism;
    this.sessionPrincipal = principal;
    this.state = 'authenticated';
    this.log.info('SASL authentication succeeded', { principal: principalString(principal), mechanism: server.mechanism, sessionLifetimeMs: lifetime ?? 0, version });
    return lifetime ?? 0;
  }
}
