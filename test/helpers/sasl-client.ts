/**
 * Client side of SASL for raw-protocol tests: SaslHandshake + SaslAuthenticate with PLAIN
 * or SCRAM (RFC 5802, with Kafka's tokenauth extension for delegation tokens), so tests can
 * drive exact messages and read exact answers.
 */
import * as crypto from 'crypto';
import { RawClient } from './raw-client';

export const SASL_HANDSHAKE = 17;
export const SASL_AUTHENTICATE = 36;

export interface AuthenticateAnswer {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  sessionLifetimeMs: number;
}

export async function handshake(c: RawClient, mechanism: string, version = 1): Promise<{ errorCode: number; mechanisms: string[] }> {
  return (await c.request(SASL_HANDSHAKE, version, { mechanism })).body;
}

export async function authenticate(c: RawClient, token: Buffer, version = 2): Promise<AuthenticateAnswer> {
  return (await c.request(SASL_AUTHENTICATE, version, { authBytes: token })).body;
}

export async function plainLogin(c: RawClient, user: string, password: string, version = 2): Promise<AuthenticateAnswer> {
  const h = await handshake(c, 'PLAIN');
  if (h.errorCode !== 0) throw new Error(`handshake failed: ${h.errorCode}`);
  return authenticate(c, Buffer.from(`\0${user}\0${password}`), version);
}

const hashOf = (mechanism: string) => (mechanism === 'SCRAM-SHA-512' ? 'sha512' : 'sha256');

/** Runs a full SCRAM exchange; returns the last answer (the server-final one on success). */
export async function scramLogin(
  c: RawClient,
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
  user: string,
  password: string,
  opts: { tokenAuth?: boolean; skipHandshake?: boolean } = {},
): Promise<AuthenticateAnswer> {
  if (!opts.skipHandshake) {
    const h = await handshake(c, mechanism);
    if (h.errorCode !== 0) throw new Error(`handshake failed: ${h.errorCode}`);
  }
  const hash = hashOf(mechanism);
  const clientNonce = crypto.randomBytes(18).toString('base64');
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${clientNonce}${opts.tokenAuth ? ',tokenauth=true' : ''}`;
  const first = await authenticate(c, Buffer.from(`n,,${bare}`));
  if (first.errorCode !== 0) return first;
  const serverFirst = first.authBytes.toString();
  const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
  const salted = crypto.pbkdf2Sync(password, Buffer.from(attrs.s, 'base64'), Number(attrs.i), hash === 'sha512' ? 64 : 32, hash);
  const clientKey = crypto.createHmac(hash, salted).update('Client Key').digest();
  const storedKey = crypto.createHash(hash).update(clientKey).digest();
  const withoutProof = `c=biws,r=${attrs.r}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = crypto.createHmac(hash, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
  const final = await authenticate(c, Buffer.from(`${withoutProof},p=${proof.toString('base64')}`));
  if (final.errorCode !== 0) return final;
  const serverKey = crypto.createHmac(hash, salted).update('Server Key').digest();
  const expected = crypto.createHmac(hash, serverKey).update(authMessage).digest('base64');
  if (final.authBytes.toString() !== `v=${expected}`) throw new Error(`server signature mismatch: ${final.authBytes.toString()}`);
  return final;
}

/** The salted password a client sends in AlterUserScramCredentials. */
export function saltedPassword(mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-512', password: string, salt: Buffer, iterations: number): Buffer {
  const hash = hashOf(mechanism);
  return crypto.pbkdf2Sync(password, salt, iterations, hash === 'sha512' ? 64 : 32, hash);
}
