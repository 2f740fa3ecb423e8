/**
 * PushTelemetry (key 72), v0 (KIP-714).
 * A client pushes its metrics (OTLP, possibly compressed) under the subscription id it was
 * given; Samsa keeps the last push per client instance for its Prometheus endpoint. Errors
 * as Kafka: UNKNOWN_SUBSCRIPTION_ID, THROTTLING_QUOTA_EXCEEDED, TELEMETRY_TOO_LARGE,
 * UNSUPPORTED_COMPRESSION_TYPE, INVALID_REQUEST (after a terminating push), INVALID_RECORD
 * (a payload that does not decode). See src/telemetry/client-telemetry.ts.
 */
import { PushTelemetryApi, PushTelemetryRequest, PushTelemetryResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { telemetryIdentity } from './telemetry-common';

export const pushTelemetryHandler: Handler<PushTelemetryRequest, Encodable<PushTelemetryResponse>> = {
  apiKey: PushTelemetryApi.key,
  minVersion: PushTelemetryApi.minVersion,
  maxVersion: PushTelemetryApi.maxVersion,
  async handle(ctx, req) {
    const errorCode = await ctx.cluster.telemetry.push(req, telemetryIdentity(ctx));
    return { throttleTimeMs: 0, errorCode };
  },
};
