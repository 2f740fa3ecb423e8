/**
 * The config administration behind DescribeConfigs, AlterConfigs and
 * IncrementalAlterConfigs: resource lookup, describing with sources and synonyms, and
 * applying changes with Kafka's validation and error codes. The handlers only translate to
 * and from the wire.
 *
 * Resources: TOPIC (2) by name; BROKER (4) by this node's id (its full configuration) or ""
 * (the dynamic cluster-wide defaults); BROKER_LOGGER (8) describes as empty; CLIENT_METRICS
 * (16) by subscription name (src/telemetry/client-metrics-subscriptions.ts); GROUP (32) by
 * group id. Other types are refused with INVALID_REQUEST.
 */
import type { ClusterState } from './cluster-state';
import { GROUP_KEYS } from '../coordinator/group/group-configs';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { topicNameError, Topic } from './topic-manager';
import {
  CONFIG_TYPE_CODES,
  ConfigSource,
  ConfigSynonymValue,
  resolveTopicConfig,
  splitList,
  TOPIC_CONFIG_BY_NAME,
  TOPIC_CONFIGS,
} from './topic-config';
import { BROKER_KEY_BY_NAME, BROKER_KEYS, listenerPrefixedSpec } from './broker-config';
import { CLIENT_METRICS_KEYS, CLIENT_METRICS_KEY_BY_NAME } from '../telemetry/client-metrics-subscriptions';

export const ResourceType = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;
export const AlterOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface DescribedConfig {
  name: string;
  value: string | null;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  synonyms: ConfigSynonymValue[];
  /** DescribeConfigs v3 config_type code. */
  type: number;
  documentation: string;
}

export interface ResourceResult {
  errorCode: number;
  errorMessage: string | null;
}

const OK: ResourceResult = { errorCode: ErrorCode.NONE, errorMessage: null };

function fail(err: unknown): ResourceResult {
  if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: err.message };
  throw err;
}

function findTopic(cluster: ClusterState, name: string): Topic {
  const nameError = name === '' ? 'Topic name is illegal, it can\'t be empty' : topicNameError(name);
  if (nameError) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameError);
  const topic = cluster.topics.get(name);
  if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
  return topic;
}

