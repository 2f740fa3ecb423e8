/** Registers every API handler Samsa serves; ApiVersions advertises exactly these. */
import { HandlerRegistry } from '../server/handler-registry';
import { produceHandler } from './00-produce';
import { fetchHandler } from './01-fetch';
import { listOffsetsHandler } from './02-list-offsets';
import { metadataHandler } from './03-metadata';
import { offsetCommitHandler } from './08-offset-commit';
import { offsetFetchHandler } from './09-offset-fetch';
import { findCoordinatorHandler } from './10-find-coordinator';
import { joinGroupHandler } from './11-join-group';
import { heartbeatHandler } from './12-heartbeat';
import { leaveGroupHandler } from './13-leave-group';
import { syncGroupHandler } from './14-sync-group';
import { describeGroupsHandler } from './15-describe-groups';
import { listGroupsHandler } from './16-list-groups';
import { saslHandshakeHandler } from './17-sasl-handshake';
import { apiVersionsHandler } from './18-api-versions';
import { createTopicsHandler } from './19-create-topics';
import { deleteTopicsHandler } from './20-delete-topics';
import { deleteRecordsHandler } from './21-delete-records';
import { initProducerIdHandler } from './22-init-producer-id';
import { offsetForLeaderEpochHandler } from './23-offset-for-leader-epoch';
import { addPartitionsToTxnHandler } from './24-add-partitions-to-txn';
import { addOffsetsToTxnHandler } from './25-add-offsets-to-txn';
import { endTxnHandler } from './26-end-txn';
import { writeTxnMarkersHandler } from './27-write-txn-markers';
import { txnOffsetCommitHandler } from './28-txn-offset-commit';
import { describeAclsHandler } from './29-describe-acls';
import { createAclsHandler } from './30-create-acls';
import { deleteAclsHandler } from './31-delete-acls';
import { describeConfigsHandler } from './32-describe-configs';
import { alterConfigsHandler } from './33-alter-configs';
import { alterReplicaLogDirsHandler } from './34-alter-replica-log-dirs';
import { describeLogDirsHandler } from './35-describe-log-dirs';
import { saslAuthenticateHandler } from './36-sasl-authenticate';
import { createPartitionsHandler } from './37-create-partitions';
import { createDelegationTokenHandler } from './38-create-delegation-token';
import { renewDelegationTokenHandler } from './39-renew-delegation-token';
import { expireDelegationTokenHandler } from './40-expire-delegation-token';
import { describeDelegationTokenHandler } from './41-describe-delegation-token';
import { deleteGroupsHandler } from './42-delete-groups';
import { electLeadersHandler } from './43-elect-leaders';
import { incrementalAlterConfigsHandler } from './44-incremental-alter-configs';
import { alterPartitionReassignmentsHandler } from './45-alter-partition-reassignments';
import { listPartitionReassignmentsHandler } from './46-list-partition-reassignments';
import { offsetDeleteHandler } from './47-offset-delete';
import { describeClientQuotasHandler } from './48-describe-client-quotas';
import { alterClientQuotasHandler } from './49-alter-client-quotas';
import { describeUserScramCredentialsHandler } from './50-describe-user-scram-credentials';
import { alterUserScramCredentialsHandler } from './51-alter-user-scram-credentials';
import { describeQuorumHandler } from './55-describe-quorum';
import { updateFeaturesHandler } from './57-update-features';
import { describeClusterHandler } from './60-describe-cluster';
import { unregisterBrokerHandler } from './64-unregister-broker';
import { addRaftVoterHandler } from './80-add-raft-voter';
import { removeRaftVoterHandler } from './81-remove-raft-voter';
import { consumerGroupHeartbeatHandler } from './68-consumer-group-heartbeat';
import { consumerGroupDescribeHandler } from './69-consumer-group-describe';
import { describeProducersHandler } from './61-describe-producers';
import { describeTransactionsHandler } from './65-describe-transactions';
import { listTransactionsHandler } from './66-list-transactions';
import { describeTopicPartitionsHandler } from './75-describe-topic-partitions';
import { getTelemetrySubscriptionsHandler } from './71-get-telemetry-subscriptions';
import { pushTelemetryHandler } from './72-push-telemetry';
import { listConfigResourcesHandler } from './74-list-config-resources';
import { streamsGroupHeartbeatHandler } from './88-streams-group-heartbeat';
import { streamsGroupDescribeHandler } from './89-streams-group-describe';
import { shareGroupHeartbeatHandler } from './76-share-group-heartbeat';
import { shareGroupDescribeHandler } from './77-share-group-describe';
import { shareFetchHandler } from './78-share-fetch';
import { shareAcknowledgeHandler } from './79-share-acknowledge';
import { initializeShareGroupStateHandler } from './83-initialize-share-group-state';
import { readShareGroupStateHandler } from './84-read-share-group-state';
import { writeShareGroupStateHandler } from './85-write-share-group-state';
import { deleteShareGroupStateHandler } from './86-delete-share-group-state';
import { readShareGroupStateSummaryHandler } from './87-read-share-group-state-summary';
import { describeShareGroupOffsetsHandler } from './90-describe-share-group-offsets';
import { alterShareGroupOffsetsHandler } from './91-alter-share-group-offsets';
import { deleteShareGroupOffsetsHandler } from './92-delete-share-group-offsets';

export function registerAllHandlers(registry: HandlerRegistry): void {
  for (const h of [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    findCoordinatorHandler,
    joinGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    syncGroupHandler,
    describeGroupsHandler,
    listGroupsHandler,
    saslHandshakeHandler,
    apiVersionsHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    deleteRecordsHandler,
    initProducerIdHandler,
    offsetForLeaderEpochHandler,
    addPartitionsToTxnHandler,
    addOffsetsToTxnHandler,
    endTxnHandler,
    writeTxnMarkersHandler,
    txnOffsetCommitHandler,
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    alterReplicaLogDirsHandler,
    describeLogDirsHandler,
    saslAuthenticateHandler,
    createPartitionsHandler,
    createDelegationTokenHandler,
    renewDelegationTokenHandler,
    expireDelegationTokenHandler,
    describeDelegationTokenHandler,
    deleteGroupsHandler,
    electLeadersHandler,
    incrementalAlterConfigsHandler,
    alterPartitionReassignmentsHandler,
    listPartitionReassignmentsHandler,
    offsetDeleteHandler,
    describeClientQuotasHandler,
    alterClientQuotasHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
    describeQuorumHandler,
    updateFeaturesHandler,
    describeClusterHandler,
    unregisterBrokerHandler,
    describeProducersHandler,
    describeTransactionsHandler,
    listTransactionsHandler,
    consumerGroupHeartbeatHandler,
    consumerGroupDescribeHandler,
    describeTopicPartitionsHandler,
    getTelemetrySubscriptionsHandler,
    pushTelemetryHandler,
    listConfigResourcesHandler,
    streamsGroupHeartbeatHandler,
    streamsGroupDescribeHandler,
    shareGroupHeartbeatHandler,
    shareGroupDescribeHandler,
    shareFetchHandler,
    shareAcknowledgeHandler,
    initializeShareGroupStateHandler,
    readShareGroupStateHandler,
    writeShareGroupStateHandler,
    deleteShareGroupStateHandler,
    readShareGroupStateSummaryHandler,
    describeShareGroupOffsetsHandler,
    alterShareGroupOffsetsHandler,
    deleteShareGroupOffsetsHandler,
    addRaftVoterHandler,
    removeRaftVoterHandler,
  ]) {
    registry.register(h);
  }
}
