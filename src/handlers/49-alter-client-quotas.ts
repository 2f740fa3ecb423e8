/**
 * AlterClientQuotas (key 49), v0-1: sets or removes limits on quota entities (user,
 * client-id, user + client-id, ip; a null name is the <default> entity). Each entity
 * succeeds or fails on its own with Kafka's INVALID_REQUEST messages (unknown type or key,
 * ip combined with user/client-id, a value not above 0, a fraction for a byte or connection
 * rate); validate_only checks without changing anything. Changes persist in
 * client-quotas.json and apply to the next request. See src/quota/store.ts.
 */
import { AlterClientQuotasApi, AlterClientQuotasRequest, AlterClientQuotasResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { ErrorCode } from '../protocol/errors';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const alterClientQuotasHandler: Handler<AlterClientQuotasRequest, Encodable<AlterClientQuotasResponse>> = {
  apiKey: AlterClientQuotasApi.key,
  minVersion: AlterClientQuotasApi.minVersion,
  maxVersion: AlterClientQuotasApi.maxVersion,
  handle(ctx, req) {
    if (!clusterAllowed(ctx, AclOperation.ALTER_CONFIGS)) {
      // Kafka refuses every entry of the request.
      return {
        throttleTimeMs: 0,
        entries: req.entries.map((e) => ({
          errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
          errorMessage: null,
          entity: e.entity.map((x) => ({ entityType: x.entityType, entityName: x.entityName })),
        })),
      };
    }
    const entries = ctx.cluster.quotas.store.alter(req.entries, req.validateOnly);
    return { throttleTimeMs: 0, entries };
  },
};
