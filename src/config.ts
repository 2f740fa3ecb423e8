/** Broker configuration: CLI flags map onto this; defaults follow Kafka's where one exists. */
export interface BrokerConfig {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** Host and port clients are told to connect to (Metadata, FindCoordinator). */
  advertisedHost: string;
  advertisedPort: number | null;
  dataDir: string;
  nodeId: number;
  /** Cluster id; generated and persisted in meta.properties when not given. */
  clusterId: string | null;
  maxRequestBytes: number;
  autoCreateTopics: boolean;
  numPartitions: number;
  defaultReplicationFactor: number;
  /** Broker-wide log defaults (Kafka's log.* settings), overridable per topic. */
  logDefaults: Record<string, string>;
  /**
   * Every Kafka-named setting given at start-up (properties file, --override, and flags that
   * have a Kafka name), as strings; see src/cluster/broker-config.ts. DescribeConfigs reports
   * them as static broker configs; retention and cleaner settings are read from here.
   */
  brokerProperties: Record<string, string>;
  /** group.initial.rebalance.delay.ms: how long a new group waits for more members (Kafka: 3000). */
  groupInitialRebalanceDelayMs: number;
  /** group.min.session.timeout.ms / group.max.session.timeout.ms: allowed member session timeouts. */
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  /** offsets.topic.num.partitions, used when __consumer_offsets is created (Kafka: 50). */
  offsetsTopicNumPartitions: number;
  /** offsets.retention.minutes: committed offsets of groups without members expire after this. */
  offsetsRetentionMinutes: number;
  /** group.consumer.session.timeout.ms / group.consumer.heartbeat.interval.ms (KIP-848 groups). */
  groupConsumerSessionTimeoutMs: number;
  groupConsumerHeartbeatIntervalMs: number;
  /**
   * --tls-dev: a development CA and a broker certificate for localhost in <dataDir>/tls-dev,
   * used by TLS listeners that have no key store; adds an SSL listener on tlsDevPort when
   * `listeners` names none.
   */
  tlsDev: boolean;
  tlsDevPort: number;
  /** --add-scram: SCRAM users created at start, in kafka-storage's syntax. */
  addScram: string[];
  /**
   * The console, /metrics and health endpoints (src/http/). null turns the HTTP server off;
   * 0 picks a free port. Off in-process by default (tests run many brokers); the CLI's
   * default is 9644.
   */
  httpPort: number | null;
  /** Address of the HTTP server; '' means the broker's --host. */
  httpHost: string;
}

export const DEFAULT_CONFIG: BrokerConfig = {
  host: '127.0.0.1',
  port: 9092,
  advertisedHost: '',
  advertisedPort: null,
  dataDir: './samsa-data',
  nodeId: 1,
  clusterId: null,
  maxRequestBytes: 100 * 1024 * 1024,
  autoCreateTopics: true,
  numPartitions: 1,
  defaultReplicationFactor: 1,
  logDefaults: {},
  brokerProperties: {},
  groupInitialRebalanceDelayMs: 0,
  groupMinSessionTimeoutMs: 6000,
  groupMaxSessionTimeoutMs: 1_800_000,
  offsetsTopicNumPartitions: 10,
  offsetsRetentionMinutes: 7 * 24 * 60,
  groupConsumerSessionTimeoutMs: 45_000,
  groupConsumerHeartbeatIntervalMs: 5_000,
  tlsDev: false,
  tlsDevPort: 9093,
  addScram: [],
  httpPort: null,
  httpHost: '',
};

/** The CLI's HTTP port when neither --http-port nor samsa.http.port says otherwise. */
export const DEFAULT_HTTP_PORT = 9644;

/** `--http-port` / samsa.http.port: a port number (0 picks a free one) or "none" (off). */
export function parseHttpPort(value: string | number): number | null {
  const v = String(value).trim().toLowerCase();
  if (v === 'none' || v === 'off' || v === 'false') return null;
  const n = Number(v);
  if (v === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`Invalid HTTP port ${value}: expected 0-65535 or none`);
  return n;
}
