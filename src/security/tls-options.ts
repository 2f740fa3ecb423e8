/**
 * Node TLS server options for an SSL or SASL_SSL listener, built from Kafka's `ssl.*` broker
 * settings so that a Kafka server.properties keeps working. Stores are PEM or PKCS12 (read with
 * node-forge); Java's JKS format is refused with a hint to convert it.
 *
 * Client authentication (`ssl.client.auth`):
 * - `none`: no certificate is asked for; connections are anonymous (or SASL) principals.
 * - `required`: the handshake fails unless the client presents a certificate signed by a CA in
 *   the truststore; the principal comes from `socket.getPeerX509Certificate()`.
 * - `requested`: a certificate is asked for but the handshake also succeeds without one, and
 *   (unlike Java) even with one from an untrusted CA. The caller must therefore take a principal
 *   only when `socket.authorized` is true (see verifiedPeerCertificate in ssl-principal.ts);
 *   otherwise the connection is anonymous, or should be closed if a certificate was presented.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import type * as tls from 'tls';
import * as forge from 'node-forge';

type Lookup = (key: string) => string | null;

class Settings {
  constructor(
    private readonly lookup: Lookup,
    readonly listener: string,
  ) {}

  /** A setting with surrounding whitespace removed; blank counts as unset. */
  get(key: string): string | null {
    const v = this.lookup(key);
    if (v === null || v === undefined) return null;
    const t = v.trim();
    return t === '' ? null : t;
  }

  /** A secret or PEM text, taken as written (an empty password is still a password). */
  raw(key: string): string | null {
    const v = this.lookup(key);
    return v === null || v === undefined ? null : v;
  }

  error(key: string, message: string): Error {
    return new Error(`listener ${this.listener}: ${key}: ${message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Store files

type StoreFormat = 'PEM' | 'PKCS12' | 'JKS';

const JKS_MAGIC = 0xfeedfeed;
const JCEKS_MAGIC = 0xcececece;

function readStoreFile(s: Settings, key: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw s.error(key, `cannot read ${file}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '));
  }
}

function sniffFormat(data: Buffer): StoreFormat | null {
  if (data.length >= 4) {
    const magic = data.readUInt32BE(0);
    if (magic === JKS_MAGIC || magic === JCEKS_MAGIC) return 'JKS';
  }
  if (data.includes('-----BEGIN ')) return 'PEM';
  if (data.length > 0 && data[0] === 0x30) return 'PKCS12'; // a DER SEQUENCE
  return null;
}

function jksError(s: Settings, key: string, file: string | null): Error {
  const src = file ?? 'store.jks';
  return s.error(
    key,
    `JKS keystores are not supported; convert it to PKCS12 (keytool -importkeystore -srckeystore ${src} ` +
      `-destkeystore store.p12 -deststoretype PKCS12) or PEM, and set the type to PKCS12 or PEM`,
  );
}

/**
 * Decides the store format from the configured type and the file content. An unset type
 * follows the content; JKS is accepted as a name only for a file that is really PKCS12, since
 * Java's JKS keystore also reads PKCS12 files (keystore compatibility mode).
 */
function resolveFormat(s: Settings, typeKey: string, locationKey: string, file: string, data: Buffer): 'PEM' | 'PKCS12' {
  const type = s.get(typeKey)?.toUpperCase() ?? null;
  if (type !== null && type !== 'PEM' && type !== 'PKCS12' && type !== 'JKS') {
    throw s.error(typeKey, `unsupported store type "${type}" (use PEM or PKCS12)`);
  }
  const content = sniffFormat(data);
  if (content === 'JKS') throw jksError(s, locationKey, file);
  if (content === null) throw s.error(locationKey, `${file} is neither a PEM file nor a PKCS12 store`);
  if (type === 'PEM' && content !== 'PEM') {
    throw s.error(locationKey, `${file} is not PEM (${typeKey}=PEM); if it is a PKCS12 store set ${typeKey}=PKCS12`);
  }
  if (type === 'PKCS12' && content !== 'PKCS12') {
    throw s.error(locationKey, `${file} is a PEM file but ${typeKey}=PKCS12; set ${typeKey}=PEM`);
  }
  if (type === 'JKS' && content === 'PEM') throw jksError(s, typeKey, null);
  return content;
}

