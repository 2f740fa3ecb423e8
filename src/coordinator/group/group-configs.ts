/**
 * Per-group settings (config resource type GROUP, KIP-848/932/1071): Kafka 4's group keys,
 * each defaulting to a broker setting and bounded by the broker's min/max for it, as Kafka
 * validates them. Kept in `<dataDir>/group-configs.json` ({"version":1,"groups":{"g":{...}}}),
 * replaced atomically; a group need not exist to have settings.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode, KafkaError } from '../../protocol/errors';
import { writeFileAtomic } from '../../storage/file-io';
import type { Logger } from '../../logging';

export interface GroupKeySpec {
  name: string;
  type: 'int' | 'string';
  /** The broker setting that gives the default. */
  brokerDefault: string;
  /** Broker settings bounding the value (int keys). */
  minKey?: string;
  maxKey?: string;
  oneOf?: string[];
  doc: string;
}

const RESET = /^(earliest|latest|by_duration:P.+)$/;

export const GROUP_KEYS: GroupKeySpec[] = [
  { name: 'consumer.session.timeout.ms', type: 'int', brokerDefault: 'group.consumer.session.timeout.ms', minKey: 'group.consumer.min.session.timeout.ms', maxKey: 'group.consumer.max.session.timeout.ms', doc: 'Session timeout of this consumer group\'s members.' },
  { name: 'consumer.heartbeat.interval.ms', type: 'int', brokerDefault: 'group.consumer.heartbeat.interval.ms', minKey: 'group.consumer.min.heartbeat.interval.ms', maxKey: 'group.consumer.max.heartbeat.interval.ms', doc: 'Heartbeat interval this consumer group\'s members are told to use.' },
  { name: 'share.session.timeout.ms', type: 'int', brokerDefault: 'group.share.session.timeout.ms', minKey: 'group.share.min.session.timeout.ms', maxKey: 'group.share.max.session.timeout.ms', doc: 'Session timeout of this share group\'s members.' },
  { name: 'share.heartbeat.interval.ms', type: 'int', brokerDefault: 'group.share.heartbeat.interval.ms', minKey: 'group.share.min.heartbeat.interval.ms', maxKey: 'group.share.max.heartbeat.interval.ms', doc: 'Heartbeat interval of this share group\'s members.' },
  { name: 'share.record.lock.duration.ms', type: 'int', brokerDefault: 'group.share.record.lock.duration.ms', minKey: 'group.share.min.record.lock.duration.ms', maxKey: 'group.share.max.record.lock.duration.ms', doc: 'How long a member of this share group holds the records it fetched.' },
  { name: 'share.delivery.count.limit', type: 'int', brokerDefault: 'group.share.delivery.count.limit', minKey: 'group.share.min.delivery.count.limit', maxKey: 'group.share.max.delivery.count.limit', doc: 'Deliveries of a record to this share group before it is archived.' },
  { name: 'share.partition.max.record.locks', type: 'int', brokerDefault: 'group.share.partition.max.record.locks', minKey: 'group.share.min.partition.max.record.locks', maxKey: 'group.share.max.partition.max.record.locks', doc: 'Records of one share partition this share group may have in flight at once.' },
  { name: 'share.auto.offset.reset', type: 'string', brokerDefault: '', doc: 'Where a share group starts without a start offset: latest, earliest or by_duration:<ISO-8601 duration>.' },
  { name: 'share.isolation.level', type: 'string', brokerDefault: '', oneOf: ['read_uncommitted', 'read_committed'], doc: 'Whether this share group reads uncommitted transactional records.' },
  { name: 'streams.session.timeout.ms', type: 'int', brokerDefault: 'group.streams.session.timeout.ms', minKey: 'group.streams.min.session.timeout.ms', maxKey: 'group.streams.max.session.timeout.ms', doc: 'Session timeout of this streams group\'s members.' },
  { name: 'streams.heartbeat.interval.ms', type: 'int', brokerDefault: 'group.streams.heartbeat.interval.ms', minKey: 'group.streams.min.heartbeat.interval.ms', maxKey: 'group.streams.max.heartbeat.interval.ms', doc: 'Heartbeat interval of this streams group\'s members.' },
  { name: 'streams.num.standby.replicas', type: 'int', brokerDefault: 'group.streams.num.standby.replicas', maxKey: 'group.streams.max.standby.replicas', doc: 'Standby replicas per task of this streams group.' },
];

/** Defaults of the keys with no broker setting behind them. */
const FIXED_DEFAULTS: Record<string, string> = { 'share.auto.offset.reset': 'latest', 'share.isolation.level': 'read_uncommitted' };

export const GROUP_KEY_BY_NAME = new Map(GROUP_KEYS.map((k) => [k.name, k]));

