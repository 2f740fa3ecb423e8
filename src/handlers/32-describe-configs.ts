/**
 * DescribeConfigs (key 32), v1-4.
 * Topics: every topic config with its effective value, source (topic override, dynamic
 * broker, dynamic default, static broker, default), synonyms when asked (v1+), type and
 * documentation when asked (v3+). Brokers: this node's id gives every broker setting Samsa
 * knows, read-only unless it can change at run time; "" gives the dynamic cluster-wide
 * defaults. See src/cluster/config-admin.ts. An empty configuration_keys list means every
 * config, as null does (Kafka treats both alike).
 * Differences from Kafka: broker loggers (type 8) describe as an empty list; other
 * resource types answer INVALID_REQUEST.
 * With the authorizer on, DESCRIBE_CONFIGS per resource: on the topic
 * (TOPIC_AUTHORIZATION_FAILED), the group (GROUP_AUTHORIZATION_FAILED), else the cluster
 * (CLUSTER_AUTHORIZATION_FAILED).
 */
import {
  DescribeConfigsApi,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  DescribeConfigsResponseResults,
} from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { ConfigSource } from '../cluster/topic-config';
import { describeResource } from '../cluster/config-admin';
import { AclOperation } from '../security/acl/acl-types';
import { configResourceRefusal } from './common';
import { ErrorCode, errorName } from '../protocol/errors';

export const describeConfigsHandler: Handler<DescribeConfigsRequest, Encodable<DescribeConfigsResponse>> = {
  apiKey: DescribeConfigsApi.key,
  // Kafka 4 removed v0 (KIP-896): it is answered UNSUPPORTED_VERSION.
  minVersion: Math.max(1, DescribeConfigsApi.minVersion),
  maxVersion: DescribeConfigsApi.maxVersion,
  handle(ctx, req) {
    const results: Encodable<DescribeConfigsResponseResults>[] = req.resources.map((res) => {
      const refused = configResourceRefusal(ctx, AclOperation.DESCRIBE_CONFIGS, res.resourceType, res.resourceName);
      if (refused !== ErrorCode.NONE) return { errorCode: refused, errorMessage: errorName(refused), resourceType: res.resourceType, resourceName: res.resourceName, configs: [] };
      const r = describeResource(ctx.cluster, ctx.node.id, res.resourceType, res.resourceName, res.configurationKeys?.length ? res.configurationKeys : null);
      return {
        errorCode: r.errorCode,
        errorMessage: r.errorMessage,
        resourceType: res.resourceType,
        resourceName: res.resourceName,
        configs: r.configs.map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          isDefault: c.source === ConfigSource.DEFAULT,
          configSource: c.source,
          isSensitive: c.isSensitive,
          synonyms: req.includeSynonyms ? c.synonyms : [],
          configType: c.type,
          documentation: req.includeDocumentation ? c.documentation : null,
        })),
      };
    });
    return { throttleTimeMs: 0, results };
  },
};
