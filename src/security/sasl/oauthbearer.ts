/**
 * SASL/OAUTHBEARER server (RFC 7628) with Kafka's unsecured validator: tokens are unsigned
 * JWS (`{"alg":"none"}`), checked for the principal claim, expiry and required scope only.
 * For development and tests, as in Kafka; anyone can mint such a token.
 *
 * On a bad token the server answers with the RFC 7628 error JSON and waits for the client's
 * single \x01 before failing, as Kafka does; the failure then names the reason.
 */
import { userPrincipal, type KafkaPrincipal } from '../principal';
import { SaslAuthenticationError, SaslServer } from './mechanism';

export interface OAuthBearerUnsecuredOptions {
  /** Claim holding the principal name (Kafka's unsecuredValidatorPrincipalClaimName). */
  principalClaimName?: string;
  /** Claim holding the scope (Kafka's unsecuredValidatorScopeClaimName). */
  scopeClaimName?: string;
  /** Scope values the token must all carry (Kafka's unsecuredValidatorRequiredScope). */
  requiredScope?: string[];
  /** Tolerance for exp/iat against this clock (Kafka's unsecuredValidatorAllowableClockSkewMs). */
  allowableClockSkewMs?: number;
}

const KVSEP = '\x01';

/** A token that parses but does not validate: reported in the RFC 7628 error challenge. */
class InvalidToken extends Error {
  constructor(
    message: string,
    readonly status: 'invalid_token' | 'insufficient_scope' = 'invalid_token',
    readonly scope?: string,
  ) {
    super(message);
  }
}

function base64UrlJson(part: string, what: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(part)) throw new InvalidToken(`the JWS ${what} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidToken(`the JWS ${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidToken(`the JWS ${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function numericClaim(claims: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const v = claims[name];
  if (v === undefined) {
    if (required) throw new InvalidToken(`the token has no '${name}' claim`);
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new InvalidToken(`the '${name}' claim is not a number`);
  return v;
}

export class OAuthBearerUnsecuredServer implements SaslServer {
  readonly mechanism = 'OAUTHBEARER';
  private _principal: KafkaPrincipal | null = null;
  private _expiresAtMs: number | null = null;
  private state: 'initial' | 'error-sent' | 'complete' | 'failed' = 'initial';
  private pendingError = '';
  private readonly principalClaim: string;
  private readonly scopeClaim: string;
  private readonly requiredScope: string[];
  private readonly skewMs: number;

  constructor(
    options: OAuthBearerUnsecuredOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.principalClaim = options.principalClaimName ?? 'sub';
    this.scopeClaim = options.scopeClaimName ?? 'scope';
    this.requiredScope = options.requiredScope ?? [];
    this.skewMs = options.allowableClockSkewMs ?? 0;
    if (!(this.skewMs >= 0)) throw new Error('allowableClockSkewMs must be >= 0');
  }

  get complete(): boolean {
    return this.state === 'complete';
  }

  get principal(): KafkaPrincipal | null {
    return this._principal;
  }

  get credentialExpiresAtMs(): number | null {
    return this._expiresAtMs;
  }

  evaluate(token: Buffer): Buffer {
    switch (this.state) {
      case 'initial':
        return this.onInitial(token);
      case 'error-sent':
        this.state = 'failed';
        // RFC 7628 3.2.3: after an error challenge the client must answer with a lone %x01.
        if (token.length === 1 && token[0] === 1) throw new SaslAuthenticationError(this.pendingError);
        throw new SaslAuthenticationError(`${this.pendingError} (and the client did not acknowledge the error with %x01)`);
      default:
        this.state = 'failed';
        throw new SaslAuthenticationError('OAUTHBEARER exchange is already finished');
    }
  }

  private onInitial(token: Buffer): Buffer {
    let authzid: string;
    let bearer: string;
    try {
      ({ authzid, bearer } = parseClientResponse(token));
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
    try {
      const { principal, expMs } = this.validate(bearer);
      if (authzid !== '' && authzid !== principal) {
        throw new InvalidToken("the authorization id differs from the token's principal");
      }
      this._principal = userPrincipal(principal);
      this._expiresAtMs = expMs;
      this.state = 'complete';
      return Buffer.alloc(0);
    } catch (e) {
      if (!(e instanceof InvalidToken)) throw e;
      this.state = 'error-sent';
      this.pendingError = `Authentication failed: invalid OAUTHBEARER token: ${e.message}`;
      const challenge: Record<string, string> = { status: e.status };
      if (e.scope !== undefined) challenge.scope = e.scope;
      return Buffer.from(JSON.stringify(challenge), 'utf8');
    }
  }

  private validate(jws: string): { principal: string; expMs: number } {
    const parts = jws.split('.');
    if (parts.length !== 3) throw new InvalidToken('an unsecured JWS must have 3 dot-separated parts');
    if (parts[2] !== '') throw new InvalidToken('an unsecured JWS must have an empty signature part');
    const header = base64UrlJson(parts[0]!, 'header');
    if (header.alg !== 'none') throw new InvalidToken(`the JWS header 'alg' must be "none", got ${JSON.stringify(header.alg)}`);
    const claims = base64UrlJson(parts[1]!, 'payload');

    const principal = claims[this.principalClaim];
    if (principal === undefined) throw new InvalidToken(`the token has no '${this.principalClaim}' claim`);
    if (typeof principal !== 'string' || principal.trim() === '') {
      throw new InvalidToken(`the '${this.principalClaim}' claim must be a non-empty string`);
    }

    const nowMs = this.now();
    const expMs = numericClaim(claims, 'exp', true)! * 1000;
    if (nowMs - this.skewMs >= expMs) throw new InvalidToken(`the token expired at ${new Date(expMs).toISOString()}`);
    const iat = numericClaim(claims, 'iat', false);
    if (iat !== undefined) {
      const iatMs = iat * 1000;
      if (iatMs > nowMs + this.skewMs) throw new InvalidToken(`the token's 'iat' (${new Date(iatMs).toISOString()}) is in the future`);
      if (expMs <= iatMs) throw new InvalidToken("the token's 'exp' is not after its 'iat'");
    }

    if (this.requiredScope.length > 0) {
      const raw = claims[this.scopeClaim];
      let scope: string[];
      if (raw === undefined) scope = [];
      else if (typeof raw === 'string') scope = raw.split(' ').filter((s) => s !== '');
      else if (Array.isArray(raw) && raw.every((s) => typeof s === 'string')) scope = raw as string[];
      else throw new InvalidToken(`the '${this.scopeClaim}' claim must be a string or an array of strings`);
      const missing = this.requiredScope.filter((s) => !scope.includes(s));
      if (missing.length > 0) {
        throw new InvalidToken(`the token's scope lacks required value(s): ${missing.join(' ')}`, 'insufficient_scope', this.requiredScope.join(' '));
      }
    }
    return { principal, expMs };
  }
}

