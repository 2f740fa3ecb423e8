/**
 * The principal of an SSL client certificate, as Kafka derives it: the subject's distinguished
 * name in the form Java's X500Principal.getName() prints (RFC 2253), then rewritten by the
 * listener's `ssl.principal.mapping.rules`.
 */
import type * as crypto from 'crypto';
import type * as tls from 'tls';

// ---------------------------------------------------------------------------------------------
// Distinguished name

/** Attribute types Java prints by keyword in RFC 2253 form; any other type is printed as its OID. */
const KEYWORDS: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
};

const TAG_INTEGER = 0x02;
const TAG_OID = 0x06;
const TAG_UTF8 = 0x0c;
const TAG_PRINTABLE = 0x13;
const TAG_T61 = 0x14;
const TAG_IA5 = 0x16;
const TAG_GENERAL = 0x1b;
const TAG_BMP = 0x1e;
const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const TAG_VERSION = 0xa0; // [0] EXPLICIT in TBSCertificate

interface Tlv {
  tag: number;
  /** Offset of the first byte of the tag. */
  start: number;
  /** Offset of the content. */
  body: number;
  /** Offset just past the content. */
  end: number;
}

function readTlv(der: Buffer, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Error('certificate DER is truncated');
  const tag = der[pos];
  if ((tag & 0x1f) === 0x1f) throw new Error('certificate DER uses an unsupported high tag number');
  let len = der[pos + 1];
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new Error('certificate DER has a bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[body + i];
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new Error('certificate DER is truncated');
  return { tag, start: pos, body, end };
}

function expect(der: Buffer, pos: number, limit: number, tag: number, what: string): Tlv {
  const t = readTlv(der, pos, limit);
  if (t.tag !== tag) throw new Error(`certificate DER: expected ${what}`);
  return t;
}

function decodeOid(der: Buffer, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    v = v * 128 + (der[i] & 0x7f);
    if ((der[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(first, v - first * 40);
      } else {
        parts.push(v);
      }
      v = 0;
    }
  }
  return parts.join('.');
}

function decodeString(der: Buffer, t: Tlv): string | null {
  const bytes = der.subarray(t.body, t.end);
  switch (t.tag) {
    case TAG_UTF8:
      return bytes.toString('utf8');
    case TAG_PRINTABLE:
    case TAG_IA5:
    case TAG_GENERAL:
    case TAG_T61: // Java reads T61String as ISO-8859-1
      return bytes.toString('latin1');
    case TAG_BMP: {
      const swapped = Buffer.from(bytes);
      swapped.swap16(); // UTF-16BE to the little-endian Node decodes
      return swapped.toString('utf16le');
    }
    default:
      return null; // not a string type Java prints as text (e.g. UniversalString)
  }
}

/**
 * Java escapes these anywhere in a value (a superset of RFC 2253's required set: it also
 * escapes '=' and every '#'), then backslashes leading and trailing spaces.
 */
const ESCAPED = new Set([',', '=', '+', '<', '>', '#', ';', '"', '\\']);

function escapeValue(value: string): string {
  let out = '';
  for (const ch of value) out += ESCAPED.has(ch) ? '\\' + ch : ch;
  let lead = 0;
  while (lead < out.length && (out[lead] === ' ' || out[lead] === '\r')) lead++;
  let trail = out.length - 1;
  while (trail >= lead && (out[trail] === ' ' || out[trail] === '\r')) trail--;
  if (lead === 0 && trail === out.length - 1) return out;
  let res = '';
  for (let i = 0; i < out.length; i++) res += (i < lead || i > trail ? '\\' : '') + out[i];
  return res;
}

function formatAva(der: Buffer, seq: Tlv): string {
  const oidTlv = expect(der, seq.body, seq.end, TAG_OID, 'an attribute type OID');
  const valueTlv = readTlv(der, oidTlv.end, seq.end);
  const oid = decodeOid(der, oidTlv);
  const keyword = KEYWORDS[oid];
  const text = keyword === undefined ? null : decodeString(der, valueTlv);
  // RFC 2253 2.4: a dotted type (or a non-string value) is printed as '#' + hex of its DER.
  if (keyword === undefined || text === null) {
    return `${keyword ?? oid}=#${der.subarray(valueTlv.start, valueTlv.end).toString('hex')}`;
  }
  return `${keyword}=${escapeValue(text)}`;
}

/** Formats a DER Name (SEQUENCE OF RDN) most specific RDN first, as X500Principal.getName(). */
function formatName(der: Buffer, name: Tlv): string {
  const rdns: string[] = [];
  for (let p = name.body; p < name.end; ) {
    const set = expect(der, p, name.end, TAG_SET, 'an RDN SET');
    const avas: string[] = [];
    for (let q = set.body; q < set.end; ) {
      const ava = expect(der, q, set.end, TAG_SEQUENCE, 'an AttributeTypeAndValue');
      avas.push(formatAva(der, ava));
      q = ava.end;
    }
    // Multi-valued RDNs keep their encoded order (Java sorts them only in canonical form).
    rdns.push(avas.join('+'));
    p = set.end;
  }
  return rdns.reverse().join(',');
}

/**
 * The certificate subject in RFC 2253 form exactly as Java's X500Principal.getName() gives it,
 * e.g. `CN=alice,OU=eng,O=Acme,L=Town,ST=State,C=US`. Read from the DER, not Node's display
 * string, so ordering, escaping and unknown attribute types match what Kafka's ACLs expect.
 */
export function distinguishedName(cert: crypto.X509Certificate): string {
  const der = cert.raw;
  const certSeq = expect(der, 0, der.length, TAG_SEQUENCE, 'a Certificate SEQUENCE');
  const tbs = expect(der, certSeq.body, certSeq.end, TAG_SEQUENCE, 'a TBSCertificate SEQUENCE');
  let p = tbs.body;
  let t = readTlv(der, p, tbs.end);
  if (t.tag === TAG_VERSION) t = readTlv(der, (p = t.end), tbs.end);
  if (t.tag !== TAG_INTEGER) throw new Error('certificate DER: expected the serial number');
  const sigAlg = expect(der, t.end, tbs.end, TAG_SEQUENCE, 'the signature algorithm');
  const issuer = expect(der, sigAlg.end, tbs.end, TAG_SEQUENCE, 'the issuer Name');
  const validity = expect(der, issuer.end, tbs.end, TAG_SEQUENCE, 'the validity');
  const subject = expect(der, validity.end, tbs.end, TAG_SEQUENCE, 'the subject Name');
  return formatName(der, subject);
}

// ---------------------------------------------------------------------------------------------
// ssl.principal.mapping.rules

interface MappingRule {
  readonly text: string;
  readonly isDefault: boolean;
  readonly regex?: RegExp;
  /** The pattern anchored at both ends: Kafka requires it to match the whole DN (Matcher.matches()). */
  readonly whole?: RegExp;
  readonly groups?: number;
  readonly replacement?: string;
  readonly caseFold?: 'L' | 'U';
}

/** Thrown when rules are configured but none of them matches the DN; Kafka then fails the authentication. */
export class NoMatchingRuleError extends Error {
  constructor(dn: string, rules: string) {
    super(`no ssl.principal.mapping.rules rule applies to "${dn}" (rules: ${rules})`);
    this.name = 'NoMatchingRuleError';
  }
}

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v';
}

