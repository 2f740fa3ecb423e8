/**
 * AlterReplicaLogDirs (key 34), v1-2. Samsa has one data directory: moving a partition to
 * it succeeds at once (it is already there); any other path is LOG_DIR_NOT_FOUND, and a
 * partition this broker does not have is UNKNOWN_TOPIC_OR_PARTITION.
 * With the authorizer on, ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED per
 * partition).
 */
import * as path from 'path';
import {
  AlterReplicaLogDirsApi,
  AlterReplicaLogDirsRequest,
  AlterReplicaLogDirsResponse,
  AlterReplicaLogDirsResponseResults,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const alterReplicaLogDirsHandler: Handler<AlterReplicaLogDirsRequest, Encodable<AlterReplicaLogDirsResponse>> = {
  apiKey: AlterReplicaLogDirsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, AlterReplicaLogDirsApi.minVersion),
  maxVersion: AlterReplicaLogDirsApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    const ours = path.resolve(cluster.config.dataDir);
    const allowed = clusterAllowed(ctx, AclOperation.ALTER);
    const byTopic = new Map<string, Encodable<AlterReplicaLogDirsResponseResults>>();
    for (const dir of req.dirs) {
      const known = path.resolve(dir.path) === ours;
      for (const t of dir.topics) {
        let result = byTopic.get(t.name);
        if (!result) byTopic.set(t.name, (result = { topicName: t.name, partitions: [] }));
        for (const index of t.partitions) {
          const errorCode = !allowed
            ? ErrorCode.CLUSTER_AUTHORIZATION_FAILED
            : !known
            ? ErrorCode.LOG_DIR_NOT_FOUND
            : cluster.topics.partition(t.name, index)
              ? ErrorCode.NONE
              : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          (result.partitions as { partitionIndex: number; errorCode: number }[]).push({ partitionIndex: index, errorCode });
        }
      }
    }
    return { throttleTimeMs: 0, results: [...byTopic.values()] };
  },
};
