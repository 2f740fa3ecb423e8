/**
 * Shared pieces of the client subcommands: turning flags and a Kafka client.properties file
 * into connection settings, tables and JSON output, and one-line error reporting.
 */
import * as fs from 'fs';
import { KafkaClient } from '../client/client';
import { ConnectionOptions, SaslOptions } from '../client/connection';
import { ClientError } from '../client/errors';

export interface ConnectionArgs {
  'bootstrap-server': string;
  'command-config'?: string;
  'sasl-mechanism'?: string;
  'sasl-username'?: string;
  'sasl-password'?: string;
  tls?: boolean;
  'tls-ca'?: string;
  'tls-insecure'?: boolean;
  timeout?: number;
  json?: boolean;
}

/** Java .properties as Kafka's tools read them: key=value or key: value, # and ! comments, \ continuations. */
export function parseClientProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i].trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i].trim();
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
    else out[line] = '';
  }
  return out;
}

/** username="..." and password="..." out of a sasl.jaas.config line. */
export function jaasCredentials(jaas: string): { username?: string; password?: string } {
  const get = (k: string) => new RegExp(`\\b${k}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(jaas)?.[1]?.replace(/\\(.)/g, '$1');
  return { username: get('username'), password: get('password') };
}

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** Flags win over the --command-config file. */
export function connectionOptions(a: ConnectionArgs): ConnectionOptions {
  let props: Record<string, string> = {};
  if (a['command-config']) {
    let text: string;
    try {
      text = fs.readFileSync(a['command-config'], 'utf8');
    } catch (err) {
      throw new ClientError(`cannot read --command-config ${a['command-config']}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    props = parseClientProperties(text);
  }
  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').toUpperCase();
  if (!['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(protocol)) {
    throw new ClientError(`security.protocol=${protocol} is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL`);
  }
  const jaas = jaasCredentials(props['sasl.jaas.config'] ?? '');
  const username = a['sasl-username'] ?? jaas.username ?? props['sasl.username'];
  const password = a['sasl-password'] ?? jaas.password ?? props['sasl.password'];
  let mechanism = (a['sasl-mechanism'] ?? props['sasl.mechanism'] ?? (protocol.startsWith('SASL') || username ? 'PLAIN' : '')).toUpperCase();
  let sasl: SaslOptions | null = null;
  if (mechanism && (protocol.startsWith('SASL') || a['sasl-mechanism'] || username)) {
    if (!MECHANISMS.includes(mechanism)) throw new ClientError(`SASL mechanism ${mechanism} is not supported; use ${MECHANISMS.join(', ')}`);
    if (username === undefined || password === undefined) {
      throw new ClientError(`SASL ${mechanism} needs a user name and password`, { hint: 'give --sasl-username and --sasl-password, or sasl.jaas.config in --command-config' });
    }
    sasl = { mechanism: mechanism as SaslOptions['mechanism'], username, password };
  } else mechanism = '';
  const caFile = a['tls-ca'] ?? props['ssl.ca.location'] ?? (props['ssl.truststore.type']?.toUpperCase() === 'PEM' || /\.(pem|crt)$/i.test(props['ssl.truststore.location'] ?? '') ? props['ssl.truststore.location'] : undefined);
  if (props['ssl.truststore.location'] && !caFile) {
    throw new ClientError('ssl.truststore.location must be a PEM file (set ssl.truststore.type=PEM); JKS/PKCS12 stores are not read', { hint: 'export the CA as PEM and point --tls-ca at it' });
  }
  const useTls = a.tls || protocol.endsWith('SSL') || !!a['tls-ca'];
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = fs.readFileSync(caFile);
    } catch (err) {
      throw new ClientError(`cannot read the CA file ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const timeoutMs = (a.timeout ?? 30) * 1000;
  return {
    clientId: 'samsa-cli',
    tls: useTls ? { ca, rejectUnauthorized: !a['tls-insecure'], verifyHostname: props['ssl.endpoint.identification.algorithm'] !== '' } : null,
    sasl,
    connectTimeoutMs: Math.min(timeoutMs, 10_000),
    requestTimeoutMs: timeoutMs,
  };
}

export function makeClient(a: ConnectionArgs): KafkaClient {
  const servers = a['bootstrap-server'].split(',').map((s) => s.trim()).filter(Boolean);
  return new KafkaClient(servers, connectionOptions(a));
}

/** Runs a command body with a client, closing it afterwards; failures become one stderr line. */
export async function withClient<T>(a: ConnectionArgs, body: (client: KafkaClient) => Promise<T>): Promise<void> {
  let client: KafkaClient | null = null;
  try {
    client = makeClient(a);
    await body(client);
  } catch (err) {
    fail(err);
  } finally {
    client?.close();
  }
}

/** Prints `samsa: <message> (<hint>)` and exits 1. */
export function fail(err: unknown): never {
  const e = err as Error;
  const hint = err instanceof ClientError && err.hint ? `; ${err.hint}` : '';
  const text = err instanceof ClientError ? e.message : `${e?.message ?? String(err)}`;
  process.stderr.write(`samsa: error: ${text.replace(/\s*\n\s*/g, ' ')}${hint}\n`);
  process.exit(1);
}

/** Fixed-width table with a header row; the last column is not padded. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n') + '\n';
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

/** key=value pairs from repeated flags (and comma lists, as kafka-configs takes them). */
export function keyValues(list: string[] | undefined, flag: string, commaSplit = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    for (const kv of commaSplit ? item.split(/,(?=[^,=]+=)/) : [item]) {
      const i = kv.indexOf('=');
      if (i <= 0) throw new ClientError(`${flag} needs key=value, got "${kv}"`);
      out[kv.slice(0, i).trim()] = kv.slice(i + 1);
    }
  }
  return out;
}

/**
 * A progress line on stderr for long produce/consume runs, redrawn twice a second: only when
 * stderr is a terminal, and not when the records themselves go to that same terminal.
 * Returns the function that removes it.
 */
export function progressLine(label: string, count: () => number, bytes: () => number): () => void {
  if (!process.stderr.isTTY || (label === 'consumed' && process.stdout.isTTY)) return () => undefined;
  const started = Date.now();
  const draw = () => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    process.stderr.write(`\r${label} ${count()} records, ${(bytes() / 1e6).toFixed(1)} MB, ${(bytes() / 1e6 / secs).toFixed(1)} MB/s   `);
  };
  const timer = setInterval(draw, 500);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (Date.now() - started >= 500) {
      draw();
      process.stderr.write('\n');
    }
  };
}
