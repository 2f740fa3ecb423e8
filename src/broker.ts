/**
 * A broker as users start it: one node (src/server/broker-node.ts) over one cluster state
 * (src/cluster/cluster-state.ts). `startBroker()` runs one in-process (tests, embedding);
 * the CLI's `serve` uses it too.
 */
import { BrokerConfig, DEFAULT_CONFIG } from './config';
import { createLogger, Logger } from './logging';
import { ClusterState } from './cluster/cluster-state';
import { BrokerNode } from './server/broker-node';
import type { ListenerSpec } from './server/listeners';
import type { Security } from './security/security';

export class Broker {
  readonly cluster: ClusterState;
  readonly node: BrokerNode;

  constructor(config: BrokerConfig, log: Logger) {
    this.cluster = new ClusterState(config, log);
    this.node = new BrokerNode(this.cluster.config.nodeId, this.cluster, this.cluster.security.listeners);
  }

  get config(): BrokerConfig {
    return this.cluster.config;
  }

  get clusterId(): string {
    return this.cluster.clusterId;
  }

  get security(): Security {
    return this.cluster.security;
  }

  /** The port actually bound by the first listener (differs from config.port when that was 0). */
  get port(): number {
    return this.node.port;
  }

  /** Every listener with the port it bound. */
  get boundListeners(): (ListenerSpec & { boundPort: number })[] {
    return this.node.boundListeners;
  }

  async listen(): Promise<void> {
    await this.node.listen();
    this.cluster.start();
  }

  async close(): Promise<void> {
    await this.cluster.stopJobs();
    await this.node.stop();
    this.cluster.close();
  }
}

export interface StartOptions extends Partial<BrokerConfig> {
  logger?: Logger;
}

/** Starts a broker and resolves once it accepts connections. `port: 0` picks a free port. */
export async function startBroker(options: StartOptions = {}): Promise<Broker> {
  const { logger, ...rest } = options;
  const config: BrokerConfig = { ...DEFAULT_CONFIG, ...rest };
  const broker = new Broker(config, logger ?? createLogger());
  await broker.listen();
  return broker;
}
