/**
 * The query API as its own process (`pathwatch query-api`, `node dist/main.js`): config, the path store, HTTP,
 * signals. Its own /healthz, /readyz (ClickHouse answers) and /metrics (HTTP metrics; behind QUERY_API_TOKEN).
 *
 * With the embedded ClickHouse the data directory belongs to one process: while a path writer holds it this
 * fails with CORE_STORE_DATA_DIR_LOCKED (one service per process needs a ClickHouse server, CLICKHOUSE_URL).
 */
import {
  clickhouseOptionsFromConfig,
  createMetrics,
  createRootLogger,
  onShutdown,
  openPathStore,
} from '@pathwatch/core';
import { buildApp } from './app.js';
import { loadQueryApiConfig } from './config.js';
import { startQueryApi } from './server.js';

/** Starts the service; resolves once it listens. Signals stop it (the process exits). Throws ConfigError early. */
export async function runQueryApiService(env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadQueryApiConfig(env);
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
  onShutdown(
    logger,
    async () => {
      await running.close();
      await store.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
}
