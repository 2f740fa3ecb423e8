/**
 * The broker: configuration, topics, the handler registry and the TCP listener.
 * `startBroker()` runs one in-process (tests, embedding); the CLI's `serve` uses it too.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as tls from 'tls';
import * as path from 'path';
import { BrokerConfig, DEFAULT_CONFIG } from './config';
import { createLogger, Logger } from './logging';
import { HandlerRegistry } from './server/handler-registry';
import { Connection } from './server/connection';
import { TopicManager } from './cluster/topic-manager';
import { writeFileAtomic } from './storage/file-io';
import { BrokerConfigStore } from './cluster/broker-config';
import { LogMaintenance } from './cluster/log-maintenance';
import { PartitionWaiters } from './server/partition-waiters';
import { registerAllHandlers } from './handlers';
import { ProducerStates } from './storage/producer-states';
import { TransactionCoordinator, TxnOffsetsParticipant } from './coordinator/txn/transaction-coordinator';
import { groupOffsetsParticipant } from './coordinator/txn/group-offsets';
import { isTlsProtocol, Security, withDevTls } from './security/security';
import type { ListenerSpec } from './server/listeners';
import { Authorizer } from './security/acl/authorizer';
import type { BrokerMetrics } from './http/metrics';
import type { HttpServer } from './http/server';

const FLUSH_CHECK_INTERVAL_MS = 1000;

export class Broker {
  readonly registry = new HandlerRegistry();
  readonly topics: TopicManager;
  /** Broker settings in all their layers (static, dynamic); see cluster/broker-config.ts. */
  readonly settings: BrokerConfigStore;
  /** Retention and log cleaner jobs. */
  readonly maintenance: LogMaintenance;
  readonly waiters = new PartitionWaiters();
  readonly clusterId: string;
  /** Idempotent/transactional producer state per partition, loaded on first use. */
  readonly producerStates: ProducerStates;
  readonly txn: TransactionCoordinator;
  /** Listeners, SASL users, SCRAM credentials, delegation tokens. */
  readonly security: Security;
  /** ACLs and the authorizer; `acls.enabled` is false unless authorizer.class.name is set. */
  readonly acls: Authorizer;
  private txnOffsets: TxnOffsetsParticipant | null = null;
  private servers: net.Server[] = [];
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  /** Bound port per listener name. */
  private readonly boundPorts = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** Bytes sent by connections already closed (metrics: zero-copy next to copy path). */
  private readonly closedSent = { zeroCopy: 0, copied: 0 };
  /** Prometheus metrics; null while the HTTP server is off (nothing is counted then). */
  metrics: BrokerMetrics | null = null;
  /** The console / metrics / health HTTP server (src/http/), when on. */
  http: HttpServer | null = null;
  /** When listen() finished (the console's uptime). */
  startedAt = Date.now();

  readonly config: BrokerConfig;

  constructor(
    config: BrokerConfig,
    readonly log: Logger,
  ) {
    fs.mkdirSync(config.dataDir, { recursive: true });
    this.config = config = withDevTls(config);
    this.clusterId = loadOrCreateMeta(config);
    this.settings = new BrokerConfigStore(config, log);
    this.topics = new TopicManager(config.dataDir, this.settings.layers, log);
    this.topics.load();
    this.maintenance = new LogMaintenance(this.topics, this.settings, log.child({ component: 'log-maintenance' }));
    this.producerStates = new ProducerStates(log.child({ component: 'producer-state' }));
    this.txn = new TransactionCoordinator({
      dataDir: config.dataDir,
      topics: this.topics,
      producerStates: this.producerStates,
      waiters: this.waiters,
      log: log.child({ component: 'txn-coordinator' }),
      offsets: () => (this.txnOffsets ??= groupOffsetsParticipant(this)),
    });
    this.txn.start();
    this.security = new Security(config, this.settings, log.child({ component: 'security' }));
    this.acls = new Authorizer(config, this.settings, log.child({ component: 'authorizer' }));
    registerAllHandlers(this.registry);
  }

  /** The port actually bound by the first listener (differs from config.port when that was 0). */
  get port(): number {
    return this.boundPorts.get(this.security.listeners[0].name) ?? 0;
  }

  /** Every listener with the port it bound. */
  get boundListeners(): (ListenerSpec & { boundPort: number })[] {
    return this.security.listeners.map((l) => ({ ...l, boundPort: this.boundPorts.get(l.name) ?? 0 }));
  }

  /** Where clients that came in on a listener are told to connect (Metadata, FindCoordinator, DescribeCluster). */
  advertisedEndpoint(listenerName: string): { host: string; port: number } {
    const l = this.security.listeners.find((x) => x.name === listenerName) ?? this.security.listeners[0];
    return { host: l.advertisedHost, port: l.advertisedPort ?? this.boundPorts.get(l.name) ?? 0 };
  }

  async listen(): Promise<void> {
    const httpPort = this.config.httpPort ?? null;
    // Loaded only when on: a broker without the HTTP server does not pay for prom-client.
    if (httpPort !== null) this.metrics = new (await import('./http/metrics')).BrokerMetrics(this);
    try {
      for (const l of this.security.listeners) this.servers.push(await this.listenOn(l));
      if (httpPort !== null) this.http = await (await import('./http/server')).startHttpServer(this, this.config.httpHost || this.config.host, httpPort);
    } catch (err) {
      for (const s of this.servers) s.close();
      this.servers = [];
      throw err;
    }
    this.startedAt = Date.now();
    // flush.ms is time-based: check it even when no produce arrives (Kafka's log flusher).
    this.flushTimer = setInterval(() => this.topics.maybeFlushAll(), FLUSH_CHECK_INTERVAL_MS);
    this.flushTimer.unref();
    this.maintenance.start();
  }

  private listenOn(listener: ListenerSpec): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const accept = (socket: net.Socket) => {
        const conn = new Connection(socket, this, this.nextConnectionId++, listener);
        this.connections.add(conn);
        this.metrics?.connectionAccepted(listener.name);
      };
      let server: net.Server;
      if (isTlsProtocol(listener.securityProtocol)) {
        server = tls.createServer(this.security.tlsOptions(listener.name), accept);
        // A failed handshake (garbage, an untrusted client certificate) only ends that socket.
        server.on('tlsClientError', (err, socket) => {
          this.log.info('TLS handshake failed', { listener: listener.name, remote: socket.remoteAddress, error: err.message });
          socket.destroy();
        });
      } else {
        server = net.createServer(accept);
      }
      server.once('error', reject);
      server.listen(listener.port, listener.host || undefined, () => {
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

  /** Whether the broker is accepting connections (health checks). */
  get listening(): boolean {
    return this.servers.length > 0;
  }

  async close(): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    if (this.flushTimer) clearInterval(this.flushTimer);
    const http = this.http;
    this.http = null;
    await http?.close();
    await this.maintenance.stop();
    for (const c of this.connections) c.destroy();
    this.waiters.wakeAll();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.txn.close();
    this.security.close();
    this.producerStates.close();
    this.topics.close();
  }
}

/** Reads meta.properties (cluster.id, node.id) or writes it on first start. */
function loadOrCreateMeta(config: BrokerConfig): string {
  const file = path.join(config.dataDir, 'meta.properties');
  if (fs.existsSync(file)) {
    const props = Object.fromEntries(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()]),
    );
    const stored = props['cluster.id'];
    if (config.clusterId && stored && config.clusterId !== stored) {
      throw new Error(`data dir ${config.dataDir} belongs to cluster ${stored}, not ${config.clusterId}`);
    }
    if (stored) return stored;
  }
  const clusterId = config.clusterId ?? crypto.randomBytes(16).toString('base64url');
  writeFileAtomic(file, `#Written by samsa\nversion=1\ncluster.id=${clusterId}\nnode.id=${config.nodeId}\n`);
  return clusterId;
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
