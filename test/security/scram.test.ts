import * as crypto from 'crypto';
import { ScramServer, ScramLookup } from '../../src/security/sasl/scram';
import { SaslAuthenticationError } from '../../src/security/sasl/mechanism';
import { userPrincipal } from '../../src/security/principal';
import {
  ScramMechanism,
  scramCredentialFromPassword,
  scramDigest,
  scramHmac,
  scramSaltedPassword,
} from '../../src/security/scram-credentials';

/** A small RFC 5802 client, written from the RFC, to drive the server. */
class TestScramClient {
  readonly nonce = crypto.randomBytes(18).toString('base64');
  private clientFirstBare = '';
  private serverFirst = '';
  private saltedPassword = Buffer.alloc(0);
  private authMessage = '';

  constructor(
    readonly mechanism: ScramMechanism,
    readonly user: string,
    readonly password: string,
    readonly gs2 = 'n,,',
    readonly extensions = '',
  ) {}

  first(): Buffer {
    const name = this.user.replace(/=/g, '=3D').replace(/,/g, '=2C');
    this.clientFirstBare = `n=${name},r=${this.nonce}${this.extensions}`;
    return Buffer.from(this.gs2 + this.clientFirstBare);
  }

  final(serverFirst: Buffer, override: { nonce?: string; binding?: string; proof?: string } = {}): Buffer {
    this.serverFirst = serverFirst.toString();
    const attrs = Object.fromEntries(this.serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
    const salt = Buffer.from(attrs.s!, 'base64');
    this.saltedPassword = scramSaltedPassword(this.mechanism, this.password, salt, Number(attrs.i));
    const withoutProof = `c=${override.binding ?? Buffer.from(this.gs2).toString('base64')},r=${override.nonce ?? attrs.r}`;
    this.authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientKey = scramHmac(this.mechanism, this.saltedPassword, 'Client Key');
    const signature = scramHmac(this.mechanism, scramDigest(this.mechanism, clientKey), this.authMessage);
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    return Buffer.from(`${withoutProof},p=${override.proof ?? proof.toString('base64')}`);
  }

  expectedServerFinal(): string {
    const serverKey = scramHmac(this.mechanism, this.saltedPassword, 'Server Key');
    return `v=${scramHmac(this.mechanism, serverKey, this.authMessage).toString('base64')}`;
  }
}

const FAILED = (m: string) => `Authentication failed during authentication due to invalid credentials with SASL mechanism ${m}`;

describe.each<ScramMechanism>(['SCRAM-SHA-256', 'SCRAM-SHA-512'])('%s server', (mechanism) => {
  const alice = scramCredentialFromPassword(mechanism, 'alice-secret', 4096);
  const calls: [string, boolean][] = [];
  const lookup: ScramLookup = (username, tokenAuth) => {
    calls.push([username, tokenAuth]);
    if (username === 'alice' && !tokenAuth) return { credential: alice, principal: userPrincipal('alice'), expiresAtMs: null };
    if (username === 'a,b=c' && !tokenAuth) return { credential: alice, principal: userPrincipal('a,b=c'), expiresAtMs: null };
    if (username === 'token-1' && tokenAuth) {
      return { credential: alice, principal: userPrincipal('owner', 'token-1'), expiresAtMs: 1_700_000_000_000 };
    }
    return null;
  };
  beforeEach(() => (calls.length = 0));

  test('full exchange succeeds and the server signature matches', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const serverFirst = server.evaluate(client.first());
    expect(serverFirst.toString()).toMatch(new RegExp(`^r=${client.nonce.replace(/[+/]/g, '\\$&')}[^,]+,s=[A-Za-z0-9+/=]+,i=4096$`));
    expect(server.complete).toBe(false);
    const serverFinal = server.evaluate(client.final(serverFirst));
    expect(serverFinal.toString()).toBe(client.expectedServerFinal());
    expect(server.complete).toBe(true);
    expect(server.principal).toEqual(userPrincipal('alice'));
    expect(server.credentialExpiresAtMs).toBeNull();
    expect(() => server.evaluate(Buffer.from('x'))).toThrow(SaslAuthenticationError);
  });

  test('usernames decode =2C and =3D; y channel-binding flag and matching authzid accepted', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'a,b=c', 'alice-secret', 'y,a=a=2Cb=3Dc,');
    const serverFirst = server.evaluate(client.first());
    expect(calls).toEqual([['a,b=c', false]]);
    server.evaluate(client.final(serverFirst));
    expect(server.principal).toEqual(userPrincipal('a,b=c'));
  });

  test('wrong password fails at the proof with the Kafka message', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'alice', 'wrong');
    const serverFirst = server.evaluate(client.first());
    expect(() => server.evaluate(client.final(serverFirst))).toThrow(FAILED(mechanism));
    expect(server.complete).toBe(false);
    expect(server.principal).toBeNull();
  });

  test('unknown user gets a stable fake salt and the same failure as a wrong password', () => {
    const s1 = new ScramServer(mechanism, lookup);
    const c1 = new TestScramClient(mechanism, 'mallory', 'x');
    const first1 = s1.evaluate(c1.first());
    expect(first1.toString()).toMatch(/,s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(() => s1.evaluate(c1.final(first1))).toThrow(FAILED(mechanism));
    const s2 = new ScramServer(mechanism, lookup);
    const first2 = s2.evaluate(new TestScramClient(mechanism, 'mallory', 'x').first());
    const salt = (b: Buffer) => /,s=([^,]+),/.exec(b.toString())![1];
    expect(salt(first2)).toBe(salt(first1));
  });

  test('tokenauth=true reaches the lookup and sets the token principal and expiry', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'token-1', 'alice-secret', 'n,,', ',tokenauth=true');
    const serverFirst = server.evaluate(client.first());
    expect(calls).toEqual([['token-1', true]]);
    server.evaluate(client.final(serverFirst));
    expect(server.principal).toEqual({ type: 'User', name: 'owner', tokenId: 'token-1' });
    expect(server.credentialExpiresAtMs).toBe(1_700_000_000_000);
  });

  test('a nonce other than the combined one is refused', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const serverFirst = server.evaluate(client.first());
    expect(() => server.evaluate(client.final(serverFirst, { nonce: client.nonce + 'other' }))).toThrow(/nonce does not match/);
  });

  test("librdkafka's nonce (client nonce + combined nonce) is accepted, as Kafka does", () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const serverFirst = server.evaluate(client.first());
    const combined = /r=([^,]+)/.exec(serverFirst.toString())![1];
    server.evaluate(client.final(serverFirst, { nonce: client.nonce + combined }));
    expect(server.complete).toBe(true);
  });

  test('bad base64 in proof or channel binding is refused', () => {
    const s1 = new ScramServer(mechanism, lookup);
    const c1 = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const f1 = s1.evaluate(c1.first());
    expect(() => s1.evaluate(c1.final(f1, { proof: 'not*base64!' }))).toThrow(/proof is not valid base64/);
    const s2 = new ScramServer(mechanism, lookup);
    const c2 = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const f2 = s2.evaluate(c2.first());
    expect(() => s2.evaluate(c2.final(f2, { binding: '%%%' }))).toThrow(/channel binding is not valid base64/);
  });

  test('a channel-binding value other than the GS2 header is refused', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const serverFirst = server.evaluate(client.first());
    expect(() => server.evaluate(client.final(serverFirst, { binding: Buffer.from('y,,').toString('base64') }))).toThrow(
      /channel binding does not match/,
    );
  });

  test.each([
    ['', /missing GS2 header/],
    ['n,,', /expected n=<user>,r=<nonce>/],
    ['n,,r=abc,n=alice', /expected n=<user>,r=<nonce>/],
    ['p=tls-unique,,n=alice,r=abc', /channel binding is not supported/],
    ['x,,n=alice,r=abc', /bad channel binding flag/],
    ['n,a=bob,n=alice,r=abc', /authorization id that is different/],
    ['n,,n=al=4Bce,r=abc', /'=' must be followed by 2C or 3D/],
    ['n,,m=ext,n=alice,r=abc', /mandatory extensions/],
    ['n,,n=,r=abc', /empty username/],
  ])('malformed client-first %j is refused', (msg, error) => {
    const server = new ScramServer(mechanism, lookup);
    expect(() => server.evaluate(Buffer.from(msg))).toThrow(error);
    expect(() => server.evaluate(Buffer.from(msg))).toThrow(/already failed/);
  });

  test('invalid UTF-8 is refused', () => {
    expect(() => new ScramServer(mechanism, lookup).evaluate(Buffer.from([0x6e, 0x2c, 0x2c, 0xff]))).toThrow(/not valid UTF-8/);
  });

  test.each([
    ['c=biws,r=x', /missing proof/],
    ['r=x,c=biws,p=AAAA', /expected c=<binding>,r=<nonce>/],
  ])('malformed client-final %j is refused', (msg, error) => {
    const server = new ScramServer(mechanism, lookup);
    server.evaluate(new TestScramClient(mechanism, 'alice', 'alice-secret').first());
    expect(() => server.evaluate(Buffer.from(msg))).toThrow(error);
  });

  test('a proof of the wrong length fails as invalid credentials', () => {
    const server = new ScramServer(mechanism, lookup);
    const client = new TestScramClient(mechanism, 'alice', 'alice-secret');
    const serverFirst = server.evaluate(client.first());
    expect(() => server.evaluate(client.final(serverFirst, { proof: 'AAAA' }))).toThrow(FAILED(mechanism));
  });
});

test('RFC 7677 SCRAM-SHA-256 test vector', () => {
  const credential = scramCredentialFromPassword('SCRAM-SHA-256', 'pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  const server = new ScramServer(
    'SCRAM-SHA-256',
    (u) => (u === 'user' ? { credential, principal: userPrincipal('user'), expiresAtMs: null } : null),
    { serverNonce: () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0' },
  );
  const serverFirst = server.evaluate(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
  expect(serverFirst.toString()).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const serverFinal = server.evaluate(
    Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='),
  );
  expect(serverFinal.toString()).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  expect(server.complete).toBe(true);
  expect(server.principal).toEqual(userPrincipal('user'));
});
