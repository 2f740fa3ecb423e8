/**
 * Self-made certificates for `samsa serve --tls-dev`: a local CA and a broker certificate for
 * localhost, 127.0.0.1 and ::1, kept under `<dataDir>/tls-dev/`. Clients trust `ca.crt`. The
 * files are reused across restarts so that a client configured once keeps working; the broker
 * certificate is reissued (by the same CA) when it is about to expire.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as forge from 'node-forge';
import { writeFileAtomic } from '../storage/file-io';

export interface DevCertificates {
  dir: string;
  caFile: string;
  /** The broker certificate followed by the CA certificate (PEM). */
  certFile: string;
  keyFile: string;
  /** True when this call generated (some of) the files. */
  created: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
const SERVER_DAYS = 365;
/** Reissue a certificate that expires sooner than this. */
const RENEW_MARGIN_MS = DAY_MS;
const KEY_MODE = 0o600;
const CERT_MODE = 0o644;

interface Pair {
  key: crypto.KeyObject;
  cert: crypto.X509Certificate;
}

function readPair(certFile: string, keyFile: string): Pair | null {
  try {
    const cert = new crypto.X509Certificate(fs.readFileSync(certFile));
    const key = crypto.createPrivateKey(fs.readFileSync(keyFile));
    return cert.checkPrivateKey(key) ? { key, cert } : null;
  } catch {
    return null; // missing or damaged: regenerate
  }
}

function fresh(cert: crypto.X509Certificate, now: number): boolean {
  return Date.parse(cert.validTo) - now > RENEW_MARGIN_MS && Date.parse(cert.validFrom) <= now + 60000;
}

function toForgeKey(key: crypto.KeyObject): forge.pki.rsa.PrivateKey {
  return forge.pki.privateKeyFromPem(key.export({ type: 'pkcs8', format: 'pem' }) as string) as forge.pki.rsa.PrivateKey;
}

function toForgeCert(cert: crypto.X509Certificate): forge.pki.Certificate {
  return forge.pki.certificateFromPem(cert.toString());
}

function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] &= 0x7f; // serials are positive INTEGERs
  b[0] |= 0x01; // and keep a leading non-zero byte so the encoding stays 16 bytes
  return b.toString('hex');
}

function newCertificate(
  publicKey: forge.pki.PublicKey,
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  days: number,
  now: number,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = randomSerial();
  cert.validity.notBefore = new Date(now - 60 * 60 * 1000); // tolerate small clock differences
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  return cert;
}

function generateCa(now: number): { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const subject = [
    { shortName: 'CN', value: 'Samsa Development CA' },
    { shortName: 'O', value: 'Samsa' },
  ];
  const cert = newCertificate(keys.publicKey, subject, subject, CA_DAYS, now);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { key: keys.privateKey, cert };
}

function generateServer(
  ca: { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate },
  now: number,
): { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate } {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const subject = [
    { shortName: 'CN', value: 'localhost' },
    { shortName: 'O', value: 'Samsa' },
  ];
  const cert = newCertificate(keys.publicKey, subject, ca.cert.subject.attributes, SERVER_DAYS, now);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        { type: 2, value: 'localhost' },
        { type: 7, ip: '127.0.0.1' },
        { type: 7, ip: '::1' },
      ],
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { key: keys.privateKey, cert };
}

function keyPem(key: forge.pki.rsa.PrivateKey): string {
  return forge.pki.privateKeyInfoToPem(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(key)));
}

/**
 * Returns the development CA and broker certificate under `<dataDir>/tls-dev/`, creating them
 * on first use, when files are missing or inconsistent, or when a certificate expires within a
 * day. A still-valid CA is kept when only the broker certificate needs reissuing, so clients
 * that already trust ca.crt are unaffected. Keys are written with mode 0600.
 */
export function ensureDevCertificates(dataDir: string): DevCertificates {
  const dir = path.join(dataDir, 'tls-dev');
  const caFile = path.join(dir, 'ca.crt');
  const caKeyFile = path.join(dir, 'ca.key');
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  const now = Date.now();

  const caPair = readPair(caFile, caKeyFile);
  const caOk = caPair !== null && fresh(caPair.cert, now);
  const server = caOk ? readPair(certFile, keyFile) : null;
  const serverOk =
    server !== null &&
    fresh(server.cert, now) &&
    server.cert.checkIssued(caPair!.cert) &&
    server.cert.verify(caPair!.cert.publicKey);
  if (caOk && serverOk) return { dir, caFile, certFile, keyFile, created: false };

  fs.mkdirSync(dir, { recursive: true });
  let ca: { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate };
  if (caOk) {
    ca = { key: toForgeKey(caPair!.key), cert: toForgeCert(caPair!.cert) };
  } else {
    ca = generateCa(now);
    // Key before certificate: a crash in between leaves a pair that fails the check above.
    writeFileAtomic(caKeyFile, keyPem(ca.key), KEY_MODE);
    writeFileAtomic(caFile, forge.pki.certificateToPem(ca.cert), CERT_MODE);
  }
  const leaf = generateServer(ca, now);
  writeFileAtomic(keyFile, keyPem(leaf.key), KEY_MODE);
  writeFileAtomic(certFile, forge.pki.certificateToPem(leaf.cert) + forge.pki.certificateToPem(ca.cert), CERT_MODE);
  return { dir, caFile, certFile, keyFile, created: true };
}
