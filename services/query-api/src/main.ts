// The query API as its own process: config from the environment, the path store, HTTP, signals.
import { createMetrics, createRootLogger, onShutdown, runMain } from '@pathwatch/core';
import { openPathStore } from '@pathwatch/path-store';
import { buildApp } from './app.js';
import { listenOptionsFrom, loadQueryApiConfig } from './config.js';
import { startQueryApi } from './server.js';

const NAME = 'pathwatch-query-api';

void runMain(NAME, async () => {
  const config = loadQueryApiConfig();
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const now = (): number => Date.now();
  const listen = listenOptionsFrom(config);
  const store = await openPathStore(listen.clickhouse, { logger, now });
  const metrics = createMetrics();
  const app = await buildApp({ store, config, logger, registry: metrics.registry, now });
  const running = await startQueryApi(app, { ...listen, logger, now });
  onShutdown(logger, async () => {
    await running.close();
    await store.close();
  });
});
