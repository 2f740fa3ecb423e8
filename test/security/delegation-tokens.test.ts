/**
 * DelegationTokenStore: Kafka's create/renew/expire/describe rules and error codes, the
 * lifetime caps, expiry and its sweep, persistence across a reopen with no secret in the
 * file, the SCRAM credentials of a token, and the disabled state without a secret key.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DelegationTokenStore, TOKEN_FILE, TOKEN_SCRAM_ITERATIONS } from '../../src/security/delegation-tokens';
import { ErrorCode } from '../../src/protocol/errors';
import type { Logger } from '../../src/logging';
import { KafkaPrincipal, userPrincipal } from '../../src/security/principal';

const SECRET = 'token-secret-for-tests';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = 1_700_000_000_000;

const alice = userPrincipal('alice');
const bob = userPrincipal('bob');
const carol = userPrincipal('carol');
const admin = userPrincipal('admin');

function settings(values: Record<string, string>) {
  return {
    get: (name: string) => values[name] ?? null,
    number: (name: string, fallback: number) => (values[name] === undefined ? fallback : Number(values[name])),
  };
}

/** A logger that keeps every line, so tests can check what reached the log. */
function captureLogger(lines: string[]): Logger {
  const make = (base: object): Logger => {
    const emit = (level: string) => (msg: string, fields?: object) => lines.push(JSON.stringify({ level, msg, ...base, ...fields }));
    return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), child: (f) => make({ ...base, ...f }) };
  };
  return make({});
}

