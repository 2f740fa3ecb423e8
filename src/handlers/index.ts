/** Registers every API handler Samsa serves; ApiVersions advertises exactly these. */
import { HandlerRegistry } from '../server/handler-registry';
import { produceHandler } from './00-produce';
import { fetchHandler } from './01-fetch';
import { listOffsetsHandler } from './02-list-offsets';
import { metadataHandler } from './03-metadata';
import { apiVersionsHandler } from './18-api-versions';
import { createTopicsHandler } from './19-create-topics';
import { deleteTopicsHandler } from './20-delete-topics';
import { offsetForLeaderEpochHandler } from './23-offset-for-leader-epoch';
import { createPartitionsHandler } from './37-create-partitions';
import { describeClusterHandler } from './60-describe-cluster';

export function registerAllHandlers(registry: HandlerRegistry): void {
  for (const h of [
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    metadataHandler,
    apiVersionsHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    offsetForLeaderEpochHandler,
    createPartitionsHandler,
    describeClusterHandler,
  ]) {
    registry.register(h);
  }
}
