/**
 * Client quota settings: which entity (user, client-id, user+client-id, ip; a null name is
 * the `<default>` entity of its type) has which limits, as AlterClientQuotas sets them and
 * DescribeClientQuotas lists them. Validation and messages follow Kafka's controller.
 *
 * Persisted in `<dataDir>/client-quotas.json`, replaced atomically on every change:
 *   {"version":1,"entries":[{"entity":{"user":"alice","client-id":null},"values":{"producer_byte_rate":1048576}}]}
 */
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { writeFileAtomic } from '../storage/file-io';
import type { Logger } from '../logging';

export const USER = 'user';
export const CLIENT_ID = 'client-id';
export const IP = 'ip';

export const PRODUCER_BYTE_RATE = 'producer_byte_rate';
export const CONSUMER_BYTE_RATE = 'consumer_byte_rate';
export const REQUEST_PERCENTAGE = 'request_percentage';
export const CONTROLLER_MUTATION_RATE = 'controller_mutation_rate';
export const CONNECTION_CREATION_RATE = 'connection_creation_rate';

type KeyType = 'long' | 'int' | 'double';
const USER_CLIENT_KEYS: Record<string, KeyType> = {
  [PRODUCER_BYTE_RATE]: 'long',
  [CONSUMER_BYTE_RATE]: 'long',
  [REQUEST_PERCENTAGE]: 'double',
  [CONTROLLER_MUTATION_RATE]: 'double',
};
const IP_KEYS: Record<string, KeyType> = { [CONNECTION_CREATION_RATE]: 'int' };

/** Entity type -> name (null = `<default>`), in the order the client gave them. */
export type QuotaEntity = [type: string, name: string | null][];

export interface QuotaAlteration {
  entity: { entityType: string; entityName: string | null }[];
  ops: { key: string; value: number; remove: boolean }[];
}

export interface AlterResult {
  entity: { entityType: string; entityName: string | null }[];
  errorCode: number;
  errorMessage: string | null;
}

export interface FilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

export const MATCH_EXACT = 0;
export const MATCH_DEFAULT = 1;
export const MATCH_SPECIFIED = 2;

interface Stored {
  entity: QuotaEntity;
  values: Map<string, number>;
}

interface QuotaFile {
  version: 1;
  entries: { entity: Record<string, string | null>; values: Record<string, number> }[];
}

