/** `samsa configs`, `samsa users`, `samsa acls`, `samsa cluster` and `samsa records delete`. */
import { Acl, AclFilter, ACL_OPERATIONS, ACL_PATTERNS, ACL_PERMISSIONS, Admin, CONFIG_RESOURCE, EARLIEST, LATEST, RESOURCE_TYPES } from '../client/admin';
import { ClientError } from '../client/errors';
import { ScramMechanism } from '../client/scram';
import { API_CODECS } from '../protocol/generated';
import { ConnectionArgs, keyValues, printJson, table, withClient } from './common';

export interface ConfigArgs extends ConnectionArgs {
  'entity-type': string;
  'entity-name'?: string;
  topic?: string;
  broker?: string;
  group?: string;
  'add-config'?: string[];
  'delete-config'?: string[];
  all?: boolean;
}

function entity(a: ConfigArgs): { type: number; typeName: string; name: string } {
  if (a.topic) return { type: CONFIG_RESOURCE.topic, typeName: 'topic', name: a.topic };
  if (a.group) return { type: CONFIG_RESOURCE.group, typeName: 'group', name: a.group };
  if (a.broker !== undefined) return { type: CONFIG_RESOURCE.broker, typeName: 'broker', name: String(a.broker) };
  const typeName = a['entity-type'].replace(/s$/, '');
  const type = CONFIG_RESOURCE[typeName];
  if (type === undefined) throw new ClientError(`--entity-type must be topic, broker or group, got "${a['entity-type']}"`);
  if (a['entity-name'] === undefined) {
    if (typeName === 'broker') return { type, typeName, name: '' }; // cluster-wide default
    throw new ClientError('name the entity: --topic T, --broker N, --group G or --entity-name X');
  }
  return { type, typeName, name: String(a['entity-name']) };
}

export async function configsDescribe(a: ConfigArgs): Promise<void> {
  await withClient(a, async (client) => {
    const e = entity(a);
    let name = e.name;
    if (e.typeName === 'broker' && name === '') name = String((await client.metadata([])).brokers[0]?.nodeId ?? 0);
    const configs = (await new Admin(client).describeConfigs(e.type, name)).filter((c) => a.all || !c.isDefault).sort((x, y) => x.name.localeCompare(y.name));
    if (a.json) return printJson({ entityType: e.typeName, entityName: name, configs });
    process.stdout.write(`Configs for ${e.typeName} ${name}${a.all ? '' : ' (non-default; --all shows every key)'}:\n`);
    process.stdout.write(table(['NAME', 'VALUE', 'SOURCE', 'READ-ONLY'], configs.map((c) => [c.name, c.sensitive ? '(sensitive)' : c.value, c.source, c.readOnly ? 'yes' : 'no'])));
  });
}

export async function configsAlter(a: ConfigArgs): Promise<void> {
  await withClient(a, async (client) => {
    const e = entity(a);
    const set = keyValues(a['add-config'], '--add-config', true);
    const remove = (a['delete-config'] ?? []).flatMap((s) => s.split(','));
    if (!Object.keys(set).length && !remove.length) throw new ClientError('configs alter needs --add-config k=v or --delete-config k');
    await new Admin(client).alterConfigs(e.type, e.name, set, remove);
    if (a.json) printJson({ entityType: e.typeName, entityName: e.name, set, deleted: remove });
    else process.stdout.write(`Completed updating config for ${e.typeName} ${e.name || '(cluster default)'}.\n`);
  });
}

export interface UserArgs extends ConnectionArgs {
  name?: string;
  password?: string;
  mechanism: string;
  iterations: number;
}

export async function usersList(a: UserArgs): Promise<void> {
  await withClient(a, async (client) => {
    const users = await new Admin(client).describeUsers(a.name ? [a.name] : null);
    if (a.json) return printJson(users);
    process.stdout.write(table(['USER', 'MECHANISM', 'ITERATIONS'], users.flatMap((u) => u.credentials.map((c) => [u.user, c.mechanism, c.iterations]))));
  });
}

function mechanism(a: UserArgs): ScramMechanism {
  const m = a.mechanism.toUpperCase();
  if (m !== 'SCRAM-SHA-256' && m !== 'SCRAM-SHA-512') throw new ClientError(`--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, got ${a.mechanism}`);
  return m;
}

