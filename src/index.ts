/** Public entry point: run Samsa in-process, e.g. from a Jest or Vitest global setup. */
export { startBroker, Broker, StartOptions } from './broker';
export { startCluster, Cluster, ClusterOptions, BrokerInfo } from './cluster/simulated-cluster';
export { BrokerConfig, DEFAULT_CONFIG } from './config';
export { createLogger, Logger, LogLevel } from './logging';
export { FaultSpec, FaultAction, FaultSpecError } from './faults/fault-spec';
export { FaultRule, FaultListing, FaultControls, BrokerFaultState, UnknownBrokerError } from './faults/fault-engine';
export { startEphemeralBroker } from './ephemeral';
