/**
 * AlterConfigs (key 33), v0-2: the configs given become the resource's whole set of
 * overrides (topics), or of dynamic values (broker id or "" for the cluster-wide default).
 * Validation as Kafka's: unknown topic config names and bad values INVALID_CONFIG, settings
 * that cannot change at run time INVALID_REQUEST, unknown topics UNKNOWN_TOPIC_OR_PARTITION.
 * validate_only checks and changes nothing. Changes persist (topics.json,
 * broker-configs.json) and apply to the partition logs at once.
 * Differences from Kafka: segment.bytes may be as small as 14 bytes (Kafka 4 wants 1 MiB)
 * so that tests can use tiny segments; an unknown broker setting name is INVALID_CONFIG
 * (Kafka stores it); broker loggers cannot be changed (INVALID_REQUEST).
 * With the authorizer on, ALTER_CONFIGS per resource: on the topic
 * (TOPIC_AUTHORIZATION_FAILED), the group (GROUP_AUTHORIZATION_FAILED), else the cluster
 * (CLUSTER_AUTHORIZATION_FAILED).
 */
import { AlterConfigsApi, AlterConfigsRequest, AlterConfigsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { alterResource } from '../cluster/config-admin';
import { AclOperation } from '../security/acl/acl-types';
import { configResourceRefusal } from './common';
import { ErrorCode, errorName } from '../protocol/errors';

export const alterConfigsHandler: Handler<AlterConfigsRequest, Encodable<AlterConfigsResponse>> = {
  apiKey: AlterConfigsApi.key,
  minVersion: AlterConfigsApi.minVersion,
  maxVersion: AlterConfigsApi.maxVersion,
  handle(ctx, req) {
    const responses = req.resources.map((res) => {
      const refused = configResourceRefusal(ctx, AclOperation.ALTER_CONFIGS, res.resourceType, res.resourceName);
      return {
      ...(refused !== ErrorCode.NONE
        ? { errorCode: refused, errorMessage: errorName(refused) }
        : alterResource(ctx.cluster, ctx.node.id, res.resourceType, res.resourceName, res.configs, req.validateOnly)),
      resourceType: res.resourceType,
      resourceName: res.resourceName,
      };
    });
    return { throttleTimeMs: 0, responses };
  },
};
