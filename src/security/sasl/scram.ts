/**
 * SCRAM-SHA-256 / SCRAM-SHA-512 server (RFC 5802, RFC 7677), as Kafka runs it: no channel
 * binding, Kafka's `tokenauth=true` extension for delegation tokens. Two client messages:
 * client-first (answered with server-first) and client-final (answered with server-final).
 *
 * An unknown user gets a made-up salt and fails at the proof, exactly like a wrong password,
 * so the exchange does not reveal which users exist.
 */
import * as crypto from 'crypto';
import type { KafkaPrincipal } from '../principal';
import { SaslAuthenticationError, SaslServer } from './mechanism';
import {
  ScramCredential,
  ScramMechanism,
  decodeBase64Strict,
  scramDigest,
  scramHash,
  scramHmac,
  SCRAM_DEFAULT_ITERATIONS,
} from '../scram-credentials';

export interface ScramLookupResult {
  credential: ScramCredential;
  principal: KafkaPrincipal;
  /** When the credential expires (a delegation token's expiry), or null. */
  expiresAtMs: number | null;
}

/** Finds the credential of a user, or of a delegation token id when tokenAuth is true. */
export type ScramLookup = (username: string, tokenAuth: boolean) => ScramLookupResult | null;

export interface ScramServerOptions {
  /** Makes the server nonce part; tests pin it to reproduce RFC test vectors. */
  serverNonce?: () => string;
}

/** Keys the fake salts of unknown users, so that repeated probes see a stable salt. */
const FAKE_SALT_KEY = crypto.randomBytes(32);

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;

function invalidCredentials(mechanism: ScramMechanism): SaslAuthenticationError {
  return new SaslAuthenticationError(
    `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`,
  );
}

/** Decodes a RFC 5802 saslname: "=2C" is ',' and "=3D" is '='; any other '=' is invalid. */
function decodeSaslName(s: string, what: string): string {
  if (/=(?!2C|3D)/.test(s)) throw new SaslAuthenticationError(`Invalid SCRAM ${what}: '=' must be followed by 2C or 3D`);
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

function decodeUtf8(token: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(token);
  } catch {
    throw new SaslAuthenticationError(`Invalid SCRAM ${what}: not valid UTF-8`);
  }
}

type State = 'client-first' | 'client-final' | 'complete' | 'failed';

