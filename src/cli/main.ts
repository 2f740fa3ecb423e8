#!/usr/bin/env node
/**
 * The `samsa` command. `samsa serve` runs a broker in the foreground until SIGINT/SIGTERM.
 * Flag names are a contract other tools rely on: --host, --port, --data-dir,
 * --advertised-host, --node-id, --cluster-id.
 *
 * Settings can also come from a Kafka server.properties file (`--config FILE`, Kafka's key
 * names) and `--override key=value` (as kafka-server-start.sh takes them). Precedence, lowest
 * first: built-in defaults, the file, the overrides, flags given on the command line.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { startBroker } from '../broker';
import { createLogger, LogLevel } from '../logging';
import { BrokerConfig, DEFAULT_CONFIG, DEFAULT_HTTP_PORT, parseHttpPort } from '../config';
import { brokerConfigFromProperties, kafkaKeyForField, parseProperties, readPropertiesFile } from '../cluster/broker-config';

async function serve(argv: {
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
  'kafka-defaults': boolean;
  'tls-dev': boolean;
  'tls-dev-port': number;
  'add-scram'?: string[];
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
const KAFKA_DEFAULTS: [keyof BrokerConfig, number, string][] = [
  ['groupInitialRebalanceDelayMs', 3000, 'group.initial.rebalance.delay.ms'],
  ['offsetsTopicNumPartitions', 50, 'offsets.topic.num.partitions'],
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

void yargs(hideBin(process.argv))
  .scriptName('samsa')
  .command(
    'serve',
    'Run a Kafka-compatible broker in the foreground',
    (y) =>
      y
        .option('host', { type: 'string', default: DEFAULT_CONFIG.host, describe: 'Address to listen on' })
        .option('port', { type: 'number', default: DEFAULT_CONFIG.port, describe: 'TCP port to listen on (0 picks a free one)' })
        .option('data-dir', { type: 'string', default: DEFAULT_CONFIG.dataDir, describe: 'Folder holding topic data and metadata' })
        .option('advertised-host', {
          type: 'string',
          describe: 'Host name clients are told to connect to (default: --host)',
        })
        .option('advertised-port', { type: 'number', describe: 'Port clients are told to connect to (default: the bound port)' })
        .option('node-id', { type: 'number', default: DEFAULT_CONFIG.nodeId, describe: 'Broker id reported in metadata' })
        .option('cluster-id', {
          type: 'string',
          describe: 'Cluster id (default: generated on first start and kept in <data-dir>/meta.properties)',
        })
        .option('max-request-bytes', {
          type: 'number',
          default: DEFAULT_CONFIG.maxRequestBytes,
          describe: 'Largest request frame accepted; larger ones close the connection',
        })
        .option('auto-create-topics', {
          type: 'boolean',
          default: DEFAULT_CONFIG.autoCreateTopics,
          describe: 'Create unknown topics when a client asks for their metadata (auto.create.topics.enable)',
        })
        .option('num-partitions', {
          type: 'number',
          default: DEFAULT_CONFIG.numPartitions,
          describe: 'Partition count of auto-created topics and of CreateTopics with -1 (num.partitions)',
        })
        .option('group-initial-rebalance-delay-ms', {
          type: 'number',
          default: DEFAULT_CONFIG.groupInitialRebalanceDelayMs,
          describe: 'How long a new consumer group waits for more members before its first rebalance (group.initial.rebalance.delay.ms). Samsa defaults to 0 so tests start fast; Kafka to 3000, which lets members that start together join one generation (--kafka-defaults)',
        })
        .option('group-min-session-timeout-ms', {
          type: 'number',
          default: DEFAULT_CONFIG.groupMinSessionTimeoutMs,
          describe: 'Smallest session timeout a group member may ask for (group.min.session.timeout.ms)',
        })
        .option('group-max-session-timeout-ms', {
          type: 'number',
          default: DEFAULT_CONFIG.groupMaxSessionTimeoutMs,
          describe: 'Largest session timeout a group member may ask for (group.max.session.timeout.ms)',
        })
        .option('offsets-topic-num-partitions', {
          type: 'number',
          default: DEFAULT_CONFIG.offsetsTopicNumPartitions,
          describe: 'Partitions of __consumer_offsets when it is created (offsets.topic.num.partitions)',
        })
        .option('group-consumer-session-timeout-ms', {
          type: 'number',
          default: DEFAULT_CONFIG.groupConsumerSessionTimeoutMs,
          describe: 'Session timeout of KIP-848 consumer group members (group.consumer.session.timeout.ms)',
        })
        .option('group-consumer-heartbeat-interval-ms', {
          type: 'number',
          default: DEFAULT_CONFIG.groupConsumerHeartbeatIntervalMs,
          describe: 'Heartbeat interval KIP-848 consumer group members are told to use (group.consumer.heartbeat.interval.ms)',
        })
        .option('offsets-retention-minutes', {
          type: 'number',
          default: DEFAULT_CONFIG.offsetsRetentionMinutes,
          describe: 'Committed offsets of a group without members expire after this (offsets.retention.minutes)',
        })
        .option('config', {
          type: 'string',
          describe: 'A Kafka server.properties file: listeners, advertised.listeners, log.dirs, node.id, num.partitions, log.retention.*, log.segment.bytes, log.cleaner.* ... (unknown keys are logged and ignored)',
        })
        .option('override', {
          type: 'string',
          array: true,
          describe: 'One Kafka-named setting, key=value, over the --config file (repeatable), e.g. --override log.retention.check.interval.ms=1000',
        })
        .option('kafka-defaults', {
          type: 'boolean',
          default: false,
          describe: "Use Kafka's defaults where Samsa's differ on purpose: group.initial.rebalance.delay.ms 3000 (Samsa 0), offsets.topic.num.partitions 50 (Samsa 10); flags, --config and --override still win",
        })
        .option('tls-dev', {
          type: 'boolean',
          default: false,
          describe: 'Create a development CA and a certificate for localhost in <data-dir>/tls-dev (reused later) for TLS listeners without a key store; adds an SSL listener on --tls-dev-port when none is configured. The CA file to trust is printed at start.',
        })
        .option('tls-dev-port', { type: 'number', default: DEFAULT_CONFIG.tlsDevPort, describe: 'Port of the SSL listener --tls-dev adds' })
        .option('add-scram', {
          type: 'string',
          array: true,
          describe: "A SCRAM user created at start, as kafka-storage format takes it (repeatable): 'SCRAM-SHA-256=[name=alice,password=alice-secret]'",
        })
        .option('http-host', { type: 'string', describe: 'Address of the HTTP server (console, /metrics, /healthz) (default: --host)' })
        .option('http-port', {
          type: 'string',
          default: String(DEFAULT_HTTP_PORT),
          describe: 'Port of the HTTP server: the web console at /, Prometheus metrics at /metrics; 0 picks a free port, none turns it off',
        })
        .option('log-level', {
          type: 'string',
          default: process.env.SAMSA_LOG_LEVEL ?? 'warn',
          choices: ['debug', 'info', 'warn', 'error', 'silent'],
          describe: 'Structured log lines on stderr at this level and above',
        }),
    (argv) =>
      serve(argv).catch((err) => {
        process.stderr.write(`samsa: ${(err as Error).message}\n`);
        process.exit(1);
      }),
  )
  .demandCommand(1, 'Give a command, e.g. `samsa serve`')
  .strict()
  .help()
  .parse();
