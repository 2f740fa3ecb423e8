/** `samsa groups list|describe|reset-offsets|delete`, laid out as kafka-consumer-groups does. */
import { Admin, EARLIEST, LATEST, splitKey, TopicPartition } from '../client/admin';
import { KafkaClient } from '../client/client';
import { ClientError } from '../client/errors';
import { ConnectionArgs, printJson, table, withClient } from './common';

export interface GroupArgs extends ConnectionArgs {
  name?: string[] | string;
  group?: string[];
  topic?: string[];
  'all-topics'?: boolean;
  'to-earliest'?: boolean;
  'to-latest'?: boolean;
  'to-offset'?: number;
  'shift-by'?: number;
  'to-datetime'?: string;
  execute?: boolean;
  'dry-run'?: boolean;
}

function groupIds(a: GroupArgs): string[] {
  const named = a.name === undefined ? [] : Array.isArray(a.name) ? a.name.map(String) : [String(a.name)];
  return [...named, ...(a.group ?? [])];
}

function oneGroup(a: GroupArgs, verb: string): string {
  const g = groupIds(a);
  if (g.length !== 1) throw new ClientError(`${verb} needs one group id (positional or --group)`);
  return g[0];
}

export async function list(a: GroupArgs): Promise<void> {
  await withClient(a, async (client) => {
    const groups = await new Admin(client).listGroups();
    if (a.json) return printJson(groups);
    process.stdout.write(table(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((g) => [g.groupId, g.state, g.protocolType || null])));
  });
}

export interface LagRow {
  group: string;
  topic: string;
  partition: number;
  currentOffset: number | null;
  logEndOffset: number;
  lag: number | null;
  consumerId: string | null;
  host: string | null;
  clientId: string | null;
}

export async function groupLag(client: KafkaClient, groupId: string) {
  const admin = new Admin(client);
  const desc = await admin.describeGroup(groupId);
  if (desc.state === 'Dead') throw new ClientError(`group "${groupId}" does not exist`, { code: 69 });
  const committed = await admin.fetchOffsets(groupId);
  const owner = new Map<string, (typeof desc.members)[number]>();
  for (const m of desc.members) for (const tp of m.assignment) owner.set(`${tp.topic}:${tp.partition}`, m);
  const keys = [...new Set([...committed.keys(), ...owner.keys()])];
  const parts = keys.map(splitKey).sort((x, y) => x.topic.localeCompare(y.topic) || x.partition - y.partition);
  const ends = parts.length ? await admin.listOffsets(parts, LATEST) : new Map<string, number>();
  const rows: LagRow[] = parts.map((p) => {
    const k = `${p.topic}:${p.partition}`;
    const cur = committed.get(k) ?? null;
    const end = ends.get(k)!;
    const m = owner.get(k);
    return { group: groupId, topic: p.topic, partition: p.partition, currentOffset: cur, logEndOffset: end, lag: cur === null ? null : Math.max(0, end - cur), consumerId: m?.memberId ?? null, host: m?.clientHost ?? null, clientId: m?.clientId ?? null };
  });
  return { state: desc.state, members: desc.members, rows };
}

export async function describe(a: GroupArgs): Promise<void> {
  await withClient(a, async (client) => {
    const ids = groupIds(a);
    const all = ids.length ? ids : (await new Admin(client).listGroups()).map((g) => g.groupId);
    const out: { group: string; state: string; members: number; partitions: LagRow[] }[] = [];
    for (const g of all) {
      const r = await groupLag(client, g);
      out.push({ group: g, state: r.state, members: r.members.length, partitions: r.rows });
    }
    if (a.json) return printJson(out);
    let text = '';
    for (const g of out) {
      text += `\nGROUP ${g.group} is ${g.state} with ${g.members} member(s); total lag ${g.partitions.reduce((n, r) => n + (r.lag ?? 0), 0)}\n`;
      text += table(
        ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
        g.partitions.map((r) => [r.group, r.topic, r.partition, r.currentOffset, r.logEndOffset, r.lag, r.consumerId, r.host, r.clientId]),
      );
    }
    process.stdout.write(text.replace(/^\n/, ''));
  });
}

