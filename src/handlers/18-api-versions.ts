/**
 * ApiVersions (key 18), v0-4.
 * Answers from the handler registry, so the advertised ranges are exactly the registered
 * handlers. A request newer than v4 never reaches here: the connection answers it with
 * the v0-form UNSUPPORTED_VERSION response (see src/server/connection.ts).
 * v3+ also carry the features this broker supports and the cluster's finalized levels with
 * their epoch (the metadata log offset they were read at), from src/cluster/features.ts. As
 * Kafka does for clients older than v4, v3 answers leave out supported features whose
 * minimum is 0 (KAFKA-17492); finalized features at level 0 are never listed.
 */
import { ApiVersionsApi, ApiVersionsRequest, ApiVersionsResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';

// KIP-511: software name and version are alphanumerics, '.' and '-', starting and ending alphanumeric.
const SOFTWARE_FIELD = /^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/;

export const apiVersionsHandler: Handler<ApiVersionsRequest, Encodable<ApiVersionsResponse>> = {
  apiKey: ApiVersionsApi.key,
  minVersion: ApiVersionsApi.minVersion,
  maxVersion: ApiVersionsApi.maxVersion,
  handle(ctx, req) {
    const apiKeys = ctx.node.registry.versions();
    if (
      ctx.header.apiVersion >= 3 &&
      (!SOFTWARE_FIELD.test(req.clientSoftwareName) || !SOFTWARE_FIELD.test(req.clientSoftwareVersion))
    ) {
      return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys, throttleTimeMs: 0 };
    }
    // Client telemetry subscriptions may select clients by their software (KIP-714).
    if (ctx.header.apiVersion >= 3) ctx.connection.clientSoftware = { name: req.clientSoftwareName, version: req.clientSoftwareVersion };
    if (ctx.header.apiVersion < 3) return { errorCode: ErrorCode.NONE, apiKeys, throttleTimeMs: 0 };
    const { features, quorum } = ctx.cluster;
    const registry = ctx.node.registry;
    const finalizedFeatures = [...features.finalized(registry)]
      .filter(([, level]) => level > 0)
      .map(([name, level]) => ({ name, maxVersionLevel: level, minVersionLevel: level }));
    return {
      errorCode: ErrorCode.NONE,
      apiKeys,
      throttleTimeMs: 0,
      supportedFeatures: features.supported(registry).filter((f) => ctx.header.apiVersion >= 4 || f.minVersion > 0),
      finalizedFeaturesEpoch: quorum.lastOffset(),
      finalizedFeatures,
      zkMigrationReady: false,
    };
  },
};
