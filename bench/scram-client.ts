/**
 * The bench's SASL logins on a WireClient: SaslHandshake, then PLAIN or SCRAM (RFC 5802)
 * through SaslAuthenticate. PBKDF2 runs with async crypto.pbkdf2 (libuv's thread pool), so
 * concurrent logins in one process are not serialised on its main thread.
 */
import * as crypto from 'crypto';
import { promisify } from 'util';
import { WireClient } from './wire';

const pbkdf2 = promisify(crypto.pbkdf2);
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;

async function handshake(c: WireClient, mechanism: string): Promise<void> {
  const h = await c.request<{ errorCode: number }>(SASL_HANDSHAKE, 1, { mechanism });
  if (h.errorCode !== 0) throw new Error(`SaslHandshake ${mechanism}: error ${h.errorCode}`);
}

async function authenticate(c: WireClient, token: Buffer): Promise<Buffer> {
  const r = await c.request<{ errorCode: number; errorMessage: string | null; authBytes: Buffer }>(SASL_AUTHENTICATE, 2, { authBytes: token });
  if (r.errorCode !== 0) throw new Error(`SaslAuthenticate: error ${r.errorCode} ${r.errorMessage ?? ''}`);
  return r.authBytes;
}

export async function plainLogin(c: WireClient, user: string, password: string): Promise<void> {
  await handshake(c, 'PLAIN');
  await authenticate(c, Buffer.from(`\0${user}\0${password}`));
}

/**
 * Salted passwords by salt and iterations, for `cache`: RFC 5802 allows a client to keep
 * SaltedPassword; with it the client skips PBKDF2 and the broker's side dominates.
 */
const salted = new Map<string, Buffer>();

export async function scramSha512Login(c: WireClient, user: string, password: string, cache = false): Promise<void> {
  await handshake(c, 'SCRAM-SHA-512');
  const nonce = crypto.randomBytes(18).toString('base64');
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  const serverFirst = (await authenticate(c, Buffer.from(`n,,${bare}`))).toString();
  const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as [string, string]));
  const r = attrs.get('r') ?? '';
  const s = attrs.get('s') ?? '';
  const i = Number(attrs.get('i'));
  if (!r.startsWith(nonce) || !s || !(i > 0)) throw new Error(`bad server-first message: ${serverFirst}`);
  const key = `${s},${i}`;
  let sp = cache ? salted.get(key) : undefined;
  if (!sp) {
    sp = await pbkdf2(password, Buffer.from(s, 'base64'), i, 64, 'sha512');
    if (cache) salted.set(key, sp);
  }
  const hmac = (k: Buffer, d: string) => crypto.createHmac('sha512', k).update(d).digest();
  const clientKey = hmac(sp, 'Client Key');
  const storedKey = crypto.createHash('sha512').update(clientKey).digest();
  const withoutProof = `c=biws,r=${r}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;
  const signature = hmac(storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((b, k) => b ^ signature[k]));
  const serverFinal = (await authenticate(c, Buffer.from(`${withoutProof},p=${proof.toString('base64')}`))).toString();
  const expected = `v=${hmac(hmac(sp, 'Server Key'), authMessage).toString('base64')}`;
  if (serverFinal !== expected) throw new Error(`server signature mismatch: ${serverFinal}`);
}
