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
};
