/**
 * `samsa brokers list|stop|start` and `samsa partitions describe|move-leader|elect`: drive a
 * simulated cluster (`samsa serve --brokers N`) through its HTTP admin routes
 * (src/http/cluster-admin-api.ts), so shell scripts can stop brokers and move leaders.
 */
interface EndpointArgs {
  'admin-url': string;
  json: boolean;
}

async function call(argv: EndpointArgs, method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const url = argv['admin-url'].replace(/\/+$/, '') + path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`cannot reach ${url}: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${url}: HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) throw new Error((parsed as { error?: string }).error ?? `HTTP ${res.status}`);
  return parsed;
}

interface BrokerRow {
  id: number;
  host: string;
  port: number;
  up: boolean;
  leaderOf: number;
}

function printBrokers(brokers: BrokerRow[]): void {
  const rows = [['ID', 'ADDRESS', 'STATE', 'LEADER OF'], ...brokers.map((b) => [String(b.id), `${b.host}:${b.port}`, b.up ? 'up' : 'stopped', String(b.leaderOf)])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
}

export async function brokersList(argv: EndpointArgs): Promise<void> {
  const out = (await call(argv, 'GET', '/admin/brokers')) as { brokers: BrokerRow[] };
  if (argv.json) process.stdout.write(JSON.stringify(out) + '\n');
  else printBrokers(out.brokers);
}

async function lifecycle(argv: EndpointArgs & { id: number }, action: 'stop' | 'start'): Promise<void> {
  const out = (await call(argv, 'POST', `/admin/brokers/${argv.id}/${action}`)) as { broker: BrokerRow };
  if (argv.json) process.stdout.write(JSON.stringify(out) + '\n');
  else process.stdout.write(`broker ${argv.id} ${action === 'stop' ? 'stopped' : 'started'} (${out.broker.host}:${out.broker.port})\n`);
}

export const brokersStop = (argv: EndpointArgs & { id: number }) => lifecycle(argv, 'stop');
export const brokersStart = (argv: EndpointArgs & { id: number }) => lifecycle(argv, 'start');

export async function partitionsDescribe(argv: EndpointArgs & { topic: string }): Promise<void> {
  const out = (await call(argv, 'GET', `/admin/partitions/${encodeURIComponent(argv.topic)}`)) as {
    partitions: { partition: number; leader: number; leaderEpoch: number; replicas: number[]; isr: number[] }[];
  };
  if (argv.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  for (const p of out.partitions) {
    process.stdout.write(`${argv.topic} partition ${p.partition}: leader ${p.leader} epoch ${p.leaderEpoch} replicas ${p.replicas.join(',')} isr ${p.isr.join(',')}\n`);
  }
}

export async function partitionsMoveLeader(argv: EndpointArgs & { topic: string; partition: number; leader: number }): Promise<void> {
  const out = (await call(argv, 'POST', `/admin/partitions/${encodeURIComponent(argv.topic)}/${argv.partition}/leader`, { leader: argv.leader })) as {
    leader: number;
    leaderEpoch: number;
  };
  if (argv.json) process.stdout.write(JSON.stringify(out) + '\n');
  else process.stdout.write(`${argv.topic} partition ${argv.partition}: leader ${out.leader} epoch ${out.leaderEpoch}\n`);
}

export async function partitionsElect(argv: EndpointArgs): Promise<void> {
  const out = (await call(argv, 'POST', '/admin/leaders/elect')) as { elected: { topic: string; partition: number }[]; failed: { topic: string; partition: number; error: string }[] };
  if (argv.json) {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  process.stdout.write(`${out.elected.length} partition(s) moved to their preferred leader\n`);
  for (const f of out.failed) process.stdout.write(`${f.topic} partition ${f.partition}: ${f.error}\n`);
}
