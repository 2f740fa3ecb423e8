/**
 * The state a cluster shares, whatever node a request arrives at: topics and their storage,
 * broker settings, producer state, the coordinators, security (credentials, tokens, ACLs)
 * and client quotas. One process may host several nodes over one ClusterState (the
 * simulated cluster); each node (src/server/broker-node.ts) adds its id and listeners.
 *
 * Handlers see this as `ctx.cluster` and what belongs to the node that received the
 * request as `ctx.node` (src/server/handler-registry.ts).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { BrokerConfig } from '../config';
import type { Logger } from '../logging';
import { TopicManager } from './topic-manager';
import { BrokerConfigStore } from './broker-config';
import { LogMaintenance } from './log-maintenance';
import { writeFileAtomic } from '../storage/file-io';
import { ProducerStates } from '../storage/producer-states';
import { PartitionWaiters } from '../server/partition-waiters';
import { TransactionCoordinator, TxnOffsetsParticipant } from '../coordinator/txn/transaction-coordinator';
import { Security, withDevTls } from '../security/security';
import { Authorizer } from '../security/acl/authorizer';
import { ClientQuotaStore } from '../quota/store';
import { QuotaManager } from '../quota/manager';
import { GroupConfigStore } from '../coordinator/group/group-configs';
import type { BrokerMetrics } from '../http/metrics';
import { DataDirLock } from './data-dir-lock';
import { FetchSessionCache } from '../server/fetch-session-cache';
import { ClientTelemetry } from '../telemetry/client-telemetry';
import { ClientMetricsSubscriptions } from '../telemetry/client-metrics-subscriptions';
import { FaultEngine } from '../faults/fault-engine';
import { PartitionLeadership } from './partition-leadership';
import type { NodeView } from '../server/handler-registry';
import { FeatureLevels } from './features';
import { MetadataQuorum } from './metadata-quorum';
import { FdMonitor } from './fd-monitor';

const FLUSH_CHECK_INTERVAL_MS = 1000;

export class ClusterState {
  private readonly closeHooks: (() => void)[] = [];
  readonly config: BrokerConfig;
  readonly topics: TopicManager;
  /** Broker settings in all their layers (static, dynamic); see cluster/broker-config.ts. */
  readonly settings: BrokerConfigStore;
  /** Retention and log cleaner jobs. */
  readonly maintenance: LogMaintenance;
  /** Long-polling fetches and other waits on partitions, woken by appends. */
  readonly waiters = new PartitionWaiters();
  readonly clusterId: string;
  /** Ids of the broker nodes serving this cluster (replica assignments may name only these). */
  readonly nodeIds: Set<number>;
  /** The nodes of this process by id (their endpoints for Metadata, FindCoordinator...). */
  readonly nodes = new Map<number, NodeView>();
  /** Replicas, ISR, leaders and leader epochs; which nodes are up. */
  readonly leadership: PartitionLeadership;
  /** More than one node: coordinator placement is checked (one node coordinates everything). */
  readonly multiNode: boolean;
  /** Idempotent/transactional producer state per partition, loaded on first use. */
  readonly producerStates: ProducerStates;
  readonly txn: TransactionCoordinator;
  /** Listeners, SASL users, SCRAM credentials, delegation tokens. */
  readonly security: Security;
  /** ACLs and the authorizer; `acls.enabled` is false unless authorizer.class.name is set. */
  readonly acls: Authorizer;
  /** Client quotas: the durable settings (quotas.store) and their enforcement. */
  readonly quotas: QuotaManager;
  /** Per-group settings (config resource type GROUP). */
  readonly groupConfigs: GroupConfigStore;
  /** Incremental fetch sessions (KIP-227) of every node, each session tied to its node. */
  readonly fetchSessions: FetchSessionCache;
  /** Client metrics subscriptions (CLIENT_METRICS configs) and what clients push (KIP-714). */
  readonly telemetry: ClientTelemetry;
  /** Injected faults (errors, delays, dropped connections, broker latency and pauses), matched per node id. */
  readonly faults: FaultEngine;
  /** The KRaft quorum clients see: one voter (the controller), its epoch and high watermark. */
  readonly quorum: MetadataQuorum;
  /** Supported and finalized feature levels (ApiVersions, UpdateFeatures). */
  readonly features: FeatureLevels;
  /** Prometheus metrics; null while the HTTP server is off (nothing is counted then). */
  metrics: BrokerMetrics | null = null;
  private txnOffsets: TxnOffsetsParticipant | null = null;
  private readonly lock: DataDirLock;
  private flushTimer: NodeJS.Timeout | null = null;
  private fdMonitor: FdMonitor | null = null;

  constructor(
    config: BrokerConfig,
    readonly log: Logger,
    /** The ids of every node this cluster will run (the simulated cluster passes several). */
    nodeIds: number[] = [config.nodeId],
  ) {
    this.nodeIds = new Set(nodeIds);
    this.multiNode = nodeIds.length > 1;
    fs.mkdirSync(config.dataDir, { recursive: true });
    this.lock = DataDirLock.acquire(config.dataDir);
    try {
      this.config = config = withDevTls(config);
      this.clusterId = loadOrCreateMeta(config);
      this.faults = new FaultEngine(this.nodeIds, log.child({ component: 'faults' }));
      this.quorum = new MetadataQuorum(config.dataDir, config.nodeId);
      this.features = new FeatureLevels(config.dataDir, config.nodeId, () => this.quorum.append());
      this.settings = new BrokerConfigStore(config, log);
      this.leadership = new PartitionLeadership(nodeIds, config.defaultReplicationFactor ?? 1, log.child({ component: 'leadership' }));
      this.topics = new TopicManager(config.dataDir, this.settings.layers, log, this.leadership);
      this.leadership.topics = this.topics;
      this.topics.load();
      this.maintenance = new LogMaintenance(this.topics, this.settings, log.child({ component: 'log-maintenance' }));
      this.producerStates = new ProducerStates(log.child({ component: 'producer-state' }));
      this.txn = new TransactionCoordinator({
        dataDir: config.dataDir,
        topics: this.topics,
        producerStates: this.producerStates,
        waiters: this.waiters,
        log: log.child({ component: 'txn-coordinator' }),
        // Required on first use: it brings in the group coordinator, which most starts never need.
        offsets: () =>
          (this.txnOffsets ??= (require('../coordinator/txn/group-offsets') as typeof import('../coordinator/txn/group-offsets')).groupOffsetsParticipant(this)),
      });
      this.txn.start();
      const settings = this.settings;
      this.fetchSessions = new FetchSessionCache({
        maxSlots: () => settings.number('max.incremental.fetch.session.cache.slots', 1000),
        evictionMs: () => settings.number('min.incremental.fetch.session.eviction.ms', 120000),
      });
      this.telemetry = new ClientTelemetry(new ClientMetricsSubscriptions(config.dataDir), () => settings.number('telemetry.max.bytes', 1048576));
      this.groupConfigs = new GroupConfigStore(config.dataDir, this.settings, log.child({ component: 'group-configs' }));
      this.security = new Security(config, this.settings, log.child({ component: 'security' }));
      this.acls = new Authorizer(config, this.settings, log.child({ component: 'authorizer' }));
      const quotaLog = log.child({ component: 'quotas' });
      this.quotas = new QuotaManager(
        new ClientQuotaStore(config.dataDir, quotaLog),
        {
          samples: this.settings.number('quota.window.num', 11),
          windowMs: this.settings.number('quota.window.size.seconds', 1) * 1000,
        },
        quotaLog,
      );
    } catch (err) {
      // A broker that could not start must not keep its data dir locked.
      this.lock.release();
      throw err;
    }
  }

  /** Starts the background jobs (flush.ms checks, retention, the cleaner) once nodes listen. */
  start(): void {
    // flush.ms is time-based: check it even when no produce arrives (Kafka's log flusher).
    this.flushTimer = setInterval(() => this.topics.maybeFlushAll(), FLUSH_CHECK_INTERVAL_MS);
    this.flushTimer.unref();
    this.maintenance.start();
    this.fdMonitor = new FdMonitor(this.log);
    this.fdMonitor.start();
    // Logs open on first use; the rest open now, a few per turn, so requests are served meanwhile.
    // SAMSA_OPEN_PARTITIONS=lazy leaves them for their first use (tests of the lazy path).
    if (process.env.SAMSA_OPEN_PARTITIONS !== 'lazy') this.topics.openInBackground();
  }

  /** Stops the jobs; wakes waiting requests so that they answer before the logs close. */
  async stopJobs(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    this.fdMonitor?.stop();
    await this.maintenance.stop();
    // Paused nodes would hold their requests (and so the shutdown) forever.
    this.faults.clear();
    this.waiters.wakeAll();
  }

  /**
   * Something created on first use (the share coordinator) to close with the cluster; its
   * module registers this, so the cluster state does not load it up front.
   */
  onClose(fn: () => void): void {
    this.closeHooks.push(fn);
  }

  /** Closes storage and coordinators; call after every node has stopped serving. */
  close(): void {
    for (const fn of this.closeHooks.splice(0)) fn();
    this.txn.close();
    this.security.close();
    this.quotas.close();
    this.producerStates.close();
    this.topics.close();
    this.quorum.close();
    this.lock.release();
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
