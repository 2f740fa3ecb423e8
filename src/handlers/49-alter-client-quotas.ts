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

export const alterClientQuotasHandler: Handler<AlterClientQuotasRequest, Encodable<AlterClientQuotasResponse>> = {
  apiKey: AlterClientQuotasApi.key,
  minVersion: AlterClientQuotasApi.minVersion,
  maxVersion: AlterClientQuotasApi.maxVersion,
  handle(ctx, req) {
    const entries = ctx.broker.quotas.store.alter(req.entries, req.validateOnly);
    return { throttleTimeMs: 0, entries };
  },
};