// ---------------------------------------------------------------------------------------------
// PEM

interface PemBlock {
  label: string;
  text: string;
}

function pemBlocks(text: string): PemBlock[] {
  const out: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ label: m[1], text: m[0] + '\n' });
  return out;
}

function parseCertificates(s: Settings, key: string, blocks: PemBlock[]): crypto.X509Certificate[] {
  return blocks
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b, i) => {
      try {
        return new crypto.X509Certificate(b.text);
      } catch (e) {
        throw s.error(key, `certificate ${i + 1} is not a valid X.509 certificate (${(e as Error).message})`);
      }
    });
}

function decodePemKey(s: Settings, key: string, block: PemBlock): crypto.KeyObject {
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || /Proc-Type:\s*4,ENCRYPTED/.test(block.text);
  const passphrase = s.raw('ssl.key.password');
  if (encrypted && passphrase === null) {
    throw s.error(key, 'the private key is encrypted but ssl.key.password is not set');
  }
  try {
    return crypto.createPrivateKey(encrypted ? { key: block.text, format: 'pem', passphrase: passphrase! } : block.text);
  } catch (e) {
    if (encrypted) throw s.error('ssl.key.password', 'cannot decrypt the private key (wrong password?)');
    throw s.error(key, `the private key cannot be read (${(e as Error).message})`);
  }
}

// ---------------------------------------------------------------------------------------------
// PKCS12

interface Pkcs12Contents {
  keys: crypto.KeyObject[];
  certs: crypto.X509Certificate[];
}

function forgeBytesToBuffer(bytes: string): Buffer {
  return Buffer.from(bytes, 'binary');
}

function readPkcs12(
  s: Settings,
  locationKey: string,
  passwordKey: string,
  file: string,
  data: Buffer,
  password: string,
): Pkcs12Contents {
  let p12: forge.pkcs12.Pkcs12Pfx;
  let asn: forge.asn1.Asn1;
  try {
    asn = forge.asn1.fromDer(forge.util.createBuffer(data.toString('binary')));
  } catch (e) {
    throw s.error(locationKey, `${file} is not a valid PKCS12 store (${(e as Error).message})`);
  }
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn, false, password);
  } catch (e) {
    const msg = (e as Error).message;
    if (/MAC could not be verified|Invalid password/i.test(msg)) {
      if (s.raw(passwordKey) === null) throw s.error(passwordKey, `${file} is password-protected; set ${passwordKey}`);
      throw s.error(passwordKey, `wrong password for ${file} (PKCS12 integrity check failed)`);
    }
    if (/ShroudedKeyBag/.test(msg)) {
      throw s.error(
        'ssl.key.password',
        `cannot decrypt the private key in ${file} with the store password ` +
          '(PKCS12 keys protected by a different password are not supported)',
      );
    }
    throw s.error(locationKey, `cannot read PKCS12 store ${file} (${msg})`);
  }
  const keys: crypto.KeyObject[] = [];
  const certs: crypto.X509Certificate[] = [];
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      if (bag.type === forge.pki.oids.pkcs8ShroudedKeyBag || bag.type === forge.pki.oids.keyBag) {
        // forge only models RSA keys; other key types arrive as a raw PrivateKeyInfo.
        const info = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : bag.asn1;
        if (!info) continue;
        const der = forgeBytesToBuffer(forge.asn1.toDer(info).getBytes());
        keys.push(crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
      } else if (bag.type === forge.pki.oids.certBag) {
        const certAsn = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
        if (!certAsn) continue;
        certs.push(new crypto.X509Certificate(forgeBytesToBuffer(forge.asn1.toDer(certAsn).getBytes())));
      }
    }
  }
  return { keys, certs };
}

// ---------------------------------------------------------------------------------------------
// Keystore

interface Identity {
  key: string;
  cert: string;
}

