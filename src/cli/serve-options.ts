/**
 * The flags of `samsa serve`, in one table: main.ts gives it to yargs (help, validation,
 * every unusual command line), and fastServeArgv reads the plain command lines a broker is
 * started with (`--name value`, `--name=value`, bare booleans) without loading yargs, whose
 * loading and help rendering were a fifth of the time from spawn to listening. The result is
 * what yargs would hand the serve command (test/cli/serve-options.test.ts compares them).
 */
import type { Options } from 'yargs';
import { DEFAULT_CONFIG, DEFAULT_HTTP_PORT } from '../config';

export const SERVE_OPTIONS: Record<string, Options> = {
  host: { type: 'string', default: DEFAULT_CONFIG.host, describe: 'Address to listen on' },
  port: { type: 'number', default: DEFAULT_CONFIG.port, describe: 'TCP port to listen on (0 picks a free one)' },
  'data-dir': { type: 'string', default: DEFAULT_CONFIG.dataDir, describe: 'Folder holding topic data and metadata' },
  ephemeral: {
    type: 'boolean',
    default: false,
    describe: 'Keep data in a new temporary folder (printed at start) that is removed at shutdown, for test runs; not with --data-dir',
  },
  'advertised-host': {
    type: 'string',
    describe: 'Host name clients are told to connect to (default: --host)',
  },
  'advertised-port': { type: 'number', describe: 'Port clients are told to connect to (default: the bound port)' },
  'node-id': { type: 'number', default: DEFAULT_CONFIG.nodeId, describe: 'Broker id reported in metadata (with --brokers: the first of consecutive ids)' },
  brokers: { type: 'number', default: 1, describe: 'Simulate a cluster of this many brokers in this process (one data dir; ports consecutive from --port, or each free with --port 0)' },
  'broker-ports': { type: 'string', describe: 'Comma-separated port of each simulated broker (implies --brokers)' },
  'cluster-id': {
    type: 'string',
    describe: 'Cluster id (default: generated on first start and kept in <data-dir>/meta.properties)',
  },
  'max-request-bytes': {
    type: 'number',
    default: DEFAULT_CONFIG.maxRequestBytes,
    describe: 'Largest request frame accepted; larger ones close the connection (socket.request.max.bytes)',
  },
  'max-connections': {
    type: 'number',
    describe: 'Most open connections (max.connections); over it new connections wait unread, up to socket.listen.backlog.size (50), then are closed',
  },
  'max-connections-per-ip': {
    type: 'number',
    describe: 'Most connections from one address (max.connections.per.ip; exceptions: --override max.connections.per.ip.overrides=host:n,...); over it a new one is closed at once',
  },
  'connections-max-idle-ms': {
    type: 'number',
    describe: 'Close connections idle this long (connections.max.idle.ms, default 600000; -1: never)',
  },
  'auto-create-topics': {
    type: 'boolean',
    default: DEFAULT_CONFIG.autoCreateTopics,
    describe: 'Create unknown topics when a client asks for their metadata (auto.create.topics.enable)',
  },
  'num-partitions': {
    type: 'number',
    default: DEFAULT_CONFIG.numPartitions,
    describe: 'Partition count of auto-created topics and of CreateTopics with -1 (num.partitions)',
  },
  'group-initial-rebalance-delay-ms': {
    type: 'number',
    default: DEFAULT_CONFIG.groupInitialRebalanceDelayMs,
    describe: 'How long a new consumer group waits for more members before its first rebalance (group.initial.rebalance.delay.ms). Samsa defaults to 0 so tests start fast; Kafka to 3000, which lets members that start together join one generation (--kafka-defaults)',
  },
  'group-min-session-timeout-ms': {
    type: 'number',
    default: DEFAULT_CONFIG.groupMinSessionTimeoutMs,
    describe: 'Smallest session timeout a group member may ask for (group.min.session.timeout.ms)',
  },
  'group-max-session-timeout-ms': {
    type: 'number',
    default: DEFAULT_CONFIG.groupMaxSessionTimeoutMs,
    describe: 'Largest session timeout a group member may ask for (group.max.session.timeout.ms)',
  },
  'offsets-topic-num-partitions': {
    type: 'number',
    default: DEFAULT_CONFIG.offsetsTopicNumPartitions,
    describe: 'Partitions of __consumer_offsets when it is created (offsets.topic.num.partitions)',
  },
  'group-consumer-session-timeout-ms': {
    type: 'number',
    default: DEFAULT_CONFIG.groupConsumerSessionTimeoutMs,
    describe: 'Session timeout of KIP-848 consumer group members (group.consumer.session.timeout.ms)',
  },
  'group-consumer-heartbeat-interval-ms': {
    type: 'number',
    default: DEFAULT_CONFIG.groupConsumerHeartbeatIntervalMs,
    describe: 'Heartbeat interval KIP-848 consumer group members are told to use (group.consumer.heartbeat.interval.ms)',
  },
  'offsets-retention-minutes': {
    type: 'number',
    default: DEFAULT_CONFIG.offsetsRetentionMinutes,
    describe: 'Committed offsets of a group without members expire after this (offsets.retention.minutes)',
  },
  config: {
    type: 'string',
    describe: 'A Kafka server.properties file: listeners, advertised.listeners, log.dirs, node.id, num.partitions, log.retention.*, log.segment.bytes, log.cleaner.* ... (unknown keys are logged and ignored)',
  },
  override: {
    type: 'string',
    array: true,
    describe: 'One Kafka-named setting, key=value, over the --config file (repeatable), e.g. --override log.retention.check.interval.ms=1000',
  },
  'kafka-defaults': {
    type: 'boolean',
    default: false,
    describe: "Use Kafka's defaults where Samsa's differ on purpose: group.initial.rebalance.delay.ms 3000 (Samsa 0), offsets.topic.num.partitions 50 (Samsa 10); flags, --config and --override still win",
  },
  'http-host': { type: 'string', describe: 'Address of the HTTP server (console, /metrics, /healthz) (default: --host)' },
  'http-port': {
    type: 'string',
    default: String(DEFAULT_HTTP_PORT),
    describe: 'Port of the HTTP server: the web console at /, Prometheus metrics at /metrics; 0 picks a free port, none turns it off',
  },
  'tls-dev': {
    type: 'boolean',
    default: false,
    describe: 'Create a development CA and a certificate for localhost in <data-dir>/tls-dev (reused later) for TLS listeners without a key store; adds an SSL listener on --tls-dev-port when none is configured. The CA file to trust is printed at start.',
  },
  'tls-dev-port': { type: 'number', default: DEFAULT_CONFIG.tlsDevPort, describe: 'Port of the SSL listener --tls-dev adds' },
  'add-scram': {
    type: 'string',
    array: true,
    describe: "A SCRAM user created at start, as kafka-storage format takes it (repeatable): 'SCRAM-SHA-256=[name=alice,password=alice-secret]'",
  },
  'log-level': {
    type: 'string',
    default: process.env.SAMSA_LOG_LEVEL ?? 'warn',
    choices: ['debug', 'info', 'warn', 'error', 'silent'],
    describe: 'Structured log lines on stderr at this level and above',
  },
};

