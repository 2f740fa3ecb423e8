import * as crypto from 'crypto';
import * as forge from 'node-forge';
import {
  applyPrincipalMappingRules,
  distinguishedName,
  NoMatchingRuleError,
  sslPrincipal,
  validatePrincipalMappingRules,
} from '../../src/security/ssl-principal';
import { issueCertificate, SubjectField, testPki } from '../helpers/certs';

const T = forge.asn1.Type;

function certWithSubject(subject: SubjectField[]): crypto.X509Certificate {
  return new crypto.X509Certificate(forge.pki.certificateToPem(issueCertificate({ subject }).cert));
}

/**
 * A certificate whose subject Name is replaced by hand-built RDNs (forge cannot make
 * multi-valued RDNs). The signature no longer verifies, which parsing does not care about.
 */
// forge encodes a BMPSTRING value itself (as UTF-16BE); other values are raw byte strings.
function certWithRdns(rdns: { oid: string; tag: number; value: string }[][]): crypto.X509Certificate {
  const asn = forge.pki.certificateToAsn1(issueCertificate({ subject: [{ name: 'CN', value: 'x' }] }).cert);
  const tbs = asn.value[0] as forge.asn1.Asn1;
  const name = forge.asn1.create(
    forge.asn1.Class.UNIVERSAL,
    T.SEQUENCE,
    true,
    rdns.map((rdn) =>
      forge.asn1.create(
        forge.asn1.Class.UNIVERSAL,
        T.SET,
        true,
        rdn.map((ava) =>
          forge.asn1.create(forge.asn1.Class.UNIVERSAL, T.SEQUENCE, true, [
            forge.asn1.create(forge.asn1.Class.UNIVERSAL, T.OID, false, forge.asn1.oidToDer(ava.oid).getBytes()),
            forge.asn1.create(forge.asn1.Class.UNIVERSAL, ava.tag, false, ava.value),
          ]),
        ),
      ),
    ),
  );
  // TBSCertificate: [0] version, serial, signature, issuer, validity, subject, ...
  (tbs.value as forge.asn1.Asn1[])[5] = name;
  return new crypto.X509Certificate(Buffer.from(forge.asn1.toDer(asn).getBytes(), 'binary'));
}

describe('distinguishedName', () => {
  test('most specific RDN first, as X500Principal.getName()', () => {
    const cert = certWithSubject([
      { name: 'C', value: 'US', valueTag: T.PRINTABLESTRING },
      { name: 'ST', value: 'State' },
      { name: 'L', value: 'Town' },
      { name: 'O', value: 'Acme' },
      { name: 'OU', value: 'eng' },
      { name: 'CN', value: 'alice' },
    ]);
    expect(distinguishedName(cert)).toBe('CN=alice,OU=eng,O=Acme,L=Town,ST=State,C=US');
  });

  test('the test client certificate', () => {
    const pem = testPki().client.cert;
    expect(distinguishedName(new crypto.X509Certificate(pem))).toBe('CN=alice,OU=eng,O=Samsa Test');
  });

  // Expected strings checked against Java 17's X500Principal.getName() for the same names.
  test('escapes special characters and leading/trailing spaces like Java', () => {
    const cert = certWithSubject([
      { name: 'C', value: 'US' },
      { name: 'ST', value: '#hash' },
      { name: 'L', value: 'trail ' },
      { name: 'O', value: ' lead' },
      { name: 'OU', value: 'x,y' },
      { name: 'CN', value: 'a#b=c"d<e>f;g+h\\i' },
    ]);
    expect(distinguishedName(cert)).toBe('CN=a\\#b\\=c\\"d\\<e\\>f\\;g\\+h\\\\i,OU=x\\,y,O=\\ lead,L=trail\\ ,ST=\\#hash,C=US');
  });

  test('two spaces at each end are all escaped; inner spaces are not', () => {
    const cert = certWithSubject([{ name: 'CN', value: '  a b  ' }]);
    expect(distinguishedName(cert)).toBe('CN=\\ \\ a b\\ \\ ');
  });

  test('UTF-8 and BMPString values are printed as text', () => {
    const cert = certWithRdns([
      [{ oid: '2.5.4.10', tag: T.BMPSTRING, value: 'Zoë' }],
      [{ oid: '2.5.4.3', tag: T.UTF8, value: forge.util.encodeUtf8('Ünïcödé') }],
    ]);
    expect(distinguishedName(cert)).toBe('CN=Ünïcödé,O=Zoë');
  });

  test('STREET, DC and UID by keyword; other types as OID=#hex of the DER value', () => {
    const cert = certWithRdns([
      [{ oid: '2.5.4.3', tag: T.UTF8, value: 'x' }],
      [{ oid: '2.5.4.5', tag: T.PRINTABLESTRING, value: '12' }], // serialNumber
      [{ oid: '2.5.4.9', tag: T.UTF8, value: 'Main' }],
      [{ oid: '0.9.2342.19200300.100.1.25', tag: T.IA5STRING, value: 'com' }],
      [{ oid: '0.9.2342.19200300.100.1.25', tag: T.IA5STRING, value: 'example' }],
      [{ oid: '1.2.840.113549.1.9.1', tag: T.IA5STRING, value: 'a@b.c' }], // emailAddress
    ]);
    expect(distinguishedName(cert)).toBe(
      '1.2.840.113549.1.9.1=#16056140622e63,DC=example,DC=com,STREET=Main,2.5.4.5=#13023132,CN=x',
    );
  });

  test('multi-valued RDNs are joined with + in encoded order', () => {
    const cert = certWithRdns([
      [{ oid: '2.5.4.10', tag: T.UTF8, value: 'Samsa Test' }],
      [{ oid: '2.5.4.11', tag: T.UTF8, value: 'eng' }],
      [
        { oid: '2.5.4.3', tag: T.UTF8, value: 'alice' },
        { oid: '0.9.2342.19200300.100.1.1', tag: T.UTF8, value: 'a1' },
      ],
    ]);
    expect(distinguishedName(cert)).toBe('CN=alice+UID=a1,OU=eng,O=Samsa Test');
  });
});

