/**
 * A simulated Kafka cluster in one process: N broker nodes, each with its own node id and
 * listeners, over one ClusterState (one data dir, one storage, shared coordinators). Nodes
 * can be stopped and started at run time and partition leaders moved, so that clients meet
 * leader changes, NOT_LEADER_OR_FOLLOWER, coordinator moves and brokers going away against the
 * real protocol. Replicas, ISR and leaders follow src/cluster/partition-leadership.ts.
 *
 * `startCluster({ brokers: 3 })` runs one in-process; `samsa serve --brokers 3` uses it too.
 * Node ids are consecutive from `nodeId` (or `nodeIds`), ports consecutive from `port`
 * (or `ports`; 0 gives each node a free port). Other listeners (SSL...) shift by the node's
 * position the same way. One HTTP server serves the whole cluster (console, metrics,
 * /admin/ routes of src/http/cluster-admin-api.ts).
 */
import { BrokerConfig, DEFAULT_CONFIG } from '../config';
import { createLogger, Logger } from '../logging';
import { ClusterState } from './cluster-state';
import { BrokerNode } from '../server/broker-node';
import { Broker, StartOptions } from '../broker';
import type { ListenerSpec } from '../server/listeners';
import type { HttpServer } from '../http/server';
import { ErrorCode, KafkaError } from '../protocol/errors';
import type { ElectionResult } from './partition-leadership';
import type { Partition } from './topic-manager';
import type { FaultSpec } from '../faults/fault-spec';
import type { FaultControls, FaultListing, FaultRule } from '../faults/fault-engine';

export interface ClusterOptions extends StartOptions {
  /** Number of broker nodes (default 3). */
  brokers?: number;
  /** Node ids, one per broker (default: consecutive from nodeId). */
  nodeIds?: number[];
  /** First listener's port per broker (default: consecutive from port, or each a free port when port is 0). */
  ports?: number[];
}

export interface BrokerInfo {
  id: number;
  host: string;
  port: number;
  /** Every listener with the port it bound. */
  listeners: { name: string; host: string; port: number }[];
  up: boolean;
  /** Partitions it leads. */
  leaderOf: number;
}

export class Cluster implements FaultControls {
  readonly state: ClusterState;
  readonly nodes: BrokerNode[];
  /** The first node as a Broker (its HTTP server is the cluster's). */
  private readonly facade: Broker;
  private readonly stopped = new Set<number>();
  private rebalanceTimer: NodeJS.Timeout | null = null;

  constructor(config: BrokerConfig, log: Logger, nodeIds: number[], ports: number[]) {
    this.state = new ClusterState(config, log, nodeIds);
    const base = this.state.security.listeners;
    this.nodes = nodeIds.map((id, i) => new BrokerNode(id, this.state, base.map((l) => nodeListener(l, i, ports[i]))));
    this.facade = new Broker(config, log, { cluster: this.state, node: this.nodes[0] });
  }

  get config(): BrokerConfig {
    return this.state.config;
  }

  get clusterId(): string {
    return this.state.clusterId;
  }

  get http(): HttpServer | null {
    return this.facade.http;
  }

  /** The Broker facade the HTTP server and metrics see (the first node); admin route modules attach here. */
  get broker(): Broker {
    return this.facade;
  }

  /** host:port of every node's first listener, for clients' bootstrap.servers. */
  get bootstrapServers(): string {
    return this.nodes.map((n) => `${n.listeners[0].host || '127.0.0.1'}:${n.port}`).join(',');
  }

  async listen(): Promise<void> {
    await this.facade.listenWith(this.nodes);
    if (this.state.settings.get('auto.leader.rebalance.enable') !== 'false') {
      const ms = this.state.settings.number('leader.imbalance.check.interval.seconds', 300) * 1000;
      this.rebalanceTimer = setInterval(() => this.rebalanceIfImbalanced(), ms);
      this.rebalanceTimer.unref();
    }
  }

  /**
   * auto.leader.rebalance.enable, as Kafka's controller: a broker that is up and leads less than
   * (100 - leader.imbalance.per.broker.percentage)% of the partitions that prefer it gets them back.
   */
  rebalanceIfImbalanced(): number {
    const threshold = this.state.settings.number('leader.imbalance.per.broker.percentage', 10) / 100;
    const leadership = this.state.leadership;
    const byPreferred = new Map<number, { total: number; away: Partition[] }>();
    for (const t of this.state.topics.list()) {
      for (const p of t.partitions) {
        const e = byPreferred.get(p.replicas[0]) ?? { total: 0, away: [] };
        e.total++;
        if (p.leader !== p.replicas[0]) e.away.push(p);
        byPreferred.set(p.replicas[0], e);
      }
    }
    let moved = 0;
    for (const [node, e] of byPreferred) {
      if (!leadership.live.has(node) || e.away.length / e.total <= threshold) continue;
      for (const p of e.away) if (leadership.elect(p, 0, false).errorCode === ErrorCode.NONE) moved++;
    }
    if (moved > 0) {
      leadership.persist();
      this.state.waiters.wakeAll();
      this.state.log.info('leader rebalance', { moved });
    }
    return moved;
  }

  node(id: number): BrokerNode {
    const n = this.nodes.find((x) => x.id === id);
    if (!n) throw new KafkaError(ErrorCode.BROKER_NOT_AVAILABLE, `No broker ${id} in this cluster (brokers ${this.nodes.map((x) => x.id).join(', ')})`);
    return n;
  }

