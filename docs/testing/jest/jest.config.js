module.exports = {
  testEnvironment: 'node',
  globalSetup: './samsa-global-setup.js',
  globalTeardown: './samsa-global-teardown.js',
};
