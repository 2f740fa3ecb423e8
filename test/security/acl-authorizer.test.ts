/**
 * The authorizer's rules (src/security/acl/authorizer.ts) and the ACL filter semantics,
 * on an Authorizer built over a temporary data directory: super users, the no-ACL
 * default, DENY over ALLOW, wildcard principals, names and hosts, prefixed patterns,
 * implied operations, authorizeByResourceType, the decision cache and durability.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Authorizer, hostOf } from '../../src/security/acl/authorizer';
import { AclBinding, AclFilter, creationError, filterIsUnknown, filterMatches } from '../../src/security/acl/acl-types';
import { createLogger } from '../../src/logging';
import type { BrokerConfigStore } from '../../src/cluster/broker-config';
import type { BrokerConfig } from '../../src/config';
import { userPrincipal } from '../../src/security/principal';

const quiet = createLogger('silent');
const TOPIC = 2, GROUP = 3, CLUSTER = 4, TXN = 5;
const LITERAL = 3, PREFIXED = 4;
const ALL = 2, READ = 3, WRITE = 4, CREATE = 5, DELETE = 6, ALTER = 7, DESCRIBE = 8, DESCRIBE_CONFIGS = 10, ALTER_CONFIGS = 11, IDEMPOTENT_WRITE = 12;
const DENY = 2, ALLOW = 3;

const alice = { principal: userPrincipal('alice'), remoteAddress: '10.0.0.1:5000' };
const bob = { principal: userPrincipal('bob'), remoteAddress: '10.0.0.2:5000' };
const admin = { principal: userPrincipal('admin'), remoteAddress: '10.0.0.3:5000' };

function acl(p: Partial<AclBinding>): AclBinding {
  return { resourceType: TOPIC, resourceName: 'orders', patternType: LITERAL, principal: 'User:alice', host: '*', operation: READ, permissionType: ALLOW, ...p };
}

describe('authorizer', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-acl-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function make(props: Record<string, string> = {}): Authorizer {
    const all: Record<string, string> = { 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', ...props };
    const settings = { get: (k: string) => all[k] ?? null } as unknown as BrokerConfigStore;
    return new Authorizer({ dataDir: dir } as BrokerConfig, settings, quiet);
  }

  test('is off without authorizer.class.name and then allows everything', () => {
    const a = make({ 'authorizer.class.name': '' });
    expect(a.enabled).toBe(false);
    expect(a.authorize(alice, WRITE, TOPIC, 'x')).toBe(true);
    expect(a.authorizeByResourceType(alice, WRITE, TOPIC)).toBe(true);
  });

  test('accepts the old AclAuthorizer name and refuses classes it does not implement', () => {
    expect(make({ 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer' }).enabled).toBe(true);
    expect(() => make({ 'authorizer.class.name': 'com.example.MyAuthorizer' })).toThrow(/not supported/);
  });

  test('denies a resource without ACLs unless allow.everyone.if.no.acl.found', () => {
    expect(make().authorize(alice, READ, TOPIC, 'orders')).toBe(false);
    const open = make({ 'allow.everyone.if.no.acl.found': 'true' });
    expect(open.authorize(alice, READ, TOPIC, 'orders')).toBe(true);
    // ...but once the resource has an ACL for anyone, the default no longer applies.
    open.createAcls([acl({ principal: 'User:bob' })]);
    expect(open.authorize(alice, READ, TOPIC, 'orders')).toBe(false);
    expect(open.authorize(bob, READ, TOPIC, 'orders')).toBe(true);
    expect(open.authorize(alice, READ, TOPIC, 'payments')).toBe(true);
  });

  test('super users are allowed everything, DENY ACLs included', () => {
    const a = make({ 'super.users': 'User:admin; User:root' });
    a.createAcls([acl({ principal: 'User:*', operation: ALL, permissionType: DENY, resourceName: '*' })]);
    expect(a.authorize(admin, DELETE, TOPIC, 'orders')).toBe(true);
    expect(a.authorize(admin, ALTER, CLUSTER, 'kafka-cluster')).toBe(true);
    expect(a.authorizeByResourceType(admin, WRITE, TOPIC)).toBe(true);
    expect(a.authorize(alice, READ, TOPIC, 'orders')).toBe(false);
  });

  test('an ALLOW matches its principal, operation and name only', () => {
    const a = make();
    a.createAcls([acl({})]);
    expect(a.authorize(alice, READ, TOPIC, 'orders')).toBe(true);
    expect(a.authorize(bob, READ, TOPIC, 'orders')).toBe(false);
    expect(a.authorize(alice, WRITE, TOPIC, 'orders')).toBe(false);
    expect(a.authorize(alice, READ, TOPIC, 'orders2')).toBe(false);
    expect(a.authorize(alice, READ, GROUP, 'orders')).toBe(false);
  });

  test('DENY wins over ALLOW, whichever pattern carries them', () => {
    const a = make();
    a.createAcls([
      acl({ principal: 'User:*', resourceName: '*' }),
      acl({ resourceName: 'secret-', patternType: PREFIXED, permissionType: DENY }),
    ]);
    expect(a.authorize(alice, READ, TOPIC, 'orders')).toBe(true);
    expect(a.authorize(alice, READ, TOPIC, 'secret-plans')).toBe(false);
    expect(a.authorize(bob, READ, TOPIC, 'secret-plans')).toBe(true);
  });

  test('User:* and the resource * are wildcards; a literal name is not a prefix', () => {
    const a = make();
    a.createAcls([acl({ principal: 'User:*', resourceName: 'orders', operation: WRITE }), acl({ resourceName: '*', operation: DELETE })]);
    expect(a.authorize(bob, WRITE, TOPIC, 'orders')).toBe(true);
    expect(a.authorize(bob, WRITE, TOPIC, 'ordersX')).toBe(false);
    expect(a.authorize(alice, DELETE, TOPIC, 'anything')).toBe(true);
    expect(a.authorize(bob, DELETE, TOPIC, 'anything')).toBe(false);
  });

  test('prefixed patterns match names that start with them', () => {
    const a = make();
    a.createAcls([acl({ resourceName: 'team-a.', patternType: PREFIXED, operation: WRITE })]);
    expect(a.authorize(alice, WRITE, TOPIC, 'team-a.orders')).toBe(true);
    expect(a.authorize(alice, WRITE, TOPIC, 'team-a.')).toBe(true);
    expect(a.authorize(alice, WRITE, TOPIC, 'team-b.orders')).toBe(false);
    expect(a.authorize(alice, WRITE, TOPIC, 'team-a')).toBe(false);
  });

  test('hosts match exactly or by *; the client host is its IP without port or IPv4-mapped prefix', () => {
    const a = make();
    a.createAcls([acl({ host: '10.0.0.1' })]);
    expect(a.authorize(alice, READ, TOPIC, 'orders')).toBe(true);
    expect(a.authorize({ ...alice, remoteAddress: '::ffff:10.0.0.1:6000' }, READ, TOPIC, 'orders')).toBe(true);
    expect(a.authorize({ ...alice, remoteAddress: '10.0.0.9:5000' }, READ, TOPIC, 'orders')).toBe(false);
    expect(hostOf('::1:9092')).toBe('::1');
    expect(hostOf('127.0.0.1:1')).toBe('127.0.0.1');
  });

  test('ALLOW READ/WRITE/DELETE/ALTER imply DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS; DENY does not extend', () => {
    const a = make();
    for (const op of [READ, WRITE, DELETE, ALTER]) {
      const b = make();
      b.createAcls([acl({ operation: op })]);
      expect(b.authorize(alice, DESCRIBE, TOPIC, 'orders')).toBe(true);
      fs.rmSync(path.join(dir, 'acls.json'));
    }
    a.createAcls([acl({ operation: CREATE })]);
    expect(a.authorize(alice, DESCRIBE, TOPIC, 'orders')).toBe(false);
    a.createAcls([acl({ operation: ALTER_CONFIGS, resourceName: 'cfg' })]);
    expect(a.authorize(alice, DESCRIBE_CONFIGS, TOPIC, 'cfg')).toBe(true);
    expect(a.authorize(alice, ALTER_CONFIGS, TOPIC, 'cfg')).toBe(true);
    // DENY READ does not deny DESCRIBE.
    a.createAcls([acl({ resourceName: 'd', operation: DESCRIBE }), acl({ resourceName: 'd', operation: READ, permissionType: DENY })]);
    expect(a.authorize(alice, DESCRIBE, TOPIC, 'd')).toBe(true);
    expect(a.authorize(alice, READ, TOPIC, 'd')).toBe(false);
  });

  test('ALL allows and denies every operation', () => {
    const a = make();
    a.createAcls([acl({ operation: ALL }), acl({ resourceName: 'x', operation: ALL }), acl({ resourceName: 'x', operation: ALL, permissionType: DENY, principal: 'User:bob' })]);
    for (const op of [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]) {
      expect(a.authorize(alice, op, TOPIC, 'orders')).toBe(true);
      expect(a.authorize(bob, op, TOPIC, 'x')).toBe(false);
    }
  });

  test('authorizedOperations reports the supported operations allowed, as a bit field', () => {
    const a = make();
    a.createAcls([acl({ operation: WRITE })]);
    expect(a.authorizedOperations(alice, TOPIC, 'orders')).toBe((1 << WRITE) | (1 << DESCRIBE));
    expect(a.authorizedOperations(bob, TOPIC, 'orders')).toBe(0);
    a.createAcls([acl({ resourceType: GROUP, resourceName: 'g', operation: ALL })]);
    expect(a.authorizedOperations(alice, GROUP, 'g')).toBe((1 << READ) | (1 << DESCRIBE) | (1 << DELETE) | (1 << DESCRIBE_CONFIGS) | (1 << ALTER_CONFIGS));
  });

  test('authorizeByResourceType: some ALLOW not shadowed by a DENY', () => {
    const a = make();
    expect(a.authorizeByResourceType(alice, WRITE, TOPIC)).toBe(false);
    a.createAcls([acl({ operation: WRITE, resourceName: 'orders' })]);
    expect(a.authorizeByResourceType(alice, WRITE, TOPIC)).toBe(true);
    expect(a.authorizeByResourceType(bob, WRITE, TOPIC)).toBe(false);
    // A literal DENY on the same name shadows it; so does a prefixed DENY on a prefix.
    a.createAcls([acl({ operation: WRITE, resourceName: 'orders', permissionType: DENY })]);
    expect(a.authorizeByResourceType(alice, WRITE, TOPIC)).toBe(false);
    a.createAcls([acl({ operation: WRITE, resourceName: 'pay', patternType: PREFIXED })]);
    expect(a.authorizeByResourceType(alice, WRITE, TOPIC)).toBe(true);
    a.createAcls([acl({ operation: WRITE, resourceName: 'p', patternType: PREFIXED, permissionType: DENY })]);
    expect(a.authorizeByResourceType(alice, WRITE, TOPIC)).toBe(false);
    // A wildcard ALLOW is enough; a wildcard DENY beats everything.
    a.createAcls([acl({ operation: ALL, resourceName: '*', principal: 'User:bob' })]);
    expect(a.authorizeByResourceType(bob, WRITE, TOPIC)).toBe(true);
    a.createAcls([acl({ operation: WRITE, resourceName: '*', principal: 'User:*', permissionType: DENY })]);
    expect(a.authorizeByResourceType(bob, WRITE, TOPIC)).toBe(false);
  });

  test('decisions are cached and dropped when ACLs change', () => {
    const a = make();
    expect(a.authorize(alice, WRITE, TXN, 'tx')).toBe(false);
    a.createAcls([acl({ resourceType: TXN, resourceName: 'tx', operation: WRITE })]);
    expect(a.authorize(alice, WRITE, TXN, 'tx')).toBe(true);
    a.deleteAcls([{ resourceType: TXN, resourceName: null, patternType: 1, principal: null, host: null, operation: 1, permissionType: 1 }]);
    expect(a.authorize(alice, WRITE, TXN, 'tx')).toBe(false);
  });

  test('ACLs survive a restart; creating one twice stores it once', () => {
    const a = make();
    expect(a.createAcls([acl({}), acl({}), acl({ resourceType: CLUSTER, resourceName: 'kafka-cluster', operation: IDEMPOTENT_WRITE })])).toEqual([null, null, null]);
    const b = make();
    expect(b.store.size).toBe(2);
    expect(b.authorize(alice, READ, TOPIC, 'orders')).toBe(true);
    expect(b.authorize(alice, IDEMPOTENT_WRITE, CLUSTER, 'kafka-cluster')).toBe(true);
  });

  test('a corrupt ACL file stops the start rather than dropping the ACLs', () => {
    fs.writeFileSync(path.join(dir, 'acls.json'), '{"version":1,"acls":');
    expect(() => make()).toThrow();
  });
});

describe('ACL bindings and filters', () => {
  const any: AclFilter = { resourceType: 1, resourceName: null, patternType: 1, principal: null, host: null, operation: 1, permissionType: 1 };

  test('creation checks use Kafka\'s messages', () => {
    expect(creationError(acl({}))).toBeNull();
    expect(creationError(acl({ resourceType: CLUSTER, resourceName: 'c' }))).toBe('The only valid name for the CLUSTER resource is kafka-cluster');
    expect(creationError(acl({ resourceName: '' }))).toBe('Invalid empty resource name');
    expect(creationError(acl({ resourceType: 1 }))).toBe('Invalid resourceType ANY');
    expect(creationError(acl({ resourceType: 42 }))).toBe('Invalid resourceType UNKNOWN');
    expect(creationError(acl({ patternType: 2 }))).toBe('Invalid patternType MATCH');
    expect(creationError(acl({ operation: 1 }))).toBe('Invalid operation ANY');
    expect(creationError(acl({ permissionType: 1 }))).toBe('Invalid permissionType ANY');
    expect(creationError(acl({ principal: 'alice' }))).toMatch(/^Could not parse principal from `alice`/);
  });

  test('ANY, MATCH and exact pattern filters', () => {
    const lit = acl({});
    const star = acl({ resourceName: '*' });
    const pre = acl({ resourceName: 'ord', patternType: PREFIXED });
    const other = acl({ resourceName: 'x', patternType: PREFIXED });
    const sel = (f: Partial<AclFilter>) => [lit, star, pre, other].filter((b) => filterMatches({ ...any, ...f }, b));
    expect(sel({})).toHaveLength(4);
    expect(sel({ resourceName: 'orders' })).toEqual([lit]);
    expect(sel({ resourceName: 'orders', patternType: 2 })).toEqual([lit, star, pre]);
    expect(sel({ resourceName: 'ord', patternType: PREFIXED })).toEqual([pre]);
    expect(sel({ patternType: LITERAL })).toEqual([lit, star]);
    expect(sel({ principal: 'User:*' })).toEqual([]);
    expect(sel({ resourceType: GROUP })).toEqual([]);
    expect(sel({ operation: READ, permissionType: ALLOW, host: '*' })).toHaveLength(4);
  });

  test('filters with UNKNOWN parts are refused', () => {
    expect(filterIsUnknown(any)).toBe(false);
    expect(filterIsUnknown({ ...any, resourceType: 0 })).toBe(true);
    expect(filterIsUnknown({ ...any, patternType: 9 })).toBe(true);
    expect(filterIsUnknown({ ...any, operation: 0 })).toBe(true);
    expect(filterIsUnknown({ ...any, permissionType: 7 })).toBe(true);
  });
});
