/**
 * Test PKI built with node-forge: a CA with a server certificate for localhost / 127.0.0.1 and
 * a client certificate (CN=alice,OU=eng,O=Samsa Test), plus an unrelated CA with its own client.
 * Generated once per test file (RSA key generation is the slow part) and written out on demand
 * as PEM files and password-protected PKCS12 stores.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as forge from 'node-forge';

export interface KeyPair {
  /** PKCS#8 PEM, unencrypted. */
  key: string;
  /** The certificate in PEM. */
  cert: string;
}

export interface TestPki {
  ca: KeyPair;
  /** Leaf for DNS localhost, IP 127.0.0.1 and ::1, signed by `ca`. */
  server: KeyPair;
  /** CN=alice,OU=eng,O=Samsa Test, signed by `ca`. */
  client: KeyPair;
  otherCa: KeyPair;
  /** CN=mallory,OU=eng,O=Samsa Test, signed by `otherCa` (untrusted by the server). */
  otherClient: KeyPair;
}

export interface SubjectField {
  /** Short name (CN, OU, O, L, ST, C), forge name, or a dotted OID. */
  name: string;
  value: string;
  /** ASN.1 universal tag of the value; UTF8String unless given. */
  valueTag?: number;
}

export interface IssueOptions {
  subject: SubjectField[];
  issuer?: { key: forge.pki.rsa.PrivateKey; cert: forge.pki.Certificate };
  isCa?: boolean;
  dnsNames?: string[];
  ips?: string[];
  /** Validity in days from now (may be negative for an expired certificate). */
  days?: number;
  keyPair?: forge.pki.rsa.KeyPair;
}

export interface Issued {
  keyPair: forge.pki.rsa.KeyPair;
  cert: forge.pki.Certificate;
  pem: KeyPair;
}

const keyPool: forge.pki.rsa.KeyPair[] = [];
let keyCursor = 0;

/** An RSA 2048 key pair; up to a few are generated once and handed out in turn. */
export function testKeyPair(): forge.pki.rsa.KeyPair {
  if (keyPool.length < 6) {
    keyPool.push(forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 }));
    return keyPool[keyPool.length - 1];
  }
  return keyPool[keyCursor++ % keyPool.length];
}

/** 16 random bytes, positive and without a leading zero byte (DER INTEGERs must be minimal). */
function randomSerial(): string {
  const b = crypto.randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x01;
  return b.toString('hex');
}

function subjectAttrs(fields: SubjectField[]): forge.pki.CertificateField[] {
  return fields.map((f) => {
    const attr: forge.pki.CertificateField = /^[0-9.]+$/.test(f.name)
      ? { type: f.name, value: f.value }
      : f.name.length <= 2
        ? { shortName: f.name, value: f.value }
        : { name: f.name, value: f.value };
    (attr as { valueTagClass?: number }).valueTagClass = f.valueTag ?? forge.asn1.Type.UTF8;
    return attr;
  });
}

/** Issues a certificate (self-signed when no issuer is given). */
export function issueCertificate(opts: IssueOptions): Issued {
  const keyPair = opts.keyPair ?? testKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keyPair.publicKey;
  cert.serialNumber = randomSerial();
  const days = opts.days ?? 30;
  const now = Date.now();
  cert.validity.notBefore = new Date(Math.min(now, now + days * 86400000) - 3600000);
  cert.validity.notAfter = new Date(now + days * 86400000);
  const attrs = subjectAttrs(opts.subject);
  cert.setSubject(attrs);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : attrs);
  const altNames: { type: number; value?: string; ip?: string }[] = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: 2, value })),
    ...(opts.ips ?? []).map((ip) => ({ type: 7, ip })),
  ];
  const extensions: object[] = [
    { name: 'basicConstraints', cA: opts.isCa === true, critical: opts.isCa === true },
    opts.isCa
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (!opts.isCa) extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
  if (altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames });
  cert.setExtensions(extensions);
  cert.sign(opts.issuer ? opts.issuer.key : keyPair.privateKey, forge.md.sha256.create());
  return { keyPair, cert, pem: pemOf(keyPair, cert) };
}

function pemOf(keyPair: forge.pki.rsa.KeyPair, cert: forge.pki.Certificate): KeyPair {
  const info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(keyPair.privateKey));
  return { key: forge.pki.privateKeyInfoToPem(info), cert: forge.pki.certificateToPem(cert) };
}

