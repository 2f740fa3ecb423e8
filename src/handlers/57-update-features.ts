/**
 * UpdateFeatures (key 57), v0-2: changes finalized feature levels (KIP-584), as the Kafka
 * 4.2 controller does (validation in src/cluster/features.ts). v0's allowDowngrade means
 * SAFE_DOWNGRADE; v1+ name the upgrade type. The request is applied whole or not at all:
 * the top-level error says why, and v0-1 repeat it per feature (v2 has no per-feature results).
 * validate_only checks without changing anything. An accepted update is one more record in
 * the metadata log, so the finalized features epoch advances.
 * With the authorizer on: ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { UpdateFeaturesApi, UpdateFeaturesRequest, UpdateFeaturesResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';
import { UpgradeType } from '../cluster/features';

const CLUSTER_AUTHORIZATION_MESSAGE = 'Cluster authorization failed.';

export const updateFeaturesHandler: Handler<UpdateFeaturesRequest, Encodable<UpdateFeaturesResponse>> = {
  apiKey: UpdateFeaturesApi.key,
  minVersion: UpdateFeaturesApi.minVersion,
  maxVersion: UpdateFeaturesApi.maxVersion,
  handle(ctx, req) {
    const version = ctx.header.apiVersion;
    const answer = (errorCode: number, errorMessage: string | null): Encodable<UpdateFeaturesResponse> => ({
      throttleTimeMs: 0,
      errorCode,
      errorMessage,
      results: version < 2 ? req.featureUpdates.map((u) => ({ feature: u.feature, errorCode, errorMessage })) : [],
    });
    if (!clusterAllowed(ctx, AclOperation.ALTER)) return answer(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_MESSAGE);
    const updates = req.featureUpdates.map((u) => ({
      feature: u.feature,
      level: u.maxVersionLevel,
      upgradeType: version === 0 ? (u.allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : u.upgradeType,
    }));
    if (new Set(updates.map((u) => u.feature)).size !== updates.length) {
      return answer(ErrorCode.INVALID_REQUEST, 'The request contains multiple updates for the same feature.');
    }
    const result = ctx.cluster.features.update(ctx.node.registry, updates, req.validateOnly);
    return answer(result.errorCode, result.errorMessage);
  },
};
