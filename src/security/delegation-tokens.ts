/**
 * Delegation tokens as Kafka has them (KIP-48): a token is issued to an owner, identified by
 * a random id, and its password is the HMAC-SHA512 of that id keyed by the broker's
 * `delegation.token.secret.key`. Clients authenticate with SCRAM, username = token id,
 * password = base64(HMAC). Without the secret key every token operation answers
 * DELEGATION_TOKEN_AUTH_DISABLED.
 *
 * Lifetimes: a token lives at most until maxTimestamp (issue + min(requested,
 * delegation.token.max.lifetime.ms)); it expires at expiryTimestamp, which a renewal pushes
 * forward (by at most delegation.token.expiry.time.ms) but never past maxTimestamp. Expired
 * tokens never authenticate and are removed every delegation.token.expiry.check.interval.ms.
 *
 * Who may act: the owner and the renewers may renew and expire; describe shows a token to its
 * owner, its requester and its renewers, and to others when the caller's `mayDescribe` allows.
 *
 * Durable in `<dataDir>/delegation-tokens.json`, replaced atomically. The file holds token
 * information only, never an HMAC: the HMAC is recomputed from the secret at load, so the file
 * holds nothing that authenticates, and changing the secret invalidates every token.
 *   {"version":1,"tokens":[{"tokenId":"…","owner":"User:alice","tokenRequester":"User:alice",
 *    "renewers":["User:bob"],"issueTimestamp":…,"expiryTimestamp":…,"maxTimestamp":…}]}
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode } from '../protocol/errors';
import type { Logger } from '../logging';
import { writeFileAtomic } from '../storage/file-io';
import { KafkaPrincipal, parsePrincipal, principalString } from './principal';

export type TokenScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

export interface TokenSettings {
  get(name: string): string | null;
  number(name: string, fallback: number): number;
}

export interface DelegationTokenInfo {
  readonly tokenId: string;
  readonly owner: KafkaPrincipal;
  /** Who asked for the token (differs from the owner when created on the owner's behalf). */
  readonly tokenRequester: KafkaPrincipal;
  readonly renewers: readonly KafkaPrincipal[];
  readonly issueTimestamp: number;
  readonly expiryTimestamp: number;
  readonly maxTimestamp: number;
}

export interface DelegationToken extends DelegationTokenInfo {
  readonly hmac: Buffer;
}

export interface TokenScramCredential {
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
  owner: KafkaPrincipal;
  expiresAtMs: number;
}

export const TOKEN_FILE = 'delegation-tokens.json';
/** Kafka derives token SCRAM credentials with the mechanisms' minimum iteration count. */
export const TOKEN_SCRAM_ITERATIONS = 4096;

const DEFAULT_MAX_LIFETIME_MS = 604_800_000;
const DEFAULT_EXPIRY_TIME_MS = 86_400_000;
const DEFAULT_CHECK_INTERVAL_MS = 3_600_000;
/** Kafka answers failed renew/expire/create with -1 timestamps. */
const ERROR_TIMESTAMP = -1;

const SCRAM_HASH: Record<TokenScramMechanism, 'sha256' | 'sha512'> = { 'SCRAM-SHA-256': 'sha256', 'SCRAM-SHA-512': 'sha512' };

interface TokenFileEntry {
  tokenId: string;
  owner: string;
  tokenRequester: string;
  renewers: string[];
  issueTimestamp: number;
  expiryTimestamp: number;
  maxTimestamp: number;
}

interface Entry {
  info: DelegationTokenInfo;
  hmac: Buffer;
  scram: Record<TokenScramMechanism, Omit<TokenScramCredential, 'owner' | 'expiresAtMs'>>;
}

function samePrincipal(a: KafkaPrincipal, b: KafkaPrincipal): boolean {
  // Kafka's KafkaPrincipal equality is type and name; how the caller authenticated does not count.
  return a.type === b.type && a.name === b.name;
}

function plainPrincipal(p: KafkaPrincipal): KafkaPrincipal {
  return { type: p.type, name: p.name };
}

function isExpired(info: DelegationTokenInfo, nowMs: number): boolean {
  return info.maxTimestamp < nowMs || info.expiryTimestamp < nowMs;
}

/**
 * RFC 5802 server credential for `password`: SaltedPassword = PBKDF2(password, salt, i),
 * StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key").
 */