/** true for this broker's id, false for "" (cluster default); throws for anything else. */
function brokerLevel(nodeId: number, name: string): boolean {
  if (name === '') return false;
  if (!/^-?\d+$/.test(name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `ClusterState id must be an integer, but it is: ${name}`);
  if (Number(name) !== nodeId) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${nodeId} or empty string, but received ${name}`);
  }
  return true;
}

// ---------------------------------------------------------------- describe

export function describeResource(
  cluster: ClusterState,
  /** The node answering: the broker resource it may describe or change is itself. */
  nodeId: number,
  type: number,
  name: string,
  keys: string[] | null,
): ResourceResult & { configs: DescribedConfig[] } {
  const wanted = (n: string) => keys === null || keys.includes(n);
  try {
    switch (type) {
      case ResourceType.TOPIC: {
        const topic = findTopic(cluster, name);
        const configs = TOPIC_CONFIGS.filter((spec) => wanted(spec.name)).map((spec) => {
          const r = resolveTopicConfig(spec.name, topic.configs, cluster.topics.brokerDefaults);
          return {
            name: spec.name,
            value: r.value,
            readOnly: false,
            source: r.source,
            isSensitive: false,
            synonyms: r.synonyms,
            type: CONFIG_TYPE_CODES[spec.type],
            documentation: spec.doc,
          };
        });
        return { ...OK, configs };
      }
      case ResourceType.BROKER: {
        const perBroker = brokerLevel(nodeId, name);
        const store = cluster.settings;
        if (!perBroker) {
          // The default resource lists only what was set at the cluster-wide dynamic level.
          const configs = Object.entries(store.layers.dynamicDefault)
            .filter(([k]) => wanted(k))
            .map(([k, v]) => {
              const spec = BROKER_KEY_BY_NAME.get(k);
              const sensitive = spec?.type === 'password';
              return {
                name: k,
                value: sensitive ? null : v,
                readOnly: false,
                source: ConfigSource.DYNAMIC_DEFAULT_BROKER,
                isSensitive: sensitive,
                synonyms: [{ name: k, value: sensitive ? null : v, source: ConfigSource.DYNAMIC_DEFAULT_BROKER }],
                type: spec ? CONFIG_TYPE_CODES[spec.type] : 0,
                documentation: spec?.doc ?? '',
              };
            });
          return { ...OK, configs };
        }
        const configs = BROKER_KEYS.filter((k) => wanted(k.name)).map((k) => {
          const r = store.resolve(k.name);
          // Passwords and keys are reported as set or not, never by value (as Kafka does).
          const sensitive = k.type === 'password';
          return {
            name: k.name,
            value: sensitive ? null : r.value,
            readOnly: !k.dynamic,
            source: r.source,
            isSensitive: sensitive,
            synonyms: sensitive ? r.synonyms.map((x) => ({ ...x, value: null })) : r.synonyms,
            type: CONFIG_TYPE_CODES[k.type],
            documentation: k.doc,
          };
        });
        // Listener-prefixed values set at run time (listener.name.<l>.<key>) are listed too, as Kafka does.
        for (const [k, v] of Object.entries(store.layers.dynamicBroker)) {
          const spec = BROKER_KEY_BY_NAME.has(k) ? undefined : listenerPrefixedSpec(k);
          if (!spec || !wanted(k)) continue;
          const sensitive = spec.type === 'password';
          const value = sensitive ? null : v;
          configs.push({
            name: k,
            value,
            readOnly: false,
            source: ConfigSource.DYNAMIC_BROKER,
            isSensitive: sensitive,
            synonyms: [{ name: k, value, source: ConfigSource.DYNAMIC_BROKER }],
            type: CONFIG_TYPE_CODES[spec.type],
            documentation: spec.doc,
          });
        }
        return { ...OK, configs };
      }
      case ResourceType.BROKER_LOGGER:
        brokerLevel(nodeId, name);
        return { ...OK, configs: [] };
      case ResourceType.CLIENT_METRICS: {
        if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Subscription name can\'t be empty');
        const own = cluster.telemetry.subscriptions.overrides(name);
        const configs = CLIENT_METRICS_KEYS.filter((k) => wanted(k.name)).map((k) => {
          const mine = own[k.name];
          const source = mine !== undefined ? ConfigSource.CLIENT_METRICS : ConfigSource.DEFAULT;
          const value = mine ?? k.defaultValue;
          return {
            name: k.name,
            value,
            readOnly: false,
            source,
            isSensitive: false,
            synonyms: mine !== undefined ? [{ name: k.name, value, source }] : [],
            type: CONFIG_TYPE_CODES[k.type],
            documentation: k.doc,
          };
        });
        return { ...OK, configs };
      }
      case ResourceType.GROUP: {
        if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Group name must not be empty');
        const own = cluster.groupConfigs.overrides(name);
        const configs = GROUP_KEYS.filter((k) => wanted(k.name)).map((k) => {
          const mine = own[k.name];
          const value = cluster.groupConfigs.effective(name, k.name);
          const source = mine !== undefined ? ConfigSource.GROUP : ConfigSource.DEFAULT;
          return {
            name: k.name,
            value,
            readOnly: false,
            source,
            isSensitive: false,
            synonyms: [
              ...(mine !== undefined ? [{ name: k.name, value: mine, source: ConfigSource.GROUP }] : []),
              ...(k.brokerDefault ? [{ name: k.brokerDefault, value: cluster.settings.get(k.brokerDefault), source: cluster.settings.resolve(k.brokerDefault).source }] : []),
            ],
            type: CONFIG_TYPE_CODES[k.type],
            documentation: k.doc,
          };
        });
        return { ...OK, configs };
      }
      default:
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${type}`);
    }
  } catch (err) {
    return { ...fail(err), configs: [] };
  }
}

// ---------------------------------------------------------------- alter

function checkDuplicates(names: string[]): void {
  if (new Set(names).size !== names.length) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
}

