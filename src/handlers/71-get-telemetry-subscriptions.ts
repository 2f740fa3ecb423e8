/**
 * GetTelemetrySubscriptions (key 71), v0 (KIP-714).
 * A client asks which of its metrics to push and how often; a zero client instance id gets a
 * new one. See src/telemetry/client-telemetry.ts for matching, subscription ids and
 * throttling. Needs no ACL, as in Kafka.
 */
import { GetTelemetrySubscriptionsApi, GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { telemetryIdentity } from './telemetry-common';

export const getTelemetrySubscriptionsHandler: Handler<GetTelemetrySubscriptionsRequest, Encodable<GetTelemetrySubscriptionsResponse>> = {
  apiKey: GetTelemetrySubscriptionsApi.key,
  minVersion: GetTelemetrySubscriptionsApi.minVersion,
  maxVersion: GetTelemetrySubscriptionsApi.maxVersion,
  handle(ctx, req) {
    return { throttleTimeMs: 0, ...ctx.cluster.telemetry.getSubscriptions(req.clientInstanceId, telemetryIdentity(ctx)) };
  },
};
