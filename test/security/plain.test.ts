import { PlainServer, plainUserVerifier, PLAIN_INVALID_CREDENTIALS } from '../../src/security/sasl/plain';
import { SaslAuthenticationError } from '../../src/security/sasl/mechanism';

const users = new Map([
  ['admin', 'admin-secret'],
  ['alice', 'alice-secret'],
]);
const msg = (authzid: string, user: string, password: string) => Buffer.from(`${authzid}\0${user}\0${password}`);

describe('PLAIN server', () => {
  test('good credentials authenticate, with or without a matching authzid', () => {
    for (const authzid of ['', 'alice']) {
      const s = new PlainServer(plainUserVerifier(users));
      expect(s.evaluate(msg(authzid, 'alice', 'alice-secret'))).toEqual(Buffer.alloc(0));
      expect(s.complete).toBe(true);
      expect(s.principal).toEqual({ type: 'User', name: 'alice' });
      expect(s.credentialExpiresAtMs).toBeNull();
    }
  });

  test('wrong password and unknown user give the same message', () => {
    const wrong = new PlainServer(plainUserVerifier(users));
    expect(() => wrong.evaluate(msg('', 'alice', 'nope'))).toThrow(PLAIN_INVALID_CREDENTIALS);
    expect(wrong.complete).toBe(false);
    expect(wrong.principal).toBeNull();
    const unknown = new PlainServer(plainUserVerifier(users));
    expect(() => unknown.evaluate(msg('', 'mallory', 'alice-secret'))).toThrow(PLAIN_INVALID_CREDENTIALS);
    expect(PLAIN_INVALID_CREDENTIALS).toBe('Authentication failed: Invalid username or password');
  });

  test('the verifier sees users added to the map later and compares prefixes as different', () => {
    const live = new Map(users);
    const verify = plainUserVerifier(live);
    expect(verify('bob', 'bob-secret')).toBe(false);
    live.set('bob', 'bob-secret');
    expect(verify('bob', 'bob-secret')).toBe(true);
    expect(verify('bob', 'bob-secre')).toBe(false);
    expect(verify('bob', 'bob-secret2')).toBe(false);
  });

  test.each([
    ['two tokens', Buffer.from('alice\0alice-secret'), /expected 3 NUL-separated tokens, got 2/],
    ['four tokens', Buffer.from('\0alice\0alice-secret\0x'), /expected 3 NUL-separated tokens, got 4/],
    ['empty user', msg('', '', 'x'), /username not specified/],
    ['empty password', msg('', 'alice', ''), /password not specified/],
    ['other authzid', msg('admin', 'alice', 'alice-secret'), /authorization id that is different/],
    ['bad UTF-8', Buffer.from([0, 0x61, 0, 0xff]), /not valid UTF-8/],
  ])('malformed: %s', (_name, token, error) => {
    const s = new PlainServer(plainUserVerifier(users));
    expect(() => s.evaluate(token)).toThrow(SaslAuthenticationError);
    expect(() => new PlainServer(plainUserVerifier(users)).evaluate(token)).toThrow(error);
  });

  test('a second message is refused', () => {
    const s = new PlainServer(plainUserVerifier(users));
    s.evaluate(msg('', 'alice', 'alice-secret'));
    expect(() => s.evaluate(msg('', 'alice', 'alice-secret'))).toThrow(/single client message/);
  });
});