/** Orders the chain leaf first, then each issuer found among the remaining certificates. */
function buildChain(leaf: crypto.X509Certificate, others: crypto.X509Certificate[]): crypto.X509Certificate[] {
  const chain = [leaf];
  const pool = others.filter((c) => c !== leaf);
  for (let cur = leaf; cur.issuer !== cur.subject; ) {
    const i = pool.findIndex((c) => cur.checkIssued(c));
    if (i < 0) break;
    cur = pool.splice(i, 1)[0];
    chain.push(cur);
  }
  return chain;
}

function identityFrom(s: Settings, key: string, privateKey: crypto.KeyObject, chain: crypto.X509Certificate[]): Identity {
  if (chain.length === 0) throw s.error(key, 'no certificate found for the private key');
  if (!chain[0].checkPrivateKey(privateKey)) {
    throw s.error(key, `the private key does not match the certificate ${chain[0].subject.replace(/\n/g, ', ')}`);
  }
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: chain.map((c) => c.toString()).join(''),
  };
}

function pemIdentity(s: Settings, key: string, text: string, what: string): Identity {
  const blocks = pemBlocks(text);
  const keyBlocks = blocks.filter((b) => b.label.endsWith('PRIVATE KEY'));
  if (keyBlocks.length === 0) throw s.error(key, `${what} holds no private key`);
  if (keyBlocks.length > 1) throw s.error(key, `${what} holds more than one private key`);
  const certs = parseCertificates(s, key, blocks);
  if (certs.length === 0) throw s.error(key, `${what} holds no certificate`);
  return identityFrom(s, key, decodePemKey(s, key, keyBlocks[0]), certs);
}

function loadKeystore(s: Settings): Identity {
  const location = s.get('ssl.keystore.location');
  const inlineKey = s.raw('ssl.keystore.key');
  const inlineChain = s.raw('ssl.keystore.certificate.chain');
  const password = s.raw('ssl.keystore.password');
  const type = s.get('ssl.keystore.type')?.toUpperCase() ?? null;

  if (inlineKey !== null || inlineChain !== null) {
    if (inlineKey === null) throw s.error('ssl.keystore.key', 'required with ssl.keystore.certificate.chain');
    if (inlineChain === null) throw s.error('ssl.keystore.certificate.chain', 'required with ssl.keystore.key');
    if (type !== null && type !== 'PEM') {
      throw s.error('ssl.keystore.type', `must be PEM when ssl.keystore.key is given, not ${type}`);
    }
    if (location !== null) {
      throw s.error('ssl.keystore.location', 'cannot be combined with ssl.keystore.key; use one or the other');
    }
    if (password !== null) {
      throw s.error('ssl.keystore.password', 'not used for PEM keys; put the key passphrase in ssl.key.password');
    }
    const keyBlocks = pemBlocks(inlineKey).filter((b) => b.label.endsWith('PRIVATE KEY'));
    if (keyBlocks.length !== 1) throw s.error('ssl.keystore.key', 'must hold exactly one PEM private key');
    const certs = parseCertificates(s, 'ssl.keystore.certificate.chain', pemBlocks(inlineChain));
    if (certs.length === 0) throw s.error('ssl.keystore.certificate.chain', 'holds no PEM certificate');
    const privateKey = decodePemKey(s, 'ssl.keystore.key', keyBlocks[0]);
    return identityFrom(s, 'ssl.keystore.certificate.chain', privateKey, certs);
  }

  if (location === null) {
    throw s.error(
      'ssl.keystore.location',
      'an SSL listener needs a keystore: set ssl.keystore.location, or ssl.keystore.key and ssl.keystore.certificate.chain',
    );
  }
  const data = readStoreFile(s, 'ssl.keystore.location', location);
  const format = resolveFormat(s, 'ssl.keystore.type', 'ssl.keystore.location', location, data);
  if (format === 'PEM') {
    if (password !== null) {
      throw s.error('ssl.keystore.password', 'not used for a PEM keystore; put the key passphrase in ssl.key.password');
    }
    return pemIdentity(s, 'ssl.keystore.location', data.toString('utf8'), location);
  }
  if (password === null) throw s.error('ssl.keystore.password', `required to open the PKCS12 keystore ${location}`);
  const { keys, certs } = readPkcs12(s, 'ssl.keystore.location', 'ssl.keystore.password', location, data, password);
  if (keys.length === 0) throw s.error('ssl.keystore.location', `${location} holds no private key`);
  const privateKey = keys[0];
  const leaf = certs.find((c) => c.checkPrivateKey(privateKey));
  if (leaf === undefined) {
    throw s.error('ssl.keystore.location', `${location}: no certificate matches the private key`);
  }
  return identityFrom(s, 'ssl.keystore.location', privateKey, buildChain(leaf, certs));
}

