/**
 * DescribeClientQuotas (key 48), v0-1: the quota entities matching a filter, with the limits
 * set on each (not inherited ones). Each filter component names an entity type and matches
 * an exact name (0), the <default> entity (1) or any named entity (2); strict leaves out
 * entities that have types the filter does not mention. A bad filter answers the whole
 * request with Kafka's code and message (INVALID_REQUEST; UNSUPPORTED_VERSION for an
 * unknown entity type) and null entries. See src/quota/store.ts.
 */
import { DescribeClientQuotasApi, DescribeClientQuotasRequest, DescribeClientQuotasResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode, KafkaError } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const describeClientQuotasHandler: Handler<DescribeClientQuotasRequest, Encodable<DescribeClientQuotasResponse>> = {
  apiKey: DescribeClientQuotasApi.key,
  minVersion: DescribeClientQuotasApi.minVersion,
  maxVersion: DescribeClientQuotasApi.maxVersion,
  handle(ctx, req) {
    if (!clusterAllowed(ctx, AclOperation.DESCRIBE_CONFIGS)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null };
    }
    try {
      const found = ctx.cluster.quotas.store.describe(req.components, req.strict);
      return {
        throttleTimeMs: 0,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        entries: found.map((e) => ({
          entity: e.entity.map(([entityType, entityName]) => ({ entityType, entityName })),
          values: e.values.map(([key, value]) => ({ key, value })),
        })),
      };
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      return { throttleTimeMs: 0, errorCode: err.code, errorMessage: err.message, entries: null };
    }
  },
};
