// The query API as its own process: config from the environment, the path store, HTTP, signals.
import { ConfigError, createMetrics, createRootLogger, onShutdown } from '@pathwatch/core';
import { clickhouseOptionsFromConfig, openPathStore } from '@pathwatch/path-store';
import { buildApp } from './app.js';
import { loadQueryApiConfig } from './config.js';
import { startQueryApi } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadQueryApiConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-query-api' });
  const now = (): number => Date.now();
  const clickhouse = clickhouseOptionsFromConfig(config);
  const store = await openPathStore(clickhouse, { logger, now });
  const metrics = createMetrics();
  const app = await buildApp({ store, config, logger, registry: metrics.registry, now });
  const running = await startQueryApi(app, {
    host: config.host,
    port: config.port,
    clickhouse,
    sqlEnabled: config.sqlEnabled,
    logger,
    now,
  });
  onShutdown(logger, async () => {
    await running.close();
    await store.close();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `pathwatch-query-api: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