// ---------------------------------------------------------------------------------------------
// Truststore

function loadTruststore(s: Settings): string[] | null {
  const location = s.get('ssl.truststore.location');
  const inline = s.raw('ssl.truststore.certificates');
  const password = s.raw('ssl.truststore.password');
  const type = s.get('ssl.truststore.type')?.toUpperCase() ?? null;

  if (inline !== null) {
    if (type !== null && type !== 'PEM') {
      throw s.error('ssl.truststore.type', `must be PEM when ssl.truststore.certificates is given, not ${type}`);
    }
    if (location !== null) {
      throw s.error('ssl.truststore.location', 'cannot be combined with ssl.truststore.certificates');
    }
    const certs = parseCertificates(s, 'ssl.truststore.certificates', pemBlocks(inline));
    if (certs.length === 0) throw s.error('ssl.truststore.certificates', 'holds no PEM certificate');
    return certs.map((c) => c.toString());
  }
  if (location === null) return null;
  const data = readStoreFile(s, 'ssl.truststore.location', location);
  const format = resolveFormat(s, 'ssl.truststore.type', 'ssl.truststore.location', location, data);
  let certs: crypto.X509Certificate[];
  if (format === 'PEM') {
    if (password !== null) throw s.error('ssl.truststore.password', 'not used for a PEM truststore; remove it');
    certs = parseCertificates(s, 'ssl.truststore.location', pemBlocks(data.toString('utf8')));
  } else {
    // Java opens a truststore without a password (skipping the integrity check); the closest
    // forge can do is the empty password, which password-less PKCS12 files use.
    certs = readPkcs12(s, 'ssl.truststore.location', 'ssl.truststore.password', location, data, password ?? '').certs;
  }
  if (certs.length === 0) throw s.error('ssl.truststore.location', `${location} holds no certificates`);
  return certs.map((c) => c.toString());
}

// ---------------------------------------------------------------------------------------------
// Protocols and cipher suites

const PROTOCOLS = ['TLSv1.2', 'TLSv1.3'] as const;
type Protocol = (typeof PROTOCOLS)[number];

