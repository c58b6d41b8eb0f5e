/** Unit, integration and infrastructure tests live apart, each a jest project of its own. */
const transform = { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] };
const project = (displayName, roots, extra = {}) => ({
  displayName,
  testEnvironment: 'node',
  roots,
  testMatch: ['**/*.test.ts'],
  transform,
  ...extra,
});

module.exports = {
  projects: [
    project('unit', ['<rootDir>/test/unit']),
    project('integration', ['<rootDir>/test/integration'], { testTimeout: 30_000 }),
    project('infrastructure', ['<rootDir>/test/infrastructure'], { testTimeout: 120_000 }),
  ],
};