/**
 * The RFC 7628 initial client response: gs2-header %x01 *(key=value %x01) %x01, where the
 * keys include auth=Bearer <token>. Kafka clients send extensions as extra key=value pairs.
 */
function parseClientResponse(token: Buffer): { authzid: string; bearer: string } {
  let msg: string;
  try {
    msg = new TextDecoder('utf-8', { fatal: true }).decode(token);
  } catch {
    throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: not valid UTF-8');
  }
  const m = /^([ny]|p=[^,]*),(a=[^,]*)?,\x01/.exec(msg);
  if (!m) throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: expected a GS2 header such as "n,,\\x01"');
  if (m[1]!.startsWith('p=')) throw new SaslAuthenticationError('OAUTHBEARER channel binding is not supported');
  const authzid = m[2] ? m[2].slice(2).replace(/=2C/g, ',').replace(/=3D/g, '=') : '';
  const rest = msg.slice(m[0].length);
  if (!rest.endsWith(KVSEP + KVSEP) && rest !== KVSEP) {
    throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: must end with two %x01 separators');
  }
  const pairs = rest.slice(0, -1).split(KVSEP).slice(0, -1);
  let bearer: string | undefined;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: malformed key=value pair');
    if (pair.slice(0, eq) !== 'auth') continue;
    if (bearer !== undefined) throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: more than one auth value');
    const am = /^bearer +([-_.a-zA-Z0-9+/=]*)$/i.exec(pair.slice(eq + 1));
    if (!am) throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: auth must be "Bearer <token>"');
    bearer = am[1]!;
  }
  if (bearer === undefined) throw new SaslAuthenticationError('Invalid OAUTHBEARER client response: no auth=Bearer value');
  return { authzid, bearer };
}
