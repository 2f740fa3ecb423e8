/**
 * SCRAM credentials (RFC 5802): derivation from a password or a salted password, the
 * broker's durable store in `<dataDir>/scram-credentials.json`, and the `--add-scram`
 * argument syntax of Kafka's `kafka-storage format`.
 *
 * The store holds only salt, StoredKey, ServerKey and iterations, never a password or a
 * salted password: StoredKey/ServerKey let the broker verify a client but not act as one.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { Logger } from '../logging';
import { writeFileAtomic } from '../storage/file-io';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface ScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

export const SCRAM_MECHANISMS: readonly ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Kafka's bounds on SCRAM iteration counts (the same for both mechanisms). */
export const SCRAM_MIN_ITERATIONS = 4096;
export const SCRAM_MAX_ITERATIONS = 16384;
export const SCRAM_DEFAULT_ITERATIONS = 4096;

const HASHES: Record<ScramMechanism, { name: string; length: number; type: number }> = {
  'SCRAM-SHA-256': { name: 'sha256', length: 32, type: 1 },
  'SCRAM-SHA-512': { name: 'sha512', length: 64, type: 2 },
};

export function isScramMechanism(s: string): s is ScramMechanism {
  return s === 'SCRAM-SHA-256' || s === 'SCRAM-SHA-512';
}

/** The hash behind a mechanism: node's digest name and its output length in bytes. */
export function scramHash(mechanism: ScramMechanism): { name: string; length: number } {
  return HASHES[mechanism];
}

/** The int8 the admin APIs use for a mechanism (Kafka's ScramMechanism type: 1 and 2). */
export function scramMechanismType(mechanism: ScramMechanism): number {
  return HASHES[mechanism].type;
}

/** The mechanism for an admin-API int8, or null for UNKNOWN (0) and anything else. */
export function scramMechanismFromType(type: number): ScramMechanism | null {
  for (const m of SCRAM_MECHANISMS) if (HASHES[m].type === type) return m;
  return null;
}

export function scramHmac(mechanism: ScramMechanism, key: Buffer, data: Buffer | string): Buffer {
  return crypto.createHmac(HASHES[mechanism].name, key).update(data).digest();
}

export function scramDigest(mechanism: ScramMechanism, data: Buffer): Buffer {
  return crypto.createHash(HASHES[mechanism].name).update(data).digest();
}

/**
 * SaltedPassword = Hi(password, salt, i), which is PBKDF2 with HMAC-H. Like Kafka, the
 * password's UTF-8 bytes are used as they are (no SASLprep).
 */
export function scramSaltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  const h = HASHES[mechanism];
  return crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, h.length, h.name);
}

export function scramCredentialFromSaltedPassword(
  mechanism: ScramMechanism,
  saltedPassword: Buffer,
  salt: Buffer,
  iterations: number,
): ScramCredential {
  const clientKey = scramHmac(mechanism, saltedPassword, 'Client Key');
  return {
    salt: Buffer.from(salt),
    storedKey: scramDigest(mechanism, clientKey),
    serverKey: scramHmac(mechanism, saltedPassword, 'Server Key'),
    iterations,
  };
}

export function scramCredentialFromPassword(
  mechanism: ScramMechanism,
  password: string,
  iterations: number,
  salt: Buffer = crypto.randomBytes(32),
): ScramCredential {
  if (!Number.isInteger(iterations) || iterations < 1) throw new Error(`SCRAM iterations must be a positive integer, got ${iterations}`);
  return scramCredentialFromSaltedPassword(mechanism, scramSaltedPassword(mechanism, password, salt, iterations), salt, iterations);
}

interface StoredCredentialJson {
  salt: string;
  storedKey: string;
  serverKey: string;
  iterations: number;
}

interface StoreFileJson {
  version: 1;
  users: Record<string, Partial<Record<ScramMechanism, StoredCredentialJson>>>;
}

const FILE_NAME = 'scram-credentials.json';

/**
 * Durable SCRAM credentials, one per (user, mechanism). Every change rewrites the whole
 * file atomically, so a crash leaves either the old or the new set, never a mix.
 */
export class ScramCredentialStore {
  readonly file: string;
  private readonly users = new Map<string, Map<ScramMechanism, ScramCredential>>();

  constructor(dataDir: string, private readonly log: Logger) {
    this.file = path.join(dataDir, FILE_NAME);
    this.load();
  }

  get(user: string, mechanism: ScramMechanism): ScramCredential | null {
    return this.users.get(user)?.get(mechanism) ?? null;
  }

  upsert(user: string, mechanism: ScramMechanism, credential: ScramCredential): void {
    this.apply([], [{ user, mechanism, credential }]);
  }

  /** Removes one credential; false when there was none. */
  delete(user: string, mechanism: ScramMechanism): boolean {
    if (!this.get(user, mechanism)) return false;
    this.apply([{ user, mechanism }], []);
    return true;
  }

