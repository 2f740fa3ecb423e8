import { OAuthBearerUnsecuredServer, OAuthBearerUnsecuredOptions } from '../../src/security/sasl/oauthbearer';
import { SaslAuthenticationError } from '../../src/security/sasl/mechanism';

const NOW = 1_700_000_000_000;
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jws = (claims: object, header: object = { alg: 'none' }) => `${b64(header)}.${b64(claims)}.`;
const clientResponse = (token: string, authzid = '', extra = '') => Buffer.from(`n,${authzid ? `a=${authzid}` : ''},\x01auth=Bearer ${token}\x01${extra}\x01`);
const valid = { sub: 'alice', iat: NOW / 1000 - 10, exp: NOW / 1000 + 3600 };

function server(options: OAuthBearerUnsecuredOptions = {}) {
  return new OAuthBearerUnsecuredServer(options, () => NOW);
}

/** Sends a token expected to be refused: the server answers with the RFC 7628 error JSON, then fails on %x01. */
function refusal(s: OAuthBearerUnsecuredServer, token: Buffer): { challenge: Record<string, string>; message: string } {
  const challenge = JSON.parse(s.evaluate(token).toString());
  expect(s.complete).toBe(false);
  let message = '';
  try {
    s.evaluate(Buffer.from([1]));
  } catch (e) {
    expect(e).toBeInstanceOf(SaslAuthenticationError);
    message = (e as Error).message;
  }
  expect(message).not.toBe('');
  return { challenge, message };
}

describe('OAUTHBEARER unsecured server', () => {
  test('a valid token authenticates; principal from sub, expiry from exp', () => {
    const s = server();
    expect(s.evaluate(clientResponse(jws(valid), '', 'extension_traceId=42\x01'))).toEqual(Buffer.alloc(0));
    expect(s.complete).toBe(true);
    expect(s.principal).toEqual({ type: 'User', name: 'alice' });
    expect(s.credentialExpiresAtMs).toBe(NOW + 3600_000);
  });

  test('librdkafka-style token: scope as an array, matching authzid, custom principal claim', () => {
    const s = server({ principalClaimName: 'user', requiredScope: ['read', 'write'] });
    s.evaluate(clientResponse(jws({ user: 'bob', iat: NOW / 1000, exp: NOW / 1000 + 60, scope: ['read', 'write', 'x'] }), 'bob'));
    expect(s.principal).toEqual({ type: 'User', name: 'bob' });
  });

  test('scope as a space-separated string under a custom claim name', () => {
    const s = server({ scopeClaimName: 'scp', requiredScope: ['write'] });
    s.evaluate(clientResponse(jws({ ...valid, scp: 'read write' })));
    expect(s.complete).toBe(true);
  });

  test('an expired token is refused, and clock skew is honoured', () => {
    const expired = { ...valid, iat: NOW / 1000 - 100, exp: NOW / 1000 - 5 };
    const r = refusal(server(), clientResponse(jws(expired)));
    expect(r.challenge).toEqual({ status: 'invalid_token' });
    expect(r.message).toMatch(/expired/);
    const lenient = server({ allowableClockSkewMs: 10_000 });
    lenient.evaluate(clientResponse(jws(expired)));
    expect(lenient.complete).toBe(true);
  });

  test('missing sub, missing exp, iat in the future', () => {
    expect(refusal(server(), clientResponse(jws({ exp: valid.exp }))).message).toMatch(/no 'sub' claim/);
    expect(refusal(server(), clientResponse(jws({ sub: 'alice' }))).message).toMatch(/no 'exp' claim/);
    expect(refusal(server(), clientResponse(jws({ sub: 42, exp: valid.exp }))).message).toMatch(/'sub' claim must be a non-empty string/);
    expect(refusal(server(), clientResponse(jws({ ...valid, iat: NOW / 1000 + 60 }))).message).toMatch(/in the future/);
  });

  test('required scope missing gives insufficient_scope', () => {
    const r = refusal(server({ requiredScope: ['admin', 'read'] }), clientResponse(jws({ ...valid, scope: 'read' })));
    expect(r.challenge).toEqual({ status: 'insufficient_scope', scope: 'admin read' });
    expect(r.message).toMatch(/lacks required value\(s\): admin/);
    expect(refusal(server({ requiredScope: ['read'] }), clientResponse(jws(valid))).message).toMatch(/lacks required/);
  });

  test('alg other than none, a signature, or a bad JWS shape are refused', () => {
    expect(refusal(server(), clientResponse(jws(valid, { alg: 'HS256' }))).message).toMatch(/'alg' must be "none"/);
    expect(refusal(server(), clientResponse(jws(valid) + 'c2ln')).message).toMatch(/empty signature/);
    expect(refusal(server(), clientResponse(`${b64({ alg: 'none' })}.${b64(valid)}`)).message).toMatch(/3 dot-separated parts/);
    expect(refusal(server(), clientResponse(`${b64({ alg: 'none' })}.bm90IGpzb24.`)).message).toMatch(/payload is not JSON/);
  });

  test('an authzid different from the principal is refused', () => {
    expect(refusal(server(), clientResponse(jws(valid), 'bob')).message).toMatch(/authorization id differs/);
  });

  test('after an error challenge anything but %x01 fails too', () => {
    const s = server();
    s.evaluate(clientResponse(jws({ sub: 'alice' })));
    expect(() => s.evaluate(Buffer.from('again'))).toThrow(/did not acknowledge/);
  });

  test.each([
    ['no GS2 header', Buffer.from('auth=Bearer x\x01\x01'), /GS2 header/],
    ['no auth', Buffer.from('n,,\x01host=h\x01\x01'), /no auth=Bearer/],
    ['not Bearer', Buffer.from('n,,\x01auth=Basic abc\x01\x01'), /auth must be "Bearer <token>"/],
    ['missing final separator', Buffer.from(`n,,\x01auth=Bearer ${jws(valid)}\x01`), /two %x01/],
    ['bad pair', Buffer.from(`n,,\x01auth=Bearer ${jws(valid)}\x01novalue\x01\x01`), /malformed key=value/],
    ['channel binding', Buffer.from(`p=tls,,\x01auth=Bearer ${jws(valid)}\x01\x01`), /channel binding/],
  ])('malformed client response: %s', (_n, token, error) => {
    const s = server();
    expect(() => s.evaluate(token)).toThrow(error);
    expect(s.complete).toBe(false);
  });
});
