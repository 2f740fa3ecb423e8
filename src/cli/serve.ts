/**
 * `samsa serve`: runs a broker in the foreground until SIGINT/SIGTERM. Loaded only for this
 * command, so the client subcommands do not pay for the broker's modules at startup.
 *
 * Settings can also come from a Kafka server.properties file (`--config FILE`, Kafka's key
 * names), KAFKA_* environment variables (named as in the Apache Kafka image, see
 * env-properties.ts) and `--override key=value` (as kafka-server-start.sh takes them).
 * Precedence, lowest first: built-in defaults, the file, the environment, the overrides, flags
 * given on the command line. `--ephemeral` serves from a fresh temporary data dir that is
 * removed at shutdown.
 */
import { startBroker } from '../broker';
import { createLogger, LogLevel } from '../logging';
import { BrokerConfig, parseHttpPort } from '../config';
import { brokerConfigFromProperties, kafkaKeyForField, parseProperties, readPropertiesFile } from '../cluster/broker-config';
import { propertiesFromEnv } from './env-properties';
import { commandLine } from './serve-options';
import { makeEphemeralDataDir, removeEphemeralDataDir } from '../ephemeral';

/**
 * SIGTERM/SIGINT: stop accepting, let connections answer the requests they already received
 * (at most SHUTDOWN_DRAIN_MS), flush and mark every log clean, exit 0. SHUTDOWN_LIMIT_MS
 * bounds the whole shutdown (exit 1 past it).
 */
const SHUTDOWN_DRAIN_MS = 5_000;
const SHUTDOWN_LIMIT_MS = 30_000;