function enabledProtocols(s: Settings): { min: Protocol; max: Protocol } {
  const v = s.get('ssl.enabled.protocols');
  const names = v === null ? [...PROTOCOLS] : v.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (names.length === 0) throw s.error('ssl.enabled.protocols', 'lists no protocol');
  const set = new Set<Protocol>();
  for (const n of names) {
    if (n === 'TLSv1.2' || n === 'TLSv1.3') set.add(n);
    else if (n === 'TLSv1' || n === 'TLSv1.1' || n === 'SSLv3') {
      throw s.error('ssl.enabled.protocols', `${n} is not supported (obsolete and disabled in OpenSSL 3); use TLSv1.2 and/or TLSv1.3`);
    } else {
      throw s.error('ssl.enabled.protocols', `unknown protocol "${n}" (use TLSv1.2 and/or TLSv1.3)`);
    }
  }
  return { min: set.has('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3', max: set.has('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2' };
}

/** IANA/Java names of TLS 1.2 suites and their OpenSSL names. */
const TLS12_SUITES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'DHE-RSA-CHACHA20-POLY1305',
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: 'DHE-RSA-AES128-SHA256',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: 'DHE-RSA-AES256-SHA256',
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA: 'DHE-RSA-AES128-SHA',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA: 'DHE-RSA-AES256-SHA',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_256_CBC_SHA256: 'AES256-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};

/** TLS 1.3 suites have the same names in IANA, Java and OpenSSL. */
const TLS13_SUITES = new Set([
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_CCM_SHA256',
  'TLS_AES_128_CCM_8_SHA256',
]);

const OPENSSL_TLS12_NAMES = new Set(Object.values(TLS12_SUITES));

interface CipherChoice {
  /** One colon-separated list: Node routes `TLS_*` entries to the TLS 1.3 suites. */
  ciphers: string;
  tls12: number;
  tls13: number;
  dhe: boolean;
}

function cipherSuites(s: Settings): CipherChoice | null {
  const v = s.get('ssl.cipher.suites');
  if (v === null) return null;
  const tls12: string[] = [];
  const tls13: string[] = [];
  for (const raw of v.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    // A Java signalling value, not a real suite; OpenSSL always offers secure renegotiation.
    if (name === 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV') continue;
    // Java still accepts the old SSL_ spelling of some suite names.
    const iana = name.startsWith('SSL_') ? 'TLS_' + name.slice(4) : name;
    if (TLS13_SUITES.has(iana)) tls13.push(iana);
    else if (iana in TLS12_SUITES) tls12.push(TLS12_SUITES[iana]);
    else if (OPENSSL_TLS12_NAMES.has(name)) tls12.push(name);
    else {
      throw s.error(
        'ssl.cipher.suites',
        `unknown or unsupported cipher suite "${name}" (use IANA names such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or TLS_AES_128_GCM_SHA256)`,
      );
    }
  }
  if (tls12.length + tls13.length === 0) return null; // an empty list means the defaults, as in Kafka
  return {
    ciphers: [...tls13, ...tls12].join(':'),
    tls12: tls12.length,
    tls13: tls13.length,
    dhe: tls12.some((c) => c.startsWith('DHE-')),
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Builds `tls.createServer` options for a listener from Kafka's `ssl.*` settings. `lookup`
 * returns a setting's value (already resolved through `listener.name.<name>.` prefixes) or
 * null. Throws an Error naming the listener and the offending key for anything it cannot use:
 * no keystore, unreadable files, wrong passwords, a key that does not match its certificate,
 * JKS stores, unknown protocols or cipher suites.
 */
export function tlsServerOptions(lookup: Lookup, listenerName: string): tls.TlsOptions {
  const s = new Settings(lookup, listenerName);
  const identity = loadKeystore(s);
  const ca = loadTruststore(s);

  const clientAuth = (s.get('ssl.client.auth') ?? 'none').toLowerCase();
  if (clientAuth !== 'none' && clientAuth !== 'requested' && clientAuth !== 'required') {
    throw s.error('ssl.client.auth', `must be none, requested or required, not "${clientAuth}"`);
  }
  if (clientAuth !== 'none' && ca === null) {
    // Without a truststore Node would fall back to its bundled public CAs, letting any publicly
    // issued certificate authenticate; demand an explicit truststore instead.
    throw s.error('ssl.client.auth', `${clientAuth} needs a truststore: set ssl.truststore.location or ssl.truststore.certificates`);
  }

  let { min, max } = enabledProtocols(s);
  const suites = cipherSuites(s);
  const options: tls.TlsOptions = {
    key: identity.key,
    cert: identity.cert,
    requestCert: clientAuth !== 'none',
    rejectUnauthorized: clientAuth === 'required',
  };
  if (ca !== null) options.ca = ca;
  if (suites !== null) {
    // A protocol left without any suite cannot be negotiated; narrow the range to say so.
    if (suites.tls13 === 0) {
      if (min === 'TLSv1.3') throw s.error('ssl.cipher.suites', 'lists no TLS 1.3 suite but only TLSv1.3 is enabled');
      max = 'TLSv1.2';
    }
    if (suites.tls12 === 0) {
      if (max === 'TLSv1.2') throw s.error('ssl.cipher.suites', 'lists no TLS 1.2 suite but only TLSv1.2 is enabled');
      min = 'TLSv1.3';
    }
    options.ciphers = suites.ciphers;
    options.honorCipherOrder = true; // the configured order is the broker's preference, as in Java
    if (suites.dhe) options.dhparam = 'auto'; // DHE suites need parameters, or OpenSSL skips them
  }
  options.minVersion = min;
  options.maxVersion = max;
  return options;
}