export class ScramServer implements SaslServer {
  private state: State = 'client-first';
  private _principal: KafkaPrincipal | null = null;
  private _expiresAtMs: number | null = null;
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | null = null;
  private found: ScramLookupResult | null = null;
  private readonly makeServerNonce: () => string;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly lookup: ScramLookup,
    options: ScramServerOptions = {},
  ) {
    this.makeServerNonce = options.serverNonce ?? (() => crypto.randomBytes(24).toString('base64'));
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
    try {
      switch (this.state) {
        case 'client-first':
          return this.onClientFirst(decodeUtf8(token, 'client first message'));
        case 'client-final':
          return this.onClientFinal(decodeUtf8(token, 'client final message'));
        case 'complete':
          throw new SaslAuthenticationError('SCRAM exchange is already complete');
        case 'failed':
          throw new SaslAuthenticationError('SCRAM exchange has already failed');
      }
    } catch (e) {
      this.state = 'failed';
      throw e;
    }
  }

  private onClientFirst(msg: string): Buffer {
    // gs2-header: cbind-flag "," [authzid] ","
    const c1 = msg.indexOf(',');
    const c2 = c1 < 0 ? -1 : msg.indexOf(',', c1 + 1);
    if (c1 < 0 || c2 < 0) throw new SaslAuthenticationError('Invalid SCRAM client first message: missing GS2 header');
    const cbindFlag = msg.slice(0, c1);
    if (cbindFlag.startsWith('p=')) {
      throw new SaslAuthenticationError('SCRAM channel binding is not supported: client first message asks for it (p=)');
    }
    if (cbindFlag !== 'n' && cbindFlag !== 'y') {
      throw new SaslAuthenticationError(`Invalid SCRAM client first message: bad channel binding flag '${cbindFlag}'`);
    }
    const authzField = msg.slice(c1 + 1, c2);
    let authzid = '';
    if (authzField !== '') {
      if (!authzField.startsWith('a=')) throw new SaslAuthenticationError('Invalid SCRAM client first message: bad authzid field');
      authzid = decodeSaslName(authzField.slice(2), 'authorization id');
    }
    this.gs2Header = msg.slice(0, c2 + 1);
    this.clientFirstBare = msg.slice(c2 + 1);

    const attrs = this.clientFirstBare.split(',');
    if (attrs[0]?.startsWith('m=')) throw new SaslAuthenticationError('SCRAM mandatory extensions (m=) are not supported');
    if (attrs.length < 2 || !attrs[0]!.startsWith('n=') || !attrs[1]!.startsWith('r=')) {
      throw new SaslAuthenticationError('Invalid SCRAM client first message: expected n=<user>,r=<nonce>');
    }
    const username = decodeSaslName(attrs[0]!.slice(2), 'username');
    if (username === '') throw new SaslAuthenticationError('Invalid SCRAM client first message: empty username');
    const clientNonce = attrs[1]!.slice(2);
    if (!PRINTABLE_NONCE.test(clientNonce)) throw new SaslAuthenticationError('Invalid SCRAM client first message: bad nonce');
    const extensions = new Map<string, string>();
    for (const ext of attrs.slice(2)) {
      const eq = ext.indexOf('=');
      if (eq <= 0) throw new SaslAuthenticationError('Invalid SCRAM client first message: bad extension');
      extensions.set(ext.slice(0, eq), ext.slice(eq + 1));
    }
    if (authzid !== '' && authzid !== username) {
      throw new SaslAuthenticationError('Authentication failed: Client requested an authorization id that is different from username');
    }
    const tokenAuth = extensions.get('tokenauth')?.toLowerCase() === 'true';

    this.found = this.lookup(username, tokenAuth);
    this.credential = this.found?.credential ?? this.fakeCredential(username, tokenAuth);

    const serverNonce = this.makeServerNonce();
    if (!PRINTABLE_NONCE.test(serverNonce)) throw new Error('SCRAM server nonce must be printable and comma-free');
    this.nonce = clientNonce + serverNonce;
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.state = 'client-final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private onClientFinal(msg: string): Buffer {
    const p = msg.lastIndexOf(',p=');
    if (p < 0) throw new SaslAuthenticationError('Invalid SCRAM client final message: missing proof (p=)');
    const withoutProof = msg.slice(0, p);
    const attrs = withoutProof.split(',');
    if (attrs.length < 2 || !attrs[0]!.startsWith('c=') || !attrs[1]!.startsWith('r=')) {
      throw new SaslAuthenticationError('Invalid SCRAM client final message: expected c=<binding>,r=<nonce>,...,p=<proof>');
    }
    const binding = decodeBase64Strict(attrs[0]!.slice(2));
    if (!binding) throw new SaslAuthenticationError('Invalid SCRAM client final message: channel binding is not valid base64');
    // Without channel binding the c= value is just the GS2 header the client sent first.
    if (!binding.equals(Buffer.from(this.gs2Header, 'utf8'))) {
      throw new SaslAuthenticationError('Invalid SCRAM client final message: channel binding does not match the GS2 header');
    }
    // Kafka only checks that the nonce ends with the combined one: librdkafka (2.0 at least)
    // sends its client nonce followed by the whole server-first nonce, and signs that.
    if (!attrs[1]!.slice(2).endsWith(this.nonce)) throw new SaslAuthenticationError('Invalid SCRAM client final message: nonce does not match');
    const proof = decodeBase64Strict(msg.slice(p + 3));
    if (!proof) throw new SaslAuthenticationError('Invalid SCRAM client final message: proof is not valid base64');

    const credential = this.credential!;
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const hashLen = scramHash(this.mechanism).length;
    if (proof.length !== hashLen || credential.storedKey.length !== hashLen) throw invalidCredentials(this.mechanism);
    const clientSignature = scramHmac(this.mechanism, credential.storedKey, authMessage);
    const clientKey = Buffer.alloc(hashLen);
    for (let i = 0; i < hashLen; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!;
    const ok = crypto.timingSafeEqual(scramDigest(this.mechanism, clientKey), credential.storedKey);
    if (!ok || !this.found) throw invalidCredentials(this.mechanism);

    const serverSignature = scramHmac(this.mechanism, credential.serverKey, authMessage);
    this._principal = this.found.principal;
    this._expiresAtMs = this.found.expiresAtMs;
    this.state = 'complete';
    return Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8');
  }

  /** A stable salt per (mechanism, name) and keys nobody can match. */
  private fakeCredential(username: string, tokenAuth: boolean): ScramCredential {
    const hashLen = scramHash(this.mechanism).length;
    return {
      salt: crypto.createHmac('sha256', FAKE_SALT_KEY).update(`${this.mechanism}\0${tokenAuth}\0${username}`).digest(),
      storedKey: crypto.randomBytes(hashLen),
      serverKey: crypto.randomBytes(hashLen),
      iterations: SCRAM_DEFAULT_ITERATIONS,
    };
  }
}