  /** Every node, up or not, with its endpoints and how many partitions it leads. */
  brokers(): BrokerInfo[] {
    const leads = new Map<number, number>();
    for (const t of this.state.topics.list()) for (const p of t.partitions) leads.set(p.leader, (leads.get(p.leader) ?? 0) + 1);
    return this.nodes.map((n) => ({
      id: n.id,
      host: n.listeners[0].host || '127.0.0.1',
      port: n.port,
      listeners: n.boundListeners.map((l) => ({ name: l.name, host: l.host, port: l.boundPort })),
      up: !this.stopped.has(n.id),
      leaderOf: leads.get(n.id) ?? 0,
    }));
  }

  /**
   * Stops a node as a crash would look to clients: leadership of its partitions (and so the
   * coordinators) moves to the next in-sync replica with an epoch bump, it leaves every ISR,
   * then its listeners close and its connections drop.
   */
  async stopBroker(id: number): Promise<void> {
    const node = this.node(id);
    if (this.stopped.has(id)) return;
    if (this.stopped.size === this.nodes.length - 1) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Broker ${id} is the last one up: stopping it would leave no cluster to talk to`);
    }
    this.stopped.add(id);
    this.state.leadership.nodeStopped(id);
    // Requests the node was holding (paused, delayed) are lost with it, as with a killed process.
    this.state.faults.brokerStopped(id);
    await node.stop();
    // Requests parked on partitions (long-poll fetches) re-check leadership now.
    this.state.waiters.wakeAll();
  }

  /** Starts a stopped node on the same ports; it catches up at once and rejoins the ISRs. Leadership stays where it is. */
  async startBroker(id: number): Promise<void> {
    const node = this.node(id);
    if (!this.stopped.has(id)) return;
    await node.listen();
    this.stopped.delete(id);
    this.state.leadership.nodeStarted(id);
  }

  isUp(id: number): boolean {
    return !this.stopped.has(id) && this.nodes.some((n) => n.id === id);
  }

  /** Moves a partition's leadership to `nodeId` (an in-sync replica that is up); the leader epoch advances. */
  movePartitionLeader(topic: string, partition: number, nodeId: number): { leader: number; leaderEpoch: number } {
    const p = this.state.topics.partition(topic, partition);
    if (!p) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `No partition ${topic}-${partition}`);
    this.state.leadership.moveLeader(p, nodeId);
    this.state.waiters.wakeAll();
    return { leader: p.leader, leaderEpoch: p.leaderEpoch };
  }

  /** Preferred leader election of every partition not led by its first replica (what ElectLeaders does for all). */
  electPreferredLeaders(): { topic: string; partition: number; result: ElectionResult }[] {
    const out = this.state.leadership.imbalanced().map((p) => ({ topic: p.topic.name, partition: p.index, result: this.state.leadership.elect(p, 0, false) }));
    this.state.leadership.persist();
    this.state.waiters.wakeAll();
    return out;
  }

  // Fault injection (src/faults), the same controls as a single Broker's.
  injectFault(spec: FaultSpec): FaultRule {
    return this.state.faults.inject(spec);
  }

  listFaults(): FaultListing {
    return this.state.faults.list();
  }

  clearFaults(id?: number): boolean {
    return this.state.faults.clear(id);
  }

  setBrokerLatency(nodeId: number, ms: number): void {
    this.state.faults.setLatency(nodeId, ms);
  }

  pauseBroker(nodeId: number): void {
    this.state.faults.pause(nodeId);
  }

  resumeBroker(nodeId: number): void {
    this.state.faults.resume(nodeId);
  }

  /** Stops every node (draining their connections for `drainMs`, as Broker.close does) and the storage. */
  async close(options: { drainMs?: number } = {}): Promise<void> {
    if (this.rebalanceTimer) clearInterval(this.rebalanceTimer);
    await this.facade.closeWith(this.nodes, options);
  }
}

/** Node `index`'s copy of a listener: its own port (listed, or shifted from a fixed one). */
function nodeListener(l: ListenerSpec, index: number, listedPort: number | undefined): ListenerSpec {
  const first = index === 0;
  const shift = (port: number) => (port === 0 ? 0 : port + index);
  return {
    ...l,
    port: listedPort ?? (first ? l.port : shift(l.port)),
    advertisedPort: first || l.advertisedPort === null ? l.advertisedPort : shift(l.advertisedPort),
  };
}

/** Starts a simulated cluster and resolves once every node accepts connections. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const { logger, brokers, nodeIds, ports, ...rest } = options;
  const config: BrokerConfig = { ...DEFAULT_CONFIG, ...rest };
  const count = nodeIds?.length ?? ports?.length ?? brokers ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`brokers must be a positive integer, got ${count}`);
  const ids = nodeIds ?? Array.from({ length: count }, (_, i) => config.nodeId + i);
  if (new Set(ids).size !== ids.length) throw new Error(`node ids must differ: ${ids.join(',')}`);
  if (ports && ports.length !== count) throw new Error(`${ports.length} ports given for ${count} brokers`);
  const listed = ports ?? Array.from({ length: count }, (_, i) => (config.port === 0 ? 0 : config.port + i));
  const cluster = new Cluster({ ...config, nodeId: ids[0], port: listed[0] }, logger ?? createLogger(), ids, listed);
  try {
    await cluster.listen();
  } catch (err) {
    await cluster.close().catch(() => undefined);
    throw err;
  }
  const { clusterAdminRoutes } = await import('../http/cluster-admin-api');
  cluster.broker.adminRoutes.push(clusterAdminRoutes(cluster));
  return cluster;
}
