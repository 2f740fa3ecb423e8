/**
 * Client side of SCRAM (RFC 5802) as Kafka uses it: no channel binding ("n,,"), SHA-256 or
 * SHA-512, and the server's final signature is checked so a fake broker cannot pass.
 */
import * as crypto from 'crypto';
import { ClientError } from './errors';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export function scramHash(mechanism: ScramMechanism): { name: 'sha256' | 'sha512'; bytes: number } {
  return mechanism === 'SCRAM-SHA-512' ? { name: 'sha512', bytes: 64 } : { name: 'sha256', bytes: 32 };
}

/** Hi(password, salt, i) of RFC 5802: what AlterUserScramCredentials upserts carry. */
export function saltPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  const h = scramHash(mechanism);
  return crypto.pbkdf2Sync(Buffer.from(password.normalize('NFKC')), salt, iterations, h.bytes, h.name);
}

const escapeName = (s: string) => s.replace(/=/g, '=3D').replace(/,/g, '=2C');

/** Runs the two round trips; `step` sends one token and returns the server's answer. */
export async function scramExchange(mechanism: ScramMechanism, user: string, password: string, step: (token: Buffer) => Promise<Buffer>): Promise<void> {
  const h = scramHash(mechanism);
  const nonce = crypto.randomBytes(24).toString('base64');
  const clientFirstBare = `n=${escapeName(user)},r=${nonce}`;
  const serverFirst = (await step(Buffer.from(`n,,${clientFirstBare}`))).toString();
  const attrs = new Map(serverFirst.split(',').map((kv) => [kv.slice(0, 1), kv.slice(2)] as [string, string]));
  const r = attrs.get('r');
  const s = attrs.get('s');
  const i = Number(attrs.get('i'));
  if (!r || !s || !Number.isInteger(i) || !r.startsWith(nonce)) throw new ClientError(`invalid SCRAM server-first message: ${serverFirst}`);
  const salted = saltPassword(mechanism, password, Buffer.from(s, 'base64'), i);
  const clientKey = crypto.createHmac(h.name, salted).update('Client Key').digest();
  const storedKey = crypto.createHash(h.name).update(clientKey).digest();
  const finalWithoutProof = `c=biws,r=${r}`;
  const authMessage = `${clientFirstBare},${serverFirst},${finalWithoutProof}`;
  const signature = crypto.createHmac(h.name, storedKey).update(authMessage).digest();
  const proof = Buffer.alloc(clientKey.length);
  for (let k = 0; k < proof.length; k++) proof[k] = clientKey[k] ^ signature[k];
  const serverFinal = (await step(Buffer.from(`${finalWithoutProof},p=${proof.toString('base64')}`))).toString();
  const serverKey = crypto.createHmac(h.name, salted).update('Server Key').digest();
  const expected = crypto.createHmac(h.name, serverKey).update(authMessage).digest('base64');
  if (serverFinal !== `v=${expected}`) throw new ClientError(`SCRAM server signature does not match (${serverFinal}): the broker does not know this password`);
}