export async function usersAdd(a: UserArgs): Promise<void> {
  await withClient(a, async (client) => {
    if (!a.name) throw new ClientError('users add needs a user name');
    if (a.password === undefined) throw new ClientError('users add needs --password');
    await new Admin(client).upsertUser(a.name, mechanism(a), a.password, a.iterations);
    if (a.json) printJson({ user: a.name, mechanism: mechanism(a), iterations: a.iterations });
    else process.stdout.write(`Set ${mechanism(a)} credentials for ${a.name}.\n`);
  });
}

export async function usersRemove(a: UserArgs): Promise<void> {
  await withClient(a, async (client) => {
    if (!a.name) throw new ClientError('users remove needs a user name');
    await new Admin(client).deleteUser(a.name, mechanism(a));
    if (a.json) printJson({ user: a.name, mechanism: mechanism(a), removed: true });
    else process.stdout.write(`Removed ${mechanism(a)} credentials of ${a.name}.\n`);
  });
}

export interface AclArgs extends ConnectionArgs {
  'allow-principal'?: string[];
  'deny-principal'?: string[];
  principal?: string;
  operation?: string[];
  host?: string;
  topic?: string;
  group?: string;
  cluster?: boolean;
  'transactional-id'?: string;
  'resource-pattern-type': string;
}

function aclResource(a: AclArgs, forFilter: boolean): { type: number; name: string | null } {
  const set = [a.topic !== undefined && 'topic', a.group !== undefined && 'group', a.cluster && 'cluster', a['transactional-id'] !== undefined && 'transactional-id'].filter(Boolean);
  if (set.length > 1) throw new ClientError('name one resource: --topic, --group, --cluster or --transactional-id');
  if (a.topic !== undefined) return { type: RESOURCE_TYPES.topic, name: a.topic };
  if (a.group !== undefined) return { type: RESOURCE_TYPES.group, name: a.group };
  if (a.cluster) return { type: RESOURCE_TYPES.cluster, name: 'kafka-cluster' };
  if (a['transactional-id'] !== undefined) return { type: RESOURCE_TYPES['transactional-id'], name: a['transactional-id'] };
  if (forFilter) return { type: RESOURCE_TYPES.any, name: null };
  throw new ClientError('name the resource: --topic T, --group G, --cluster or --transactional-id T');
}

function operationCode(op: string): number {
  const i = ACL_OPERATIONS.indexOf(op.toLowerCase().replace(/_/g, '-').replace(/^describeconfigs$/, 'describe-configs').replace(/^alterconfigs$/, 'alter-configs').replace(/^idempotentwrite$/, 'idempotent-write'));
  if (i < 2) throw new ClientError(`unknown ACL operation "${op}"; use one of ${ACL_OPERATIONS.slice(2).join(', ')}`);
  return i;
}

function patternCode(p: string, forFilter: boolean): number {
  const c = ACL_PATTERNS[p.toLowerCase()];
  if (c === undefined || (!forFilter && c < 3)) throw new ClientError(`--resource-pattern-type must be literal or prefixed${forFilter ? ', any or match' : ''}, got "${p}"`);
  return c;
}

function acls(a: AclArgs): Acl[] {
  const r = aclResource(a, false);
  const ops = (a.operation ?? []).flatMap((o) => o.split(','));
  if (ops.length === 0) throw new ClientError('give at least one --operation (read, write, describe, create, alter, delete, all, ...)');
  const who = [...(a['allow-principal'] ?? []).map((p) => [p, ACL_PERMISSIONS.allow] as const), ...(a['deny-principal'] ?? []).map((p) => [p, ACL_PERMISSIONS.deny] as const)];
  if (who.length === 0) throw new ClientError('give --allow-principal User:NAME or --deny-principal User:NAME');
  const pattern = patternCode(a['resource-pattern-type'] === 'any' ? 'literal' : a['resource-pattern-type'], false);
  return who.flatMap(([principal, permission]) => ops.map((op) => ({ resourceType: r.type, resourceName: r.name!, patternType: pattern, principal, host: a.host ?? '*', operation: operationCode(op), permission })));
}

function aclFilter(a: AclArgs): AclFilter {
  const r = aclResource(a, true);
  const ops = (a.operation ?? []).flatMap((o) => o.split(','));
  if (ops.length > 1) throw new ClientError('filter on at most one --operation');
  const principals = [...(a['allow-principal'] ?? []), ...(a['deny-principal'] ?? []), ...(a.principal ? [a.principal] : [])];
  return {
    resourceType: r.type,
    resourceName: r.name,
    patternType: patternCode(a['resource-pattern-type'], true),
    principal: principals[0] ?? null,
    host: a.host ?? null,
    operation: ops.length ? operationCode(ops[0]) : 1,
    permission: a['allow-principal']?.length ? ACL_PERMISSIONS.allow : a['deny-principal']?.length ? ACL_PERMISSIONS.deny : ACL_PERMISSIONS.any,
  };
}

