/**
 * `samsa produce TOPIC`: one record per input line (stdin or --file), optionally
 * "key<sep>value" lines, fixed headers on every record, batched and compressed.
 */
import * as fs from 'fs';
import { ClientError } from '../client/errors';
import { Producer } from '../client/producer';
import { Header } from '../client/records';
import { ConnectionArgs, keyValues, printJson, progressLine, withClient } from './common';

export interface ProduceArgs extends ConnectionArgs {
  name?: string;
  topic?: string;
  file?: string;
  'key-separator'?: string;
  header?: string[];
  partition?: number;
  compression: string;
  acks: string;
  idempotent?: boolean;
  'batch-size': number;
  'linger-ms': number;
  property?: string[];
  'null-empty-value'?: boolean;
}

export const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

/** Undoes the escapes people type on a shell (\t, \n) in separators. */
const unescape = (s: string) => s.replace(/\\t/g, '\t').replace(/\\n/g, '\n');

export async function produce(a: ProduceArgs): Promise<void> {
  await withClient(a, async (client) => {
    const topic = a.name ?? a.topic;
    if (!topic) throw new ClientError('produce needs a topic (positional or --topic)');
    const props = keyValues(a.property, '--property');
    const parseKey = a['key-separator'] !== undefined || props['parse.key'] === 'true';
    const separator = Buffer.from(unescape(a['key-separator'] ?? props['key.separator'] ?? '\t'));
    if (parseKey && separator.length === 0) throw new ClientError('the key separator cannot be empty');
    const codec = CODECS.indexOf(a.compression === 'uncompressed' ? 'none' : a.compression);
    const acks = a.acks === 'all' ? -1 : Number(a.acks);
    if (![-1, 0, 1].includes(acks)) throw new ClientError(`--acks must be 0, 1, all or -1, got ${a.acks}`);
    const headers: Header[] = Object.entries(keyValues(a.header, '--header')).map(([key, value]) => ({ key, value: Buffer.from(value) }));
    await client.partitions(topic); // unknown topic: fail before reading input
    const producer = new Producer(client, { acks, compression: codec, idempotent: a.idempotent, batchBytes: a['batch-size'], lingerMs: a['linger-ms'] });
    const input = a.file ? fs.createReadStream(a.file) : process.stdin;
    const partition = a.partition ?? null;
    let lines = 0;
    let bytesRead = 0;
    const stopProgress = progressLine('sent', () => lines, () => bytesRead);
    const send = async (line: Buffer) => {
      bytesRead += line.length + 1;
      let key: Buffer | null = null;
      let value: Buffer | null = line;
      if (parseKey) {
        const i = line.indexOf(separator);
        if (i < 0) throw new ClientError(`line ${lines + 1} has no key separator ${JSON.stringify(separator.toString())}`, { hint: 'every line must be key<separator>value when keys are parsed' });
        key = line.subarray(0, i);
        value = line.subarray(i + separator.length);
      }
      if (a['null-empty-value'] && value.length === 0) value = null;
      lines++;
      await producer.send(topic, { key, value, headers }, partition);
    };
    let rest: Buffer = Buffer.alloc(0);
    try {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl >= 0; nl = buf.indexOf(10, start)) {
          // Copy: the chunk's memory is reused once we return to the stream.
          await send(Buffer.from(buf.subarray(start, nl)));
          start = nl + 1;
        }
        rest = Buffer.from(buf.subarray(start));
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ClientError(`cannot read --file ${a.file}: no such file`);
      throw err;
    }
    if (rest.length) await send(rest);
    const stats = await producer.flush();
    stopProgress();
    if (a.json) printJson({ topic, records: stats.records, batches: stats.batches, bytes: stats.bytes, lastOffsets: Object.fromEntries(stats.lastOffsets) });
  });
}
