/**
 * The authorizer: Kafka's StandardAuthorizer rules over the ACLs of AclStore.
 *
 * On only when authorizer.class.name names Kafka's StandardAuthorizer (or the older
 * AclAuthorizer, which applies the same rules); with it off every request is allowed and
 * handlers skip their checks after one boolean test (`enabled`).
 *
 * A request by principal P from host H for operation O on resource R is decided so:
 *   - P is in super.users: allowed;
 *   - the ACLs that apply to R are those on its type with the literal name R, the literal
 *     name "*", or a PREFIXED name that starts R;
 *   - of those, an ACL counts when its principal is P or User:*, its host H or "*", and its
 *     operation O or ALL; an ALLOW for READ, WRITE, DELETE or ALTER also grants DESCRIBE,
 *     and ALTER_CONFIGS grants DESCRIBE_CONFIGS (a DENY never extends like that);
 *   - a counting DENY refuses, else a counting ALLOW allows;
 *   - nothing counted: refused if R has any ACL at all (for anyone), else
 *     allow.everyone.if.no.acl.found decides.
 *
 * Decisions are cached per principal and host, then per (type, operation, name); any ACL
 * change drops the cache. Token-authenticated connections are judged as the token's owner.
 */
import type { BrokerConfig } from '../../config';
import type { BrokerConfigStore } from '../../cluster/broker-config';
import type { Logger } from '../../logging';
import type { KafkaPrincipal } from '../principal';
import { AclStore } from './acl-store';
import {
  AclBinding,
  AclFilter,
  AclOperation,
  CLUSTER_NAME,
  creationError,
  operationName,
  PatternType,
  PermissionType,
  resourceTypeName,
  SUPPORTED_OPERATIONS,
  WILDCARD,
  WILDCARD_PRINCIPAL,
} from './acl-types';