export async function aclsList(a: AclArgs): Promise<void> {
  await withClient(a, async (client) => {
    const list = await new Admin(client).describeAcls(aclFilter(a));
    if (a.json) return printJson(list);
    process.stdout.write(table(['RESOURCE-TYPE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'], list.map((x) => [x.resourceType, x.resourceName, x.patternType, x.principal, x.host, x.operation, x.permission])));
  });
}

export async function aclsAdd(a: AclArgs): Promise<void> {
  await withClient(a, async (client) => {
    const list = acls(a);
    await new Admin(client).createAcls(list);
    if (a.json) printJson({ created: list.length });
    else process.stdout.write(`Added ${list.length} ACL(s).\n`);
  });
}

export async function aclsRemove(a: AclArgs): Promise<void> {
  await withClient(a, async (client) => {
    const filter = aclFilter(a);
    if (filter.resourceType === RESOURCE_TYPES.any && filter.principal === null) throw new ClientError('acls remove needs a resource or a principal, so it cannot delete every ACL by accident');
    const n = await new Admin(client).deleteAcls(filter);
    if (a.json) printJson({ deleted: n });
    else process.stdout.write(`Removed ${n} ACL(s).\n`);
  });
}

export async function cluster(a: ConnectionArgs & { 'api-versions'?: boolean }): Promise<void> {
  await withClient(a, async (client) => {
    const c = await new Admin(client).describeCluster();
    const conn = await client.any();
    const apis = [...conn.apiVersions()].sort((x, y) => x[0] - y[0]).map(([key, [min, max]]) => ({ apiKey: key, name: API_CODECS[key]?.name ?? `Unknown${key}`, minVersion: min, maxVersion: max }));
    if (a.json) return printJson({ ...c, apiVersions: apis });
    let out = `Cluster ${c.clusterId}, controller ${c.controllerId}\n`;
    out += table(['BROKER', 'HOST', 'PORT', 'RACK', 'ROLE'], c.brokers.map((b) => [b.nodeId, b.host, b.port, b.rack, b.nodeId === c.controllerId ? 'controller' : '']));
    if (a['api-versions']) out += '\n' + table(['KEY', 'API', 'MIN', 'MAX'], apis.map((x) => [x.apiKey, x.name, x.minVersion, x.maxVersion]));
    else out += `\n${apis.length} APIs supported (--api-versions lists them)\n`;
    process.stdout.write(out);
  });
}

export interface RecordsArgs extends ConnectionArgs {
  topic: string;
  partition?: number[];
  offset: string;
}

/** Deletes records below --offset (a number, or "end" for everything) in the chosen partitions. */
export async function recordsDelete(a: RecordsArgs): Promise<void> {
  await withClient(a, async (client) => {
    const parts = await client.partitions(a.topic);
    const chosen = a.partition?.length ? a.partition : parts.map((p) => p.partition);
    for (const p of chosen) if (!parts.some((x) => x.partition === p)) throw new ClientError(`topic "${a.topic}" has no partition ${p}`, { code: 3 });
    if (a.offset !== 'end' && !/^\d+$/.test(a.offset)) throw new ClientError(`--offset must be an offset or "end", got "${a.offset}"`);
    const admin = new Admin(client);
    const tps = chosen.map((partition) => ({ topic: a.topic, partition }));
    const hi = a.offset === 'end' ? await admin.listOffsets(tps, LATEST) : null;
    const lows = await admin.deleteRecords(tps.map((tp) => ({ ...tp, offset: hi ? hi.get(`${tp.topic}:${tp.partition}`)! : Number(a.offset) })));
    const after = await admin.listOffsets(tps, EARLIEST);
    const rows = tps.map((tp) => ({ ...tp, lowWatermark: lows.get(`${tp.topic}:${tp.partition}`) ?? after.get(`${tp.topic}:${tp.partition}`)! }));
    if (a.json) return printJson(rows);
    process.stdout.write(table(['TOPIC', 'PARTITION', 'LOW-WATERMARK'], rows.map((r) => [r.topic, r.partition, r.lowWatermark])));
  });
}