function deriveScram(password: string, hash: 'sha256' | 'sha512', iterations: number): { salt: Buffer; storedKey: Buffer; serverKey: Buffer; iterations: number } {
  const salt = crypto.randomBytes(32);
  const keyLength = hash === 'sha256' ? 32 : 64;
  const salted = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyLength, hash);
  const clientKey = crypto.createHmac(hash, salted).update('Client Key').digest();
  const storedKey = crypto.createHash(hash).update(clientKey).digest();
  const serverKey = crypto.createHmac(hash, salted).update('Server Key').digest();
  return { salt, storedKey, serverKey, iterations };
}

export class DelegationTokenStore {
  private readonly file: string;
  private readonly secret: Buffer | null;
  private readonly maxLifetimeMs: number;
  private readonly expiryTimeMs: number;
  private readonly byId = new Map<string, Entry>();
  /** base64(HMAC) -> token id: renew and expire name the token by its HMAC. */
  private readonly byHmac = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    dataDir: string,
    settings: TokenSettings,
    private readonly log: Logger,
  ) {
    this.file = path.join(dataDir, TOKEN_FILE);
    // Kafka reads the older name delegation.token.master.key when the new one is unset.
    const key = settings.get('delegation.token.secret.key') ?? settings.get('delegation.token.master.key');
    this.secret = key === null || key === '' ? null : Buffer.from(key, 'utf8');
    this.maxLifetimeMs = settings.number('delegation.token.max.lifetime.ms', DEFAULT_MAX_LIFETIME_MS);
    this.expiryTimeMs = settings.number('delegation.token.expiry.time.ms', DEFAULT_EXPIRY_TIME_MS);
    if (!this.enabled) return;
    this.load(Date.now());
    const interval = settings.number('delegation.token.expiry.check.interval.ms', DEFAULT_CHECK_INTERVAL_MS);
    this.timer = setInterval(() => this.removeExpired(Date.now()), Math.max(1, interval));
    this.timer.unref();
  }

  /** Token authentication and the token APIs work only when the secret key is set. */
  get enabled(): boolean {
    return this.secret !== null;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  create(
    owner: KafkaPrincipal,
    requester: KafkaPrincipal,
    renewers: KafkaPrincipal[],
    maxLifetimeMs: number,
    nowMs: number = Date.now(),
  ): { errorCode: number; token: DelegationToken | null } {
    if (!this.enabled) return { errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, token: null };
    // Kafka accepts only User renewers: the renewer check compares against authenticated users.
    if (renewers.some((r) => r.type !== 'User')) return { errorCode: ErrorCode.INVALID_PRINCIPAL_TYPE, token: null };
    const lifetime = maxLifetimeMs > 0 ? Math.min(maxLifetimeMs, this.maxLifetimeMs) : this.maxLifetimeMs;
    const maxTimestamp = nowMs + lifetime;
    const info: DelegationTokenInfo = {
      tokenId: this.newTokenId(),
      owner: plainPrincipal(owner),
      tokenRequester: plainPrincipal(requester),
      renewers: renewers.map(plainPrincipal),
      issueTimestamp: nowMs,
      expiryTimestamp: Math.min(maxTimestamp, nowMs + this.expiryTimeMs),
      maxTimestamp,
    };
    const entry = this.add(info);
    this.persist();
    this.log.info('delegation token created', { tokenId: info.tokenId, owner: principalString(info.owner), requester: principalString(info.tokenRequester) });
    return { errorCode: ErrorCode.NONE, token: this.toToken(entry) };
  }

  /**
   * Pushes the expiry to now + renewPeriodMs (the broker's expiry time when the period is not
   * positive, and never more than it), capped at the token's max timestamp.
   */
  renew(hmac: Buffer, renewPeriodMs: number, requester: KafkaPrincipal, nowMs: number = Date.now()): { errorCode: number; expiryTimestamp: number } {
    const found = this.findForChange(hmac, requester, nowMs);
    if ('errorCode' in found) return found;
    const period = renewPeriodMs > 0 ? Math.min(renewPeriodMs, this.expiryTimeMs) : this.expiryTimeMs;
    const expiryTimestamp = Math.min(found.info.maxTimestamp, nowMs + period);
    found.info = { ...found.info, expiryTimestamp };
    this.persist();
    this.log.info('delegation token renewed', { tokenId: found.info.tokenId, owner: principalString(found.info.owner), expiryTimestamp });
    return { errorCode: ErrorCode.NONE, expiryTimestamp };
  }

  /**
   * Sets the expiry to now + expiryPeriodMs (capped at the max timestamp); a negative period
   * removes the token at once, and then the answer's timestamp is the period itself, as
   * Kafka's controller answers.
   */
  expire(hmac: Buffer, expiryPeriodMs: number, requester: KafkaPrincipal, nowMs: number = Date.now()): { errorCode: number; expiryTimestamp: number } {
    const found = this.findForChange(hmac, requester, nowMs);
    if ('errorCode' in found) return found;
    const tokenId = found.info.tokenId;
    if (expiryPeriodMs < 0) {
      this.remove(tokenId);
      this.persist();
      this.log.info('delegation token expired', { tokenId, owner: principalString(found.info.owner) });
      return { errorCode: ErrorCode.NONE, expiryTimestamp: expiryPeriodMs };
    }
    const expiryTimestamp = Math.min(found.info.maxTimestamp, nowMs + expiryPeriodMs);
    found.info = { ...found.info, expiryTimestamp };
    this.persist();
    this.log.info('delegation token expiry changed', { tokenId, owner: principalString(found.info.owner), expiryTimestamp });
    return { errorCode: ErrorCode.NONE, expiryTimestamp };
  }

  /**
   * Tokens the requester may see: `owners` null means every owner, an empty list means none;
   * otherwise a token matches when one of the owners is its owner, requester or a renewer.
   * The requester sees its own tokens (as owner, requester or renewer) and others' when
   * `mayDescribe` says so (Kafka's DESCRIBE on the token or DESCRIBE_TOKENS on its owner).
   */
  describe(
    owners: KafkaPrincipal[] | null,
    requester: KafkaPrincipal,
    mayDescribe: (token: DelegationTokenInfo) => boolean = () => false,
  ): { errorCode: number; tokens: DelegationToken[] } {
    if (!this.enabled) return { errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, tokens: [] };
    const tokens: DelegationToken[] = [];
    if (owners !== null && owners.length === 0) return { errorCode: ErrorCode.NONE, tokens };
    for (const entry of this.byId.values()) {
      const info = entry.info;
      if (owners !== null && !owners.some((o) => involved(info, o))) continue;
      if (involved(info, requester) || mayDescribe(info)) tokens.push(this.toToken(entry));
    }
    return { errorCode: ErrorCode.NONE, tokens };
  }

  /**
   * What SCRAM needs to authenticate with a token (username = token id, password =
   * base64(HMAC)); null when tokens are disabled or the token is unknown or expired.
   */
  scramCredentialForToken(tokenId: string, mechanism: TokenScramMechanism, nowMs: number = Date.now()): TokenScramCredential | null {
    const entry = this.byId.get(tokenId);
    if (!entry || isExpired(entry.info, nowMs)) return null;
    const c = entry.scram[mechanism];
    if (!c) return null;
    return { salt: c.salt, storedKey: c.storedKey, serverKey: c.serverKey, iterations: c.iterations, owner: entry.info.owner, expiresAtMs: entry.info.expiryTimestamp };
  }

  /** Removes tokens past their expiry or max timestamp; returns how many. The timer calls this. */
  removeExpired(nowMs: number): number {
    let removed = 0;
    for (const entry of [...this.byId.values()]) {
      if (!isExpired(entry.info, nowMs)) continue;
      this.remove(entry.info.tokenId);
      this.log.info('delegation token expired', { tokenId: entry.info.tokenId, owner: principalString(entry.info.owner) });
      removed++;
    }
    if (removed > 0) this.persist();
    return removed;
  }

  // ------------------------------------------------------------ internals

  /** Kafka's order: not found, expired, then owner/renewer check. */
  private findForChange(hmac: Buffer, requester: KafkaPrincipal, nowMs: number): Entry | { errorCode: number; expiryTimestamp: number } {
    const fail = (errorCode: number) => ({ errorCode, expiryTimestamp: ERROR_TIMESTAMP });
    if (!this.enabled) return fail(ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED);
    const id = this.byHmac.get(hmac.toString('base64'));
    const entry = id === undefined ? undefined : this.byId.get(id);
    if (!entry) return fail(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);
    if (isExpired(entry.info, nowMs)) return fail(ErrorCode.DELEGATION_TOKEN_EXPIRED);
    const info = entry.info;
    if (!samePrincipal(info.owner, requester) && !info.renewers.some((r) => samePrincipal(r, requester))) {
      return fail(ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);
    }
    return entry;
  }

  private hmacOf(tokenId: string): Buffer {
    return crypto.createHmac('sha512', this.secret as Buffer).update(tokenId, 'utf8').digest();
  }

  /** 16 random bytes in URL-safe base64 without padding, as Kafka's Uuid prints; never starting with '-'. */
  private newTokenId(): string {
    for (;;) {
      const id = crypto.randomBytes(16).toString('base64url');
      if (!id.startsWith('-') && !this.byId.has(id)) return id;
    }
  }

  private add(info: DelegationTokenInfo): Entry {
    const hmac = this.hmacOf(info.tokenId);
    const password = hmac.toString('base64');
    const entry: Entry = {
      info,
      hmac,
      scram: {
        'SCRAM-SHA-256': deriveScram(password, SCRAM_HASH['SCRAM-SHA-256'], TOKEN_SCRAM_ITERATIONS),
        'SCRAM-SHA-512': deriveScram(password, SCRAM_HASH['SCRAM-SHA-512'], TOKEN_SCRAM_ITERATIONS),
      },
    };
    this.byId.set(info.tokenId, entry);
    this.byHmac.set(password, info.tokenId);
    return entry;
  }

  private remove(tokenId: string): void {
    const entry = this.byId.get(tokenId);
    if (!entry) return;
    this.byId.delete(tokenId);
    this.byHmac.delete(entry.hmac.toString('base64'));
  }

  private toToken(entry: Entry): DelegationToken {
    const i = entry.info;
    return { ...i, renewers: [...i.renewers], hmac: Buffer.from(entry.hmac) };
  }

  private load(nowMs: number): void {
    if (!fs.existsSync(this.file)) return;
    let entries: TokenFileEntry[];
    try {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as { version?: number; tokens?: TokenFileEntry[] };
      if (parsed.version !== 1 || !Array.isArray(parsed.tokens)) throw new Error(`unsupported content (version ${parsed.version})`);
      entries = parsed.tokens;
    } catch (err) {
      this.log.error('cannot read delegation tokens; starting without them', { file: this.file, error: (err as Error).message });
      return;
    }
    let dropped = 0;
    for (const e of entries) {
      const info = fromFileEntry(e);
      if (!info) {
        this.log.warn('skipping a malformed delegation token entry', { file: this.file, tokenId: typeof e?.tokenId === 'string' ? e.tokenId : null });
        dropped++;
      } else if (isExpired(info, nowMs)) {
        dropped++;
      } else {
        this.add(info);
      }
    }
    if (dropped > 0) this.persist();
  }

  private persist(): void {
    const tokens: TokenFileEntry[] = [...this.byId.values()].map(({ info }) => ({
      tokenId: info.tokenId,
      owner: principalString(info.owner),
      tokenRequester: principalString(info.tokenRequester),
      renewers: info.renewers.map(principalString),
      issueTimestamp: info.issueTimestamp,
      expiryTimestamp: info.expiryTimestamp,
      maxTimestamp: info.maxTimestamp,
    }));
    writeFileAtomic(this.file, JSON.stringify({ version: 1, tokens }, null, 1));
  }
}

