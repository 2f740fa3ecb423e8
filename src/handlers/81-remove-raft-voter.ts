/**
 * RemoveRaftVoter (key 81), v0 (KIP-853), answered as a one-voter dynamic quorum does: the
 * only voter cannot be removed and any other key is no voter, both VOTER_NOT_FOUND;
 * INCONSISTENT_CLUSTER_ID for another cluster's id.
 * Differences from Kafka: a broker forwards this to the active controller; here the node answers.
 * With the authorizer on: ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { RemoveRaftVoterApi, RemoveRaftVoterRequest, RemoveRaftVoterResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { checkVoterChange } from './quorum-common';

export const removeRaftVoterHandler: Handler<RemoveRaftVoterRequest, Encodable<RemoveRaftVoterResponse>> = {
  apiKey: RemoveRaftVoterApi.key,
  minVersion: RemoveRaftVoterApi.minVersion,
  maxVersion: RemoveRaftVoterApi.maxVersion,
  handle(ctx, req) {
    const refused = checkVoterChange(ctx, req.clusterId);
    return { throttleTimeMs: 0, ...(refused ?? ctx.cluster.quorum.removeVoter(req.voterId, req.voterDirectoryId)) };
  },
};
