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
  ConfigError,
  clickhouseOptionsFromConfig,
  createKafka,
  createMetrics,
  createRootLogger,
  describeFatal,
  onShutdown,
  openPathStore,
  startHealthServer,
} from '@pathwatch/core';
import { DEFAULT_TOPICS, createCodec } from '@pathwatch/schemas';
import { buildPathWriter } from './app.js';
import { loadPathWriterConfig } from './config.js';

/** Starts the service; resolves once it consumes. Signals stop it (the process exits). Throws ConfigError early. */
export async function runPathWriterService(
  env?: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const config = loadPathWriterConfig(env);
  if (!config.brokers)
    throw new ConfigError([
      {
        variable: 'KAFKA_BROKERS',
        problem: 'required when the path writer runs on its own (`pathwatch start` runs a local broker)',
        raw: undefined,
      },
    ]);
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-path-writer' });
  const now = (): number => Date.now();
  const metrics = createMetrics();
  let started = false;
  const store = await openPathStore(
    clickhouseOptionsFromConfig(config),
    { logger, now },
    { rollups: { correctionWindowMs: config.rollupCorrectionWindowHours * 3_600_000 } },
  );
  const kafka = createKafka({ brokers: config.brokers, clientId: 'pathwatch-path-writer', logger });
  const writer = buildPathWriter(
    {
      kafka,
      store,
      codec: createCodec(),
      logger,
      metrics,
      now,
      onFatal: (err) => {
        process.stderr.write(`pathwatch-path-writer: ${describeFatal(err)}\n`);
        process.exit(1);
      },
    },
    { ...config, topics: DEFAULT_TOPICS },
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
      await writer.close();
      await store.close();
      await http.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
  await writer.start();
  started = true;
}
