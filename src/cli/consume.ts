/**
 * `samsa consume TOPIC`: prints records as text (value, or Kafka console consumer's
 * print.* properties), JSON lines, or a kcat-style --format template. Follows the topic until
 * Ctrl-C unless --exit-at-end or --max-messages stops it first.
 */
import { Consumer, StartSpec } from '../client/consumer';
import { ClientError } from '../client/errors';
import { InRecord } from '../client/records';
import { ConnectionArgs, fail, keyValues, progressLine, withClient } from './common';

export interface ConsumeArgs extends ConnectionArgs {
  name?: string[] | string;
  topic?: string;
  'from-beginning'?: boolean;
  offset?: string;
  timestamp?: string;
  partition?: number[];
  group?: string;
  'max-messages'?: number;
  'exit-at-end'?: boolean;
  'isolation-level': string;
  format?: string;
  property?: string[];
  'print-key'?: boolean;
  'timeout-ms'?: number;
}

export function startSpec(a: ConsumeArgs): StartSpec | undefined {
  if (a.timestamp !== undefined) {
    const ms = /^\d+$/.test(a.timestamp) ? Number(a.timestamp) : Date.parse(a.timestamp);
    if (!Number.isFinite(ms)) throw new ClientError(`--timestamp needs milliseconds since the epoch or an ISO date, got "${a.timestamp}"`);
    return { kind: 'timestamp', ms };
  }
  const o = a.offset ?? (a['from-beginning'] ? 'beginning' : undefined);
  if (o === undefined) return undefined;
  if (o === 'beginning' || o === 'earliest') return { kind: 'earliest' };
  if (o === 'end' || o === 'latest') return { kind: 'latest' };
  if (/^-\d+$/.test(o)) return { kind: 'relative', back: -Number(o) };
  if (/^\d+$/.test(o)) return { kind: 'offset', offset: Number(o) };
  throw new ClientError(`--offset must be beginning, end, an offset or -N (N before the end), got "${o}"`);
}

type Formatter = (topic: string, partition: number, r: InRecord) => string;

const str = (b: Buffer | null, nullText: string) => (b === null ? nullText : b.toString('utf8'));

/** kcat's -f: %t topic, %p partition, %o offset, %k key, %s value, %K/%S their lengths, %T timestamp, %h headers, \n \t escapes. */
export function templateFormatter(fmt: string): Formatter {
  const parts: (string | ((t: string, p: number, r: InRecord) => string))[] = [];
  const re = /%[tpokKsSTh%]|\\[ntr\\]/g;
  let last = 0;
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    if (m.index > last) parts.push(fmt.slice(last, m.index));
    last = m.index + m[0].length;
    switch (m[0]) {
      case '%t': parts.push((t) => t); break;
      case '%p': parts.push((_t, p) => String(p)); break;
      case '%o': parts.push((_t, _p, r) => String(r.offset)); break;
      case '%k': parts.push((_t, _p, r) => str(r.key, '')); break;
      case '%K': parts.push((_t, _p, r) => String(r.key ? r.key.length : -1)); break;
      case '%s': parts.push((_t, _p, r) => str(r.value, '')); break;
      case '%S': parts.push((_t, _p, r) => String(r.value ? r.value.length : -1)); break;
      case '%T': parts.push((_t, _p, r) => String(r.timestamp)); break;
      case '%h': parts.push((_t, _p, r) => (r.headers.length ? r.headers.map((h) => `${h.key}=${str(h.value, '')}`).join(',') : '')); break;
      case '%%': parts.push('%'); break;
      case '\\n': parts.push('\n'); break;
      case '\\t': parts.push('\t'); break;
      case '\\r': parts.push('\r'); break;
      case '\\\\': parts.push('\\'); break;
    }
  }
  if (last < fmt.length) parts.push(fmt.slice(last));
  return (t, p, r) => {
    let s = '';
    for (const x of parts) s += typeof x === 'string' ? x : x(t, p, r);
    return s;
  };
}

