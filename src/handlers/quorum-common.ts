/** Checks shared by the voter-change APIs (AddRaftVoter, RemoveRaftVoter). */
import { ErrorCode } from '../protocol/errors';
import type { RequestContext } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';
import type { VoterChangeResult } from '../cluster/metadata-quorum';

/** ALTER on the cluster, then the cluster id (not enforced when null, as in Kafka); null when both pass. */
export function checkVoterChange(ctx: RequestContext, clusterId: string | null): VoterChangeResult | null {
  if (!clusterAllowed(ctx, AclOperation.ALTER)) return { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
  if (clusterId !== null && clusterId !== ctx.cluster.clusterId) {
    return {
      errorCode: ErrorCode.INCONSISTENT_CLUSTER_ID,
      errorMessage: `The given id "${clusterId}" doesn't match the cluster id "${ctx.cluster.clusterId}"`,
    };
  }
  return null;
}