describe('applyPrincipalMappingRules', () => {
  const dn = 'CN=Alice,OU=ServiceUsers,O=Acme,L=Town,ST=State,C=US';

  test('null and DEFAULT keep the DN', () => {
    expect(applyPrincipalMappingRules(dn, null)).toBe(dn);
    expect(applyPrincipalMappingRules(dn, 'DEFAULT')).toBe(dn);
    expect(applyPrincipalMappingRules(dn, '  DEFAULT  ')).toBe(dn);
  });

  test('RULE with groups, and the L and U suffixes', () => {
    expect(applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=.*$/$1@$3/')).toBe('Alice@Acme');
    expect(applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=.*$/$1@$3/L')).toBe('alice@acme');
    expect(applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=.*$/$1@$3/U')).toBe('ALICE@ACME');
  });

  test('the first rule matching the whole DN wins', () => {
    const rules = 'RULE:^CN=(.*?),OU=Admins,.*$/admin-$1/, RULE:^CN=(.*?),OU=ServiceUsers,.*$/svc-$1/L, DEFAULT';
    expect(applyPrincipalMappingRules(dn, rules)).toBe('svc-alice');
    expect(applyPrincipalMappingRules('CN=Bob,OU=Admins,O=Acme', rules)).toBe('admin-Bob');
    expect(applyPrincipalMappingRules('CN=Carol,OU=Other,O=Acme', rules)).toBe('CN=Carol,OU=Other,O=Acme');
    // A pattern matching only part of the DN does not apply.
    expect(applyPrincipalMappingRules(dn, 'RULE:CN=(\\w+)/$1/,DEFAULT')).toBe(dn);
  });

  test('rules separated by newlines, with commas inside patterns', () => {
    const rules = 'RULE:^CN=([^,]*),OU=Admins,O=Acme$/$1/\n  RULE:^CN=([^,]*),OU=(.*?),.*$/$1.$2/L\nDEFAULT';
    expect(applyPrincipalMappingRules('CN=Bob,OU=Admins,O=Acme', rules)).toBe('Bob');
    expect(applyPrincipalMappingRules(dn, rules)).toBe('alice.serviceusers');
  });

  test('escaped slash in the pattern and in the replacement', () => {
    expect(applyPrincipalMappingRules('CN=a/b,O=x', 'RULE:^CN=(.*?)\\/(.*?),.*$/$2\\/$1/')).toBe('b/a');
  });

  test('$n naming a missing group stays literal; \\$ is a literal dollar', () => {
    expect(applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),.*$/$1$2/')).toBe('Alice$2');
    expect(applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),.*$/\\$$1/')).toBe('$Alice');
    expect(applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),.*$/$0/')).toBe(dn);
  });

  test('no matching rule fails as in Kafka', () => {
    expect(() => applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),OU=Admins,.*$/$1/')).toThrow(NoMatchingRuleError);
  });

  test('invalid rules are reported clearly', () => {
    expect(() => applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?)/$1')).toThrow(/invalid ssl.principal.mapping.rules entry/);
    expect(() => applyPrincipalMappingRules(dn, 'RULE:^CN=(.*?),.*$/$1/X')).toThrow(/unexpected text "X"/);
    expect(() => applyPrincipalMappingRules(dn, 'NOPE')).toThrow(/expected DEFAULT or RULE/);
    expect(() => applyPrincipalMappingRules(dn, 'DEFAULT, RULE:([/x/')).toThrow(/not a valid regular expression/);
    expect(() => applyPrincipalMappingRules(dn, 'RULE:^CN=.*$/$1/')).toThrow(/no groups/);
    expect(() => validatePrincipalMappingRules('RULE:a/b/ junk')).toThrow(/RULE:a\/b\/ junk/);
    expect(() => validatePrincipalMappingRules('DEFAULT,RULE:^(.*)$/$1/L')).not.toThrow();
  });

  test('empty entries are ignored', () => {
    expect(applyPrincipalMappingRules(dn, ', RULE:^CN=(.*?),.*$/$1/L, ,')).toBe('alice');
  });
});

describe('sslPrincipal', () => {
  test('maps the client certificate subject', () => {
    const cert = new crypto.X509Certificate(testPki().client.cert);
    expect(sslPrincipal(cert, null)).toBe('CN=alice,OU=eng,O=Samsa Test');
    expect(sslPrincipal(cert, 'RULE:^CN=([^,]+),OU=eng,.*$/$1/U,DEFAULT')).toBe('ALICE');
  });
});
