// Jest globalTeardown: stops the broker globalSetup started and removes its data folder.
module.exports = async () => {
  await globalThis.__SAMSA_BROKER__?.close();
};