/** --topic t (all partitions) or t:0,2 (those), as kafka-consumer-groups takes them. */
async function resetScope(client: KafkaClient, a: GroupArgs, groupId: string): Promise<TopicPartition[]> {
  if (a['all-topics']) return [...(await new Admin(client).fetchOffsets(groupId)).keys()].map(splitKey);
  if (!a.topic?.length) throw new ClientError('reset-offsets needs --topic TOPIC[:P,P] or --all-topics');
  const out: TopicPartition[] = [];
  for (const spec of a.topic) {
    const [topic, list] = spec.split(':');
    const parts = await client.partitions(topic);
    const wanted = list ? list.split(',').map(Number) : parts.map((p) => p.partition);
    for (const p of wanted) {
      if (!parts.some((x) => x.partition === p)) throw new ClientError(`topic "${topic}" has no partition ${p}`, { code: 3 });
      out.push({ topic, partition: p });
    }
  }
  return out;
}

export async function resetOffsets(a: GroupArgs): Promise<void> {
  await withClient(a, async (client) => {
    const groupId = oneGroup(a, 'groups reset-offsets');
    const chosen = ['to-earliest', 'to-latest', 'to-offset', 'shift-by', 'to-datetime'].filter((k) => a[k as keyof GroupArgs] !== undefined && a[k as keyof GroupArgs] !== false);
    if (chosen.length !== 1) throw new ClientError('reset-offsets needs exactly one of --to-earliest, --to-latest, --to-offset N, --shift-by N, --to-datetime T');
    const admin = new Admin(client);
    const parts = await resetScope(client, a, groupId);
    if (parts.length === 0) throw new ClientError(`group "${groupId}" has no committed offsets to reset`, { hint: 'name the topic with --topic' });
    const [lo, hi] = await Promise.all([admin.listOffsets(parts, EARLIEST), admin.listOffsets(parts, LATEST)]);
    const clamp = (k: string, o: number) => Math.min(Math.max(o, lo.get(k)!), hi.get(k)!);
    let target: Map<string, number>;
    if (a['to-earliest']) target = lo;
    else if (a['to-latest']) target = hi;
    else if (a['to-offset'] !== undefined) target = new Map(parts.map((p) => [`${p.topic}:${p.partition}`, clamp(`${p.topic}:${p.partition}`, a['to-offset']!)]));
    else if (a['shift-by'] !== undefined) {
      const current = await admin.fetchOffsets(groupId, parts);
      target = new Map(parts.map((p) => {
        const k = `${p.topic}:${p.partition}`;
        return [k, clamp(k, (current.get(k) ?? hi.get(k)!) + a['shift-by']!)];
      }));
    } else {
      const ms = /^\d+$/.test(a['to-datetime']!) ? Number(a['to-datetime']) : Date.parse(a['to-datetime']!);
      if (!Number.isFinite(ms)) throw new ClientError(`--to-datetime needs an ISO date or epoch milliseconds, got "${a['to-datetime']}"`);
      const at = await admin.listOffsets(parts, ms);
      target = new Map([...at].map(([k, o]) => [k, o >= 0 ? o : hi.get(k)!]));
    }
    const ordered = new Map(parts.map((p) => [`${p.topic}:${p.partition}`, target.get(`${p.topic}:${p.partition}`)!]));
    if (a.execute) await admin.commitOffsets(groupId, ordered);
    const rows = [...ordered].map(([k, o]) => ({ group: groupId, ...splitKey(k), newOffset: o }));
    if (a.json) return printJson({ executed: !!a.execute, offsets: rows });
    process.stdout.write(table(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], rows.map((r) => [r.group, r.topic, r.partition, r.newOffset])));
    if (!a.execute) process.stderr.write('Dry run: nothing was changed. Add --execute to commit these offsets.\n');
  });
}

export async function del(a: GroupArgs): Promise<void> {
  await withClient(a, async (client) => {
    const ids = groupIds(a);
    if (ids.length === 0) throw new ClientError('groups delete needs at least one group id');
    await new Admin(client).deleteGroups(ids);
    if (a.json) printJson({ deleted: ids });
    else process.stdout.write(ids.map((g) => `Deleted group ${g}.\n`).join(''));
  });
}