export interface QuotaArgs extends ConnectionArgs {
  user?: string;
  'client-id'?: string;
  ip?: string;
  'user-default'?: boolean;
  'client-default'?: boolean;
  'ip-default'?: boolean;
  'add-config'?: string[];
  'delete-config'?: string[];
}

/** The quota entity the flags name: user and/or client-id, or ip; a *-default flag is the <default> entity. */
function quotaEntity(a: QuotaArgs): { entityType: string; entityName: string | null }[] {
  const out: { entityType: string; entityName: string | null }[] = [];
  if (a.user !== undefined || a['user-default']) out.push({ entityType: 'user', entityName: a['user-default'] ? null : (a.user as string) });
  if (a['client-id'] !== undefined || a['client-default']) out.push({ entityType: 'client-id', entityName: a['client-default'] ? null : (a['client-id'] as string) });
  if (a.ip !== undefined || a['ip-default']) out.push({ entityType: 'ip', entityName: a['ip-default'] ? null : (a.ip as string) });
  return out;
}

/** Quotas matching the flags (every entity when none is named). */
export async function quotasList(a: QuotaArgs): Promise<void> {
  await withClient(a, async (client) => {
    // matchType 0: exactly this name, 1: the <default> entity.
    const components = quotaEntity(a).map((e) => ({ entityType: e.entityType, matchType: e.entityName === null ? 1 : 0, match: e.entityName }));
    const found = await new Admin(client).describeQuotas(components, false);
    if (a.json) return printJson(found);
    const name = (e: { type: string; name: string | null }) => `${e.type}=${e.name ?? '<default>'}`;
    process.stdout.write(table(['ENTITY', 'QUOTAS'], found.map((f) => [f.entity.map(name).join(','), Object.entries(f.values).map(([k, v]) => `${k}=${v}`).join(',')])));
  });
}

/** Sets (--add-config k=v) and removes (--delete-config k) quotas of one entity. */
export async function quotasAlter(a: QuotaArgs): Promise<void> {
  await withClient(a, async (client) => {
    const entity = quotaEntity(a);
    if (entity.length === 0) throw new ClientError('name the entity: --user U, --client-id C, --ip A (or --user-default, --client-default, --ip-default)');
    const set: Record<string, number> = {};
    for (const [k, v] of Object.entries(keyValues(a['add-config'], '--add-config', true))) {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new ClientError(`quota ${k} needs a number, got "${v}"`);
      set[k] = n;
    }
    const remove = a['delete-config'] ?? [];
    if (Object.keys(set).length === 0 && remove.length === 0) throw new ClientError('give --add-config key=value and/or --delete-config key');
    await new Admin(client).alterQuotas(entity, set, remove);
    if (a.json) printJson({ entity, set, removed: remove });
    else process.stdout.write(`Updated quotas of ${entity.map((e) => `${e.entityType}=${e.entityName ?? '<default>'}`).join(',')}.\n`);
  });
}

export interface LeaderArgs extends ConnectionArgs {
  topic?: string;
  partition?: number[];
  'election-type': string;
}

/** ElectLeaders: preferred (default) or unclean, for one topic's partitions or every partition. */
export async function leadersElect(a: LeaderArgs): Promise<void> {
  await withClient(a, async (client) => {
    const type = a['election-type'].toLowerCase();
    if (type !== 'preferred' && type !== 'unclean') throw new ClientError(`--election-type must be preferred or unclean, got "${a['election-type']}"`);
    let partitions: { topic: string; partitions: number[] }[] | null = null;
    if (a.topic) {
      const parts = a.partition && a.partition.length > 0 ? a.partition : (await client.partitions(a.topic)).map((x) => x.partition);
      partitions = [{ topic: a.topic, partitions: parts }];
    }
    const results = await new Admin(client).electLeaders(type === 'preferred' ? 0 : 1, partitions);
    if (a.json) return printJson(results);
    // ELECTION_NOT_NEEDED (84): the preferred replica already leads, as Kafka's tool reports it.
    process.stdout.write(
      table(['TOPIC', 'PARTITION', 'RESULT'], results.map((r) => [r.topic, r.partition, r.errorCode === 0 ? 'elected' : r.errorCode === 84 ? 'already the preferred leader' : `error ${r.errorCode}${r.errorMessage ? `: ${r.errorMessage}` : ''}`])),
    );
  });
}