/** AlterConfigs: the given entries become the resource's complete set of overrides. */
export function alterResource(
  cluster: ClusterState,
  /** The node answering: the broker resource it may describe or change is itself. */
  nodeId: number,
  type: number,
  name: string,
  entries: { name: string; value: string | null }[],
  validateOnly: boolean,
): ResourceResult {
  try {
    checkDuplicates(entries.map((e) => e.name));
    const values: Record<string, string> = {};
    for (const e of entries) {
      if (e.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${e.name}`);
      values[e.name] = e.value.trim();
    }
    applyValues(cluster, nodeId, type, name, values, validateOnly);
    return OK;
  } catch (err) {
    return fail(err);
  }
}

/** IncrementalAlterConfigs: SET, DELETE, APPEND and SUBTRACT on the resource's overrides. */
export function incrementalAlterResource(
  cluster: ClusterState,
  /** The node answering: the broker resource it may describe or change is itself. */
  nodeId: number,
  type: number,
  name: string,
  ops: { name: string; configOperation: number; value: string | null }[],
  validateOnly: boolean,
): ResourceResult {
  try {
    checkDuplicates(ops.map((o) => o.name));
    let current: Record<string, string>;
    let listDefault: (key: string) => string | null;
    let isList: (key: string) => boolean;
    if (type === ResourceType.TOPIC) {
      const topic = findTopic(cluster, name);
      current = { ...topic.configs };
      isList = (k) => TOPIC_CONFIG_BY_NAME.get(k)?.type === 'list';
      listDefault = (k) => TOPIC_CONFIG_BY_NAME.get(k)?.defaultValue ?? null;
    } else if (type === ResourceType.CLIENT_METRICS) {
      current = cluster.telemetry.subscriptions.overrides(name);
      isList = (k) => CLIENT_METRICS_KEY_BY_NAME.get(k)?.type === 'list';
      listDefault = () => null;
    } else if (type === ResourceType.GROUP) {
      current = cluster.groupConfigs.overrides(name);
      isList = () => false;
      listDefault = () => null;
    } else if (type === ResourceType.BROKER) {
      const perBroker = brokerLevel(nodeId, name);
      current = cluster.settings.dynamicValues(perBroker);
      isList = (k) => BROKER_KEY_BY_NAME.get(k)?.type === 'list';
      listDefault = (k) => cluster.settings.get(k);
    } else {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${type}`);
    }
    for (const op of ops) {
      switch (op.configOperation) {
        case AlterOp.SET:
          if (op.value === null) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${op.name}`);
          current[op.name] = op.value.trim();
          break;
        case AlterOp.DELETE:
          delete current[op.name];
          break;
        case AlterOp.APPEND:
        case AlterOp.SUBTRACT: {
          const verb = op.configOperation === AlterOp.APPEND ? 'append' : 'subtract';
          if (!isList(op.name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Config value ${verb} is not allowed for config key: ${op.name}`);
          const old = splitList(current[op.name] ?? listDefault(op.name) ?? '');
          const given = splitList(op.value ?? '');
          const next = verb === 'append' ? [...old, ...given.filter((v) => !old.includes(v))] : old.filter((v) => !given.includes(v));
          current[op.name] = next.join(',');
          break;
        }
        default:
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown alter configs operation type ${op.configOperation}`);
      }
    }
    // Every name touched must be a known one, even when it is deleted.
    if (type === ResourceType.TOPIC) {
      for (const op of ops) if (!TOPIC_CONFIG_BY_NAME.has(op.name)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown topic config name: ${op.name}`);
    }
    applyValues(cluster, nodeId, type, name, current, validateOnly);
    return OK;
  } catch (err) {
    return fail(err);
  }
}

function applyValues(cluster: ClusterState, nodeId: number, type: number, name: string, values: Record<string, string>, validateOnly: boolean): void {
  switch (type) {
    case ResourceType.TOPIC:
      cluster.topics.setConfigs(findTopic(cluster, name), values, validateOnly);
      return;
    case ResourceType.BROKER: {
      const perBroker = brokerLevel(nodeId, name);
      cluster.settings.replace(perBroker, values, validateOnly);
      if (!validateOnly) {
        cluster.topics.reconfigureAll();
        cluster.maintenance.settingsChanged();
      }
      return;
    }
    case ResourceType.GROUP:
      cluster.groupConfigs.replace(name, values, validateOnly);
      return;
    case ResourceType.CLIENT_METRICS:
      cluster.telemetry.subscriptions.replace(name, values, validateOnly);
      return;
    case ResourceType.BROKER_LOGGER:
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Changing broker log levels is not supported; use --log-level');
    default:
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type ${type}`);
  }
}
