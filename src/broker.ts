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
import type { HttpServer } from './http/server';

export class Broker {
  readonly cluster: ClusterState;
  readonly node: BrokerNode;
  /** The console / metrics / health HTTP server (src/http/), when on. */
  http: HttpServer | null = null;
  /** When listen() finished (the console's uptime). */
  startedAt = Date.now();

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
    const httpPort = this.config.httpPort ?? null;
    // Loaded only when on: a broker without the HTTP server does not pay for prom-client.
    if (httpPort !== null) this.cluster.metrics = new (await import('./http/metrics')).BrokerMetrics(this);
    await this.node.listen();
    try {
      if (httpPort !== null) this.http = await (await import('./http/server')).startHttpServer(this, this.config.httpHost || this.config.host, httpPort);
    } catch (err) {
      await this.node.stop();
      throw err;
    }
    this.startedAt = Date.now();
    this.cluster.start();
  }

  /**
   * Stops the broker: the HTTP server, new connections, the background jobs, then storage
   * (every partition log flushed and marked clean). With `drainMs` (samsa serve on SIGTERM),
   * connections first finish the requests they already received, for at most that long;
   * parked long-poll fetches answer at once.
   */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    const http = this.http;
    this.http = null;
    await http?.close();
    const stopped = this.node.stop(options.drainMs ?? 0);
    await this.cluster.stopJobs();
    await stopped;
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
  try {
    await broker.listen();
  } catch (err) {
    // A port in use, say: free the data dir (its lock) and the storage before reporting it.
    await broker.close().catch(() => undefined);
    throw err;
  }
  return broker;
}
