/** Unit, integration and infrastructure tests live apart, each a jest project of its own. */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const project = (displayName, roots) => ({
  displayName,
  testEnvironment: 'node',
  roots,
  testMatch: ['**/*.test.ts'],
  transform,
});

module.exports = {
  // Jest 29 reads the timeout here only. Integration tests start servers and synthesize stacks;
  // unit tests finish in milliseconds either way.
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/support/global-setup.js',
  globalTeardown: '<rootDir>/test/support/global-teardown.js',
  projects: [
    project('unit', ['<rootDir>/test/unit']),
    project('integration', ['<rootDir>/test/integration']),
    project('infrastructure', ['<rootDir>/test/infrastructure']),
  ],
};