/** Reads a `/`-terminated segment where a backslash escapes the next character (kept verbatim). */
function readSegment(s: string, pos: number): { text: string; next: number } | null {
  let i = pos;
  while (i < s.length && s[i] !== '/') {
    if (s[i] === '\\') {
      if (i + 1 >= s.length) return null;
      i += 2;
    } else {
      i++;
    }
  }
  if (i >= s.length) return null;
  return { text: s.slice(pos, i), next: i + 1 };
}

function countGroups(regex: RegExp): number {
  // An alternation with the empty pattern always matches, and exposes one slot per group.
  return new RegExp(`${regex.source}|`).exec('')!.length - 1;
}

/**
 * Splits and parses the rules list as Kafka does: entries are `DEFAULT` or
 * `RULE:pattern/replacement/` with an optional `L` or `U`, separated by commas (newlines are
 * accepted too). A pattern may hold commas, and `\` escapes the next character (so `\/` is a
 * slash inside the pattern). Empty entries are ignored.
 */
function parseRules(rules: string): MappingRule[] {
  const out: MappingRule[] = [];
  const s = rules;
  let i = 0;
  const fail = (from: number, why: string): never => {
    const end = s.slice(from).search(/[,\n]/);
    const entry = (end < 0 ? s.slice(from) : s.slice(from, from + end)).trim();
    throw new Error(`invalid ssl.principal.mapping.rules entry "${entry}": ${why}`);
  };
  while (i < s.length) {
    while (i < s.length && isSpace(s[i])) i++;
    if (i >= s.length) break;
    const start = i;
    if (s[i] === ',') {
      i++; // empty entry
      continue;
    }
    if (s.startsWith('DEFAULT', i)) {
      i += 'DEFAULT'.length;
      out.push({ text: 'DEFAULT', isDefault: true });
    } else if (s.startsWith('RULE:', i)) {
      const pat = readSegment(s, i + 'RULE:'.length);
      if (pat === null) fail(start, 'expected RULE:pattern/replacement/ with an optional L or U');
      const rep = readSegment(s, pat!.next);
      if (rep === null) fail(start, 'expected RULE:pattern/replacement/ with an optional L or U');
      i = rep!.next;
      let caseFold: 'L' | 'U' | undefined;
      if (s[i] === 'L' || s[i] === 'U') caseFold = s[i++] as 'L' | 'U';
      let regex: RegExp;
      try {
        // Global, because Kafka rewrites with String.replaceAll(pattern, replacement).
        regex = new RegExp(pat!.text, 'g');
      } catch (e) {
        return fail(start, `pattern is not a valid regular expression (${(e as Error).message})`);
      }
      const groups = countGroups(regex);
      checkReplacement(rep!.text, groups, (why) => fail(start, why));
      const whole = new RegExp(`^(?:${pat!.text})$`);
      out.push({ text: s.slice(start, i), isDefault: false, regex, whole, groups, replacement: rep!.text, caseFold });
    } else {
      fail(start, 'expected DEFAULT or RULE:pattern/replacement/');
    }
    while (i < s.length && isSpace(s[i]) && s[i] !== '\n') i++;
    if (i < s.length) {
      if (s[i] !== ',' && s[i] !== '\n') fail(start, `unexpected text "${s.slice(i).split(/[,\n]/)[0]}" after the rule`);
      i++;
    }
  }
  return out;
}

