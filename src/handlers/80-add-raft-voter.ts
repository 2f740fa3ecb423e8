/**
 * AddRaftVoter (key 80), v0-1 (KIP-853), answered with the errors a one-voter dynamic quorum
 * gives (src/cluster/metadata-quorum.ts): INCONSISTENT_CLUSTER_ID for another cluster's id,
 * INVALID_REQUEST without a directory id or a CONTROLLER endpoint, DUPLICATE_VOTER for the
 * voter itself, and REQUEST_TIMED_OUT for any other node (it would have to be a caught-up
 * observer answering ApiVersions, and nothing outside this process can join).
 * Differences from Kafka: a broker forwards this to the active controller; here the node answers.
 * With the authorizer on: ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { AddRaftVoterApi, AddRaftVoterRequest, AddRaftVoterResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { Handler } from '../server/handler-registry';
import { checkVoterChange } from './quorum-common';

export const addRaftVoterHandler: Handler<AddRaftVoterRequest, Encodable<AddRaftVoterResponse>> = {
  apiKey: AddRaftVoterApi.key,
  minVersion: AddRaftVoterApi.minVersion,
  maxVersion: AddRaftVoterApi.maxVersion,
  handle(ctx, req) {
    const refused = checkVoterChange(ctx, req.clusterId);
    const result = refused ?? ctx.cluster.quorum.addVoter(req.voterId, req.voterDirectoryId, req.listeners.map((l) => l.name));
    return { throttleTimeMs: 0, ...result };
  },
};
