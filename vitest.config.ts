import { defineConfig } from 'vitest/config';

const SOURCE_CONDITIONS = ['@pathwatch/source'];

// Two tiers: `unit` (pure, no network) and `integration` (real Kafka broker + embedded ClickHouse).
// Workspace packages resolve to their TypeScript sources through the `@pathwatch/source` condition, in every
// environment vitest creates (test files and the global setup), so `npm ci && npm test` needs no build.
export default defineConfig({
  resolve: { conditions: SOURCE_CONDITIONS },
  ssr: { resolve: { conditions: SOURCE_CONDITIONS } },
  plugins: [
    {
      // The global setup runs in vitest's own server environment, which the two options above do not reach.
      name: 'pathwatch-source-conditions',
      configEnvironment: () => ({ resolve: { conditions: SOURCE_CONDITIONS } }),
    },
  ],
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['schemas/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'services/*/test/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