  /**
   * Deletes then upserts, and writes the file once, so that one admin request lands
   * entirely or not at all. Deleting a credential that does not exist is a no-op here.
   */
  apply(
    deletions: { user: string; mechanism: ScramMechanism }[],
    upsertions: { user: string; mechanism: ScramMechanism; credential: ScramCredential }[],
  ): void {
    const before = this.snapshot();
    try {
      for (const { user, mechanism } of deletions) {
        const byMech = this.users.get(user);
        if (!byMech) continue;
        byMech.delete(mechanism);
        if (byMech.size === 0) this.users.delete(user);
      }
      for (const { user, mechanism, credential } of upsertions) {
        let byMech = this.users.get(user);
        if (!byMech) this.users.set(user, (byMech = new Map()));
        byMech.set(mechanism, {
          salt: Buffer.from(credential.salt),
          storedKey: Buffer.from(credential.storedKey),
          serverKey: Buffer.from(credential.serverKey),
          iterations: credential.iterations,
        });
      }
      this.save();
    } catch (e) {
      // Memory must keep matching the file when the write fails.
      this.users.clear();
      for (const [u, m] of before) this.users.set(u, m);
      throw e;
    }
    for (const { user, mechanism } of deletions) this.log.info('SCRAM credential deleted', { user, mechanism });
    for (const { user, mechanism } of upsertions) this.log.info('SCRAM credential set', { user, mechanism });
  }

  private snapshot(): Map<string, Map<ScramMechanism, ScramCredential>> {
    const copy = new Map<string, Map<ScramMechanism, ScramCredential>>();
    for (const [u, m] of this.users) copy.set(u, new Map(m));
    return copy;
  }

  /** Every user with at least one credential, with its mechanisms and iteration counts. */
  describe(): Map<string, { mechanism: ScramMechanism; iterations: number }[]> {
    const out = new Map<string, { mechanism: ScramMechanism; iterations: number }[]>();
    for (const [user, byMech] of this.users) {
      const infos: { mechanism: ScramMechanism; iterations: number }[] = [];
      for (const m of SCRAM_MECHANISMS) {
        const c = byMech.get(m);
        if (c) infos.push({ mechanism: m, iterations: c.iterations });
      }
      out.set(user, infos);
    }
    return out;
  }

  private load(): void {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    // A damaged file must stop the broker: silently starting with no credentials would lock every SCRAM user out.
    let parsed: StoreFileJson;
    try {
      parsed = JSON.parse(text) as StoreFileJson;
    } catch {
      throw new Error(`${this.file} is not valid JSON`);
    }
    if (!parsed || parsed.version !== 1 || typeof parsed.users !== 'object' || parsed.users === null) {
      throw new Error(`${this.file}: unsupported format (expected {"version":1,"users":{...}})`);
    }
    for (const [user, byMechJson] of Object.entries(parsed.users)) {
      const byMech = new Map<ScramMechanism, ScramCredential>();
      for (const [mech, c] of Object.entries(byMechJson ?? {})) {
        if (!isScramMechanism(mech)) throw new Error(`${this.file}: unknown mechanism ${mech} for user ${user}`);
        if (
          !c ||
          typeof c.salt !== 'string' ||
          typeof c.storedKey !== 'string' ||
          typeof c.serverKey !== 'string' ||
          !Number.isInteger(c.iterations) ||
          c.iterations < 1
        ) {
          throw new Error(`${this.file}: malformed ${mech} credential for user ${user}`);
        }
        byMech.set(mech, {
          salt: Buffer.from(c.salt, 'base64'),
          storedKey: Buffer.from(c.storedKey, 'base64'),
          serverKey: Buffer.from(c.serverKey, 'base64'),
          iterations: c.iterations,
        });
      }
      if (byMech.size > 0) this.users.set(user, byMech);
    }
  }

