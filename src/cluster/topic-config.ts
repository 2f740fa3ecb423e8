/**
 * Topic-level configs: the names Kafka accepts, their types, bounds, defaults, the broker
 * settings that supply their defaults (synonyms), documentation, validation, and how an
 * effective value and its source are resolved.
 *
 * A topic stores only the configs set on it (topics.json). Everything else falls back, in
 * Kafka's order, to the broker's dynamic per-broker value, its dynamic cluster-wide default,
 * its static value (properties file, --override, flags), and finally the built-in default.
 * Within each level a topic config may have several broker synonyms (retention.ms:
 * log.retention.ms, then log.retention.minutes, then log.retention.hours); the first one set
 * wins and its value is converted to the topic config's unit.
 */
import { ErrorCode, KafkaError } from '../protocol/errors';

export type ConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';

/** DescribeConfigs v3+ config_type codes. */
export const CONFIG_TYPE_CODES: Record<ConfigType, number> = {
  boolean: 1,
  string: 2,
  int: 3,
  short: 4,
  long: 5,
  double: 6,
  list: 7,
  class: 8,
  password: 9,
};

/** DescribeConfigs config_source codes. */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC: 1,
  DYNAMIC_BROKER: 2,
  DYNAMIC_DEFAULT_BROKER: 3,
  STATIC_BROKER: 4,
  DEFAULT: 5,
  DYNAMIC_BROKER_LOGGER: 6,
  CLIENT_METRICS: 7,
  GROUP: 8,
} as const;

export interface Synonym {
  /** Broker setting name. */
  name: string;
  /** Multiply the broker value by this to get the topic config's unit (hours -> ms). */
  factor?: number;
}

export interface ConfigSpec {
  name: string;
  type: ConfigType;
  defaultValue: string;
  /** Allowed values (strings, or list items for lists). */
  oneOf?: string[];
  min?: number;
  max?: number;
  /** Broker settings that supply the default, in priority order. */
  synonyms: Synonym[];
  /** What the setting does, in our words (DescribeConfigs documentation). */
  doc: string;
}

const LONG_MAX = '9223372036854775807';
const HOUR = 3_600_000;
const MINUTE = 60_000;

const s = (name: string, factor?: number): Synonym => (factor ? { name, factor } : { name });