/** Owner, requester or renewer of the token (Kafka's ownerOrRenewer). */
function involved(info: DelegationTokenInfo, p: KafkaPrincipal): boolean {
  return samePrincipal(info.owner, p) || samePrincipal(info.tokenRequester, p) || info.renewers.some((r) => samePrincipal(r, p));
}

function fromFileEntry(e: TokenFileEntry): DelegationTokenInfo | null {
  if (!e || typeof e.tokenId !== 'string' || e.tokenId === '') return null;
  const owner = typeof e.owner === 'string' ? parsePrincipal(e.owner) : null;
  const requester = typeof e.tokenRequester === 'string' ? parsePrincipal(e.tokenRequester) : owner;
  if (!owner || !requester || !Array.isArray(e.renewers)) return null;
  const renewers = e.renewers.map((r) => (typeof r === 'string' ? parsePrincipal(r) : null));
  if (renewers.some((r) => r === null)) return null;
  const times = [e.issueTimestamp, e.expiryTimestamp, e.maxTimestamp];
  if (!times.every((t) => typeof t === 'number' && Number.isFinite(t))) return null;
  return {
    tokenId: e.tokenId,
    owner,
    tokenRequester: requester,
    renewers: renewers as KafkaPrincipal[],
    issueTimestamp: e.issueTimestamp,
    expiryTimestamp: e.expiryTimestamp,
    maxTimestamp: e.maxTimestamp,
  };
}
