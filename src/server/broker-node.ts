/**
 * One broker node of a cluster: its id, its listeners and their connections. The state all
 * nodes share (topics, coordinators, security, quotas) is the ClusterState it is given;
 * what a request needs to know about the node it arrived at goes to handlers as `ctx.node`
 * (a NodeView), so handlers never see the node's sockets.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { ClusterState } from '../cluster/cluster-state';
import type { Logger } from '../logging';
import { isTlsProtocol } from '../security/security';
import { Connection } from './connection';
import { HandlerRegistry, NodeView } from './handler-registry';
import type { ListenerSpec } from './listeners';
import { registerAllHandlers } from '../handlers';
import { ConnectionLimits, RequestMemory } from './connection-limits';

export class BrokerNode implements NodeView {
  readonly registry = new HandlerRegistry();
  readonly log: Logger;
  private servers: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  /** Bound port per listener name. */
  private readonly boundPorts = new Map<string, number>();
  /** Bytes sent by connections already closed (metrics: zero-copy next to copy path). */
  private readonly closedSent = { zeroCopy: 0, copied: 0 };
  /** max.connections, per-ip limits, idle connections, queued.max.request.bytes (connection-limits.ts). */
  readonly limits: ConnectionLimits;

  constructor(
    readonly id: number,
    readonly cluster: ClusterState,
    readonly listeners: ListenerSpec[],
  ) {
    this.log = cluster.log;
    cluster.nodeIds.add(id);
    cluster.nodes.set(id, this);
    registerAllHandlers(this.registry);
    this.limits = new ConnectionLimits(cluster.settings, cluster.log.child({ component: 'connection-limits' }));
  }

  /** The node's queued.max.request.bytes pool, shared by its connections. */
  get requestMemory(): RequestMemory {
    return this.limits.requestMemory;
  }

  /** The port actually bound by the first listener (differs from its configured port when that was 0). */
  get port(): number {
    return this.boundPorts.get(this.listeners[0].name) ?? 0;
  }

  /** Every listener with the port it bound. */
  get boundListeners(): (ListenerSpec & { boundPort: number })[] {
    return this.listeners.map((l) => ({ ...l, boundPort: this.boundPorts.get(l.name) ?? 0 }));
  }

  advertisedEndpoint(listenerName: string): { host: string; port: number } {
    const l = this.listeners.find((x) => x.name === listenerName) ?? this.listeners[0];
    return { host: l.advertisedHost, port: l.advertisedPort ?? this.boundPorts.get(l.name) ?? 0 };
  }

  async listen(): Promise<void> {
    try {
      for (const l of this.listeners) this.servers.push(await this.listenOn(l));
      this.limits.startIdleCheck(() => this.connections);
      this.registry.warmUp();
    } catch (err) {
      for (const s of this.servers) s.close();
      this.servers = [];
      throw err;
    }
  }

  private listenOn(listener: ListenerSpec): Promise<net.Server> {
    const { quotas, security } = this.cluster;
    return new Promise((resolve, reject) => {
      const accept = (socket: net.Socket) => {
        if (quotas.ipActive && quotas.refuseConnection(socket)) return;
        this.limits.admit(socket, listener.name, () => {
          const conn = new Connection(socket, this.cluster, this, this.nextConnectionId++, listener);
          this.connections.add(conn);
          this.cluster.metrics?.connectionAccepted(listener.name);
        });
      };
      let server: net.Server;
      if (isTlsProtocol(listener.securityProtocol)) {
        server = tls.createServer(security.tlsOptions(listener.name), accept);
        // A failed handshake (garbage, an untrusted client certificate) only ends that socket.
        server.on('tlsClientError', (err, socket) => {
          this.log.info('TLS handshake failed', { listener: listener.name, remote: socket.remoteAddress, error: err.message });
          socket.destroy();
        });
      } else {
        server = net.createServer(accept);
      }
      server.once('error', reject);
      // A node started again (simulated cluster) reopens on the ports it bound the first time.
      server.listen(this.boundPorts.get(listener.name) ?? listener.port, listener.host || undefined, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.error('listener error', { listener: listener.name, error: err.message }));
        this.boundPorts.set(listener.name, (server.address() as net.AddressInfo).port);
        resolve(server);
      });
    });
  }

  connectionClosed(conn: Connection): void {
    if (this.connections.delete(conn)) {
      this.closedSent.zeroCopy += conn.zeroCopyBytes;
      this.closedSent.copied += conn.copiedBytes;
      this.limits.released(conn);
    }
  }

  get openConnections(): number {
    return this.connections.size;
  }

  /** Response bytes sent so far, by sendfile(2) and through socket writes, closed connections included. */
  sentBytes(): { zeroCopy: number; copied: number } {
    let { zeroCopy, copied } = this.closedSent;
    for (const c of this.connections) {
      zeroCopy += c.zeroCopyBytes;
      copied += c.copiedBytes;
    }
    return { zeroCopy, copied };
  }

  /** Whether the node is accepting connections (health checks). */
  get listening(): boolean {
    return this.servers.length > 0;
  }

  /**
   * Stops listening and drops every connection. With `drainMs`, connections first stop
   * reading, finish the requests they already received and send those responses (at most
   * that long, then they are dropped anyway): a graceful shutdown.
   */
  async stop(drainMs = 0): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    this.limits.stop();
    this.registry.stopWarmUp();
    const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    if (drainMs > 0 && this.connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)));
      await Promise.race([Promise.all([...this.connections].map((c) => c.drain())), timeout]);
      clearTimeout(timer);
    }
    for (const c of this.connections) c.destroy();
    await closed;
  }
}
