/**
 * ACL bindings as Kafka's admin APIs carry them: a resource pattern (type, name, pattern
 * type) and an access control entry (principal, host, operation, permission). The numbers
 * are Kafka's wire codes; names are used only in logs and messages.
 *
 * Filters (DescribeAcls, DeleteAcls) use the same fields with ANY (1) and, for the pattern
 * type, MATCH (2); a null name, principal or host matches everything.
 */

export const ResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

export const PatternType = { UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const;

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
} as const;

export const PermissionType = { UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const;

/** The name of the one CLUSTER resource. */
export const CLUSTER_NAME = 'kafka-cluster';
/** A LITERAL resource name, principal ("User:*") or host that matches every value. */
export const WILDCARD = '*';
export const WILDCARD_PRINCIPAL = 'User:*';

const nameOf = (table: Record<string, number>) => {
  const names: string[] = [];
  for (const [k, v] of Object.entries(table)) names[v] = k;
  return (code: number) => names[code] ?? 'UNKNOWN';
};
export const resourceTypeName = nameOf(ResourceType);
export const patternTypeName = nameOf(PatternType);
export const operationName = nameOf(AclOperation);
export const permissionName = nameOf(PermissionType);

/** Codes outside Kafka's enums decode as UNKNOWN, as Kafka's fromCode does. */
const known = (table: Record<string, number>) => {
  const codes = new Set(Object.values(table));
  return (code: number) => (codes.has(code) ? code : 0);
};
export const normResourceType = known(ResourceType);
export const normPatternType = known(PatternType);
export const normOperation = known(AclOperation);
export const normPermission = known(PermissionType);

export interface AclBinding {
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

export interface AclFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/** The operations each resource type supports (what authorized-operations fields report). */
export const SUPPORTED_OPERATIONS: Record<number, readonly number[]> = {
  [ResourceType.TOPIC]: [3, 4, 5, 8, 6, 7, 10, 11],
  [ResourceType.GROUP]: [3, 8, 6, 10, 11],
  [ResourceType.CLUSTER]: [5, 9, 10, 11, 12, 7, 8],
  [ResourceType.TRANSACTIONAL_ID]: [8, 4],
  [ResourceType.DELEGATION_TOKEN]: [8],
  [ResourceType.USER]: [13, 14],
};

export function bindingKey(b: AclBinding): string {
  return `${b.resourceType}\u0000${b.resourceName}\u0000${b.patternType}\u0000${b.principal}\u0000${b.host}\u0000${b.operation}\u0000${b.permissionType}`;
}

export function describeBinding(b: AclBinding): string {
  return (
    `(pattern=ResourcePattern(resourceType=${resourceTypeName(b.resourceType)}, name=${b.resourceName}, ` +
    `patternType=${patternTypeName(b.patternType)}), entry=(principal=${b.principal}, host=${b.host}, ` +
    `operation=${operationName(b.operation)}, permissionType=${permissionName(b.permissionType)}))`
  );
}

/** A filter with an UNKNOWN part matches nothing meaningful; Kafka refuses it with INVALID_REQUEST. */
export function filterIsUnknown(f: AclFilter): boolean {
  return (
    normResourceType(f.resourceType) === ResourceType.UNKNOWN ||
    normPatternType(f.patternType) === PatternType.UNKNOWN ||
    normOperation(f.operation) === AclOperation.UNKNOWN ||
    normPermission(f.permissionType) === PermissionType.UNKNOWN
  );
}

/**
 * Whether a filter selects a binding. The pattern part follows Kafka's ResourcePatternFilter:
 * ANY compares names exactly across pattern types; MATCH selects every pattern that would
 * apply to the named resource (the literal name, the literal wildcard, prefixes of it). The
 * entry part compares exactly: a filter for principal "User:*" finds only wildcard ACLs.
 */
export function filterMatches(f: AclFilter, b: AclBinding): boolean {
  if (f.resourceType !== ResourceType.ANY && f.resourceType !== b.resourceType) return false;
  if (f.patternType !== PatternType.ANY && f.patternType !== PatternType.MATCH && f.patternType !== b.patternType) return false;
  if (f.resourceName !== null) {
    if (f.patternType === PatternType.ANY || f.patternType === b.patternType) {
      if (f.resourceName !== b.resourceName) return false;
    } else if (b.patternType === PatternType.LITERAL) {
      if (f.resourceName !== b.resourceName && b.resourceName !== WILDCARD) return false;
    } else if (!f.resourceName.startsWith(b.resourceName)) {
      return false;
    }
  }
  if (f.principal !== null && f.principal !== b.principal) return false;
  if (f.host !== null && f.host !== b.host) return false;
  if (f.operation !== AclOperation.ANY && f.operation !== b.operation) return false;
  if (f.permissionType !== PermissionType.ANY && f.permissionType !== b.permissionType) return false;
  return true;
}

/**
 * Why a binding cannot be created (Kafka's broker checks, then its controller's), or null.
 * The message texts are Kafka's.
 */
export function creationError(b: AclBinding): string | null {
  const rt = normResourceType(b.resourceType);
  const pt = normPatternType(b.patternType);
  const op = normOperation(b.operation);
  const perm = normPermission(b.permissionType);
  if (rt === ResourceType.CLUSTER && b.resourceName !== CLUSTER_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_NAME}`;
  if (b.resourceName === '') return 'Invalid empty resource name';
  if (rt === ResourceType.UNKNOWN || rt === ResourceType.ANY) return `Invalid resourceType ${resourceTypeName(rt)}`;
  if (pt !== PatternType.LITERAL && pt !== PatternType.PREFIXED) return `Invalid patternType ${patternTypeName(pt)}`;
  if (op === AclOperation.UNKNOWN || op === AclOperation.ANY) return `Invalid operation ${operationName(op)}`;
  if (perm !== PermissionType.ALLOW && perm !== PermissionType.DENY) return `Invalid permissionType ${permissionName(perm)}`;
  if (!b.principal.includes(':')) {
    return `Could not parse principal from \`${b.principal}\` (no colon is present separating the principal type from the principal name)`;
  }
  return null;
}
