/**
 * The query API as its own process (`pathwatch query-api`, `node dist/main.js`): config, the path store, HTTP,
 * signals. Its own /healthz, /readyz (ClickHouse answers) and /metrics (HTTP metrics; behind QUERY_API_TOKEN).
 *
 * With the embedded ClickHouse the data directory belongs to one process: while a path writer holds it this
 * fails with CORE_STORE_DATA_DIR_LOCKED (one service per process needs a ClickHouse server, CLICKHOUSE_URL).
 */
import { createMetrics, createRootLogger, onShutdown } from '@pathwatch/core';
import { openPathStore } from '@pathwatch/path-store';
import { buildApp } from './app.js';
import { listenOptionsFrom, loadQueryApiConfig } from './config.js';
import { startQueryApi } from './server.js';

const NAME = 'pathwatch-query-api';

/** Starts the service; resolves once it listens. Signals stop it (the process exits). Throws ConfigError early. */
export async function runQueryApiService(env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadQueryApiConfig(env);
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const now = (): number => Date.now();
  const listen = listenOptionsFrom(config);
  const store = await openPathStore(listen.clickhouse, { logger, now });
  const metrics = createMetrics();
  const app = await buildApp({ store, config, logger, registry: metrics.registry, now });
  const running = await startQueryApi(app, { ...listen, logger, now });
  onShutdown(
    logger,
    async () => {
      await running.close();
      await store.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
}
