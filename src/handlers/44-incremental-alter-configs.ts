/**
 * IncrementalAlterConfigs (key 44), v0-1: SET (0), DELETE (1), APPEND (2) and SUBTRACT (3)
 * on a topic's overrides or on the broker's dynamic values (this node's id, or "" for the
 * cluster-wide default). APPEND/SUBTRACT work on list configs only (INVALID_CONFIG
 * otherwise) starting from the current value or the default; a name given twice in one
 * resource is INVALID_REQUEST. The resulting set is validated as a whole, then persisted
 * and applied unless validate_only.
 * Differences from Kafka: segment.bytes may be as small as 14 bytes (Kafka 4 wants 1 MiB)
 * so that tests can use tiny segments; an unknown broker setting name is INVALID_CONFIG
 * (Kafka stores it); broker loggers cannot be changed (INVALID_REQUEST).
 * With the authorizer on, ALTER_CONFIGS per resource: on the topic
 * (TOPIC_AUTHORIZATION_FAILED), the group (GROUP_AUTHORIZATION_FAILED), else the cluster
 * (CLUSTER_AUTHORIZATION_FAILED).
 */
import { IncrementalAlterConfigsApi, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { incrementalAlterResource } from '../cluster/config-admin';
import { AclOperation } from '../security/acl/acl-types';
import { configResourceRefusal } from './common';
import { ErrorCode, errorName } from '../protocol/errors';

export const incrementalAlterConfigsHandler: Handler<IncrementalAlterConfigsRequest, Encodable<IncrementalAlterConfigsResponse>> = {
  apiKey: IncrementalAlterConfigsApi.key,
  minVersion: IncrementalAlterConfigsApi.minVersion,
  maxVersion: IncrementalAlterConfigsApi.maxVersion,
  handle(ctx, req) {
    const responses = req.resources.map((res) => {
      const refused = configResourceRefusal(ctx, AclOperation.ALTER_CONFIGS, res.resourceType, res.resourceName);
      return {
      ...(refused !== ErrorCode.NONE
        ? { errorCode: refused, errorMessage: errorName(refused) }
        : incrementalAlterResource(ctx.cluster, ctx.node.id, res.resourceType, res.resourceName, res.configs, req.validateOnly)),
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      };
    });
    return { throttleTimeMs: 0, responses };
  },
};
