/**
 * Jest with the ts-jest transform (TypeScript is pinned below 7 for it). One DynamoDB Local and
 * one SNS/SQS emulator serve the whole run (test/support/global-setup.ts).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The example imports the package by its public entry points, as a user's app does; map them to
  // the sources (tsconfig.json \`paths\` does the same for tsc and esbuild).
  moduleNameMapper: {
    '^switchyard-aws/cdk$': '<rootDir>/lib/index.ts',
    '^switchyard-aws/runtime$': '<rootDir>/lambdas/index.ts',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