/** The command line after `node main.js`: what yargs' hideBin gives under Node. */
export function commandLine(): string[] {
  return process.argv.slice(2);
}

/**
 * `samsa serve` flags parsed as yargs would, or null when the command line needs yargs: help,
 * --version, an unknown flag, a repeated one (but for arrays), --no-*, a positional, a value that starts with '-',
 * a number that is not plain digits, a value outside `choices`.
 */
export function fastServeArgv(args: string[]): Record<string, unknown> | null {
  if (args[0] !== 'serve') return null;
  const out: Record<string, unknown> = {};
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) return null;
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = Object.prototype.hasOwnProperty.call(SERVE_OPTIONS, name) ? SERVE_OPTIONS[name] : undefined;
    if (!spec || (name in out && !spec.array)) return null;
    if (spec.type === 'boolean') {
      const value = eq < 0 ? 'true' : arg.slice(eq + 1);
      if (value !== 'true' && value !== 'false') return null;
      out[name] = value === 'true';
      continue;
    }
    // The next word is the value; an array flag takes every following word up to a flag.
    const words = eq < 0 ? [] : [arg.slice(eq + 1)];
    while (i + 1 < args.length && !args[i + 1].startsWith('-') && (spec.array || words.length === 0)) words.push(args[++i]);
    if (words.length === 0 || words.some((w) => w.startsWith('-'))) return null;
    if (spec.type === 'number' && words.some((w) => !/^[0-9]+$/.test(w))) return null;
    const values = spec.type === 'number' ? words.map(Number) : words;
    if (spec.choices && values.some((v) => !(spec.choices as unknown[]).includes(v))) return null;
    out[name] = spec.array ? [...((out[name] as unknown[] | undefined) ?? []), ...values] : values[0];
  }
  for (const [name, spec] of Object.entries(SERVE_OPTIONS)) {
    if (!(name in out) && spec.default !== undefined) out[name] = spec.default;
  }
  return { _: ['serve'], ...out, $0: 'samsa' };
}
