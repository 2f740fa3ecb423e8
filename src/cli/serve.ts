/**
 * `samsa serve`: runs a broker in the foreground until SIGINT/SIGTERM. Loaded only for this
 * command, so the client subcommands do not pay for the broker's modules at startup.
 *
 * Settings can also come from a Kafka server.properties file (`--config FILE`, Kafka's key
 * names) and `--override key=value` (as kafka-server-start.sh takes them). Precedence, lowest
 * first: built-in defaults, the file, the overrides, flags given on the command line.
 */
import { hideBin } from 'yargs/helpers';
import { startBroker } from '../broker';
import { createLogger, LogLevel } from '../logging';
import { BrokerConfig, parseHttpPort } from '../config';
import { brokerConfigFromProperties, kafkaKeyForField, parseProperties, readPropertiesFile } from '../cluster/broker-config';

export async function serve(argv: {
  host: string;
  port: number;
  'data-dir': string;
  'advertised-host'?: string;
  'advertised-port'?: number;
  'node-id': number;
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
}): Promise<void> {
  const started = process.hrtime.bigint();
  const logger = createLogger(argv['log-level'] as LogLevel);
  const fromFlags: Partial<BrokerConfig> = {
    host: argv.host,
    port: argv.port,
    dataDir: argv['data-dir'],
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
  const config = mergeSettings(fromFlags, argv.config, argv.override ?? [], logger, argv['kafka-defaults']);
  // Test-only: record fsynced lengths for power-loss simulation (see storage/fsync-journal.ts).
  if (process.env.SAMSA_FSYNC_JOURNAL) (await import('../storage/fsync-journal')).installFsyncJournal(process.env.SAMSA_FSYNC_JOURNAL);
  const broker = await startBroker({ ...config, logger });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // One line on stdout so scripts and tests know the broker is ready, and on which port.
  const [first, ...more] = broker.boundListeners;
  const others = more.map((l) => ` ${l.name}=${l.host}:${l.boundPort}`).join('');
  const ca = broker.security.devCaFile ? ` tls-dev-ca=${broker.security.devCaFile}` : '';
  const http = broker.http ? ` http=${broker.http.host}:${broker.http.port}` : '';
  process.stdout.write(
    `samsa listening on ${first.host}:${first.boundPort} (${first.name})${others} data-dir=${config.dataDir} cluster-id=${broker.clusterId}${ca} startup-ms=${ms.toFixed(1)}${http}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    broker.close().then(
      () => process.exit(0),
      (err) => {
        logger.error('shutdown failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
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
  configFile: string | undefined,
  overrides: string[],
  logger: ReturnType<typeof createLogger>,
  kafkaDefaults = false,
): Partial<BrokerConfig> {
  const props: Record<string, string> = configFile ? readPropertiesFile(configFile) : {};
  for (const o of overrides) {
    if (!o.includes('=')) throw new Error(`--override needs key=value, got ${o}`);
    Object.assign(props, parseProperties(o));
  }
  const fromFile = brokerConfigFromProperties(props, logger) as Record<string, unknown>;
  const explicit = explicitFlags(hideBin(process.argv));
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

