/**
 * Topic-level configs: the names Kafka accepts, their types, defaults and validation.
 * A topic stores only the configs set on it; everything else falls back to the broker's
 * log defaults (from flags) and then to Kafka's defaults below.
 */
import { ErrorCode, KafkaError } from '../protocol/errors';

type ConfigType = 'long' | 'int' | 'double' | 'boolean' | 'string' | 'list';

export interface ConfigSpec {
  name: string;
  type: ConfigType;
  defaultValue: string;
  /** Allowed values (strings, or list items for lists). */
  oneOf?: string[];
  min?: number;
  /** The broker-level setting that supplies this config's default in Kafka. */
  brokerSynonym?: string;
}

const LONG_MAX = '9223372036854775807';

export const TOPIC_CONFIGS: ConfigSpec[] = [
  { name: 'cleanup.policy', type: 'list', defaultValue: 'delete', oneOf: ['delete', 'compact'], brokerSynonym: 'log.cleanup.policy' },
  {
    name: 'compression.type',
    type: 'string',
    defaultValue: 'producer',
    oneOf: ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'],
    brokerSynonym: 'compression.type',
  },
  { name: 'compression.gzip.level', type: 'int', defaultValue: '-1', brokerSynonym: 'compression.gzip.level' },
  { name: 'compression.lz4.level', type: 'int', defaultValue: '9', brokerSynonym: 'compression.lz4.level' },
  { name: 'compression.zstd.level', type: 'int', defaultValue: '3', brokerSynonym: 'compression.zstd.level' },
  { name: 'delete.retention.ms', type: 'long', defaultValue: '86400000', min: 0, brokerSynonym: 'log.cleaner.delete.retention.ms' },
  { name: 'file.delete.delay.ms', type: 'long', defaultValue: '60000', min: 0, brokerSynonym: 'log.segment.delete.delay.ms' },
  { name: 'flush.messages', type: 'long', defaultValue: LONG_MAX, min: 1, brokerSynonym: 'log.flush.interval.messages' },
  { name: 'flush.ms', type: 'long', defaultValue: LONG_MAX, min: 0, brokerSynonym: 'log.flush.interval.ms' },
  { name: 'follower.replication.throttled.replicas', type: 'list', defaultValue: '' },
  { name: 'index.interval.bytes', type: 'int', defaultValue: '4096', min: 0, brokerSynonym: 'log.index.interval.bytes' },
  { name: 'leader.replication.throttled.replicas', type: 'list', defaultValue: '' },
  { name: 'local.retention.bytes', type: 'long', defaultValue: '-2', min: -2, brokerSynonym: 'log.local.retention.bytes' },
  { name: 'local.retention.ms', type: 'long', defaultValue: '-2', min: -2, brokerSynonym: 'log.local.retention.ms' },
  { name: 'max.compaction.lag.ms', type: 'long', defaultValue: LONG_MAX, min: 1, brokerSynonym: 'log.cleaner.max.compaction.lag.ms' },
  { name: 'max.message.bytes', type: 'int', defaultValue: '1048588', min: 0, brokerSynonym: 'message.max.bytes' },
  {
    name: 'message.timestamp.after.max.ms',
    type: 'long',
    defaultValue: '3600000',
    min: 0,
    brokerSynonym: 'log.message.timestamp.after.max.ms',
  },
  {
    name: 'message.timestamp.before.max.ms',
    type: 'long',
    defaultValue: LONG_MAX,
    min: 0,
    brokerSynonym: 'log.message.timestamp.before.max.ms',
  },
  {
    name: 'message.timestamp.type',
    type: 'string',
    defaultValue: 'CreateTime',
    oneOf: ['CreateTime', 'LogAppendTime'],
    brokerSynonym: 'log.message.timestamp.type',
  },
  { name: 'min.cleanable.dirty.ratio', type: 'double', defaultValue: '0.5', min: 0, brokerSynonym: 'log.cleaner.min.cleanable.ratio' },
  { name: 'min.compaction.lag.ms', type: 'long', defaultValue: '0', min: 0, brokerSynonym: 'log.cleaner.min.compaction.lag.ms' },
  { name: 'min.insync.replicas', type: 'int', defaultValue: '1', min: 1, brokerSynonym: 'min.insync.replicas' },
  { name: 'preallocate', type: 'boolean', defaultValue: 'false', brokerSynonym: 'log.preallocate' },
  { name: 'remote.storage.enable', type: 'boolean', defaultValue: 'false' },
  { name: 'remote.log.copy.disable', type: 'boolean', defaultValue: 'false' },
  { name: 'remote.log.delete.on.disable', type: 'boolean', defaultValue: 'false' },
  { name: 'retention.bytes', type: 'long', defaultValue: '-1', brokerSynonym: 'log.retention.bytes' },
  { name: 'retention.ms', type: 'long', defaultValue: '604800000', min: -1, brokerSynonym: 'log.retention.ms' },
  { name: 'segment.bytes', type: 'int', defaultValue: '1073741824', min: 14, brokerSynonym: 'log.segment.bytes' },
  { name: 'segment.index.bytes', type: 'int', defaultValue: '10485760', min: 4, brokerSynonym: 'log.index.size.max.bytes' },
  { name: 'segment.jitter.ms', type: 'long', defaultValue: '0', min: 0, brokerSynonym: 'log.roll.jitter.ms' },
  { name: 'segment.ms', type: 'long', defaultValue: '604800000', min: 1, brokerSynonym: 'log.roll.ms' },
  {
    name: 'unclean.leader.election.enable',
    type: 'boolean',
    defaultValue: 'false',
    brokerSynonym: 'unclean.leader.election.enable',
  },
];

