/**
 * A cluster-aware client: bootstraps from host:port pairs, keeps broker metadata, opens one
 * connection per broker on demand, routes partition requests to leaders and group requests
 * to the group's coordinator, refreshing metadata and retrying on "not leader" answers.
 */
import { Connection, ConnectionOptions } from './connection';
import { ClientError, errorLabel, isRetriable } from './errors';

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offline: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  isInternal: boolean;
  errorCode: number;
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicInfo[];
}

export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';

export function parseHostPort(s: string, defaultPort = 9092): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(s.trim());
  if (!m || !m[1]) throw new ClientError(`invalid bootstrap server "${s}": expected host:port`, { hint: 'e.g. --bootstrap-server localhost:9092' });
  return { host: m[1], port: m[2] ? Number(m[2]) : defaultPort };
}

export class KafkaClient {
  private conns = new Map<number, Promise<Connection>>();
  private bootstrapConn: Promise<Connection> | null = null;
  private brokers = new Map<number, BrokerInfo>();
  private leaders = new Map<string, PartitionInfo[]>();
  private coordinators = new Map<string, number>();
  private closed = false;

  constructor(
    readonly bootstrap: string[],
    readonly connectionOptions: ConnectionOptions = {},
  ) {
    if (bootstrap.length === 0) throw new ClientError('no bootstrap server given', { hint: 'use --bootstrap-server host:port' });
  }

  /** Any live connection: the bootstrap one, opened by trying each server in turn. */
  async any(): Promise<Connection> {
    if (!this.bootstrapConn) {
      this.bootstrapConn = (async () => {
        let last: Error | null = null;
        for (const s of this.bootstrap) {
          const { host, port } = parseHostPort(s);
          try {
            return await Connection.open(host, port, this.connectionOptions);
          } catch (err) {
            last = err as Error;
            if (err instanceof ClientError && err.code !== null) throw err; // authentication, not reachability
          }
        }
        throw last!;
      })();
      this.bootstrapConn.catch(() => (this.bootstrapConn = null));
    }
    return this.bootstrapConn;
  }

  /** Connection to broker `nodeId` (by the address metadata gave). */
  async broker(nodeId: number): Promise<Connection> {
    let c = this.conns.get(nodeId);
    if (!c) {
      if (!this.brokers.has(nodeId)) await this.metadata([]);
      const b = this.brokers.get(nodeId);
      if (!b) throw new ClientError(`broker ${nodeId} is not in the cluster metadata`, { code: 5 });
      c = Connection.open(b.host, b.port, this.connectionOptions);
      this.conns.set(nodeId, c);
      c.catch(() => this.conns.delete(nodeId));
    }
    return c;
  }

  /** Metadata for `topics` (null: all topics, []: brokers only). */
  async metadata(topics: string[] | null, allowAutoCreate = false): Promise<ClusterMetadata> {
    const conn = await this.any();
    const res = await conn.request(3, 12, {
      topics: topics === null ? null : topics.map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: allowAutoCreate,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const brokers: BrokerInfo[] = res.brokers.map((b: any) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null }));
    for (const b of brokers) {
      const old = this.brokers.get(b.nodeId);
      if (old && (old.host !== b.host || old.port !== b.port)) this.conns.delete(b.nodeId);
      this.brokers.set(b.nodeId, b);
    }
    const out: TopicInfo[] = res.topics.map((t: any) => ({
      name: t.name,
      topicId: t.topicId ?? ZERO_UUID,
      isInternal: t.isInternal ?? false,
      errorCode: t.errorCode,
      partitions: (t.partitions as any[])
        .map((p) => ({
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch ?? -1,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offline: p.offlineReplicas ?? [],
          errorCode: p.errorCode,
        }))
        .sort((a: PartitionInfo, b: PartitionInfo) => a.partition - b.partition),
    }));
    for (const t of out) if (t.errorCode === 0) this.leaders.set(t.name, t.partitions);
    return { clusterId: res.clusterId ?? null, controllerId: res.controllerId ?? -1, brokers, topics: out };
  }

  /** Partitions of `topic`, from cache or metadata; unknown topics throw with the Kafka code. */
  async partitions(topic: string, refresh = false): Promise<PartitionInfo[]> {
    if (refresh || !this.leaders.has(topic)) {
      const md = await this.metadata([topic]);
      const t = md.topics.find((x) => x.name === topic);
      if (!t || t.errorCode !== 0) {
        const code = t?.errorCode ?? 3;
        throw new ClientError(`topic "${topic}": ${errorLabel(code)}`, { code });
      }
    }
    return this.leaders.get(topic)!;
  }

  async leaderFor(topic: string, partition: number, refresh = false): Promise<number> {
    const p = (await this.partitions(topic, refresh)).find((x) => x.partition === partition);
    if (!p) throw new ClientError(`topic "${topic}" has no partition ${partition}`, { code: 3, hint: 'samsa topics describe shows its partitions' });
    if (p.leader < 0) throw new ClientError(`partition ${topic}-${partition} has no leader`, { code: 5 });
    return p.leader;
  }

  /** Connection to the group (keyType 0) or transaction (1) coordinator of `key`. */
  async coordinator(key: string, keyType = 0, refresh = false): Promise<Connection> {
    let node = refresh ? undefined : this.coordinators.get(`${keyType}:${key}`);
    if (node === undefined) {
      for (let attempt = 0; ; attempt++) {
        const conn = await this.any();
        const v = conn.version(10, 4);
        const res = await conn.request(10, v, { key, keyType, coordinatorKeys: [key] });
        const c = v >= 4 ? res.coordinators[0] : res;
        if (c.errorCode === 0) {
          node = c.nodeId as number;
          this.brokers.set(node, { nodeId: node, host: c.host, port: c.port, rack: null });
          break;
        }
        if (!isRetriable(c.errorCode) || attempt >= 20) throw new ClientError(`FindCoordinator for "${key}": ${errorLabel(c.errorCode)}`, { code: c.errorCode });
        await sleep(200);
      }
      this.coordinators.set(`${keyType}:${key}`, node);
    }
    return this.broker(node);
  }

  /**
   * Sends a request per leader: `build` gets the partitions led by one broker and returns the
   * request body; `errors` pulls [topic, partition, code] out of the response for retries.
   * Partitions answered with a retriable code are re-routed after a metadata refresh.
   */
  async byLeader<P extends { topic: string; partition: number }, R>(
    parts: P[],
    send: (conn: Connection, parts: P[]) => Promise<R>,
    errors: (res: R) => { topic: string; partition: number; errorCode: number }[],
    attempts = 5,
  ): Promise<R[]> {
    const results: R[] = [];
    let todo = parts;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const groups = new Map<number, P[]>();
      for (const p of todo) {
        const leader = await this.leaderFor(p.topic, p.partition, attempt > 0);
        if (!groups.has(leader)) groups.set(leader, []);
        groups.get(leader)!.push(p);
      }
      const retry: P[] = [];
      await Promise.all(
        [...groups].map(async ([leader, ps]) => {
          const res = await send(await this.broker(leader), ps);
          const failed = errors(res).filter((e) => e.errorCode !== 0 && isRetriable(e.errorCode));
          if (failed.length && attempt < attempts - 1) {
            for (const f of failed) retry.push(...ps.filter((p) => p.topic === f.topic && p.partition === f.partition));
          }
          results.push(res);
        }),
      );
      todo = retry;
      if (retry.length) await sleep(100 * (attempt + 1));
    }
    return results;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.conns.values()) c.then((x) => x.close(), () => undefined);
    this.bootstrapConn?.then((x) => x.close(), () => undefined);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
