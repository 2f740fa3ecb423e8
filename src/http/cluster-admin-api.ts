/**
 * HTTP admin routes of the simulated cluster (JSON), so tests in any language can script it:
 *   GET  /admin/brokers                              every broker: id, host, port, up, leaderOf
 *   POST /admin/brokers/{id}/stop                    stop a broker (leaders and coordinators move)
 *   POST /admin/brokers/{id}/start                   start it again on the same ports
 *   GET  /admin/partitions/{topic}                   replicas, ISR, leader, epoch per partition
 *   POST /admin/partitions/{topic}/{partition}/leader  {"leader": id}: move that partition's leader
 *   POST /admin/leaders/elect                        preferred leader election of every partition
 * Errors answer {"error", "status"} with 400 (bad input), 404 (unknown broker, topic or
 * partition) or 409 (the change is impossible now, e.g. the new leader is down).
 */
import type { Cluster } from '../cluster/simulated-cluster';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { HttpError } from './console-api';
import type { AdminRoutes } from './server';
import { allow } from './console-api';

export function clusterAdminRoutes(cluster: Cluster): AdminRoutes {
  return async (method, parts, body) => {
    const [a, b, c, d] = parts;
    const n = parts.length;
    if (a === 'brokers') {
      if (n === 1) {
        allow(method, ['GET']);
        return { brokers: cluster.brokers() };
      }
      if (n === 3 && (c === 'stop' || c === 'start')) {
        allow(method, ['POST']);
        const id = nodeIdOf(b);
        await mapped(() => (c === 'stop' ? cluster.stopBroker(id) : cluster.startBroker(id)));
        return { broker: cluster.brokers().find((x) => x.id === id) };
      }
      return undefined;
    }
    if (a === 'partitions') {
      const topic = cluster.state.topics.get(b ?? '');
      if (n >= 2 && !topic) throw new HttpError(404, `No topic ${b}`);
      if (n === 2) {
        allow(method, ['GET']);
        return {
          topic: b,
          partitions: topic!.partitions.map((p) => ({ partition: p.index, leader: p.leader, leaderEpoch: p.leaderEpoch, replicas: p.replicas, isr: p.isr })),
        };
      }
      if (n === 4 && d === 'leader') {
        allow(method, ['POST']);
        const partition = Number(c);
        if (!Number.isInteger(partition) || !topic!.partitions[partition]) throw new HttpError(404, `No partition ${b}-${c}`);
        const leader = (await body()) as { leader?: unknown };
        if (typeof leader.leader !== 'number' || !Number.isInteger(leader.leader)) throw new HttpError(400, 'Body must be {"leader": <node id>}');
        const moved = await mapped(async () => cluster.movePartitionLeader(b, partition, leader.leader as number));
        return { topic: b, partition, ...moved };
      }
      return undefined;
    }
    if (a === 'leaders' && b === 'elect' && n === 2) {
      allow(method, ['POST']);
      const results = cluster.electPreferredLeaders();
      return {
        elected: results.filter((r) => r.result.errorCode === ErrorCode.NONE).map((r) => ({ topic: r.topic, partition: r.partition })),
        failed: results.filter((r) => r.result.errorCode !== ErrorCode.NONE).map((r) => ({ topic: r.topic, partition: r.partition, error: r.result.errorMessage })),
      };
    }
    return undefined;
  };

  function nodeIdOf(s: string | undefined): number {
    const id = Number(s);
    if (s === undefined || s === '' || !Number.isInteger(id)) throw new HttpError(400, `Bad broker id ${s}`);
    if (!cluster.nodes.some((x) => x.id === id)) throw new HttpError(404, `No broker ${id} in this cluster`);
    return id;
  }
}

/** Runs a cluster change, answering its refusals as HTTP errors. */
async function mapped<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (err) {
    if (!(err instanceof KafkaError)) throw err;
    const status = err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION ? 404 : err.code === ErrorCode.INVALID_REPLICA_ASSIGNMENT ? 400 : 409;
    throw new HttpError(status, err.message);
  }
}
