/**
 * DescribeLogDirs (key 35), v1-4: the one data directory, with the size of every partition
 * asked for that has a replica on the node asked (all when topics is null; unknown topics,
 * partitions and partitions without a replica there are left out, as Kafka does). In a
 * simulated cluster every node reports the same directory (shared storage), each with its
 * own replicas. offset_lag is 0 and is_future_key false: there are no replica moves between
 * directories. v4's total and usable bytes come from statfs of the data directory.
 * With the authorizer on, DESCRIBE on the cluster (else CLUSTER_AUTHORIZATION_FAILED, no
 * results).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  DescribeLogDirsApi,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  DescribeLogDirsResponseResultsTopics,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { Topic } from '../cluster/topic-manager';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const describeLogDirsHandler: Handler<DescribeLogDirsRequest, Encodable<DescribeLogDirsResponse>> = {
  apiKey: DescribeLogDirsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, DescribeLogDirsApi.minVersion),
  maxVersion: DescribeLogDirsApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const wanted: { topic: Topic; partitions: number[] }[] = [];
    if (req.topics === null) {
      for (const t of cluster.topics.list()) wanted.push({ topic: t, partitions: t.partitions.filter((p) => p.replicas.includes(ctx.node.id)).map((p) => p.index) });
    } else {
      for (const r of req.topics) {
        const t = cluster.topics.get(r.topic);
        if (t) wanted.push({ topic: t, partitions: r.partitions.filter((i) => i >= 0 && i < t.partitions.length && t.partitions[i].replicas.includes(ctx.node.id)) });
      }
    }
    const topics: Encodable<DescribeLogDirsResponseResultsTopics>[] = wanted
      .filter((w) => w.partitions.length > 0)
      .map((w) => ({
        name: w.topic.name,
        partitions: w.partitions.map((i) => ({
          partitionIndex: i,
          partitionSize: w.topic.partitions[i].log.size,
          offsetLag: 0,
          isFutureKey: false,
        })),
      }));
    const dir = path.resolve(cluster.config.dataDir);
    let totalBytes = -1;
    let usableBytes = -1;
    try {
      const st = fs.statfsSync(dir);
      totalBytes = st.blocks * st.bsize;
      usableBytes = st.bavail * st.bsize;
    } catch {
      // not available on this platform: -1 as Kafka answers for unknown
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      results: [{ errorCode: ErrorCode.NONE, logDir: dir, topics, totalBytes, usableBytes }],
    };
  },
};