/** Values of authorizer.class.name that turn the authorizer on. */
export const STANDARD_AUTHORIZER_CLASSES = ['org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'kafka.security.authorizer.AclAuthorizer'];

/** What the authorizer needs of a connection. */
export interface Requester {
  readonly principal: KafkaPrincipal;
  /** "ip:port" */
  readonly remoteAddress: string;
}

/** Caches grow with principals x resources; past this many entries they start over. */
const MAX_CACHED_DECISIONS = 100_000;

export class Authorizer {
  /** Whether ACLs are enforced. Handlers test this before anything else. */
  readonly enabled: boolean;
  readonly store: AclStore;
  private readonly superUsers: Set<string>;
  private readonly allowIfNoAcl: boolean;
  private cache = new Map<string, Map<string, boolean>>();
  private cached = 0;
  private cacheVersion = -1;

  constructor(
    config: BrokerConfig,
    settings: BrokerConfigStore,
    private readonly log: Logger,
  ) {
    const cls = (settings.get('authorizer.class.name') ?? '').trim();
    if (cls !== '' && !STANDARD_AUTHORIZER_CLASSES.includes(cls)) {
      // Kafka fails to start with a class it cannot load; running without the ACLs the
      // operator asked for would be worse.
      throw new Error(`authorizer.class.name ${cls} is not supported; use ${STANDARD_AUTHORIZER_CLASSES[0]}`);
    }
    this.enabled = cls !== '';
    this.superUsers = new Set(
      (settings.get('super.users') ?? '')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    );
    this.allowIfNoAcl = settings.get('allow.everyone.if.no.acl.found') === 'true';
    this.store = new AclStore(config.dataDir, log);
    if (this.enabled) {
      log.info('authorizer on', { superUsers: [...this.superUsers], allowEveryoneIfNoAclFound: this.allowIfNoAcl, acls: this.store.size });
    }
  }

  isSuperUser(principal: KafkaPrincipal): boolean {
    return this.superUsers.has(`${principal.type}:${principal.name}`);
  }

  /**
   * Whether `who` may perform `operation` on the resource. Denials are logged at debug
   * unless `logIfDenied` is false (filtering lists, computing authorized operations).
   */
  authorize(who: Requester, operation: number, resourceType: number, name: string, logIfDenied = true): boolean {
    if (!this.enabled) return true;
    const principal = `${who.principal.type}:${who.principal.name}`;
    const host = hostOf(who.remoteAddress);
    if (this.cacheVersion !== this.store.version) {
      this.cache = new Map();
      this.cached = 0;
      this.cacheVersion = this.store.version;
    }
    const requester = `${principal}\u0000${host}`;
    const what = `${resourceType}\u0000${operation}\u0000${name}`;
    let allowed = this.cache.get(requester)?.get(what);
    if (allowed === undefined) {
      allowed = this.decide(principal, host, operation, resourceType, name);
      if (this.cached >= MAX_CACHED_DECISIONS) {
        this.cache = new Map();
        this.cached = 0;
      }
      let mine = this.cache.get(requester);
      if (!mine) this.cache.set(requester, (mine = new Map()));
      mine.set(what, allowed);
      this.cached++;
    }
    if (!allowed && logIfDenied) {
      this.log.debug('authorization denied', {
        principal,
        host,
        operation: operationName(operation),
        resource: `${resourceTypeName(resourceType)}:${name}`,
      });
    }
    return allowed;
  }

  authorizeCluster(who: Requester, operation: number, logIfDenied = true): boolean {
    return this.authorize(who, operation, 4, CLUSTER_NAME, logIfDenied);
  }

  /** The decision itself, uncached. */
  private decide(principal: string, host: string, operation: number, resourceType: number, name: string): boolean {
    if (this.superUsers.has(principal)) return true;
    const t = this.store.ofType(resourceType);
    if (!t) return this.allowIfNoAcl;
    let hasAcls = false;
    let allow = false;
    const consider = (acls: AclBinding[] | undefined): boolean => {
      if (!acls) return false;
      for (const acl of acls) {
        hasAcls = true;
        const r = result(acl, principal, host, operation);
        if (r === PermissionType.DENY) return true;
        if (r === PermissionType.ALLOW) allow = true;
      }
      return false;
    };
    if (consider(t.literal.get(name))) return false;
    if (name !== WILDCARD && consider(t.literal.get(WILDCARD))) return false;
    for (const acl of t.prefixed) {
      if (!name.startsWith(acl.resourceName)) continue;
      if (consider([acl])) return false;
    }
    if (allow) return true;
    return hasAcls ? false : this.allowIfNoAcl;
  }

  /**
   * Whether `who` may perform `operation` on some resource of the type (Kafka's
   * authorizeByResourceType: InitProducerId without IDEMPOTENT_WRITE needs WRITE on "any
   * topic"). Allowed when a name-independent check passes (super users, no ACLs and
   * allow.everyone.if.no.acl.found), else when some ALLOW ACL is not shadowed by a DENY:
   * a literal "*" DENY shadows everything, a literal DENY its own name, a prefixed DENY
   * every name and prefix starting with it.
   */
  authorizeByResourceType(who: Requester, operation: number, resourceType: number): boolean {
    if (!this.enabled) return true;
    // Kafka checks a made-up name first; it passes only for reasons that hold for any name.
    if (this.authorize(who, operation, resourceType, 'hardcode', false)) return true;
    const principal = `${who.principal.type}:${who.principal.name}`;
    const host = hostOf(who.remoteAddress);
    const t = this.store.ofType(resourceType);
    if (!t) return false;
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allowLiteral: string[] = [];
    const allowPrefixed: string[] = [];
    let wildcardAllow = false;
    const all: AclBinding[] = [...t.prefixed];
    for (const list of t.literal.values()) all.push(...list);
    for (const acl of all) {
      if (acl.host !== WILDCARD && acl.host !== host) continue;
      if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) continue;
      if (acl.operation !== operation && acl.operation !== AclOperation.ALL) continue;
      const literal = acl.patternType === PatternType.LITERAL;
      if (acl.permissionType === PermissionType.DENY) {
        if (literal && acl.resourceName === WILDCARD) return false;
        (literal ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else if (acl.permissionType === PermissionType.ALLOW) {
        if (literal && acl.resourceName === WILDCARD) wildcardAllow = true;
        else (literal ? allowLiteral : allowPrefixed).push(acl.resourceName);
      }
    }
    if (wildcardAllow) return true;
    const shadowed = (name: string) => {
      for (let i = 1; i <= name.length; i++) if (denyPrefixed.has(name.slice(0, i))) return true;
      return false;
    };
    for (const name of allowLiteral) if (!denyLiteral.has(name) && !shadowed(name)) return true;
    for (const name of allowPrefixed) if (!shadowed(name)) return true;
    this.log.debug('authorization denied', { principal, host, operation: operationName(operation), resource: `${resourceTypeName(resourceType)}:<any>` });
    return false;
  }

  /**
   * The authorized-operations bit field of a resource for `who` (bit n set: operation code
   * n allowed), over the operations Kafka lists for the resource type.
   */
  authorizedOperations(who: Requester, resourceType: number, name: string): number {
    let bits = 0;
    for (const op of SUPPORTED_OPERATIONS[resourceType] ?? []) {
      if (this.authorize(who, op, resourceType, name, false)) bits |= 1 << op;
    }
    return bits;
  }

  // ------------------------------------------------------------------ ACL administration

  acls(filter: AclFilter): AclBinding[] {
    return this.store.list(filter);
  }

  /** Creates the valid bindings; one error message (or null) per binding, in order. */
  createAcls(bindings: AclBinding[]): (string | null)[] {
    const errors = bindings.map(creationError);
    const valid = bindings.filter((_, i) => errors[i] === null);
    this.store.add(valid);
    if (valid.length > 0) this.log.info('ACLs created', { count: valid.length });
    return errors;
  }

  deleteAcls(filters: AclFilter[]): AclBinding[][] {
    const removed = this.store.remove(filters);
    const n = new Set(removed.flat()).size;
    if (n > 0) this.log.info('ACLs deleted', { count: n });
    return removed;
  }
}

/**
 * How an ACL applies to a request: ALLOW, DENY, or 0 when it does not (principal, host or
 * operation differ). Implied operations extend ALLOW ACLs only.
 */
function result(acl: AclBinding, principal: string, host: string, operation: number): number {
  if (acl.principal !== principal && acl.principal !== WILDCARD_PRINCIPAL) return 0;
  if (acl.host !== WILDCARD && acl.host !== host) return 0;
  if (acl.operation !== AclOperation.ALL) {
    if (acl.permissionType === PermissionType.ALLOW) {
      if (operation === AclOperation.DESCRIBE) {
        if (!IMPLIES_DESCRIBE.has(acl.operation)) return 0;
      } else if (operation === AclOperation.DESCRIBE_CONFIGS) {
        if (acl.operation !== AclOperation.DESCRIBE_CONFIGS && acl.operation !== AclOperation.ALTER_CONFIGS) return 0;
      } else if (acl.operation !== operation) return 0;
    } else if (acl.operation !== operation) return 0;
  }
  return acl.permissionType;
}

const IMPLIES_DESCRIBE = new Set<number>([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);

/**
 * The client's IP as Kafka writes hosts in ACLs: the address without the port, and an
 * IPv4 address without the "::ffff:" prefix a dual-stack socket reports it with.
 */
export function hostOf(remoteAddress: string): string {
  const i = remoteAddress.lastIndexOf(':');
  const ip = i >= 0 ? remoteAddress.slice(0, i) : remoteAddress;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