const ORG = [
  { name: 'O', value: 'Samsa Test' },
  { name: 'OU', value: 'eng' },
];

let cached: (TestPki & { issued: Record<keyof TestPki, Issued> }) | null = null;

/** The shared test PKI (generated on first use in this test file). */
export function testPki(): TestPki & { issued: Record<keyof TestPki, Issued> } {
  if (cached !== null) return cached;
  const ca = issueCertificate({ subject: [{ name: 'CN', value: 'Samsa Test CA' }, ...ORG.slice(0, 1)], isCa: true, days: 365 });
  const issuer = { key: ca.keyPair.privateKey, cert: ca.cert };
  const server = issueCertificate({
    subject: [...ORG, { name: 'CN', value: 'localhost' }],
    issuer,
    dnsNames: ['localhost'],
    ips: ['127.0.0.1', '::1'],
  });
  const client = issueCertificate({ subject: [...ORG, { name: 'CN', value: 'alice' }], issuer });
  const otherCa = issueCertificate({ subject: [{ name: 'CN', value: 'Other CA' }], isCa: true, days: 365 });
  const otherClient = issueCertificate({
    subject: [...ORG, { name: 'CN', value: 'mallory' }],
    issuer: { key: otherCa.keyPair.privateKey, cert: otherCa.cert },
  });
  const issued = { ca, server, client, otherCa, otherClient };
  cached = {
    ca: ca.pem,
    server: server.pem,
    client: client.pem,
    otherCa: otherCa.pem,
    otherClient: otherClient.pem,
    issued,
  };
  return cached;
}

/** The private key encrypted with a passphrase (PKCS#8 "ENCRYPTED PRIVATE KEY", AES-256). */
export function encryptedKeyPem(issued: Issued, passphrase: string): string {
  const info = forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(issued.keyPair.privateKey));
  const enc = forge.pki.encryptPrivateKeyInfo(info, passphrase, { algorithm: 'aes256' });
  return forge.pki.encryptedPrivateKeyToPem(enc);
}

/** A PKCS12 keystore holding the key with its certificate chain (leaf first). */
export function pkcs12Keystore(issued: Issued, chain: forge.pki.Certificate[], password: string): Buffer {
  const asn = forge.pkcs12.toPkcs12Asn1(issued.keyPair.privateKey, [issued.cert, ...chain], password, {
    algorithm: 'aes256',
    friendlyName: 'samsa',
  });
  return Buffer.from(forge.asn1.toDer(asn).getBytes(), 'binary');
}

/** A PKCS12 truststore holding only certificates. */
export function pkcs12Truststore(certs: forge.pki.Certificate[], password: string): Buffer {
  const asn = forge.pkcs12.toPkcs12Asn1(null, certs, password, { algorithm: 'aes256' });
  return Buffer.from(forge.asn1.toDer(asn).getBytes(), 'binary');
}

export interface WrittenPki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Server key then leaf then CA: a Kafka PEM keystore file. */
  serverPemKeystore: string;
  clientCert: string;
  clientKey: string;
  otherCaCert: string;
  /** PKCS12 keystore for the server (password `storePassword`). */
  serverP12: string;
  /** PKCS12 truststore with the CA (password `storePassword`). */
  truststoreP12: string;
  storePassword: string;
}

/** Writes the shared PKI into `dir` as PEM files and PKCS12 stores. */
export function writeTestPki(dir: string, storePassword = 'changeit'): WrittenPki {
  const pki = testPki();
  fs.mkdirSync(dir, { recursive: true });
  const write = (name: string, data: string | Buffer): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, data);
    return file;
  };
  return {
    dir,
    caCert: write('ca.crt', pki.ca.cert),
    serverCert: write('server.crt', pki.server.cert + pki.ca.cert),
    serverKey: write('server.key', pki.server.key),
    serverPemKeystore: write('server-keystore.pem', pki.server.key + pki.server.cert + pki.ca.cert),
    clientCert: write('client.crt', pki.client.cert),
    clientKey: write('client.key', pki.client.key),
    otherCaCert: write('other-ca.crt', pki.otherCa.cert),
    serverP12: write('server.p12', pkcs12Keystore(pki.issued.server, [pki.issued.ca.cert], storePassword)),
    truststoreP12: write('truststore.p12', pkcs12Truststore([pki.issued.ca.cert], storePassword)),
    storePassword,
  };
}