/** Kafka's console consumer layout: print.timestamp/partition/offset/headers/key, then the value. */
function textFormatter(a: ConsumeArgs): Formatter {
  const props = keyValues(a.property, '--property');
  const on = (k: string) => props[k] === 'true';
  const printKey = a['print-key'] || on('print.key');
  const sep = (props['key.separator'] ?? '\t').replace(/\\t/g, '\t');
  const lineSep = (props['line.separator'] ?? '\n').replace(/\\n/g, '\n');
  const headerSep = props['headers.separator'] ?? ',';
  const nullLiteral = props['null.literal'] ?? 'null';
  return (_t, p, r) => {
    let s = '';
    if (on('print.timestamp')) s += `${r.timestampType === 1 ? 'LogAppendTime' : 'CreateTime'}:${r.timestamp}${sep}`;
    if (on('print.partition')) s += `Partition:${p}${sep}`;
    if (on('print.offset')) s += `Offset:${r.offset}${sep}`;
    if (on('print.headers')) s += (r.headers.length ? r.headers.map((h) => `${h.key}:${str(h.value, nullLiteral)}`).join(headerSep) : 'NO_HEADERS') + sep;
    if (printKey) s += str(r.key, nullLiteral) + sep;
    return s + str(r.value, nullLiteral) + lineSep;
  };
}

const jsonFormatter: Formatter = (t, p, r) =>
  JSON.stringify({
    topic: t,
    partition: p,
    offset: r.offset,
    timestamp: r.timestamp,
    timestampType: r.timestampType === 1 ? 'LogAppendTime' : 'CreateTime',
    key: r.key === null ? null : r.key.toString('utf8'),
    value: r.value === null ? null : r.value.toString('utf8'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
  }) + '\n';

export async function consume(a: ConsumeArgs): Promise<void> {
  await withClient(a, async (client) => {
    const named = a.name === undefined ? [] : Array.isArray(a.name) ? a.name.map(String) : [String(a.name)];
    const topics = [...named, ...(a.topic ? a.topic.split(',') : [])];
    if (topics.length === 0) throw new ClientError('consume needs a topic (positional or --topic)');
    if (a.group && a.partition?.length) throw new ClientError('--partition and --group do not go together: the group assigns partitions');
    const format = a.json ? jsonFormatter : a.format !== undefined ? templateFormatter(a.format) : textFormatter(a);
    for (const t of topics) await client.partitions(t); // unknown topic: one clear error up front
    const consumer = new Consumer(client, {
      topics,
      partitions: a.partition?.length ? a.partition : null,
      // Kafka's console consumer starts at the end unless told otherwise (auto.offset.reset=latest).
      start: startSpec(a) ?? { kind: 'latest' },
      group: a.group ?? null,
      isolationLevel: a['isolation-level'] === 'read_committed' ? 1 : 0,
    });
    const max = a['max-messages'] ?? Infinity;
    let printed = 0;
    let printedBytes = 0;
    let lastRecordAt = Date.now();
    const stopProgress = progressLine('consumed', () => printed, () => printedBytes);
    const onSignal = () => consumer.stop();
    // `samsa consume t | head`: a closed pipe ends the run quietly, as it does for other tools.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      fail(err);
    });
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const idle = a['timeout-ms']
      ? setInterval(() => {
          if (Date.now() - lastRecordAt >= a['timeout-ms']!) consumer.stop();
        }, Math.min(a['timeout-ms'], 200))
      : null;
    try {
      await consumer.run(async (b) => {
        let out = '';
        let next: number | undefined;
        for (const r of b.records) {
          if (printed >= max) {
            next = r.offset;
            break;
          }
          out += format(b.topic, b.partition, r);
          printed++;
        }
        if (b.records.length) lastRecordAt = Date.now();
        printedBytes += out.length;
        if (out && !process.stdout.write(out)) await new Promise((r) => process.stdout.once('drain', r));
        if (printed >= max) consumer.stop();
        return next;
      }, a['exit-at-end']);
    } finally {
      stopProgress();
      if (idle) clearInterval(idle);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (!a.json && process.stderr.isTTY) process.stderr.write(`Processed a total of ${printed} messages\n`);
  });
}
