import { parseJaasConfig, plainUsersFromJaas } from '../../src/security/jaas';

describe('sasl.jaas.config parsing', () => {
  test('Kafka PLAIN example with quoted values and user_ options', () => {
    const c = parseJaasConfig(
      'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";',
    );
    expect(c.loginModule).toBe('org.apache.kafka.common.security.plain.PlainLoginModule');
    expect(c.flag).toBe('required');
    expect(c.options).toEqual({ username: 'admin', password: 'admin-secret', user_admin: 'admin-secret', user_alice: 'alice-secret' });
    expect(plainUsersFromJaas(c.options)).toEqual(new Map([['admin', 'admin-secret'], ['alice', 'alice-secret']]));
  });

  test('unquoted values, escapes, whitespace, comments and case-insensitive flag', () => {
    const c = parseJaasConfig(`
      // the unsecured validator
      org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule  REQUIRED
        unsecuredLoginStringClaim_sub = alice /* inline */
        quoted="a \\"b\\" c\\\\d;e=f"
        multi="line1\\nline2" ;
    `);
    expect(c.flag).toBe('required');
    expect(c.options).toEqual({ unsecuredLoginStringClaim_sub: 'alice', quoted: 'a "b" c\\d;e=f', multi: 'line1\nline2' });
  });

  test('an entry with no options', () => {
    expect(parseJaasConfig('com.example.Module optional;')).toEqual({ loginModule: 'com.example.Module', flag: 'optional', options: {} });
  });

  test('plainUsersFromJaas ignores other options and a bare user_', () => {
    expect(plainUsersFromJaas({ username: 'a', user_: 'x', user_bob: 'b' })).toEqual(new Map([['bob', 'b']]));
  });

  test.each([
    ['', /is empty/],
    ['Module', /expected a control flag/],
    ['Module mandatory;', /expected a control flag/],
    ['Module required username="a"', /missing ';'/],
    ['Module required username;', /expected '='/],
    ['Module required username=;', /expected a value for option 'username'/],
    ['Module required password="unterminated;', /unterminated quoted string/],
    ['Module required a=b; Other required;', /exactly one login module/],
    ['Module required /* never closed', /unterminated comment/],
    ['"Module" required;', /expected a login module class name/],
  ])('malformed %j', (text, error) => {
    expect(() => parseJaasConfig(text)).toThrow(error);
  });

  test('errors do not echo values', () => {
    let message = '';
    try {
      parseJaasConfig('Module required password topsecret;');
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/expected '='/);
    expect(message).not.toContain('topsecret');
  });
});
