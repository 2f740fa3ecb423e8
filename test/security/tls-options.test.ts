import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import { tlsServerOptions } from '../../src/security/tls-options';
import { encryptedKeyPem, testPki, writeTestPki, WrittenPki } from '../helpers/certs';

type Config = Record<string, string>;

function options(config: Config, listener = 'SSL'): tls.TlsOptions {
  return tlsServerOptions((k) => (k in config ? config[k] : null), listener);
}

function certsIn(pem: unknown): string[] {
  return String(pem).match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

function fingerprint(pem: string): string {
  return new crypto.X509Certificate(pem).fingerprint256;
}

let dir: string;
let files: WrittenPki;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-tlsopts-'));
  files = writeTestPki(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('keystore', () => {
  test('PEM file with key and chain (type inferred)', () => {
    const o = options({ 'ssl.keystore.location': files.serverPemKeystore });
    const chain = certsIn(o.cert);
    expect(chain.map(fingerprint)).toEqual([fingerprint(testPki().server.cert), fingerprint(testPki().ca.cert)]);
    const key = crypto.createPrivateKey(o.key as string);
    expect(new crypto.X509Certificate(chain[0]).checkPrivateKey(key)).toBe(true);
    expect(o.requestCert).toBe(false);
    expect(o.ca).toBeUndefined();
    expect(() => tls.createSecureContext(o)).not.toThrow();
  });

  test('PEM file with explicit type', () => {
    const o = options({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': files.serverPemKeystore });
    expect(certsIn(o.cert)).toHaveLength(2);
  });

  test('inline PEM key and certificate chain', () => {
    const pki = testPki();
    const o = options({ 'ssl.keystore.key': pki.server.key, 'ssl.keystore.certificate.chain': pki.server.cert + pki.ca.cert });
    expect(certsIn(o.cert)).toHaveLength(2);
    expect(() => tls.createSecureContext(o)).not.toThrow();
  });

  test('encrypted PEM key with ssl.key.password', () => {
    const pki = testPki();
    const key = encryptedKeyPem(pki.issued.server, 's3cret');
    expect(key).toContain('ENCRYPTED PRIVATE KEY');
    const base = { 'ssl.keystore.key': key, 'ssl.keystore.certificate.chain': pki.server.cert };
    const o = options({ ...base, 'ssl.key.password': 's3cret' });
    expect(crypto.createPrivateKey(o.key as string).asymmetricKeyType).toBe('rsa');
    expect(() => options({ ...base, 'ssl.key.password': 'wrong' }, 'EXTERNAL')).toThrow(
      /listener EXTERNAL: ssl.key.password: cannot decrypt the private key/,
    );
    expect(() => options(base)).toThrow(/encrypted but ssl.key.password is not set/);

    // The same key in a PEM keystore file.
    const file = path.join(dir, 'enc-keystore.pem');
    fs.writeFileSync(file, key + pki.server.cert + pki.ca.cert);
    expect(certsIn(options({ 'ssl.keystore.location': file, 'ssl.key.password': 's3cret' }).cert)).toHaveLength(2);
  });

  test('PKCS12 keystore, with or without explicit type', () => {
    for (const type of [undefined, 'PKCS12', 'pkcs12']) {
      const config: Config = { 'ssl.keystore.location': files.serverP12, 'ssl.keystore.password': files.storePassword };
      if (type) config['ssl.keystore.type'] = type;
      const o = options(config);
      expect(certsIn(o.cert).map(fingerprint)).toEqual([fingerprint(testPki().server.cert), fingerprint(testPki().ca.cert)]);
      expect(() => tls.createSecureContext(o)).not.toThrow();
    }
  });

  test('PKCS12 keystore: wrong or missing password', () => {
    expect(() =>
      options({ 'ssl.keystore.location': files.serverP12, 'ssl.keystore.password': 'nope' }, 'INTERNAL'),
    ).toThrow(/listener INTERNAL: ssl.keystore.password: wrong password/);
    expect(() => options({ 'ssl.keystore.location': files.serverP12 })).toThrow(/ssl.keystore.password: required/);
  });

  test('PEM keystore refuses ssl.keystore.password (as Kafka does)', () => {
    expect(() =>
      options({ 'ssl.keystore.location': files.serverPemKeystore, 'ssl.keystore.password': 'x' }),
    ).toThrow(/ssl.keystore.password: not used for a PEM keystore/);
  });

  test('JKS stores get a conversion hint', () => {
    const jks = path.join(dir, 'server.jks');
    fs.writeFileSync(jks, Buffer.concat([Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]), Buffer.alloc(64)]));
    expect(() => options({ 'ssl.keystore.location': jks, 'ssl.keystore.password': 'x' })).toThrow(
      /listener SSL: ssl.keystore.location: JKS keystores are not supported; convert it to PKCS12/,
    );
    expect(() =>
      options({ 'ssl.keystore.type': 'JKS', 'ssl.keystore.location': jks, 'ssl.keystore.password': 'x' }),
    ).toThrow(/keytool -importkeystore/);
    expect(() =>
      options({
        'ssl.keystore.location': files.serverPemKeystore,
        'ssl.truststore.type': 'JKS',
        'ssl.truststore.location': jks,
      }),
    ).toThrow(/ssl.truststore.location: JKS keystores are not supported/);
    // A PKCS12 file named JKS is read, as Java's keystore compatibility mode does.
    const o = options({ 'ssl.keystore.type': 'JKS', 'ssl.keystore.location': files.serverP12, 'ssl.keystore.password': files.storePassword });
    expect(certsIn(o.cert)).toHaveLength(2);
  });

  test('type and content disagreeing', () => {
    expect(() =>
      options({ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': files.serverPemKeystore, 'ssl.keystore.password': 'x' }),
    ).toThrow(/is a PEM file but ssl.keystore.type=PKCS12/);
    expect(() =>
      options({ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': files.serverP12 }),
    ).toThrow(/is not PEM/);
    expect(() => options({ 'ssl.keystore.type': 'BCFKS', 'ssl.keystore.location': files.serverP12 })).toThrow(
      /unsupported store type "BCFKS"/,
    );
  });

  test('missing keystore, unreadable file, key not matching the certificate', () => {
    expect(() => options({}, 'BROKER')).toThrow(/listener BROKER: ssl.keystore.location: an SSL listener needs a keystore/);
    expect(() => options({ 'ssl.keystore.location': path.join(dir, 'absent.pem') })).toThrow(
      /ssl.keystore.location: cannot read .*absent.pem: ENOENT/,
    );
    const pki = testPki();
    expect(() => options({ 'ssl.keystore.key': pki.client.key, 'ssl.keystore.certificate.chain': pki.server.cert })).toThrow(
      /ssl.keystore.certificate.chain: the private key does not match the certificate/,
    );
    expect(() => options({ 'ssl.keystore.key': pki.server.key })).toThrow(/ssl.keystore.certificate.chain: required/);
    expect(() => options({ 'ssl.keystore.location': files.caCert })).toThrow(/holds no private key/);
  });
});

describe('truststore and client auth', () => {
  const keystore = (): Config => ({ 'ssl.keystore.location': files.serverPemKeystore });

  test('PKCS12 truststore gives the CA certificates as PEM', () => {
    const o = options({
      ...keystore(),
      'ssl.truststore.type': 'PKCS12',
      'ssl.truststore.location': files.truststoreP12,
      'ssl.truststore.password': files.storePassword,
    });
    expect((o.ca as string[]).map(fingerprint)).toEqual([fingerprint(testPki().ca.cert)]);
    expect(() =>
      options({ ...keystore(), 'ssl.truststore.location': files.truststoreP12, 'ssl.truststore.password': 'bad' }),
    ).toThrow(/ssl.truststore.password: wrong password/);
    expect(() => options({ ...keystore(), 'ssl.truststore.location': files.truststoreP12 })).toThrow(
      /truststore.p12 is password-protected; set ssl.truststore.password/,
    );
  });

  test('PEM truststore file and inline certificates', () => {
    const a = options({ ...keystore(), 'ssl.truststore.location': files.caCert });
    const b = options({ ...keystore(), 'ssl.truststore.certificates': testPki().ca.cert + testPki().otherCa.cert });
    expect((a.ca as string[]).map(fingerprint)).toEqual([fingerprint(testPki().ca.cert)]);
    expect(b.ca as string[]).toHaveLength(2);
    expect(() => options({ ...keystore(), 'ssl.truststore.location': files.caCert, 'ssl.truststore.password': 'x' })).toThrow(
      /ssl.truststore.password: not used for a PEM truststore/,
    );
  });

  test('ssl.client.auth', () => {
    const trust = { ...keystore(), 'ssl.truststore.location': files.caCert };
    expect(options({ ...trust, 'ssl.client.auth': 'required' })).toMatchObject({ requestCert: true, rejectUnauthorized: true });
    expect(options({ ...trust, 'ssl.client.auth': 'requested' })).toMatchObject({ requestCert: true, rejectUnauthorized: false });
    expect(options({ ...trust, 'ssl.client.auth': 'none' })).toMatchObject({ requestCert: false });
    expect(() => options({ ...trust, 'ssl.client.auth': 'always' })).toThrow(/ssl.client.auth: must be none, requested or required/);
    expect(() => options({ ...keystore(), 'ssl.client.auth': 'required' })).toThrow(/required needs a truststore/);
  });
});

describe('protocols and cipher suites', () => {
  const base = (): Config => ({ 'ssl.keystore.location': files.serverPemKeystore });

  test('ssl.enabled.protocols', () => {
    expect(options(base())).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(options({ ...base(), 'ssl.enabled.protocols': 'TLSv1.2' })).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(options({ ...base(), 'ssl.enabled.protocols': ' TLSv1.3 ' })).toMatchObject({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(options({ ...base(), 'ssl.enabled.protocols': 'TLSv1.3,TLSv1.2' })).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
    expect(() => options({ ...base(), 'ssl.enabled.protocols': 'TLSv1.1,TLSv1.2' })).toThrow(/ssl.enabled.protocols: TLSv1.1 is not supported/);
    expect(() => options({ ...base(), 'ssl.enabled.protocols': 'TLSv9' })).toThrow(/unknown protocol "TLSv9"/);
  });

  test('IANA/Java suite names map to OpenSSL names, TLS 1.3 names pass through', () => {
    const o = options({
      ...base(),
      'ssl.cipher.suites':
        'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,TLS_DHE_RSA_WITH_AES_256_CBC_SHA256,' +
        'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_RSA_WITH_AES_128_CBC_SHA, TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
    });
    expect(o.ciphers).toBe(
      'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:AES128-SHA',
    );
    expect(o).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', dhparam: 'auto', honorCipherOrder: true });
    expect(() => tls.createSecureContext(o)).not.toThrow();
  });

  test('suites for one protocol only narrow the protocol range', () => {
    const only12 = options({ ...base(), 'ssl.cipher.suites': 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384' });
    expect(only12).toMatchObject({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
    expect(only12.dhparam).toBeUndefined();
    const only13 = options({ ...base(), 'ssl.cipher.suites': 'TLS_CHACHA20_POLY1305_SHA256' });
    expect(only13).toMatchObject({ ciphers: 'TLS_CHACHA20_POLY1305_SHA256', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' });
    expect(() => tls.createSecureContext(only13)).not.toThrow();
    expect(() =>
      options({ ...base(), 'ssl.enabled.protocols': 'TLSv1.2', 'ssl.cipher.suites': 'TLS_AES_128_GCM_SHA256' }),
    ).toThrow(/ssl.cipher.suites: lists no TLS 1.2 suite but only TLSv1.2 is enabled/);
  });

  test('unknown suite names are refused', () => {
    expect(() => options({ ...base(), 'ssl.cipher.suites': 'TLS_ECDHE_RSA_WITH_RC4_128_SHA' }, 'PUBLIC')).toThrow(
      /listener PUBLIC: ssl.cipher.suites: unknown or unsupported cipher suite "TLS_ECDHE_RSA_WITH_RC4_128_SHA"/,
    );
  });
});
