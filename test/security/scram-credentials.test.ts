import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ScramCredentialStore,
  parseAddScram,
  scramCredentialFromPassword,
  scramCredentialFromSaltedPassword,
  scramSaltedPassword,
  scramMechanismFromType,
  scramMechanismType,
} from '../../src/security/scram-credentials';
import { createLogger } from '../../src/logging';

const log = createLogger('silent');

describe('SCRAM credential derivation', () => {
  test('RFC 7677 SHA-256 keys from password pencil', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const c = scramCredentialFromPassword('SCRAM-SHA-256', 'pencil', 4096, salt);
    // Independent computation with node's primitives, following RFC 5802 section 3.
    const salted = crypto.pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const clientKey = crypto.createHmac('sha256', salted).update('Client Key').digest();
    expect(c.storedKey).toEqual(crypto.createHash('sha256').update(clientKey).digest());
    expect(c.serverKey).toEqual(crypto.createHmac('sha256', salted).update('Server Key').digest());
    expect(c.salt).toEqual(salt);
    expect(c.iterations).toBe(4096);
  });

  test('from a salted password equals from the password; SHA-512 keys are 64 bytes', () => {
    const salt = crypto.randomBytes(16);
    const a = scramCredentialFromPassword('SCRAM-SHA-512', 'pw', 4096, salt);
    const b = scramCredentialFromSaltedPassword('SCRAM-SHA-512', scramSaltedPassword('SCRAM-SHA-512', 'pw', salt, 4096), salt, 4096);
    expect(b).toEqual(a);
    expect(a.storedKey.length).toBe(64);
    expect(scramCredentialFromPassword('SCRAM-SHA-256', 'pw', 4096).salt.length).toBe(32);
  });

  test('mechanism type codes', () => {
    expect(scramMechanismType('SCRAM-SHA-256')).toBe(1);
    expect(scramMechanismType('SCRAM-SHA-512')).toBe(2);
    expect(scramMechanismFromType(2)).toBe('SCRAM-SHA-512');
    expect(scramMechanismFromType(0)).toBeNull();
    expect(scramMechanismFromType(3)).toBeNull();
  });
});