export const TOPIC_CONFIGS: ConfigSpec[] = [
  {
    name: 'cleanup.policy',
    type: 'list',
    defaultValue: 'delete',
    oneOf: ['delete', 'compact'],
    synonyms: [s('log.cleanup.policy')],
    doc: 'How old data leaves the log: "delete" drops whole segments once they pass retention.ms or retention.bytes; "compact" keeps only the newest record of each key; both may be combined.',
  },
  {
    name: 'compression.type',
    type: 'string',
    defaultValue: 'producer',
    oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
    synonyms: [s('compression.type')],
    doc: 'Codec batches are stored with. "producer" stores them exactly as sent; any other value makes the broker recompress batches that use a different codec.',
  },
  {
    name: 'compression.gzip.level',
    type: 'int',
    defaultValue: '-1',
    min: -1,
    max: 9,
    synonyms: [s('compression.gzip.level')],
    doc: 'Level used when the broker itself gzips a batch (compression.type=gzip): 1 fastest to 9 smallest, -1 the codec default.',
  },
  {
    name: 'compression.lz4.level',
    type: 'int',
    defaultValue: '9',
    min: 1,
    max: 17,
    synonyms: [s('compression.lz4.level')],
    doc: 'Level for batches the broker compresses with lz4. Accepted for compatibility; Samsa\'s lz4 encoder uses its own default level.',
  },
  {
    name: 'compression.zstd.level',
    type: 'int',
    defaultValue: '3',
    min: -131072,
    max: 22,
    synonyms: [s('compression.zstd.level')],
    doc: 'Level used when the broker itself compresses a batch with zstd (compression.type=zstd).',
  },
  {
    name: 'delete.retention.ms',
    type: 'long',
    defaultValue: '86400000',
    min: 0,
    synonyms: [s('log.cleaner.delete.retention.ms')],
    doc: 'On compacted topics, how long a tombstone (a record with a null value) stays readable after the cleaner first kept it, so that slow consumers still see the deletion.',
  },
  {
    name: 'file.delete.delay.ms',
    type: 'long',
    defaultValue: '60000',
    min: 0,
    synonyms: [s('log.segment.delete.delay.ms')],
    doc: 'Grace period between removing a segment from the log and closing its file, so fetches already reading it finish.',
  },
  {
    name: 'flush.messages',
    type: 'long',
    defaultValue: LONG_MAX,
    min: 1,
    synonyms: [s('log.flush.interval.messages')],
    doc: 'Force an fsync of the partition after this many records. By default durability is left to the operating system\'s page cache.',
  },
  {
    name: 'flush.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    min: 0,
    synonyms: [s('log.flush.interval.ms')],
    doc: 'Force an fsync of the partition when this much time has passed since the last one.',
  },
  {
    name: 'follower.replication.throttled.replicas',
    type: 'list',
    defaultValue: '',
    synonyms: [],
    doc: 'Replicas whose follower-side replication is throttled. Accepted for compatibility; a single broker has no followers.',
  },
  {
    name: 'index.interval.bytes',
    type: 'int',
    defaultValue: '4096',
    min: 0,
    synonyms: [s('log.index.interval.bytes')],
    doc: 'Bytes of log between two entries of the sparse offset and time indexes: smaller means faster lookups and larger index files.',
  },
  {
    name: 'leader.replication.throttled.replicas',
    type: 'list',
    defaultValue: '',
    synonyms: [],
    doc: 'Replicas whose leader-side replication is throttled. Accepted for compatibility; a single broker does not replicate.',
  },
  {
    name: 'local.retention.bytes',
    type: 'long',
    defaultValue: '-2',
    min: -2,
    synonyms: [s('log.local.retention.bytes')],
    doc: 'Local size limit when tiered storage is on (-2: same as retention.bytes). Samsa has no tiered storage.',
  },
  {
    name: 'local.retention.ms',
    type: 'long',
    defaultValue: '-2',
    min: -2,
    synonyms: [s('log.local.retention.ms')],
    doc: 'Local time limit when tiered storage is on (-2: same as retention.ms). Samsa has no tiered storage.',
  },
  {
    name: 'max.compaction.lag.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    min: 1,
    synonyms: [s('log.cleaner.max.compaction.lag.ms')],
    doc: 'Upper bound on how long a record can wait before compaction considers it, whatever the dirty ratio; also caps how long an active segment stays open on compacted topics.',
  },
  {
    name: 'max.message.bytes',
    type: 'int',
    defaultValue: '1048588',
    min: 0,
    synonyms: [s('message.max.bytes')],
    doc: 'Largest record batch (after compression) a producer may append to this topic.',
  },
  {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    defaultValue: '3600000',
    min: 0,
    synonyms: [s('log.message.timestamp.after.max.ms')],
    doc: 'With CreateTime, how far in the future of the broker clock a record timestamp may be before the batch is refused.',
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    min: 0,
    synonyms: [s('log.message.timestamp.before.max.ms')],
    doc: 'With CreateTime, how far in the past of the broker clock a record timestamp may be before the batch is refused.',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    defaultValue: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
    synonyms: [s('log.message.timestamp.type')],
    doc: 'Which time a record carries: the producer\'s (CreateTime) or the broker\'s clock when the batch was appended (LogAppendTime).',
  },
  {
    name: 'min.cleanable.dirty.ratio',
    type: 'double',
    defaultValue: '0.5',
    min: 0,
    max: 1,
    synonyms: [s('log.cleaner.min.cleanable.ratio')],
    doc: 'Compaction starts once the not-yet-compacted part of the log reaches this share of it: lower compacts more often and wastes less space.',
  },
  {
    name: 'min.compaction.lag.ms',
    type: 'long',
    defaultValue: '0',
    min: 0,
    synonyms: [s('log.cleaner.min.compaction.lag.ms')],
    doc: 'Records younger than this are never compacted, so every update stays visible for at least this long.',
  },
  {
    name: 'min.insync.replicas',
    type: 'int',
    defaultValue: '1',
    min: 1,
    synonyms: [s('min.insync.replicas')],
    doc: 'Replicas that must have a write for acks=all to succeed. A single broker is always its only in-sync replica.',
  },
  {
    name: 'preallocate',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [s('log.preallocate')],
    doc: 'Reserve disk space for a new segment up front. Accepted for compatibility; Samsa grows segment files as it writes.',
  },
  {
    name: 'remote.log.copy.disable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [],
    doc: 'Stop copying segments to tiered storage. Samsa has no tiered storage.',
  },
  {
    name: 'remote.log.delete.on.disable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [],
    doc: 'Delete tiered data when tiered storage is turned off for the topic. Samsa has no tiered storage.',
  },
  {
    name: 'remote.storage.enable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [],
    doc: 'Move closed segments to tiered storage. Samsa has no tiered storage, so only false is accepted.',
  },
  {
    name: 'retention.bytes',
    type: 'long',
    defaultValue: '-1',
    synonyms: [s('log.retention.bytes')],
    doc: 'With cleanup.policy=delete, the oldest segments are deleted while a partition is larger than this; -1 means no size limit.',
  },
  {
    name: 'retention.ms',
    type: 'long',
    defaultValue: '604800000',
    min: -1,
    synonyms: [s('log.retention.ms'), s('log.retention.minutes', MINUTE), s('log.retention.hours', HOUR)],
    doc: 'With cleanup.policy=delete, a segment is deleted once its newest record is older than this; -1 keeps data forever.',
  },
  {
    name: 'segment.bytes',
    type: 'int',
    defaultValue: '1073741824',
    min: 14,
    synonyms: [s('log.segment.bytes')],
    doc: 'Size at which a partition starts a new segment file. Retention and compaction work on whole closed segments, so smaller segments free space sooner. (Samsa accepts values down to 14 bytes, Kafka 4 down to 1 MiB.)',
  },
  {
    name: 'segment.index.bytes',
    type: 'int',
    defaultValue: '10485760',
    min: 4,
    synonyms: [s('log.index.size.max.bytes')],
    doc: 'Largest offset index of a segment; a segment whose index is full is rolled.',
  },
  {
    name: 'segment.jitter.ms',
    type: 'long',
    defaultValue: '0',
    min: 0,
    synonyms: [s('log.roll.jitter.ms'), s('log.roll.jitter.hours', HOUR)],
    doc: 'Random amount subtracted from segment.ms to spread segment rolls of many partitions. Accepted; Samsa rolls exactly at segment.ms.',
  },
  {
    name: 'segment.ms',
    type: 'long',
    defaultValue: '604800000',
    min: 1,
    synonyms: [s('log.roll.ms'), s('log.roll.hours', HOUR)],
    doc: 'Time after which a partition starts a new segment even if the current one is not full, so retention and compaction can reach its data.',
  },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    defaultValue: 'false',
    synonyms: [s('unclean.leader.election.enable')],
    doc: 'Allow an out-of-sync replica to become leader. Meaningless with one broker; accepted for compatibility.',
  },
];

