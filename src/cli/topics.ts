/** `samsa topics list|describe|create|delete|alter`. */
import { Admin, CONFIG_RESOURCE, EARLIEST, LATEST } from '../client/admin';
import { ClientError } from '../client/errors';
import { ConnectionArgs, keyValues, printJson, table, withClient } from './common';

export interface TopicArgs extends ConnectionArgs {
  name?: string[] | string;
  topic?: string;
  partitions?: number;
  'replication-factor'?: number;
  config?: string[];
  'delete-config'?: string[];
  internal?: boolean;
  'if-not-exists'?: boolean;
  'if-exists'?: boolean;
}

/** Topic names from positionals and --topic (Kafka's flag). */
function names(a: TopicArgs): string[] {
  const out = a.name === undefined ? [] : Array.isArray(a.name) ? a.name.map(String) : [String(a.name)];
  if (a.topic) out.push(...a.topic.split(','));
  return out;
}

function one(a: TopicArgs, verb: string): string {
  const n = names(a);
  if (n.length !== 1) throw new ClientError(`${verb} needs one topic name (positional or --topic)`);
  return n[0];
}

export async function list(a: TopicArgs): Promise<void> {
  await withClient(a, async (client) => {
    const topics = await new Admin(client).listTopics(a.internal);
    if (a.json) return printJson(topics.map((t) => ({ name: t.name, partitions: t.partitions.length, replicationFactor: t.partitions[0]?.replicas.length ?? 0, internal: t.isInternal })));
    process.stdout.write(topics.map((t) => t.name + '\n').join(''));
  });
}

export async function describe(a: TopicArgs): Promise<void> {
  await withClient(a, async (client) => {
    const admin = new Admin(client);
    const wanted = names(a);
    const md = await client.metadata(wanted.length ? wanted : null);
    const topics = md.topics.filter((t) => wanted.length || a.internal || !t.isInternal).sort((x, y) => x.name.localeCompare(y.name));
    for (const t of topics) if (t.errorCode !== 0) await client.partitions(t.name); // throws with the code
    const parts = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partition })));
    const [lo, hi, sizes] = parts.length
      ? await Promise.all([admin.listOffsets(parts, EARLIEST), admin.listOffsets(parts, LATEST), admin.partitionSizes(parts)])
      : [new Map(), new Map(), new Map()];
    const configs = new Map<string, { name: string; value: string | null }[]>();
    await Promise.all(topics.map(async (t) => configs.set(t.name, (await admin.describeConfigs(CONFIG_RESOURCE.topic, t.name).catch(() => [])).filter((c) => !c.isDefault))));
    const view = topics.map((t) => ({
      name: t.name,
      topicId: t.topicId,
      internal: t.isInternal,
      partitionCount: t.partitions.length,
      replicationFactor: t.partitions[0]?.replicas.length ?? 0,
      configs: Object.fromEntries((configs.get(t.name) ?? []).map((c) => [c.name, c.value])),
      partitions: t.partitions.map((p) => {
        const k = `${t.name}:${p.partition}`;
        return { partition: p.partition, leader: p.leader, replicas: p.replicas, isr: p.isr, earliestOffset: lo.get(k) ?? null, latestOffset: hi.get(k) ?? null, messages: hi.has(k) ? hi.get(k) - lo.get(k) : null, sizeBytes: sizes.get(k) ?? null };
      }),
    }));
    if (a.json) return printJson(view);
    let out = '';
    for (const t of view) {
      const cfg = Object.entries(t.configs).map(([k, v]) => `${k}=${v}`).join(',');
      out += `Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitionCount}\tReplicationFactor: ${t.replicationFactor}\tConfigs: ${cfg}\n`;
      out += table(
        ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'EARLIEST', 'LATEST', 'MESSAGES', 'SIZE'],
        t.partitions.map((p) => [p.partition, p.leader, p.replicas.join(','), p.isr.join(','), p.earliestOffset, p.latestOffset, p.messages, p.sizeBytes === null ? null : humanBytes(p.sizeBytes)]),
      );
      out += '\n';
    }
    process.stdout.write(out);
  });
}

export async function create(a: TopicArgs): Promise<void> {
  await withClient(a, async (client) => {
    const name = one(a, 'topics create');
    try {
      const r = await new Admin(client).createTopic(name, a.partitions ?? -1, a['replication-factor'] ?? -1, keyValues(a.config, '--config'));
      if (a.json) printJson(r);
      else process.stdout.write(`Created topic ${name}.\n`);
    } catch (err) {
      if (a['if-not-exists'] && err instanceof ClientError && err.code === 36) return;
      throw err;
    }
  });
}

export async function del(a: TopicArgs): Promise<void> {
  await withClient(a, async (client) => {
    const n = names(a);
    if (n.length === 0) throw new ClientError('topics delete needs at least one topic name');
    try {
      await new Admin(client).deleteTopics(n);
    } catch (err) {
      if (a['if-exists'] && err instanceof ClientError && err.code === 3) return;
      throw err;
    }
    if (a.json) printJson({ deleted: n });
    else process.stdout.write(n.map((t) => `Deleted topic ${t}.\n`).join(''));
  });
}

export async function alter(a: TopicArgs): Promise<void> {
  await withClient(a, async (client) => {
    const name = one(a, 'topics alter');
    const set = keyValues(a.config, '--config');
    const remove = a['delete-config'] ?? [];
    if (a.partitions === undefined && !Object.keys(set).length && !remove.length) {
      throw new ClientError('topics alter needs --partitions, --config or --delete-config');
    }
    const admin = new Admin(client);
    if (a.partitions !== undefined) await admin.createPartitions(name, a.partitions);
    if (Object.keys(set).length || remove.length) await admin.alterConfigs(CONFIG_RESOURCE.topic, name, set, remove);
    if (a.json) printJson({ topic: name, partitions: a.partitions ?? null, set, deleted: remove });
    else process.stdout.write(`Altered topic ${name}.\n`);
  });
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
