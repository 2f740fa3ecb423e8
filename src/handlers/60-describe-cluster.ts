/**
 * DescribeCluster (key 60), v0-2. Lists the brokers that are up (a simulated cluster's
 * stopped nodes are left out, as Kafka leaves out brokers that are not registered); the
 * controller id is the lowest of them.
 * Asking a broker for controller endpoints (endpoint type 2) is refused with
 * UNSUPPORTED_ENDPOINT_TYPE, as Kafka brokers do. Kafka asks no ACL for the request itself;
 * with the authorizer on, the cluster's authorized operations come from the ACLs.
 */
import { DescribeClusterApi, DescribeClusterRequest, DescribeClusterResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { clusterOperations, OPERATIONS_NOT_REQUESTED } from './common';
import { controllerId, liveBrokers } from './03-metadata';

const BROKER_ENDPOINTS = 1;
const UNSUPPORTED_ENDPOINT_TYPE = 115;

export const describeClusterHandler: Handler<DescribeClusterRequest, Encodable<DescribeClusterResponse>> = {
  apiKey: DescribeClusterApi.key,
  minVersion: DescribeClusterApi.minVersion,
  maxVersion: DescribeClusterApi.maxVersion,
  handle(ctx, req) {
    const { cluster } = ctx;
    if (req.endpointType !== BROKER_ENDPOINTS) {
      return {
        throttleTimeMs: 0,
        errorCode: UNSUPPORTED_ENDPOINT_TYPE,
        errorMessage: 'The broker only handles broker endpoint requests.',
        endpointType: req.endpointType,
        clusterId: cluster.clusterId,
        brokers: [],
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: BROKER_ENDPOINTS,
      clusterId: cluster.clusterId,
      controllerId: controllerId(ctx),
      brokers: liveBrokers(ctx).map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: null, isFenced: false })),
      clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? clusterOperations(ctx) : OPERATIONS_NOT_REQUESTED,
    };
  },
};