export const TOPIC_CONFIG_BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

/**
 * Checks one value against a spec; returns Kafka's message for a bad value or null. Used for
 * topic configs and (with their own specs) broker settings.
 */
export function valueError(spec: Pick<ConfigSpec, 'name' | 'type' | 'oneOf' | 'min' | 'max'>, value: string): string | null {
  const bad = (why: string) => `Invalid value ${value} for configuration ${spec.name}: ${why}`;
  const v = value.trim();
  switch (spec.type) {
    case 'long':
    case 'int':
    case 'short': {
      const label = spec.type.toUpperCase();
      if (!/^[-+]?\d+$/.test(v)) return bad(`Not a number of type ${label}`);
      const n = Number(v);
      if (spec.type === 'int' && (n > 2147483647 || n < -2147483648)) return bad('Not a number of type INT');
      if (spec.type === 'short' && (n > 32767 || n < -32768)) return bad('Not a number of type SHORT');
      if (spec.type === 'long' && (BigInt(v) > 9223372036854775807n || BigInt(v) < -9223372036854775808n)) return bad('Not a number of type LONG');
      if (spec.min !== undefined && n < spec.min) return bad(`Value must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) return bad(`Value must be no more than ${spec.max}`);
      return null;
    }
    case 'double': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) return bad('Not a number of type DOUBLE');
      if (spec.min !== undefined && n < spec.min) return bad(`Value must be at least ${spec.min}`);
      if (spec.max !== undefined && n > spec.max) return bad(`Value must be no more than ${spec.max}`);
      return null;
    }
    case 'boolean':
      return /^(true|false)$/i.test(v) ? null : bad('Expected value to be either true or false');
    case 'string':
      if (spec.oneOf && !spec.oneOf.includes(v)) return bad(`String must be one of: ${spec.oneOf.join(', ')}`);
      return null;
    case 'list': {
      if (!spec.oneOf) return null;
      const items = splitList(v);
      if (items.length === 0) return bad('Empty list is not allowed');
      for (const item of items) if (!spec.oneOf.includes(item)) return bad(`String must be one of: ${spec.oneOf.join(', ')}`);
      return null;
    }
    default:
      return null;
  }
}

export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/** Throws INVALID_CONFIG (with Kafka's wording) when a name or value is not acceptable. */
export function validateTopicConfig(name: string, value: string | null): void {
  const spec = TOPIC_CONFIG_BY_NAME.get(name);
  if (!spec) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
  if (value === null) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${name}`);
  const err = valueError(spec, value);
  if (err) throw new KafkaError(ErrorCode.INVALID_CONFIG, err);
  if (name === 'remote.storage.enable' && /^true$/i.test(value.trim())) {
    throw new KafkaError(
      ErrorCode.INVALID_CONFIG,
      'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.',
    );
  }
}

/**
 * Checks a topic's complete set of overrides: each one (validateTopicConfig), then the rules
 * that relate two configs, on the effective values.
 */
export function validateTopicConfigs(configs: Record<string, string>, brokerDefaults: BrokerLayers | Record<string, string>): void {
  for (const [k, v] of Object.entries(configs)) validateTopicConfig(k, v);
  const eff = (n: string) => Number(effectiveConfig(n, configs, brokerDefaults));
  const minLag = eff('min.compaction.lag.ms');
  const maxLag = eff('max.compaction.lag.ms');
  if (minLag > maxLag) {
    throw new KafkaError(
      ErrorCode.INVALID_CONFIG,
      `conflict topic config setting min.compaction.lag.ms (${configs['min.compaction.lag.ms'] ?? minLag}) > max.compaction.lag.ms (${configs['max.compaction.lag.ms'] ?? maxLag})`,
    );
  }
}

/**
 * Broker-level values in Kafka's priority order. A plain record is taken as the static
 * layer alone (start-up settings).
 */
export interface BrokerLayers {
  dynamicBroker: Record<string, string>;
  dynamicDefault: Record<string, string>;
  static: Record<string, string>;
  /** Built-in defaults of broker settings that have one (log.retention.hours=168...). */
  defaults: Record<string, string>;
}

export interface ConfigSynonymValue {
  name: string;
  value: string | null;
  source: number;
}

export interface ResolvedConfig {
  value: string;
  source: number;
  /** Every place a value is set, highest priority first (DescribeConfigs synonyms). */
  synonyms: ConfigSynonymValue[];
}

/** Built-in defaults of the broker settings that are topic-config synonyms. */
export const SYNONYM_DEFAULTS: Record<string, string> = (() => {
  const d: Record<string, string> = {};
  for (const spec of TOPIC_CONFIGS) {
    const last = spec.synonyms[spec.synonyms.length - 1];
    if (!last) continue;
    // The lowest-priority synonym carries the default, in its own unit (log.retention.hours=168).
    d[last.name] = last.factor ? String(Number(spec.defaultValue) / last.factor) : spec.defaultValue;
  }
  return d;
})();

function asLayers(b: BrokerLayers | Record<string, string>): BrokerLayers {
  if ('static' in b && 'dynamicDefault' in b && typeof b.static === 'object') return b as BrokerLayers;
  return { dynamicBroker: {}, dynamicDefault: {}, static: b as Record<string, string>, defaults: SYNONYM_DEFAULTS };
}

function convert(value: string, factor: number | undefined): string {
  if (!factor) return value;
  const n = Number(value);
  return Number.isFinite(n) ? String(n * factor) : value;
}

/** Value, source and synonyms of a topic config for a topic with these overrides. */
export function resolveTopicConfig(
  name: string,
  topicConfigs: Record<string, string>,
  brokerDefaults: BrokerLayers | Record<string, string>,
): ResolvedConfig {
  const spec = TOPIC_CONFIG_BY_NAME.get(name);
  if (!spec) throw new Error(`unknown topic config ${name}`);
  const layers = asLayers(brokerDefaults);
  const synonyms: (ConfigSynonymValue & { factor?: number })[] = [];
  if (Object.prototype.hasOwnProperty.call(topicConfigs, name)) synonyms.push({ name, value: topicConfigs[name], source: ConfigSource.TOPIC });
  const levels: [Record<string, string>, number][] = [
    [layers.dynamicBroker, ConfigSource.DYNAMIC_BROKER],
    [layers.dynamicDefault, ConfigSource.DYNAMIC_DEFAULT_BROKER],
    [layers.static, ConfigSource.STATIC_BROKER],
    [layers.defaults, ConfigSource.DEFAULT],
  ];
  for (const [values, source] of levels) {
    for (const syn of spec.synonyms) {
      if (Object.prototype.hasOwnProperty.call(values, syn.name)) synonyms.push({ name: syn.name, value: values[syn.name], source, factor: syn.factor });
    }
  }
  const first = synonyms[0];
  const value = first ? convert(first.value as string, first.factor) : spec.defaultValue;
  // Kafka reports (source and synonyms) only from the first entry named like the topic
  // config's own broker key on: a topic whose retention comes from log.retention.hours alone
  // reports DEFAULT_CONFIG and no synonyms, while its value still honours that setting.
  const own = spec.synonyms[0]?.name;
  const topicLevel = synonyms[0]?.source === ConfigSource.TOPIC ? 1 : 0;
  let from = topicLevel;
  while (from < synonyms.length && synonyms[from].name !== own) from++;
  const reported = [...synonyms.slice(0, topicLevel), ...synonyms.slice(from)].map(({ name: n, value: v, source }) => ({ name: n, value: v, source }));
  return { value, source: reported[0]?.source ?? ConfigSource.DEFAULT, synonyms: reported };
}

/** The effective value of a topic config: the topic's own, else the broker's (in Kafka's order), else the default. */
export function effectiveConfig(
  name: string,
  topicConfigs: Record<string, string>,
  brokerDefaults: BrokerLayers | Record<string, string>,
): string {
  return resolveTopicConfig(name, topicConfigs, brokerDefaults).value;
}
