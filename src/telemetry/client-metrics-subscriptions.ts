/**
 * Client metrics subscriptions (KIP-714): the CLIENT_METRICS config resources. Each named
 * subscription says which metrics (name prefixes, or "*" for all) clients matching its
 * selectors should push, and how often. Set with IncrementalAlterConfigs/AlterConfigs,
 * described with DescribeConfigs, listed with ListConfigResources; kept in
 * `<dataDir>/client-metrics.json` and replaced atomically. A subscription whose configs are
 * all deleted no longer exists, as in Kafka.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { writeFileAtomic } from '../storage/file-io';
import { splitList } from '../cluster/topic-config';

export const DEFAULT_PUSH_INTERVAL_MS = 300_000;
const MIN_INTERVAL_MS = 100;
const MAX_INTERVAL_MS = 3_600_000;

export interface ClientMetricsKeySpec {
  name: string;
  type: 'list' | 'int';
  defaultValue: string;
  doc: string;
}

export const CLIENT_METRICS_KEYS: ClientMetricsKeySpec[] = [
  { name: 'metrics', type: 'list', defaultValue: '', doc: 'Metric name prefixes the matching clients push; "*" for every metric, empty for none.' },
  { name: 'interval.ms', type: 'int', defaultValue: String(DEFAULT_PUSH_INTERVAL_MS), doc: 'How often matching clients push their metrics (100 to 3600000 ms).' },
  { name: 'match', type: 'list', defaultValue: '', doc: 'Selectors a client must all meet, as name=regex with name one of client_instance_id, client_id, client_software_name, client_software_version, client_source_address, client_source_port; empty matches every client.' },
];

export const CLIENT_METRICS_KEY_BY_NAME = new Map(CLIENT_METRICS_KEYS.map((k) => [k.name, k]));

export const MATCH_SELECTORS = ['client_instance_id', 'client_id', 'client_software_name', 'client_software_version', 'client_source_address', 'client_source_port'] as const;
export type MatchSelector = (typeof MATCH_SELECTORS)[number];

export interface Subscription {
  name: string;
  metrics: string[];
  intervalMs: number;
  /** Every selector's regex must match the client's value in full. */
  match: [MatchSelector, RegExp][];
}

interface StoreFile {
  version: 1;
  subscriptions: Record<string, Record<string, string>>;
}

export class ClientMetricsSubscriptions {
  private readonly file: string;
  private configs: Record<string, Record<string, string>> = Object.create(null);
  private parsed = new Map<string, Subscription>();
  /** Bumped at every change, so clients' cached subscriptions are re-evaluated. */
  version = 0;

  constructor(dataDir: string) {
    this.file = path.join(dataDir, 'client-metrics.json');
    if (fs.existsSync(this.file)) {
      const stored = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StoreFile;
      for (const [name, values] of Object.entries(stored.subscriptions ?? {})) {
        this.configs[name] = { ...values };
        this.parsed.set(name, parseSubscription(name, values));
      }
    }
  }

  names(): string[] {
    return Object.keys(this.configs).sort();
  }

  /** The subscription's own values (only what was set). */
  overrides(name: string): Record<string, string> {
    return { ...(this.configs[name] ?? {}) };
  }

  all(): Subscription[] {
    return [...this.parsed.values()];
  }

  /** Replaces the subscription's values; an empty set removes it. Throws KafkaError on bad input. */
  replace(name: string, values: Record<string, string>, validateOnly: boolean): void {
    if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Subscription name can\'t be empty');
    const parsed = Object.keys(values).length > 0 ? parseSubscription(name, values) : null;
    if (validateOnly) return;
    if (parsed) {
      this.configs[name] = { ...values };
      this.parsed.set(name, parsed);
    } else {
      delete this.configs[name];
      this.parsed.delete(name);
    }
    this.version++;
    const file: StoreFile = { version: 1, subscriptions: this.configs };
    writeFileAtomic(this.file, JSON.stringify(file, null, 2));
  }
}

function parseSubscription(name: string, values: Record<string, string>): Subscription {
  for (const key of Object.keys(values)) {
    if (!CLIENT_METRICS_KEY_BY_NAME.has(key)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown client metrics configuration: ${key}`);
  }
  const intervalText = values['interval.ms'] ?? String(DEFAULT_PUSH_INTERVAL_MS);
  const intervalMs = Number(intervalText);
  if (!/^-?\d+$/.test(intervalText.trim())) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${intervalText} for configuration interval.ms: Not a number of type INT`);
  if (intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Invalid value ${intervalMs} for interval.ms, interval must be between 100 and 3600000 (1 hour)`);
  }
  const match: [MatchSelector, RegExp][] = [];
  for (const pattern of splitList(values.match ?? '')) {
    const eq = pattern.indexOf('=');
    const key = eq > 0 ? pattern.slice(0, eq).trim() : '';
    const regex = eq > 0 ? pattern.slice(eq + 1).trim() : '';
    if (!(MATCH_SELECTORS as readonly string[]).includes(key) || regex === '') {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `Illegal client matching pattern: ${pattern}`);
    }
    try {
      match.push([key as MatchSelector, new RegExp(`^(?:${regex})$`)]);
    } catch {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `Illegal client matching pattern: ${pattern}`);
    }
  }
  return { name, metrics: splitList(values.metrics ?? ''), intervalMs, match };
}