/** Broker settings, as the group keys read their defaults and bounds from them. */
export interface BrokerSettings {
  get(name: string): string | null;
}

interface GroupConfigFile {
  version: 1;
  groups: Record<string, Record<string, string>>;
}

export class GroupConfigStore {
  private readonly file: string;
  private groups: Record<string, Record<string, string>> = Object.create(null);

  constructor(
    dataDir: string,
    private readonly broker: BrokerSettings,
    private readonly log: Logger,
  ) {
    this.file = path.join(dataDir, 'group-configs.json');
    if (fs.existsSync(this.file)) {
      const parsed = JSON.parse(fs.readFileSync(this.file, 'utf8')) as GroupConfigFile;
      for (const [g, values] of Object.entries(parsed.groups ?? {})) this.groups[g] = { ...values };
    }
  }

  /** Groups with settings of their own. */
  groupIds(): string[] {
    return Object.keys(this.groups);
  }

  /** The group's own values (overrides only). */
  overrides(groupId: string): Record<string, string> {
    return { ...(this.groups[groupId] ?? {}) };
  }

  /** The value in force for a group: its own, else the broker's default. */
  effective(groupId: string, name: string): string {
    const own = this.groups[groupId]?.[name];
    if (own !== undefined) return own;
    const spec = GROUP_KEY_BY_NAME.get(name);
    if (!spec) throw new Error(`unknown group config ${name}`);
    return (spec.brokerDefault ? this.broker.get(spec.brokerDefault) : null) ?? FIXED_DEFAULTS[name] ?? '';
  }

  /** A number setting in force for a group. */
  number(groupId: string, name: string): number {
    return Number(this.effective(groupId, name));
  }

  /**
   * Replaces a group's overrides with `values` after Kafka's checks (KafkaError with
   * INVALID_CONFIG / INVALID_REQUEST and Kafka's message on the first problem).
   */
  replace(groupId: string, values: Record<string, string>, validateOnly: boolean): void {
    if (groupId === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Group name must not be empty');
    for (const [name, value] of Object.entries(values)) this.check(name, value);
    const merged = (name: string) => values[name] ?? this.effectiveDefault(name);
    for (const prefix of ['consumer', 'share', 'streams']) {
      const session = Number(merged(`${prefix}.session.timeout.ms`));
      const heartbeat = Number(merged(`${prefix}.heartbeat.interval.ms`));
      if (heartbeat >= session) {
        throw new KafkaError(ErrorCode.INVALID_CONFIG, `${prefix}.heartbeat.interval.ms must be less than ${prefix}.session.timeout.ms`);
      }
    }
    if (validateOnly) return;
    if (Object.keys(values).length === 0) delete this.groups[groupId];
    else this.groups[groupId] = { ...values };
    const f: GroupConfigFile = { version: 1, groups: this.groups };
    writeFileAtomic(this.file, JSON.stringify(f, null, 1));
    this.log.info('group configs changed', { group: groupId, values });
  }

  /** Forgets a deleted group's settings. */
  delete(groupId: string): void {
    if (!(groupId in this.groups)) return;
    delete this.groups[groupId];
    writeFileAtomic(this.file, JSON.stringify({ version: 1, groups: this.groups }, null, 1));
  }

  private effectiveDefault(name: string): string {
    const spec = GROUP_KEY_BY_NAME.get(name) as GroupKeySpec;
    return (spec.brokerDefault ? this.broker.get(spec.brokerDefault) : null) ?? FIXED_DEFAULTS[name] ?? '';
  }

  private check(name: string, value: string): void {
    const spec = GROUP_KEY_BY_NAME.get(name);
    if (!spec) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown group config name: ${name}`);
    if (spec.type === 'string') {
      if (spec.oneOf && !spec.oneOf.includes(value)) {
        throw new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: String must be one of: ${spec.oneOf.join(', ')}`);
      }
      if (name === 'share.auto.offset.reset' && !RESET.test(value)) {
        throw new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: must be latest, earliest or by_duration:<ISO-8601 duration>`);
      }
      return;
    }
    if (!/^-?\d+$/.test(value)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Invalid value ${value} for configuration ${name}: Not a number of type INT`);
    const n = Number(value);
    const min = spec.minKey ? Number(this.broker.get(spec.minKey)) : 0;
    const max = spec.maxKey ? Number(this.broker.get(spec.maxKey)) : Number.MAX_SAFE_INTEGER;
    if (n < min) throw new KafkaError(ErrorCode.INVALID_CONFIG, `${name} must be greater than or equal to ${spec.minKey ?? 0}`);
    if (n > max) throw new KafkaError(ErrorCode.INVALID_CONFIG, `${name} must be less than or equal to ${spec.maxKey}`);
  }
}