describe('parseAddScram', () => {
  test('name and password, default iterations and random salt', () => {
    const r = parseAddScram('SCRAM-SHA-256=[name=alice,password=alice-secret]');
    expect(r.user).toBe('alice');
    expect(r.mechanism).toBe('SCRAM-SHA-256');
    expect(r.credential.iterations).toBe(4096);
    expect(r.credential).toEqual(scramCredentialFromPassword('SCRAM-SHA-256', 'alice-secret', 4096, r.credential.salt));
  });

  test('quoted values (with commas), iterations and salt', () => {
    const salt = Buffer.from('MWx2NHBkbnc0ZndxN25vdGN4bTB5eTFrN3E=', 'base64');
    const r = parseAddScram(' SCRAM-SHA-512=[name="bob",iterations=8192, salt="MWx2NHBkbnc0ZndxN25vdGN4bTB5eTFrN3E=", password="a,b=c"] ');
    expect(r.user).toBe('bob');
    expect(r.credential).toEqual(scramCredentialFromPassword('SCRAM-SHA-512', 'a,b=c', 8192, salt));
  });

  test('saltedpassword with salt', () => {
    const salt = Buffer.from('c2FsdA==', 'base64');
    const salted = scramSaltedPassword('SCRAM-SHA-256', 'pw', salt, 4096);
    const r = parseAddScram(`SCRAM-SHA-256=[name=carol,salt="c2FsdA==",saltedpassword="${salted.toString('base64')}"]`);
    expect(r.credential).toEqual(scramCredentialFromPassword('SCRAM-SHA-256', 'pw', 4096, salt));
  });

  test.each([
    ['SCRAM-SHA-256', /found no '='/],
    ['SCRAM-SHA-1=[name=a,password=b]', /'SCRAM-SHA-1' is not supported/],
    ['SCRAM-SHA-256=name=a,password=b]', /start with \[/],
    ['SCRAM-SHA-256=[name=a,password=b', /end with \]/],
    ['SCRAM-SHA-256=[password=b]', /'name' is required/],
    ['SCRAM-SHA-256=[name=,password=b]', /'name' must not be empty/],
    ['SCRAM-SHA-256=[name=a]', /one of 'password' or 'saltedpassword' is required/],
    ['SCRAM-SHA-256=[name=a,password=b,saltedpassword=AAAA,salt=AAAA]', /not both/],
    ['SCRAM-SHA-256=[name=a,saltedpassword=AAAA]', /'saltedpassword' needs 'salt'/],
    ['SCRAM-SHA-256=[name=a,password=b,iterations=100]', /between 4096 and 16384/],
    ['SCRAM-SHA-256=[name=a,password=b,iterations=20000]', /between 4096 and 16384/],
    ['SCRAM-SHA-256=[name=a,password=b,iterations=many]', /'many' is not a number/],
    ['SCRAM-SHA-256=[name=a,password=b,salt=@@]', /salt '@@' is not valid/],
    ['SCRAM-SHA-256=[name=a,password=b,colour=red]', /unknown key 'colour'/],
    ['SCRAM-SHA-256=[name=a,password=b,name=c]', /'name' given twice/],
    ['SCRAM-SHA-256=[name=a,password]', /no '=' in component 'password'/],
    ['SCRAM-SHA-256=[name=a,password="b]', /unterminated quoted value for 'password'/],
    ['SCRAM-SHA-256=[name=a,password=b,]', /trailing comma/],
  ])('%j is refused', (arg, error) => {
    expect(() => parseAddScram(arg)).toThrow(error);
  });

  test('errors never quote the password or salted password', () => {
    for (const arg of ['SCRAM-SHA-256=[name=a,password=hunter2,saltedpassword=hunter2,salt=AAAA]', 'SCRAM-SHA-256=[name=a,salt=AAAA,saltedpassword=hunter2!]']) {
      let message = '';
      try {
        parseAddScram(arg);
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('hunter2');
    }
  });
});

describe('ScramCredentialStore', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-scram-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('credentials survive reopening; the file holds no password and is private', () => {
    const store = new ScramCredentialStore(dir, log);
    expect(store.describe()).toEqual(new Map());
    const a256 = scramCredentialFromPassword('SCRAM-SHA-256', 'alice-very-secret', 4096);
    const a512 = scramCredentialFromPassword('SCRAM-SHA-512', 'alice-very-secret', 8192);
    const b256 = scramCredentialFromPassword('SCRAM-SHA-256', 'bob-very-secret', 5000);
    store.upsert('alice', 'SCRAM-SHA-256', a256);
    store.upsert('alice', 'SCRAM-SHA-512', a512);
    store.upsert('bob', 'SCRAM-SHA-256', b256);
    store.upsert('__proto__', 'SCRAM-SHA-256', b256);

    const reopened = new ScramCredentialStore(dir, log);
    expect(reopened.get('alice', 'SCRAM-SHA-256')).toEqual(a256);
    expect(reopened.get('alice', 'SCRAM-SHA-512')).toEqual(a512);
    expect(reopened.get('bob', 'SCRAM-SHA-512')).toBeNull();
    expect(reopened.get('__proto__', 'SCRAM-SHA-256')).toEqual(b256);
    expect(reopened.describe()).toEqual(
      new Map([
        ['alice', [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }]],
        ['bob', [{ mechanism: 'SCRAM-SHA-256', iterations: 5000 }]],
        ['__proto__', [{ mechanism: 'SCRAM-SHA-256', iterations: 5000 }]],
      ]),
    );

    const text = fs.readFileSync(path.join(dir, 'scram-credentials.json'), 'utf8');
    expect(text).not.toContain('very-secret');
    expect(text).toContain(a256.storedKey.toString('base64'));
    expect(fs.statSync(path.join(dir, 'scram-credentials.json')).mode & 0o077).toBe(0);
  });

  test('delete reports absence and persists; apply writes deletions and upserts together', () => {
    const store = new ScramCredentialStore(dir, log);
    const c = scramCredentialFromPassword('SCRAM-SHA-256', 'x', 4096);
    store.upsert('alice', 'SCRAM-SHA-256', c);
    expect(store.delete('alice', 'SCRAM-SHA-512')).toBe(false);
    expect(store.delete('nobody', 'SCRAM-SHA-256')).toBe(false);
    expect(store.delete('alice', 'SCRAM-SHA-256')).toBe(true);
    expect(new ScramCredentialStore(dir, log).describe()).toEqual(new Map());

    store.apply([], [{ user: 'a', mechanism: 'SCRAM-SHA-256', credential: c }, { user: 'b', mechanism: 'SCRAM-SHA-512', credential: c }]);
    store.apply([{ user: 'a', mechanism: 'SCRAM-SHA-256' }], [{ user: 'c', mechanism: 'SCRAM-SHA-256', credential: c }]);
    expect([...new ScramCredentialStore(dir, log).describe().keys()].sort()).toEqual(['b', 'c']);
  });

  test('a damaged file stops loading with a clear error', () => {
    fs.writeFileSync(path.join(dir, 'scram-credentials.json'), '{"version":1,"users":{"a":{"SCRAM-SHA-1":{}}}}');
    expect(() => new ScramCredentialStore(dir, log)).toThrow(/unknown mechanism SCRAM-SHA-1/);
    fs.writeFileSync(path.join(dir, 'scram-credentials.json'), '{not json');
    expect(() => new ScramCredentialStore(dir, log)).toThrow(/not valid JSON/);
  });
});
