/**
 * UnregisterBroker (key 64), v0: removes a broker's registration. The brokers of this cluster
 * are the nodes of this process, which are always registered and alive: unregistering one is
 * accepted (Kafka accepts it, and a live broker registers again at once), any other id is
 * BROKER_ID_NOT_REGISTERED, as Kafka's controller answers.
 * Differences from Kafka: a broker forwards this to the active controller; here the node answers.
 * With the authorizer on: ALTER on the cluster (else CLUSTER_AUTHORIZATION_FAILED).
 */
import { UnregisterBrokerApi, UnregisterBrokerRequest, UnregisterBrokerResponse } from '../protocol/generated';
import { Encodable } from '../protocol/encodable';
import { ErrorCode } from '../protocol/errors';
import { Handler } from '../server/handler-registry';
import { AclOperation } from '../security/acl/acl-types';
import { clusterAllowed } from './common';

export const unregisterBrokerHandler: Handler<UnregisterBrokerRequest, Encodable<UnregisterBrokerResponse>> = {
  apiKey: UnregisterBrokerApi.key,
  minVersion: UnregisterBrokerApi.minVersion,
  maxVersion: UnregisterBrokerApi.maxVersion,
  handle(ctx, req) {
    if (!clusterAllowed(ctx, AclOperation.ALTER)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: 'Cluster authorization failed.' };
    }
    if (!ctx.cluster.nodeIds.has(req.brokerId)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.BROKER_ID_NOT_REGISTERED, errorMessage: `Broker ID ${req.brokerId} is not currently registered` };
    }
    ctx.cluster.log.info('UnregisterBroker for a live node: it stays registered', { brokerId: req.brokerId });
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null };
  },
};
