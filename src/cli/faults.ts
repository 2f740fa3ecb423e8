/**
 * `samsa faults add|list|clear|latency|pause|resume`: fault injection through a broker's
 * HTTP admin endpoint (src/http/fault-admin-api.ts), for scripts and tests in any language.
 */
import { fail, printJson, table } from './common';
import type { FaultListing, FaultRule } from '../faults/fault-engine';

interface AdminArgs {
  'admin-url': string;
  json?: boolean;
}

interface AddArgs extends AdminArgs {
  api: string;
  topic?: string;
  partition?: number;
  'broker-id'?: number;
  'client-id'?: string;
  count?: string;
  error?: string;
  'delay-ms'?: number;
  'drop-connection'?: boolean;
}

/** Calls the admin endpoint; a non-2xx answer becomes the server's own message. */
async function admin(a: AdminArgs, method: string, path: string, body?: unknown): Promise<unknown> {
  const url = a['admin-url'].replace(/\/+$/, '') + path;
  let res: Response;
  try {
    res = await fetch(url, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message} (is the broker's HTTP server on? see --http-port)`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the message
  }
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${(parsed as { error?: string })?.error ?? text}`);
  return parsed;
}

function describeRule(r: FaultRule): string[] {
  const action = 'error' in r.action ? `error ${r.action.error}` : 'delayMs' in r.action ? `delay ${r.action.delayMs} ms` : 'drop connection';
  const filter = [r.topic !== undefined ? `topic=${r.topic}` : '', r.partition !== undefined ? `partition=${r.partition}` : '', r.brokerId !== undefined ? `broker=${r.brokerId}` : '', r.clientId !== undefined ? `client=${r.clientId}` : ''].filter(Boolean).join(' ');
  return [String(r.id), r.api, filter || '-', action, String(r.remaining), String(r.hits)];
}

export async function add(a: AddArgs): Promise<void> {
  try {
    const actions = [a.error !== undefined, a['delay-ms'] !== undefined, !!a['drop-connection']].filter(Boolean).length;
    if (actions !== 1) throw new Error('give exactly one of --error, --delay-ms, --drop-connection');
    const spec: Record<string, unknown> = { api: a.api };
    if (a.topic !== undefined) spec.topic = a.topic;
    if (a.partition !== undefined) spec.partition = a.partition;
    if (a['broker-id'] !== undefined) spec.brokerId = a['broker-id'];
    if (a['client-id'] !== undefined) spec.clientId = a['client-id'];
    if (a.count !== undefined) spec.count = /^\d+$/.test(a.count) ? Number(a.count) : a.count;
    spec.action = a.error !== undefined ? { error: a.error } : a['delay-ms'] !== undefined ? { delayMs: a['delay-ms'] } : { dropConnection: true };
    const rule = (await admin(a, 'POST', '/admin/faults', spec)) as FaultRule;
    if (a.json) printJson(rule);
    else process.stdout.write(`fault ${rule.id} added: ${describeRule(rule).slice(1, 4).join(' ')}, count ${rule.remaining}\n`);
  } catch (err) {
    fail(err);
  }
}

export async function list(a: AdminArgs): Promise<void> {
  try {
    const l = (await admin(a, 'GET', '/admin/faults')) as FaultListing;
    if (a.json) return printJson(l);
    if (l.rules.length === 0) process.stdout.write('no fault rules\n');
    else process.stdout.write(table(['ID', 'API', 'FILTER', 'ACTION', 'REMAINING', 'HITS'], l.rules.map(describeRule)));
    if (l.brokers.length > 0) process.stdout.write('\n' + table(['BROKER', 'LATENCY-MS', 'PAUSED'], l.brokers.map((b) => [b.brokerId, b.latencyMs, b.paused ? 'yes' : 'no'])));
  } catch (err) {
    fail(err);
  }
}

export async function clear(a: AdminArgs & { id?: number }): Promise<void> {
  try {
    if (a.id !== undefined) {
      await admin(a, 'DELETE', `/admin/faults/${a.id}`);
      process.stdout.write(`fault ${a.id} removed\n`);
    } else {
      await admin(a, 'DELETE', '/admin/faults');
      process.stdout.write('all fault rules, latencies and pauses removed\n');
    }
  } catch (err) {
    fail(err);
  }
}

export async function latency(a: AdminArgs & { broker: number; ms: number }): Promise<void> {
  await brokerAction(a, 'latency', { ms: a.ms });
}

export async function pause(a: AdminArgs & { broker: number }): Promise<void> {
  await brokerAction(a, 'pause');
}

export async function resume(a: AdminArgs & { broker: number }): Promise<void> {
  await brokerAction(a, 'resume');
}

async function brokerAction(a: AdminArgs & { broker: number }, what: string, body?: unknown): Promise<void> {
  try {
    const state = (await admin(a, 'POST', `/admin/brokers/${a.broker}/${what}`, body)) as { brokerId: number; latencyMs: number; paused: boolean };
    if (a.json) printJson(state);
    else process.stdout.write(`broker ${state.brokerId}: latency ${state.latencyMs} ms, ${state.paused ? 'paused' : 'running'}\n`);
  } catch (err) {
    fail(err);
  }
}
