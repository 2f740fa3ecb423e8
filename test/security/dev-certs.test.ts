import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import * as forge from 'node-forge';
import { ensureDevCertificates } from '../../src/security/dev-certs';

function connect(port: number, host: string, ca: string, servername?: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ port, host, ca, servername }, () => resolve(sock));
    sock.on('error', reject);
  });
}

describe('ensureDevCertificates', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-devcerts-'));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  test('creates a CA and a broker certificate, then reuses them', () => {
    const started = Date.now();
    const first = ensureDevCertificates(dataDir);
    const elapsed = Date.now() - started;
    // Two RSA 2048 keys and two signatures; well under a few seconds on a slow machine.
    expect(elapsed).toBeLessThan(10000);
    expect(first.created).toBe(true);
    expect(first.dir).toBe(path.join(dataDir, 'tls-dev'));
    for (const f of [first.caFile, first.certFile, first.keyFile, path.join(first.dir, 'ca.key')]) {
      expect(fs.existsSync(f)).toBe(true);
    }
    expect(fs.statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(first.dir, 'ca.key')).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(first.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const pem = fs.readFileSync(first.certFile, 'utf8');
    const ca = new crypto.X509Certificate(fs.readFileSync(first.caFile));
    const leaf = new crypto.X509Certificate(pem);
    expect(pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2); // leaf then CA
    expect(new crypto.X509Certificate(pem.slice(pem.indexOf('-----BEGIN', 10))).fingerprint256).toBe(ca.fingerprint256);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(leaf.checkIP('::1')).toBe('::1');
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);

    const again = ensureDevCertificates(dataDir);
    expect(again.created).toBe(false);
    expect(fs.readFileSync(again.certFile, 'utf8')).toBe(pem);
  });

  test('regenerates a missing broker key, keeping the CA', () => {
    const first = ensureDevCertificates(dataDir);
    const caPem = fs.readFileSync(first.caFile, 'utf8');
    const certPem = fs.readFileSync(first.certFile, 'utf8');
    fs.unlinkSync(first.keyFile);
    const second = ensureDevCertificates(dataDir);
    expect(second.created).toBe(true);
    expect(fs.readFileSync(second.caFile, 'utf8')).toBe(caPem);
    expect(fs.readFileSync(second.certFile, 'utf8')).not.toBe(certPem);
  });

  test('reissues a broker certificate that expires within a day', () => {
    const first = ensureDevCertificates(dataDir);
    const caPem = fs.readFileSync(first.caFile, 'utf8');
    // Replace server.crt with one (same key, same CA) expiring in an hour.
    const caKey = forge.pki.privateKeyFromPem(fs.readFileSync(path.join(first.dir, 'ca.key'), 'utf8'));
    const caCert = forge.pki.certificateFromPem(caPem);
    const old = forge.pki.certificateFromPem(fs.readFileSync(first.certFile, 'utf8'));
    const soon = forge.pki.createCertificate();
    soon.publicKey = old.publicKey;
    soon.serialNumber = '0a';
    soon.validity.notBefore = new Date(Date.now() - 86400000);
    soon.validity.notAfter = new Date(Date.now() + 3600000);
    soon.setSubject(old.subject.attributes);
    soon.setIssuer(caCert.subject.attributes);
    soon.sign(caKey as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
    fs.writeFileSync(first.certFile, forge.pki.certificateToPem(soon) + caPem);

    const second = ensureDevCertificates(dataDir);
    expect(second.created).toBe(true);
    expect(fs.readFileSync(second.caFile, 'utf8')).toBe(caPem);
    const leaf = new crypto.X509Certificate(fs.readFileSync(second.certFile));
    expect(Date.parse(leaf.validTo) - Date.now()).toBeGreaterThan(300 * 86400000);
    expect(ensureDevCertificates(dataDir).created).toBe(false);
  });

  test('a client trusting ca.crt connects to localhost and 127.0.0.1', async () => {
    const certs = ensureDevCertificates(dataDir);
    const server = tls.createServer(
      { key: fs.readFileSync(certs.keyFile), cert: fs.readFileSync(certs.certFile) },
      (s) => s.end('ok'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const ca = fs.readFileSync(certs.caFile, 'utf8');
    try {
      for (const [host, servername] of [
        ['127.0.0.1', undefined],
        ['127.0.0.1', 'localhost'],
      ] as const) {
        const sock = await connect(port, host, ca, servername);
        expect(sock.authorized).toBe(true);
        sock.destroy();
      }
      // And an unrelated trust anchor is refused.
      await expect(connect(port, '127.0.0.1', tls.rootCertificates.join('\n'))).rejects.toThrow();
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
