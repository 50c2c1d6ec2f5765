/**
 * The reconciler as its own process (`pathwatch reconciler`, `node dist/main.js`): config, logger, clients, its
 * health/metrics server, signals. The server listens first, so /healthz answers and /readyz says not-ready while
 * the state is restored; it closes last.
 */
import {
  ConfigError,
  createKafka,
  createMetrics,
  createRootLogger,
  describeFatal,
  onShutdown,
  startHealthServer,
} from '@pathwatch/core';
import { DEFAULT_TOPICS, createCodec } from '@pathwatch/schemas';
import { buildReconciler, type ReconcilerApp } from './app.js';
import { engineOptionsFrom, loadReconcilerConfig } from './config.js';
import { registerEngineGauges } from './engine-metrics.js';
import { createEngine } from './engine/index.js';

/** Starts the service; resolves once it consumes. Signals stop it (the process exits). Throws ConfigError early. */
export async function runReconcilerService(
  env?: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const config = loadReconcilerConfig(env);
  if (!config.brokers)
    throw new ConfigError([
      {
        variable: 'KAFKA_BROKERS',
        problem: 'required when the reconciler runs on its own (`pathwatch start` runs a local broker)',
        raw: undefined,
      },
    ]);
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-reconciler' });
  const metrics = createMetrics();
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: `pathwatch-reconciler-${config.instanceId}`,
    logger,
  });
  const engine = createEngine(engineOptionsFrom(config));
  registerEngineGauges(metrics.registry, engine);
  let started = false;
  const app: ReconcilerApp = buildReconciler(
    {
      kafka,
      codec: createCodec(),
      engine,
      logger,
      metrics,
      now: Date.now,
      onFatal: (err) => {
        process.stderr.write(`pathwatch-reconciler: ${describeFatal(err)}\n`);
        // close() after a fatal error only releases clients; the deadline bounds it like a shutdown.
        setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
        void app.close().finally(() => process.exit(1));
      },
    },
    {
      topics: DEFAULT_TOPICS,
      changelogTopic: config.changelogTopic,
      snapshotMinBytes: config.snapshotMinBytes,
      snapshotRecordsPerCommit: config.snapshotRecordsPerCommit,
      groupId: config.groupId,
      instanceId: config.instanceId,
      commitIntervalMs: config.commitIntervalMs,
      tickIntervalMs: config.tickIntervalMs,
      sessionTimeoutMs: config.sessionTimeoutMs,
      ...(config.heartbeatIntervalMs === undefined
        ? {}
        : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
      ...(config.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeoutMs: config.rebalanceTimeoutMs }),
      stallTimeoutMs: config.stallTimeoutMs,
      topicPartitions: config.topicPartitions,
      createTopics: config.createTopics,
    },
  );
  const http = await startHealthServer({
    service: 'reconciler',
    host: config.httpHost,
    port: config.httpPort,
    registry: metrics.registry,
    metricsToken: config.metricsToken,
    logger,
    readiness: {
      reconciler: () => (started ? app.health() : { ok: false, detail: 'starting (restoring state)' }),
    },
  });
  onShutdown(
    logger,
    async () => {
      await app.close();
      await http.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
  await app.start();
  started = true;
}
