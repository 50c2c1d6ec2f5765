/**
 * The path writer as its own process (`pathwatch path-writer`, `node dist/main.js`): config, the path store, Kafka,
 * its health/metrics server, signals. The server listens before the writer joins its group (/readyz not ready
 * until it consumes) and closes last.
 *
 * With the embedded ClickHouse (no CLICKHOUSE_URL) this process holds the data directory: no other process can
 * open it, so the query API cannot run beside it on the same data — use a ClickHouse server for one service per
 * process, or `pathwatch start` (both in one process).
 */
import {
  codecFromConfig,
  createKafka,
  createMetrics,
  createRootLogger,
  fatalExit,
  kafkaSecurityFromConfig,
  onShutdown,
  requiredStandalone,
  startHealthServer,
} from '@pathwatch/core';
import { clickhouseOptionsFromConfig, openPathStore } from '@pathwatch/path-store';
import { buildPathWriter } from './app.js';
import { loadPathWriterConfig, pathStoreOptionsFrom, pathWriterAppConfigFrom } from './config.js';

const NAME = 'pathwatch-path-writer';

/** Starts the service; resolves once it consumes. Signals stop it (the process exits). Throws ConfigError early. */
export async function runPathWriterService(
  env?: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const config = loadPathWriterConfig(env);
  const brokers = requiredStandalone(
    config.brokers,
    'KAFKA_BROKERS',
    'when the path writer runs on its own (`pathwatch start` runs everything with a local broker)',
  );
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const now = (): number => Date.now();
  const metrics = createMetrics();
  let started = false;
  const store = await openPathStore(
    clickhouseOptionsFromConfig(config),
    { logger, now },
    pathStoreOptionsFrom(config),
  );
  const close = async (): Promise<void> => {
    await writer.close();
    await store.close();
  };
  const writer = buildPathWriter(
    {
      kafka: createKafka({ brokers, clientId: NAME, logger, security: kafkaSecurityFromConfig(config) }),
      store,
      codec: codecFromConfig(config),
      logger,
      metrics,
      now,
      onFatal: fatalExit(NAME, close, config.shutdownTimeoutMs),
    },
    pathWriterAppConfigFrom(config),
  );
  const http = await startHealthServer({
    service: 'path-writer',
    host: config.httpHost,
    port: config.httpPort,
    registry: metrics.registry,
    metricsToken: config.metricsToken,
    logger,
    readiness: {
      clickhouse: async () =>
        (await store.ch.ping()) ? { ok: true } : { ok: false, detail: 'ClickHouse does not answer' },
      'path-writer': () =>
        started ? writer.health() : { ok: false, detail: 'starting (joining its group)' },
    },
  });
  onShutdown(
    logger,
    async () => {
      await close();
      await http.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
  await writer.start();
  started = true;
}
