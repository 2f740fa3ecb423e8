export default {
  test: {
    globalSetup: ['./samsa-global-setup.mjs'],
  },
};