/**
 * Java replacement syntax: `$n` inserts group n (more digits are taken while the number stays
 * a valid group), `\c` is a literal c. As Kafka does, a `$n` naming a group the pattern lacks
 * is literal text; a `$` not followed by a digit is an error.
 */
function expandReplacement(rep: string, groups: number, match: (string | undefined)[]): string {
  let out = '';
  for (let i = 0; i < rep.length; i++) {
    const ch = rep[i];
    if (ch === '\\') {
      out += rep[++i] ?? '';
    } else if (ch === '$') {
      const d = rep.charCodeAt(i + 1) - 48;
      if (!(d >= 0 && d <= 9) || d > groups) {
        out += '$';
        continue;
      }
      let n = d;
      i++;
      while (i + 1 < rep.length) {
        const nd = rep.charCodeAt(i + 1) - 48;
        if (!(nd >= 0 && nd <= 9) || n * 10 + nd > groups) break;
        n = n * 10 + nd;
        i++;
      }
      out += match[n] ?? '';
    } else {
      out += ch;
    }
  }
  return out;
}

function checkReplacement(rep: string, groups: number, fail: (why: string) => never): void {
  for (let i = 0; i < rep.length; i++) {
    if (rep[i] === '\\') {
      if (i + 1 >= rep.length) fail('replacement ends with a lone backslash');
      i++;
    } else if (rep[i] === '$') {
      const d = rep.charCodeAt(i + 1) - 48;
      if (!(d >= 0 && d <= 9)) fail('"$" in the replacement must be followed by a group number (write \\$ for a literal $)');
      if (groups === 0 && d !== 0) fail(`replacement refers to group $${d} but the pattern has no groups`);
    }
  }
}

function applyRule(rule: MappingRule, dn: string): string | null {
  if (rule.isDefault) return dn;
  const regex = rule.regex!;
  if (!rule.whole!.test(dn)) return null;
  regex.lastIndex = 0;
  let result = dn.replace(regex, (...args: unknown[]) => {
    const match: (string | undefined)[] = [args[0] as string];
    for (let g = 1; g <= rule.groups!; g++) match.push(args[g] as string | undefined);
    return expandReplacement(rule.replacement!, rule.groups!, match);
  });
  if (rule.caseFold === 'L') result = result.toLowerCase();
  else if (rule.caseFold === 'U') result = result.toUpperCase();
  return result;
}

const ruleCache = new Map<string, MappingRule[]>();

function compiledRules(rules: string): MappingRule[] {
  let parsed = ruleCache.get(rules);
  if (parsed === undefined) {
    parsed = parseRules(rules);
    if (ruleCache.size > 64) ruleCache.clear(); // only a handful of listener configs exist
    ruleCache.set(rules, parsed);
  }
  return parsed;
}

/** Parses a rules list, throwing an Error naming the bad entry; use it to validate configuration early. */
export function validatePrincipalMappingRules(rules: string | null): void {
  if (rules !== null) compiledRules(rules);
}

/**
 * Kafka's `ssl.principal.mapping.rules` (default `DEFAULT`): the first rule whose pattern
 * matches the whole DN gives the principal name; `DEFAULT` keeps the DN. As in Kafka, when
 * rules are configured and none matches, NoMatchingRuleError is thrown and the caller must fail
 * the authentication. A malformed rules list throws an Error naming the entry.
 */
export function applyPrincipalMappingRules(dn: string, rules: string | null): string {
  if (rules === null) return dn; // Kafka's default is "DEFAULT"
  const parsed = compiledRules(rules);
  if (parsed.length === 0) return dn; // an empty list is treated as the default
  for (const rule of parsed) {
    const name = applyRule(rule, dn);
    if (name !== null) return name;
  }
  throw new NoMatchingRuleError(dn, rules);
}

/** The principal name for a client certificate: the mapping rules applied to its subject DN. */
export function sslPrincipal(cert: crypto.X509Certificate, rules: string | null): string {
  return applyPrincipalMappingRules(distinguishedName(cert), rules);
}

/**
 * The client certificate a principal may be taken from, or null when the connection must stay
 * anonymous. With `ssl.client.auth=requested` the server accepts the handshake even when the
 * client's certificate does not chain to the truststore, so `socket.authorized` must be checked:
 * only a verified certificate yields a principal. (Java fails such a handshake outright; a
 * caller wanting that can close the socket when this returns null but a certificate was sent.)
 */
export function verifiedPeerCertificate(socket: tls.TLSSocket): crypto.X509Certificate | null {
  if (!socket.authorized) return null;
  return socket.getPeerX509Certificate() ?? null;
}
