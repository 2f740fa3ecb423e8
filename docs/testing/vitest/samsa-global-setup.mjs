// Vitest globalSetup: one Samsa broker for the run; tests get its address with
// inject('kafkaBootstrap'). The returned function is Vitest's teardown: it stops the broker
// and removes its temporary data folder.
import { startEphemeralBroker } from 'samsa';

export default async function setup({ provide }) {
  const broker = await startEphemeralBroker();
  provide('kafkaBootstrap', `${broker.config.host}:${broker.port}`);
  return async () => {
    await broker.close();
  };
}
