// Jest globalSetup: one Samsa broker for the whole test run, on a free port, with its data in
// a fresh temporary folder. Test files read the address from process.env.KAFKA_BOOTSTRAP
// (Jest starts its workers after globalSetup, so they inherit it).
const { startEphemeralBroker } = require('samsa');

module.exports = async () => {
  const broker = await startEphemeralBroker();
  globalThis.__SAMSA_BROKER__ = broker; // globalTeardown runs in this same process
  process.env.KAFKA_BOOTSTRAP = `${broker.config.host}:${broker.port}`;
};