export const TOPIC_CONFIG_BY_NAME = new Map(TOPIC_CONFIGS.map((c) => [c.name, c]));

/** Throws INVALID_CONFIG (with Kafka-like wording) when a name or value is not acceptable. */
export function validateTopicConfig(name: string, value: string | null): void {
  const spec = TOPIC_CONFIG_BY_NAME.get(name);
  if (!spec) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${name}`);
  if (value === null) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Null value not supported for topic config ${name}`);
  const bad = (why: string) => new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: ${why}`);
  const v = value.trim();
  switch (spec.type) {
    case 'long':
    case 'int': {
      if (!/^-?\d+$/.test(v)) throw bad(`Not a number of type ${spec.type.toUpperCase()}`);
      const n = Number(v);
      if (spec.type === 'int' && (n > 2147483647 || n < -2147483648)) throw bad('Not a number of type INT');
      if (spec.min !== undefined && n < spec.min) throw bad(`Value must be at least ${spec.min}`);
      return;
    }
    case 'double': {
      const n = Number(v);
      if (v === '' || !Number.isFinite(n)) throw bad('Not a number of type DOUBLE');
      if (spec.min !== undefined && n < spec.min) throw bad(`Value must be at least ${spec.min}`);
      return;
    }
    case 'boolean':
      if (!/^(true|false)$/i.test(v)) throw bad('Expected value to be either true or false');
      return;
    case 'string':
      if (spec.oneOf && !spec.oneOf.includes(v)) throw bad(`String must be one of: ${spec.oneOf.join(', ')}`);
      return;
    case 'list':
      if (spec.oneOf) {
        for (const item of v.split(',').map((s) => s.trim())) {
          if (!spec.oneOf.includes(item)) throw bad(`String must be one of: ${spec.oneOf.join(', ')}`);
        }
      }
      return;
  }
}

/** The effective value of a topic config: the topic's own, else the broker default, else Kafka's. */
export function effectiveConfig(
  name: string,
  topicConfigs: Record<string, string>,
  brokerDefaults: Record<string, string>,
): string {
  if (name in topicConfigs) return topicConfigs[name];
  const spec = TOPIC_CONFIG_BY_NAME.get(name);
  if (!spec) throw new Error(`unknown topic config ${name}`);
  if (spec.brokerSynonym && spec.brokerSynonym in brokerDefaults) return brokerDefaults[spec.brokerSynonym];
  return spec.defaultValue;
}