  private save(): void {
    // A null-prototype object keeps a user named __proto__ an ordinary key.
    const out: StoreFileJson = { version: 1, users: Object.create(null) };
    for (const [user, byMech] of this.users) {
      const entry: Partial<Record<ScramMechanism, StoredCredentialJson>> = {};
      for (const [m, c] of byMech) {
        entry[m] = {
          salt: c.salt.toString('base64'),
          storedKey: c.storedKey.toString('base64'),
          serverKey: c.serverKey.toString('base64'),
          iterations: c.iterations,
        };
      }
      out.users[user] = entry;
    }
    writeFileAtomic(this.file, JSON.stringify(out, null, 2) + '\n');
    // The keys allow verifying (not impersonating) users, but still are nobody else's business.
    fs.chmodSync(this.file, 0o600);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (Buffer.from ignores junk silently); null when invalid. */
export function decodeBase64Strict(s: string): Buffer | null {
  return BASE64.test(s) ? Buffer.from(s, 'base64') : null;
}

/** Splits "k=v,k2=\"v,2\"" on commas outside double quotes; the quotes are removed. */
function splitAddScramComponents(body: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  let i = 0;
  while (i < body.length) {
    const eq = body.indexOf('=', i);
    const comma = body.indexOf(',', i);
    if (eq < 0 || (comma >= 0 && comma < eq)) {
      const end = comma < 0 ? body.length : comma;
      throw new Error(`--add-scram: no '=' in component '${body.slice(i, end).trim()}'`);
    }
    const key = body.slice(i, eq).trim();
    if (key === '') throw new Error('--add-scram: a component has an empty key');
    let j = eq + 1;
    while (j < body.length && body[j] === ' ') j++;
    let value: string;
    if (body[j] === '"') {
      const close = body.indexOf('"', j + 1);
      if (close < 0) throw new Error(`--add-scram: unterminated quoted value for '${key}'`);
      value = body.slice(j + 1, close);
      j = close + 1;
      while (j < body.length && body[j] === ' ') j++;
      if (j < body.length && body[j] !== ',') throw new Error(`--add-scram: unexpected text after the quoted value of '${key}'`);
    } else {
      const end = body.indexOf(',', j);
      value = body.slice(j, end < 0 ? body.length : end).trim();
      j = end < 0 ? body.length : end;
    }
    out.push({ key, value });
    i = j + 1;
    if (j < body.length && i === body.length) throw new Error('--add-scram: trailing comma');
  }
  return out;
}

/**
 * Parses one `--add-scram` argument, as Kafka's `kafka-storage format --add-scram` takes it:
 * `SCRAM-SHA-256=[name=alice,password=alice-secret]`, with keys name (required), password or
 * saltedpassword (exactly one; base64 salted password needs salt), salt (base64; random when
 * absent), iterations (4096..16384, default 4096). Values may be wrapped in double quotes.
 * Errors never quote a password.
 */
export function parseAddScram(arg: string): { user: string; mechanism: ScramMechanism; credential: ScramCredential } {
  const input = arg.trim();
  const eq = input.indexOf('=');
  if (eq < 0) throw new Error(`--add-scram: expected MECHANISM=[name=...,password=...], found no '='`);
  const mechName = input.slice(0, eq).trim();
  if (!isScramMechanism(mechName)) {
    throw new Error(`--add-scram: mechanism '${mechName}' is not supported (use SCRAM-SHA-256 or SCRAM-SHA-512)`);
  }
  const rest = input.slice(eq + 1).trim();
  if (!rest.startsWith('[')) throw new Error('--add-scram: expected the configuration to start with [');
  if (!rest.endsWith(']')) throw new Error('--add-scram: expected the configuration to end with ]');
  const fields = new Map<string, string>();
  for (const { key, value } of splitAddScramComponents(rest.slice(1, -1))) {
    if (!['name', 'password', 'saltedpassword', 'salt', 'iterations'].includes(key)) {
      throw new Error(`--add-scram: unknown key '${key}' (expected name, password, saltedpassword, salt, iterations)`);
    }
    if (fields.has(key)) throw new Error(`--add-scram: '${key}' given twice`);
    fields.set(key, value);
  }
  const user = fields.get('name');
  if (user === undefined) throw new Error("--add-scram: 'name' is required");
  if (user === '') throw new Error("--add-scram: 'name' must not be empty");

  let salt: Buffer | undefined;
  const saltText = fields.get('salt');
  if (saltText !== undefined) {
    const decoded = decodeBase64Strict(saltText);
    if (!decoded || decoded.length === 0) throw new Error(`--add-scram: salt '${saltText}' is not valid non-empty base64`);
    salt = decoded;
  }

  let iterations = SCRAM_DEFAULT_ITERATIONS;
  const itText = fields.get('iterations');
  if (itText !== undefined) {
    if (!/^\d+$/.test(itText)) throw new Error(`--add-scram: iterations '${itText}' is not a number`);
    iterations = Number(itText);
  }
  if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) {
    throw new Error(`--add-scram: iterations must be between ${SCRAM_MIN_ITERATIONS} and ${SCRAM_MAX_ITERATIONS} for ${mechName}, got ${iterations}`);
  }

  const password = fields.get('password');
  const saltedText = fields.get('saltedpassword');
  if (password !== undefined && saltedText !== undefined) throw new Error("--add-scram: give either 'password' or 'saltedpassword', not both");
  if (password === undefined && saltedText === undefined) throw new Error("--add-scram: one of 'password' or 'saltedpassword' is required");

  let credential: ScramCredential;
  if (saltedText !== undefined) {
    if (!salt) throw new Error("--add-scram: 'saltedpassword' needs 'salt'");
    const salted = decodeBase64Strict(saltedText);
    if (!salted || salted.length === 0) throw new Error("--add-scram: 'saltedpassword' is not valid non-empty base64");
    credential = scramCredentialFromSaltedPassword(mechName, salted, salt, iterations);
  } else {
    if (password === '') throw new Error("--add-scram: 'password' must not be empty");
    credential = scramCredentialFromPassword(mechName, password as string, iterations, salt);
  }
  return { user, mechanism: mechName, credential };
}
