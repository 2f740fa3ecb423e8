/**
 * The broker's ACLs, durable in `<dataDir>/acls.json` (replaced atomically on each change):
 *   {"version":1,"acls":[{"resourceType":2,"resourceName":"orders","patternType":3,
 *     "principal":"User:alice","host":"*","operation":3,"permissionType":3}, ...]}
 *
 * Kept indexed by resource type for the authorizer: literal names in a map, prefixed
 * patterns in a list. `version` grows on every change so that caches of decisions know
 * when they are stale.
 */
import * as fs from 'fs';
import * as path from 'path';
import { writeFileAtomic } from '../../storage/file-io';
import type { Logger } from '../../logging';
import { AclBinding, AclFilter, bindingKey, filterMatches, PatternType } from './acl-types';

interface AclFile {
  version: 1;
  acls: AclBinding[];
}

/** ACLs of one resource type. */
export interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  prefixed: AclBinding[];
}

export class AclStore {
  private readonly file: string;
  private readonly byKey = new Map<string, AclBinding>();
  private index = new Map<number, TypeIndex>();
  /** Bumped on every change. */
  version = 0;

  constructor(
    dataDir: string,
    private readonly log: Logger,
  ) {
    this.file = path.join(dataDir, 'acls.json');
    this.load();
  }

  private load(): void {
    if (!fs.existsSync(this.file)) return;
    // A corrupt ACL file must stop the broker: starting without ACLs could open everything
    // up (allow.everyone.if.no.acl.found) or lock every client out.
    const f = JSON.parse(fs.readFileSync(this.file, 'utf8')) as AclFile;
    if (f.version !== 1 || !Array.isArray(f.acls)) throw new Error(`${this.file}: unsupported ACL file`);
    for (const a of f.acls) {
      const b: AclBinding = {
        resourceType: a.resourceType,
        resourceName: a.resourceName,
        patternType: a.patternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      };
      this.byKey.set(bindingKey(b), b);
    }
    this.reindex();
    this.log.info('ACLs loaded', { count: this.byKey.size });
  }

  /** Writes the file first so that memory never holds ACLs the disk lost. */
  private persist(acls: AclBinding[]): void {
    const f: AclFile = { version: 1, acls };
    writeFileAtomic(this.file, JSON.stringify(f, null, 1));
  }

  private reindex(): void {
    const index = new Map<number, TypeIndex>();
    for (const b of this.byKey.values()) {
      let t = index.get(b.resourceType);
      if (!t) index.set(b.resourceType, (t = { literal: new Map(), prefixed: [] }));
      if (b.patternType === PatternType.PREFIXED) t.prefixed.push(b);
      else {
        const list = t.literal.get(b.resourceName);
        if (list) list.push(b);
        else t.literal.set(b.resourceName, [b]);
      }
    }
    this.index = index;
    this.version++;
  }

  get size(): number {
    return this.byKey.size;
  }

  ofType(resourceType: number): TypeIndex | undefined {
    return this.index.get(resourceType);
  }

  /** Every ACL a filter selects. */
  list(filter: AclFilter): AclBinding[] {
    const out: AclBinding[] = [];
    for (const b of this.byKey.values()) if (filterMatches(filter, b)) out.push(b);
    return out;
  }

  /** Adds bindings (already validated); ones that exist already are left as they are, as in Kafka. */
  add(bindings: AclBinding[]): void {
    const fresh = new Map<string, AclBinding>();
    for (const b of bindings) {
      const k = bindingKey(b);
      if (!this.byKey.has(k)) fresh.set(k, { ...b });
    }
    if (fresh.size === 0) return;
    this.persist([...this.byKey.values(), ...fresh.values()]);
    for (const [k, b] of fresh) this.byKey.set(k, b);
    this.reindex();
  }

  /** Removes what each filter selects, in one write; returns the removed bindings per filter. */
  remove(filters: AclFilter[]): AclBinding[][] {
    const removed = filters.map((f) => this.list(f));
    const keys = new Set(removed.flat().map(bindingKey));
    if (keys.size === 0) return removed;
    this.persist([...this.byKey].filter(([k]) => !keys.has(k)).map(([, b]) => b));
    for (const k of keys) this.byKey.delete(k);
    this.reindex();
    return removed;
  }
}
