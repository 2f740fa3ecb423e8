/**
 * FindCoordinator (key 10), v0-6.
 * A key's coordinator is the leader of the __consumer_offsets / __transaction_state partition
 * it hashes to (src/cluster/coordinator-placement.ts); COORDINATOR_NOT_AVAILABLE while that
 * partition has no leader. One node coordinates everything. v0 asks for a group; v1-3 add the key type (0 group, 1 transaction);
 * v4+ batch keys. A group lookup creates __consumer_offsets if it does not exist yet, as
 * Kafka does. Differences from Kafka: share-group keys (type 2) are answered
 * INVALID_REQUEST, since Samsa has no share groups; there are no ACLs, so no
 * authorization errors.
 * With the authorizer on: DESCRIBE on the group (else GROUP_AUTHORIZATION_FAILED) or
 * transactional id (else TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
 */
import {
  FindCoordinatorApi,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  FindCoordinatorResponseCoordinators,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler, RequestContext } from '../server/handler-registry';
import { ensureOffsetsTopic } from '../coordinator/group';
import { coordinatorPartition } from '../cluster/coordinator-placement';
import { AclOperation, ResourceType } from '../security/acl/acl-types';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

function lookup(ctx: RequestContext, key: string, keyType: number): Encodable<FindCoordinatorResponseCoordinators> {
  const { cluster } = ctx;
  if (keyType !== KEY_TYPE_GROUP && keyType !== KEY_TYPE_TRANSACTION) {
    return {
      key,
      nodeId: -1,
      host: '',
      port: -1,
      errorCode: ErrorCode.INVALID_REQUEST,
      errorMessage: `Unsupported key type ${keyType}`,
    };
  }
  // DESCRIBE on the group or transactional id: knowing the coordinator is knowing it exists.
  if (ctx.cluster.acls.enabled) {
    const group = keyType === KEY_TYPE_GROUP;
    if (!ctx.cluster.acls.authorize(ctx.connection, AclOperation.DESCRIBE, group ? ResourceType.GROUP : ResourceType.TRANSACTIONAL_ID, key)) {
      const errorCode = group ? ErrorCode.GROUP_AUTHORIZATION_FAILED : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
      return { key, nodeId: -1, host: '', port: -1, errorCode, errorMessage: null };
    }
  }
  if (keyType === KEY_TYPE_GROUP) {
    try {
      ensureOffsetsTopic(cluster);
    } catch (err) {
      cluster.log.warn('could not create the offsets topic', { error: String(err) });
      return { key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: null };
    }
  }
  const node = cluster.multiNode ? cluster.nodes.get(coordinatorPartition(cluster, keyType === KEY_TYPE_GROUP ? 'group' : 'transaction', key).leader) : ctx.node;
  if (!node) return { key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'The coordinator is not available.' };
  return {
    key,
    nodeId: node.id,
    ...node.advertisedEndpoint(ctx.connection.listenerName),
    errorCode: ErrorCode.NONE,
    errorMessage: null,
  };
}

export const findCoordinatorHandler: Handler<FindCoordinatorRequest, Encodable<FindCoordinatorResponse>> = {
  apiKey: FindCoordinatorApi.key,
  minVersion: FindCoordinatorApi.minVersion,
  maxVersion: FindCoordinatorApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    if (version >= 4) {
      return { throttleTimeMs: 0, coordinators: req.coordinatorKeys.map((k) => lookup(ctx, k, req.keyType)) };
    }
    const c = lookup(ctx, req.key, version >= 1 ? req.keyType : KEY_TYPE_GROUP);
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
    };
  },
};