export async function serve(argv: {
  host: string;
  port: number;
  'data-dir': string;
  'advertised-host'?: string;
  'advertised-port'?: number;
  'node-id': number;
  brokers?: number;
  'broker-ports'?: string;
  'cluster-id'?: string;
  'max-request-bytes': number;
  'auto-create-topics': boolean;
  'num-partitions': number;
  'log-level': string;
  'group-initial-rebalance-delay-ms': number;
  'group-min-session-timeout-ms': number;
  'group-max-session-timeout-ms': number;
  'offsets-topic-num-partitions': number;
  'offsets-retention-minutes': number;
  'group-consumer-session-timeout-ms': number;
  'group-consumer-heartbeat-interval-ms': number;
  config?: string;
  override?: string[];
  'tls-dev': boolean;
  'tls-dev-port': number;
  'add-scram'?: string[];
  'kafka-defaults': boolean;
  'http-host'?: string;
  'http-port': string;
  ephemeral?: boolean;
  'max-connections'?: number;
  'max-connections-per-ip'?: number;
  'connections-max-idle-ms'?: number;
}): Promise<void> {
  const started = process.hrtime.bigint();
  const logger = createLogger(argv['log-level'] as LogLevel);
  const explicit = explicitFlags(commandLine());
  if (argv.ephemeral && explicit.has('data-dir')) throw new Error('--ephemeral makes its own data dir: give --ephemeral or --data-dir, not both');
  const ephemeralDir = argv.ephemeral ? makeEphemeralDataDir() : null;
  if (ephemeralDir) explicit.add('data-dir'); // wins over log.dirs from a file or the environment
  const fromFlags: Partial<BrokerConfig> = {
    host: argv.host,
    port: argv.port,
    dataDir: ephemeralDir ?? argv['data-dir'],
    advertisedHost: argv['advertised-host'] ?? '',
    advertisedPort: argv['advertised-port'] ?? null,
    nodeId: argv['node-id'],
    clusterId: argv['cluster-id'] ?? null,
    maxRequestBytes: argv['max-request-bytes'],
    autoCreateTopics: argv['auto-create-topics'],
    numPartitions: argv['num-partitions'],
    groupInitialRebalanceDelayMs: argv['group-initial-rebalance-delay-ms'],
    groupMinSessionTimeoutMs: argv['group-min-session-timeout-ms'],
    groupMaxSessionTimeoutMs: argv['group-max-session-timeout-ms'],
    offsetsTopicNumPartitions: argv['offsets-topic-num-partitions'],
    offsetsRetentionMinutes: argv['offsets-retention-minutes'],
    groupConsumerSessionTimeoutMs: argv['group-consumer-session-timeout-ms'],
    groupConsumerHeartbeatIntervalMs: argv['group-consumer-heartbeat-interval-ms'],
    tlsDev: argv['tls-dev'],
    tlsDevPort: argv['tls-dev-port'],
    addScram: argv['add-scram'] ?? [],
    httpHost: argv['http-host'] ?? '',
    httpPort: parseHttpPort(argv['http-port']),
  };
  // Flags that only stand for a Kafka key: they win over the file and the overrides.
  const keyFlags: Record<string, number | undefined> = {
    'max.connections': argv['max-connections'],
    'max.connections.per.ip': argv['max-connections-per-ip'],
    'connections.max.idle.ms': argv['connections-max-idle-ms'],
  };
  const overrides = [...(argv.override ?? [])];
  for (const [k, v] of Object.entries(keyFlags)) if (v !== undefined) overrides.push(`${k}=${v}`);
  // Test-only: record fsynced lengths for power-loss simulation (see storage/fsync-journal.ts).
  if (process.env.SAMSA_FSYNC_JOURNAL) (await import('../storage/fsync-journal')).installFsyncJournal(process.env.SAMSA_FSYNC_JOURNAL);
  const ports = argv['broker-ports'] ? parsePorts(argv['broker-ports']) : undefined;
  const count = ports?.length ?? argv.brokers ?? 1;
  let broker: Awaited<ReturnType<typeof startBroker>> | Awaited<ReturnType<typeof import('../cluster/simulated-cluster').startCluster>>;
  let config: Partial<BrokerConfig>;
  try {
    config = mergeSettings(fromFlags, explicit, argv.config, overrides, logger, argv['kafka-defaults']);
    // One broker is exactly today's broker; several are a simulated cluster in this process.
    broker =
      count === 1 && !ports
        ? await startBroker({ ...config, logger })
        : await (await import('../cluster/simulated-cluster')).startCluster({ ...config, logger, brokers: count, ports });
  } catch (err) {
    if (ephemeralDir) removeEphemeralDataDir(ephemeralDir);
    throw err;
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // One line on stdout so scripts and tests know the broker is ready, and on which port(s).
  const node = 'nodes' in broker ? broker.nodes[0] : broker.node;
  const [first, ...more] = node.boundListeners;
  const others = more.map((l) => ` ${l.name}=${l.host}:${l.boundPort}`).join('');
  const ca = broker.state.security.devCaFile ? ` tls-dev-ca=${broker.state.security.devCaFile}` : '';
  const http = broker.http ? ` http=${broker.http.host}:${broker.http.port}` : '';
  const brokers = 'nodes' in broker ? ` brokers=${broker.nodes.map((n) => `${n.id}@${n.listeners[0].host}:${n.port}`).join(',')}` : '';
  process.stdout.write(
    `samsa listening on ${first.host}:${first.boundPort} (${first.name})${others} data-dir=${config.dataDir} cluster-id=${broker.clusterId}${ca} startup-ms=${ms.toFixed(1)}${http}${brokers}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: leave now; the next start recovers the logs as after a crash.
      logger.warn('second signal, exiting without a clean shutdown', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal, drainMs: SHUTDOWN_DRAIN_MS });
    // Whatever happens (a disk that hangs in fsync), the process ends within this bound.
    setTimeout(() => {
      logger.error('shutdown did not finish in time, exiting', { limitMs: SHUTDOWN_LIMIT_MS });
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    broker.close({ drainMs: SHUTDOWN_DRAIN_MS }).then(
      () => {
        if (ephemeralDir) removeEphemeralDataDir(ephemeralDir);
        process.exit(0);
      },
      (err) => {
        logger.error('shutdown failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `--broker-ports 9092,9094,9096`. */
function parsePorts(value: string): number[] {
  const ports = value.split(',').map((x) => Number(x.trim()));
  if (ports.some((p) => !Number.isInteger(p) || p < 0 || p > 65535)) throw new Error(`--broker-ports needs comma-separated ports, got ${value}`);
  return ports;
}

/** `--flag`, `--flag=x` and `--no-flag` names present on the command line. */
function explicitFlags(args: string[]): Set<string> {
  const out = new Set<string>();
  for (const a of args) {
    const m = /^--(?:no-)?([a-z0-9-]+)/.exec(a);
    if (m) out.add(m[1]);
  }
  return out;
}

const kebab = (field: string) => field.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());

/** Flags given on the command line win over the properties file and overrides, which win over flag defaults. */
/**
 * Where Samsa's defaults differ from Kafka's on purpose (fast local tests), with Kafka's
 * value; `--kafka-defaults` restores these unless a flag, the file or an override sets them.
 */
const KAFKA_DEFAULTS: [keyof BrokerConfig, number][] = [
  ['groupInitialRebalanceDelayMs', 3000],
  ['offsetsTopicNumPartitions', 50],
];

function mergeSettings(
  fromFlags: Partial<BrokerConfig>,
  explicit: Set<string>,
  configFile: string | undefined,
  overrides: string[],
  logger: ReturnType<typeof createLogger>,
  kafkaDefaults = false,
): Partial<BrokerConfig> {
  const props: Record<string, string> = configFile ? readPropertiesFile(configFile) : {};
  const fromEnv = propertiesFromEnv(process.env);
  if (Object.keys(fromEnv).length > 0) logger.info('settings from KAFKA_* environment variables', { keys: Object.keys(fromEnv) });
  Object.assign(props, fromEnv);
  for (const o of overrides) {
    if (!o.includes('=')) throw new Error(`--override needs key=value, got ${o}`);
    Object.assign(props, parseProperties(o));
  }
  const fromFile = brokerConfigFromProperties(props, logger) as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...fromFlags };
  for (const [field, value] of Object.entries(fromFile)) {
    if (value !== undefined && !explicit.has(kebab(field))) merged[field] = value;
  }
  // Flags that have a Kafka name count as static broker settings too (DescribeConfigs).
  const brokerProperties = { ...(fromFile.brokerProperties as Record<string, string>) };
  for (const [field, value] of Object.entries(fromFlags)) {
    const name = kafkaKeyForField(field as keyof BrokerConfig);
    if (name && explicit.has(kebab(field)) && value !== undefined && value !== null) brokerProperties[name] = String(value);
  }
  if (kafkaDefaults) {
    for (const [field, value] of KAFKA_DEFAULTS) {
      if (!explicit.has(kebab(field)) && fromFile[field] === undefined) merged[field] = value;
    }
  }
  merged.brokerProperties = brokerProperties;
  return merged as Partial<BrokerConfig>;
}

