import { defineConfig } from 'vitest/config';

// Two tiers: `unit` (pure, no network) and `integration` (real Kafka broker + embedded ClickHouse).
// Workspace packages resolve to their TypeScript sources through the `@pathwatch/source` condition.
export default defineConfig({
  resolve: { conditions: ['@pathwatch/source'] },
  ssr: { resolve: { conditions: ['@pathwatch/source'] } },
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