describe('DelegationTokenStore', () => {
  let dir: string;
  let lines: string[];
  const stores: DelegationTokenStore[] = [];

  function open(values: Record<string, string> = { 'delegation.token.secret.key': SECRET }): DelegationTokenStore {
    const s = new DelegationTokenStore(dir, settings(values), captureLogger(lines));
    stores.push(s);
    return s;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-tokens-'));
    lines = [];
  });

  afterEach(() => {
    for (const s of stores.splice(0)) s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('without a secret key', () => {
    test('every operation answers DELEGATION_TOKEN_AUTH_DISABLED and nothing is written', () => {
      const s = open({});
      expect(s.enabled).toBe(false);
      expect(s.create(alice, alice, [], -1, NOW)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, token: null });
      const hmac = crypto.randomBytes(64);
      expect(s.renew(hmac, -1, alice, NOW)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, expiryTimestamp: -1 });
      expect(s.expire(hmac, -1, alice, NOW)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, expiryTimestamp: -1 });
      expect(s.describe(null, alice)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED, tokens: [] });
      expect(fs.existsSync(path.join(dir, TOKEN_FILE))).toBe(false);
    });

    test('an empty secret key also leaves tokens disabled', () => {
      expect(open({ 'delegation.token.secret.key': '' }).enabled).toBe(false);
    });

    test('tokens created while enabled stay on disk but are not served while disabled', () => {
      const created = open().create(alice, alice, [], -1, Date.now()).token!;
      const disabled = open({});
      expect(disabled.scramCredentialForToken(created.tokenId, 'SCRAM-SHA-256')).toBeNull();
      expect(open().describe(null, alice).tokens.map((t) => t.tokenId)).toEqual([created.tokenId]);
    });

    test('the older name delegation.token.master.key enables tokens too', () => {
      const s = open({ 'delegation.token.master.key': SECRET });
      const t = s.create(alice, alice, [], -1, NOW).token!;
      expect(t.hmac.equals(crypto.createHmac('sha512', SECRET).update(t.tokenId).digest())).toBe(true);
    });
  });

  describe('create', () => {
    test('issues a Kafka-like id and the HMAC-SHA512 of the id keyed by the secret', () => {
      const s = open();
      const r = s.create(alice, alice, [bob], -1, NOW);
      expect(r.errorCode).toBe(ErrorCode.NONE);
      const t = r.token!;
      expect(t.tokenId).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(t.hmac.equals(crypto.createHmac('sha512', Buffer.from(SECRET, 'utf8')).update(t.tokenId, 'utf8').digest())).toBe(true);
      expect(t.owner).toEqual(alice);
      expect(t.tokenRequester).toEqual(alice);
      expect(t.renewers).toEqual([bob]);
      expect(t.issueTimestamp).toBe(NOW);
      expect(t.expiryTimestamp).toBe(NOW + DAY);
      expect(t.maxTimestamp).toBe(NOW + 7 * DAY);
      expect(s.create(alice, alice, [], -1, NOW).token!.tokenId).not.toBe(t.tokenId);
    });

    test('a requested max lifetime below the broker maximum is kept and caps the expiry', () => {
      const t = open().create(alice, alice, [], HOUR, NOW).token!;
      expect(t.maxTimestamp).toBe(NOW + HOUR);
      expect(t.expiryTimestamp).toBe(NOW + HOUR);
    });

    test('a requested max lifetime above the broker maximum is capped; zero means the maximum', () => {
      const s = open({ 'delegation.token.secret.key': SECRET, 'delegation.token.max.lifetime.ms': String(2 * DAY) });
      expect(s.create(alice, alice, [], 30 * DAY, NOW).token!.maxTimestamp).toBe(NOW + 2 * DAY);
      expect(s.create(alice, alice, [], 0, NOW).token!.maxTimestamp).toBe(NOW + 2 * DAY);
    });

    test('the owner may differ from the requester', () => {
      const t = open().create(bob, admin, [], -1, NOW).token!;
      expect(t.owner).toEqual(bob);
      expect(t.tokenRequester).toEqual(admin);
    });

    test('renewers must be User principals', () => {
      const r = open().create(alice, alice, [{ type: 'Group', name: 'ops' }], -1, NOW);
      expect(r).toEqual({ errorCode: ErrorCode.INVALID_PRINCIPAL_TYPE, token: null });
    });

    test('the token id of a token-authenticated principal is not part of its identity', () => {
      const viaToken: KafkaPrincipal = userPrincipal('alice', 'some-token');
      const t = open().create(viaToken, viaToken, [], -1, NOW).token!;
      expect(t.owner).toEqual(alice);
    });
  });

  describe('renew', () => {
    test('owner and renewers may renew; the requester alone and strangers may not', () => {
      const s = open();
      const t = s.create(bob, admin, [carol], -1, NOW).token!;
      expect(s.renew(t.hmac, HOUR, bob, NOW + 10)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: NOW + 10 + HOUR });
      expect(s.renew(t.hmac, HOUR, carol, NOW + 20)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: NOW + 20 + HOUR });
      expect(s.renew(t.hmac, HOUR, admin, NOW + 30)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH, expiryTimestamp: -1 });
      expect(s.renew(t.hmac, HOUR, alice, NOW + 30)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH, expiryTimestamp: -1 });
      expect(s.describe(null, bob).tokens[0].expiryTimestamp).toBe(NOW + 20 + HOUR);
    });

    test('the period is capped by the expiry time and the max timestamp; a non-positive one means the expiry time', () => {
      const s = open({ 'delegation.token.secret.key': SECRET, 'delegation.token.max.lifetime.ms': String(3 * DAY) });
      const t = s.create(alice, alice, [], -1, NOW).token!;
      expect(s.renew(t.hmac, 5 * DAY, alice, NOW + 1000).expiryTimestamp).toBe(NOW + 1000 + DAY);
      expect(s.renew(t.hmac, -1, alice, NOW + 2000).expiryTimestamp).toBe(NOW + 2000 + DAY);
      expect(s.renew(t.hmac, 0, alice, NOW + 3000).expiryTimestamp).toBe(NOW + 3000 + DAY);
      expect(s.renew(t.hmac, DAY, alice, NOW + 20 * HOUR).expiryTimestamp).toBe(NOW + 44 * HOUR);
      expect(s.renew(t.hmac, DAY, alice, NOW + 40 * HOUR).expiryTimestamp).toBe(NOW + 64 * HOUR);
      expect(s.renew(t.hmac, DAY, alice, NOW + 60 * HOUR)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: NOW + 3 * DAY });
    });

    test('an unknown HMAC is DELEGATION_TOKEN_NOT_FOUND', () => {
      const s = open();
      s.create(alice, alice, [], -1, NOW);
      expect(s.renew(crypto.randomBytes(64), -1, alice, NOW)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_NOT_FOUND, expiryTimestamp: -1 });
    });

    test('an expired token is DELEGATION_TOKEN_EXPIRED, checked before the owner', () => {
      const s = open();
      const t = s.create(alice, alice, [], -1, NOW).token!;
      expect(s.renew(t.hmac, -1, alice, NOW + DAY + 1)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_EXPIRED, expiryTimestamp: -1 });
      expect(s.renew(t.hmac, -1, carol, NOW + DAY + 1).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_EXPIRED);
      // At the expiry instant the token is still valid (Kafka tests expiry < now).
      expect(s.renew(t.hmac, -1, alice, NOW + DAY).errorCode).toBe(ErrorCode.NONE);
    });
  });

  describe('expire', () => {
    test('a non-negative period moves the expiry, capped at the max timestamp', () => {
      const s = open();
      const t = s.create(alice, alice, [bob], HOUR * 2, NOW).token!;
      expect(s.expire(t.hmac, 60_000, bob, NOW + 5)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: NOW + 5 + 60_000 });
      expect(s.expire(t.hmac, 10 * DAY, alice, NOW + 6)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: NOW + 2 * HOUR });
      expect(s.expire(t.hmac, 0, alice, NOW + 7)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: NOW + 7 });
      expect(s.renew(t.hmac, -1, alice, NOW + 8).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_EXPIRED);
    });

    test('a negative period removes the token at once', () => {
      const s = open();
      const t = s.create(alice, alice, [], -1, Date.now()).token!;
      expect(s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-512')).not.toBeNull();
      expect(s.expire(t.hmac, -1, alice)).toEqual({ errorCode: ErrorCode.NONE, expiryTimestamp: -1 });
      expect(s.describe(null, alice).tokens).toEqual([]);
      expect(s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-512')).toBeNull();
      expect(s.expire(t.hmac, -1, alice).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);
    });

    test('only the owner and renewers may expire', () => {
      const s = open();
      const t = s.create(bob, admin, [carol], -1, NOW).token!;
      expect(s.expire(t.hmac, -1, admin, NOW).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);
      expect(s.expire(t.hmac, -1, alice, NOW).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH);
      expect(s.expire(t.hmac, -1, carol, NOW).errorCode).toBe(ErrorCode.NONE);
    });

    test('an already expired token is DELEGATION_TOKEN_EXPIRED', () => {
      const s = open();
      const t = s.create(alice, alice, [], -1, NOW).token!;
      expect(s.expire(t.hmac, -1, alice, NOW + DAY + 1)).toEqual({ errorCode: ErrorCode.DELEGATION_TOKEN_EXPIRED, expiryTimestamp: -1 });
    });
  });

  describe('describe', () => {
    let s: DelegationTokenStore;
    let ids: Record<string, string>;
    beforeEach(() => {
      s = open();
      ids = {
        alices: s.create(alice, alice, [], -1, NOW).token!.tokenId,
        bobsByAdmin: s.create(bob, admin, [], -1, NOW).token!.tokenId,
        carolsRenewedByAlice: s.create(carol, carol, [alice], -1, NOW).token!.tokenId,
      };
    });
    const idsOf = (r: { tokens: { tokenId: string }[] }) => r.tokens.map((t) => t.tokenId).sort();

    test('a requester sees the tokens it owns, requested or may renew', () => {
      expect(idsOf(s.describe(null, alice))).toEqual([ids.alices, ids.carolsRenewedByAlice].sort());
      expect(idsOf(s.describe(null, admin))).toEqual([ids.bobsByAdmin]);
      expect(idsOf(s.describe(null, bob))).toEqual([ids.bobsByAdmin]);
      expect(s.describe(null, userPrincipal('nobody')).tokens).toEqual([]);
    });

    test('others see tokens only where mayDescribe allows', () => {
      const r = s.describe(null, userPrincipal('nobody'), (t) => t.owner.name === 'bob');
      expect(idsOf(r)).toEqual([ids.bobsByAdmin]);
      expect(idsOf(s.describe(null, userPrincipal('nobody'), () => true))).toEqual(Object.values(ids).sort());
    });

    test('the owners filter matches owner, requester or renewer; an empty list gives nothing', () => {
      const all = () => true;
      expect(idsOf(s.describe([alice], admin, all))).toEqual([ids.alices, ids.carolsRenewedByAlice].sort());
      expect(idsOf(s.describe([admin], alice, all))).toEqual([ids.bobsByAdmin]);
      expect(idsOf(s.describe([carol, bob], alice, all))).toEqual([ids.bobsByAdmin, ids.carolsRenewedByAlice].sort());
      expect(s.describe([], alice, all)).toEqual({ errorCode: ErrorCode.NONE, tokens: [] });
      expect(idsOf(s.describe([bob], alice))).toEqual([]);
    });

    test('described tokens carry their full information and HMAC', () => {
      const t = s.describe(null, alice).tokens.find((x) => x.tokenId === ids.carolsRenewedByAlice)!;
      expect(t).toMatchObject({ owner: carol, tokenRequester: carol, renewers: [alice], issueTimestamp: NOW, expiryTimestamp: NOW + DAY, maxTimestamp: NOW + 7 * DAY });
      expect(t.hmac.equals(crypto.createHmac('sha512', SECRET).update(t.tokenId).digest())).toBe(true);
    });
  });

  describe('expiry', () => {
    test('removeExpired drops tokens past their expiry or max timestamp', () => {
      const s = open();
      const short = s.create(alice, alice, [], HOUR, NOW).token!;
      const long = s.create(alice, alice, [], -1, NOW).token!;
      expect(s.removeExpired(NOW + HOUR)).toBe(0);
      expect(s.removeExpired(NOW + HOUR + 1)).toBe(1);
      expect(s.describe(null, alice).tokens.map((t) => t.tokenId)).toEqual([long.tokenId]);
      expect(s.renew(short.hmac, -1, alice, NOW + HOUR + 2).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);
    });

    test('the sweep runs every delegation.token.expiry.check.interval.ms', () => {
      jest.useFakeTimers({ now: NOW });
      try {
        const s = open({ 'delegation.token.secret.key': SECRET, 'delegation.token.expiry.check.interval.ms': '1000', 'delegation.token.expiry.time.ms': '1500' });
        s.create(alice, alice, [], -1);
        jest.advanceTimersByTime(1000);
        expect(s.describe(null, alice).tokens).toHaveLength(1);
        jest.advanceTimersByTime(1000);
        expect(s.describe(null, alice).tokens).toHaveLength(0);
        const onDisk = JSON.parse(fs.readFileSync(path.join(dir, TOKEN_FILE), 'utf8'));
        expect(onDisk.tokens).toEqual([]);
      } finally {
        jest.useRealTimers();
      }
    });

    test('an expired token that is not yet swept does not authenticate', () => {
      const s = open();
      const t = s.create(alice, alice, [], -1, NOW).token!;
      expect(s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-256', NOW + DAY)).not.toBeNull();
      expect(s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-256', NOW + DAY + 1)).toBeNull();
    });
  });

  describe('persistence', () => {
    test('tokens survive a reopen with the same HMACs; the file holds no HMAC and no secret', () => {
      const now = Date.now();
      const first = open();
      const kept = first.create(alice, admin, [bob], -1, now).token!;
      const gone = first.create(carol, carol, [], -1, now).token!;
      expect(first.renew(kept.hmac, HOUR, bob, now + 5).errorCode).toBe(ErrorCode.NONE);
      expect(first.expire(gone.hmac, -1, carol, now + 6).errorCode).toBe(ErrorCode.NONE);
      first.close();

      const text = fs.readFileSync(path.join(dir, TOKEN_FILE), 'utf8');
      expect(text).toContain(kept.tokenId);
      expect(text).not.toContain(gone.tokenId);
      expect(text).not.toContain(SECRET);
      for (const enc of ['base64', 'hex', 'base64url'] as const) expect(text).not.toContain(kept.hmac.toString(enc));

      const second = open();
      const [t] = second.describe(null, alice).tokens;
      expect(t).toEqual({ ...kept, expiryTimestamp: now + 5 + HOUR });
      expect(second.renew(kept.hmac, HOUR, alice).errorCode).toBe(ErrorCode.NONE);
      expect(second.scramCredentialForToken(kept.tokenId, 'SCRAM-SHA-256')!.owner).toEqual(alice);
    });

    test('another secret after a restart invalidates the old HMACs', () => {
      const t = open().create(alice, alice, [], -1, Date.now()).token!;
      const other = open({ 'delegation.token.secret.key': 'another-secret' });
      expect(other.renew(t.hmac, -1, alice).errorCode).toBe(ErrorCode.DELEGATION_TOKEN_NOT_FOUND);
      const [reloaded] = other.describe(null, alice).tokens;
      expect(reloaded.tokenId).toBe(t.tokenId);
      expect(reloaded.hmac.equals(crypto.createHmac('sha512', 'another-secret').update(t.tokenId).digest())).toBe(true);
    });

    test('tokens already expired at load are dropped', () => {
      const s = open();
      s.create(alice, alice, [], HOUR, Date.now() - 2 * HOUR);
      const live = s.create(alice, alice, [], -1, Date.now()).token!;
      const reopened = open();
      expect(reopened.describe(null, alice).tokens.map((t) => t.tokenId)).toEqual([live.tokenId]);
    });

    test('a corrupt file is reported and the store starts empty', () => {
      fs.writeFileSync(path.join(dir, TOKEN_FILE), '{not json');
      const s = open();
      expect(s.describe(null, alice).tokens).toEqual([]);
      expect(lines.some((l) => l.includes('cannot read delegation tokens'))).toBe(true);
    });
  });

  describe('SCRAM credentials', () => {
    function hmacSha(hash: string, key: Buffer, data: Buffer | string): Buffer {
      return crypto.createHmac(hash, key).update(data).digest();
    }

    test.each([
      ['SCRAM-SHA-256', 'sha256', 32],
      ['SCRAM-SHA-512', 'sha512', 64],
    ] as const)('%s: derived from password = base64(HMAC) as RFC 5802 says', (mechanism, hash, len) => {
      const s = open();
      const t = s.create(alice, alice, [], -1, Date.now()).token!;
      const cred = s.scramCredentialForToken(t.tokenId, mechanism)!;
      expect(cred.iterations).toBe(TOKEN_SCRAM_ITERATIONS);
      expect(cred.owner).toEqual(alice);
      expect(cred.expiresAtMs).toBe(t.expiryTimestamp);

      const password = t.hmac.toString('base64');
      const salted = crypto.pbkdf2Sync(password, cred.salt, cred.iterations, len, hash);
      const clientKey = hmacSha(hash, salted, 'Client Key');
      expect(crypto.createHash(hash).update(clientKey).digest().equals(cred.storedKey)).toBe(true);
      expect(hmacSha(hash, salted, 'Server Key').equals(cred.serverKey)).toBe(true);

      // A client proof built from the password verifies against the stored key, and a wrong password's does not.
      const authMessage = 'n=' + t.tokenId + ',r=abc,r=abcdef,s=' + cred.salt.toString('base64') + ',i=4096,c=biws,r=abcdef';
      const verify = (proof: Buffer) => {
        const signature = hmacSha(hash, cred.storedKey, authMessage);
        const recovered = Buffer.from(proof.map((b, i) => b ^ signature[i]));
        return crypto.createHash(hash).update(recovered).digest().equals(cred.storedKey);
      };
      const proofFor = (pw: string) => {
        const sp = crypto.pbkdf2Sync(pw, cred.salt, cred.iterations, len, hash);
        const ck = hmacSha(hash, sp, 'Client Key');
        const sig = hmacSha(hash, crypto.createHash(hash).update(ck).digest(), authMessage);
        return Buffer.from(ck.map((b, i) => b ^ sig[i]));
      };
      expect(verify(proofFor(password))).toBe(true);
      expect(verify(proofFor(password.slice(1)))).toBe(false);
    });

    test('unknown tokens have no credential; credentials are cached per token', () => {
      const s = open();
      expect(s.scramCredentialForToken('no-such-token', 'SCRAM-SHA-256')).toBeNull();
      const t = s.create(alice, alice, [], -1, Date.now()).token!;
      const a = s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-256')!;
      const b = s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-256')!;
      expect(a.salt.equals(b.salt)).toBe(true);
      expect(s.scramCredentialForToken(t.tokenId, 'SCRAM-SHA-512')!.storedKey).toHaveLength(64);
    });
  });

  test('no log line carries an HMAC or the secret', () => {
    const s = open();
    const t = s.create(alice, alice, [bob], -1, Date.now()).token!;
    s.renew(t.hmac, -1, bob);
    s.expire(t.hmac, 1000, alice);
    s.expire(t.hmac, -1, alice);
    expect(lines.length).toBeGreaterThan(2);
    const all = lines.join('\n');
    expect(all).toContain(t.tokenId);
    expect(all).not.toContain(SECRET);
    for (const enc of ['base64', 'hex', 'base64url'] as const) expect(all).not.toContain(t.hmac.toString(enc));
  });
});
