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
import type { AdminRoutes, HttpServer } from './http/server';
import type { FaultSpec } from './faults/fault-spec';
import type { FaultControls, FaultListing, FaultRule } from './faults/fault-engine';

export class Broker implements FaultControls {
  readonly cluster: ClusterState;
  readonly node: BrokerNode;
  /** The console / metrics / health HTTP server (src/http/), when on. */
  http: HttpServer | null = null;
  /** When listen() finished (the console's uptime). */
  startedAt = Date.now();

  /** Extra JSON routes of the HTTP server under /admin/ (the simulated cluster's, src/http/cluster-admin-api.ts). */
  readonly adminRoutes: AdminRoutes[] = [];
  /** The nodes this Broker opened: itself, or every node of a simulated cluster. */
  private servedNodes: BrokerNode[];

  /** `shared`: a node of a simulated cluster (src/cluster/simulated-cluster.ts) instead of a new one-node cluster. */
  constructor(config: BrokerConfig, log: Logger, shared?: { cluster: ClusterState; node: BrokerNode }) {
    this.cluster = shared?.cluster ?? new ClusterState(config, log);
    this.node = shared?.node ?? new BrokerNode(this.cluster.config.nodeId, this.cluster, this.cluster.security.listeners);
    this.servedNodes = [this.node];
  }

  get config(): BrokerConfig {
    return this.cluster.config;
  }

  /** The cluster state (same name as on a simulated Cluster). */
  get state(): ClusterState {
    return this.cluster;
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

  // ---- fault injection (src/faults/; the engine is shared by every node of the cluster state) ----

  /** Adds a fault rule (see FaultSpec); returns it with its id. Throws FaultSpecError on a bad spec. */
  injectFault(spec: FaultSpec): FaultRule {
    return this.cluster.faults.inject(spec);
  }

  /** Rules with their remaining counts and hits, and brokers with latency or a pause. */
  listFaults(): FaultListing {
    return this.cluster.faults.list();
  }

  /** Removes one rule (false if unknown), or without an id every rule, latency and pause. */
  clearFaults(id?: number): boolean {
    return this.cluster.faults.clear(id);
  }

  /** Delays every request of broker `nodeId` by `ms` (0 removes it). */
  setBrokerLatency(nodeId: number, ms: number): void {
    this.cluster.faults.setLatency(nodeId, ms);
  }

  /** The broker keeps accepting connections and reading requests but answers nothing until resumed. */
  pauseBroker(nodeId: number): void {
    this.cluster.faults.pause(nodeId);
  }

  resumeBroker(nodeId: number): void {
    this.cluster.faults.resume(nodeId);
  }

  async listen(): Promise<void> {
    await this.listenWith([this.node]);
  }

  /** Opens `nodes` (this one, or every node of a simulated cluster), then the HTTP server. */
  /** Whether clients can connect: this node listens (in a simulated cluster, any node does). */
  get listening(): boolean {
    return this.servedNodes.some((n) => n.listening);
  }

  async listenWith(nodes: BrokerNode[]): Promise<void> {
    this.servedNodes = nodes;
    const httpPort = this.config.httpPort ?? null;
    // Loaded only when on: a broker without the HTTP server does not pay for prom-client.
    if (httpPort !== null) this.cluster.metrics = new (await import('./http/metrics')).BrokerMetrics(this);
    const opened: BrokerNode[] = [];
    try {
      for (const n of nodes) {
        await n.listen();
        opened.push(n);
      }
      if (httpPort !== null) {
        // prom-client loads here, once clients can connect, not before the Kafka listeners open.
        void this.cluster.metrics?.registry;
        this.http = await (await import('./http/server')).startHttpServer(this, this.config.httpHost || this.config.host, httpPort);
      }
    } catch (err) {
      for (const n of opened) await n.stop();
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
    await this.closeWith([this.node], options);
  }

  /** Stops the HTTP server, the jobs, `nodes` (draining as close() says), then closes the storage. */
  async closeWith(nodes: BrokerNode[], options: { drainMs?: number } = {}): Promise<void> {
    const http = this.http;
    this.http = null;
    await http?.close();
    const stopped = Promise.all(nodes.map((n) => n.stop(options.drainMs ?? 0)));
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