/** The lookup key of an entity: independent of the order its types were given in. */
export function entityKey(entity: Iterable<readonly [string, string | null]>): string {
  return JSON.stringify([...entity].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Kafka prints entities as a Java map: ClientQuotaEntity(entries={user=alice, client-id=null}). */
function entityString(entity: QuotaEntity): string {
  return `ClientQuotaEntity(entries={${entity.map(([t, n]) => `${t}=${n}`).join(', ')}})`;
}

/** IPv4 clients on a dual-stack socket show up as ::ffff:a.b.c.d; quotas name them a.b.c.d. */
export function normalizeIp(ip: string): string {
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') && net.isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

export class ClientQuotaStore {
  private readonly entries = new Map<string, Stored>();
  private readonly file: string;
  /** Called after every applied change (the enforcement side re-resolves its limits). */
  onChange: () => void = () => undefined;

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(dataDir, 'client-quotas.json');
    this.load();
  }

  /** The limits set on exactly this entity (not inherited ones), or undefined. */
  get(key: string): ReadonlyMap<string, number> | undefined {
    return this.entries.get(key)?.values;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether any entity of these types (exactly) has a limit: user/client-id quotas vs ip quotas. */
  hasEntityOfKind(ip: boolean): boolean {
    for (const e of this.entries.values()) if (e.entity.some(([t]) => t === IP) === ip) return true;
    return false;
  }

  /**
   * AlterClientQuotas: each entity is validated and applied on its own (one bad key fails
   * only its entity); nothing is applied with validateOnly.
   */
  alter(alterations: QuotaAlteration[], validateOnly: boolean): AlterResult[] {
    const results = new Map<string, AlterResult>();
    const staged = new Map<string, Stored>();
    for (const alt of alterations) {
      const entity: QuotaEntity = alt.entity.map((e) => [e.entityType, e.entityName]);
      const key = entityKey(canonical(entity));
      const fail = (message: string): void => {
        results.set(key, { entity: alt.entity, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: message });
      };
      // Kafka reports a repeated key, and a repeated entity, with this message (the second overwrites the first).
      const ops = new Map<string, number | null>();
      let duplicateKey = false;
      for (const op of alt.ops) {
        if (ops.has(op.key)) duplicateKey = true;
        else ops.set(op.key, op.remove ? null : op.value);
      }
      if (duplicateKey || results.has(key)) {
        fail(`Ignoring duplicate entity ${entityString(entity)}`);
        continue;
      }
      const entityError = validateEntity(entity);
      if (entityError) {
        fail(entityError);
        continue;
      }
      const keys = entity.some(([t]) => t === IP) ? IP_KEYS : USER_CLIENT_KEYS;
      const current = staged.get(key)?.values ?? this.entries.get(key)?.values ?? new Map<string, number>();
      const next = new Map(current);
      let error: string | null = null;
      for (const [k, v] of ops) {
        if (v === null) {
          next.delete(k);
          continue;
        }
        error = valueError(keys, k, v);
        if (error) break;
        next.set(k, v);
      }
      if (error) {
        fail(error);
        continue;
      }
      staged.set(key, { entity: this.entries.get(key)?.entity ?? canonical(entity), values: next });
      results.set(key, { entity: alt.entity, errorCode: ErrorCode.NONE, errorMessage: null });
    }
    if (!validateOnly && staged.size > 0) {
      for (const [key, s] of staged) {
        if (s.values.size === 0) this.entries.delete(key);
        else this.entries.set(key, s);
      }
      this.persist();
      this.log.info('client quotas changed', { entities: [...staged.values()].map((s) => entityString(s.entity)) });
      this.onChange();
    }
    return [...results.values()];
  }

  /** DescribeClientQuotas: entities matching every filter component (and only those types when strict). */
  describe(components: FilterComponent[], strict: boolean): { entity: QuotaEntity; values: [string, number][] }[] {
    const exact = new Map<string, string | null>();
    const specified = new Set<string>();
    for (const c of components) {
      if (c.entityType === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.');
      if (exact.has(c.entityType) || specified.has(c.entityType)) {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Entity type ${c.entityType} cannot appear more than once in the filter.`);
      }
      if (c.entityType !== USER && c.entityType !== CLIENT_ID && c.entityType !== IP) {
        throw new KafkaError(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${c.entityType}`);
      }
      if (c.matchType === MATCH_EXACT) {
        if (c.match === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.');
        exact.set(c.entityType, c.entityType === IP ? normalizeIp(c.match) : c.match);
      } else if (c.matchType === MATCH_DEFAULT) {
        if (c.match !== null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
        exact.set(c.entityType, null);
      } else if (c.matchType === MATCH_SPECIFIED) {
        if (c.match !== null) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
        specified.add(c.entityType);
      } else {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown match type ${c.matchType}`);
      }
    }
    const uses = (t: string) => exact.has(t) || specified.has(t);
    if (uses(IP) && (uses(USER) || uses(CLIENT_ID))) {
      throw new KafkaError(
        ErrorCode.INVALID_REQUEST,
        'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.',
      );
    }
    const out: { entity: QuotaEntity; values: [string, number][] }[] = [];
    for (const { entity, values } of this.entries.values()) {
      const names = new Map(entity);
      if (strict && names.size !== exact.size + specified.size) continue;
      let ok = true;
      for (const [t, n] of exact) if (!names.has(t) || names.get(t) !== n) ok = false;
      for (const t of specified) if (!names.has(t)) ok = false;
      if (ok) out.push({ entity, values: [...values].sort((a, b) => (a[0] < b[0] ? -1 : 1)) });
    }
    return out;
  }

  private load(): void {
    if (!fs.existsSync(this.file)) return;
    try {
      const f = JSON.parse(fs.readFileSync(this.file, 'utf8')) as QuotaFile;
      for (const e of f.entries ?? []) {
        const entity: QuotaEntity = Object.entries(e.entity);
        const values = new Map(Object.entries(e.values).filter(([, v]) => typeof v === 'number' && v > 0));
        if (entity.length > 0 && values.size > 0) this.entries.set(entityKey(entity), { entity, values });
      }
    } catch (err) {
      this.log.error('cannot read client quotas; starting without them', { file: this.file, error: (err as Error).message });
    }
  }

  private persist(): void {
    const f: QuotaFile = {
      version: 1,
      entries: [...this.entries.values()].map((e) => ({ entity: Object.fromEntries(e.entity), values: Object.fromEntries(e.values) })),
    };
    writeFileAtomic(this.file, JSON.stringify(f, null, 1));
  }
}

/** Stored entities keep their types in a fixed order (user before client-id) and ips normalized. */
function canonical(entity: QuotaEntity): QuotaEntity {
  const order = [USER, CLIENT_ID, IP];
  return [...entity]
    .sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0]))
    .map(([t, n]) => [t, t === IP && n !== null ? normalizeIp(n) : n] as [string, string | null]);
}

/** Kafka's entity checks, in its order and with its messages. */
function validateEntity(entity: QuotaEntity): string | null {
  if (entity.length === 0) return 'Invalid empty client quota entity';
  const seen = new Set<string>();
  for (const [type, name] of entity) {
    if (seen.has(type)) return `Invalid client quota entity, duplicate entity entry ${type}`;
    seen.add(type);
    if (type !== USER && type !== CLIENT_ID && type !== IP) return `Unhandled client quota entity type: ${type}`;
    if (name !== null && name === '') return `Empty ${type} not supported`;
  }
  if (seen.has(IP)) {
    // The missing space after "should" is Kafka's.
    if (seen.has(USER) || seen.has(CLIENT_ID)) return 'Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId';
    const ip = entity.find(([t]) => t === IP)![1];
    // Kafka also accepts names it can resolve; Samsa takes literal addresses only (no DNS in the request path).
    if (ip !== null && net.isIP(ip) === 0) return `${ip} is not a valid IP or resolvable host.`;
  }
  return null;
}

function valueError(keys: Record<string, KeyType>, key: string, value: number): string | null {
  const type = keys[key];
  if (!type) return `Invalid configuration key ${key}`;
  if (!(value > 0)) return `Quota ${key} must be greater than 0`;
  if (type === 'double') return null;
  if (type === 'int' && value > 2147483647) return `Proposed value for ${key} is too large for an INT.`;
  if (type === 'long' && value > 9223372036854775807) return `Proposed value for ${key} is too large for a LONG.`;
  if (Math.abs(value % 1) > 1e-6) return `${key} cannot be a fractional value.`;
  return null;
}
