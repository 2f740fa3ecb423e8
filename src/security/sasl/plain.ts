/**
 * SASL/PLAIN server (RFC 4616): one client message `authzid NUL authcid NUL passwd`, no
 * server reply. Only meant over TLS or on trusted networks: the password travels in clear.
 */
import * as crypto from 'crypto';
import { userPrincipal, type KafkaPrincipal } from '../principal';
import { SaslAuthenticationError, SaslServer } from './mechanism';

export const PLAIN_INVALID_CREDENTIALS = 'Authentication failed: Invalid username or password';

export class PlainServer implements SaslServer {
  readonly mechanism = 'PLAIN';
  private _principal: KafkaPrincipal | null = null;
  private done = false;

  constructor(private readonly verify: (username: string, password: string) => boolean) {}

  get complete(): boolean {
    return this._principal !== null;
  }

  get principal(): KafkaPrincipal | null {
    return this._principal;
  }

  readonly credentialExpiresAtMs: number | null = null;

  evaluate(token: Buffer): Buffer {
    if (this.done) throw new SaslAuthenticationError('SASL/PLAIN takes a single client message');
    this.done = true;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(token);
    } catch {
      throw new SaslAuthenticationError('Invalid SASL/PLAIN response: not valid UTF-8');
    }
    const parts = text.split('\0');
    if (parts.length !== 3) {
      throw new SaslAuthenticationError(`Invalid SASL/PLAIN response: expected 3 NUL-separated tokens, got ${parts.length}`);
    }
    const [authzid, username, password] = parts as [string, string, string];
    if (username === '') throw new SaslAuthenticationError('Authentication failed: username not specified');
    if (password === '') throw new SaslAuthenticationError('Authentication failed: password not specified');
    if (authzid !== '' && authzid !== username) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    if (!this.verify(username, password)) throw new SaslAuthenticationError(PLAIN_INVALID_CREDENTIALS);
    this._principal = userPrincipal(username);
    return Buffer.alloc(0);
  }
}

/** Hashing first gives timingSafeEqual equal-length inputs and hides the stored length. */
function digest(s: string): Buffer {
  return crypto.createHash('sha256').update(s, 'utf8').digest();
}

/**
 * A verifier over `user -> password` (e.g. JAAS `user_<name>` options). The comparison runs
 * in constant time, and an unknown user costs the same work as a known one.
 */
export function plainUserVerifier(users: Map<string, string>): (username: string, password: string) => boolean {
  // Read the map at each call so that users added later are seen; the decoy keeps the work equal.
  const decoy = crypto.randomBytes(32).toString('base64');
  return (username, password) => {
    const expected = users.get(username);
    const match = crypto.timingSafeEqual(digest(password), digest(expected ?? decoy));
    return match && expected !== undefined;
  };
}
