/**
 * The reconciler as its own process (`pathwatch reconciler`, `node dist/main.js`): config, logger, clients, its
 * health/metrics server, signals. The server listens first, so /healthz answers and /readyz says not-ready while
 * the state is restored; it closes last.
 */
import {
  createKafka,
  createMetrics,
  createRootLogger,
  fatalExit,
  kafkaSecurityFromConfig,
  codecFromConfig,
  onShutdown,
  requiredStandalone,
  startHealthServer,
} from '@pathwatch/core';
import { buildReconciler, type ReconcilerApp } from './app.js';
import { engineOptionsFrom, loadReconcilerConfig, reconcilerAppConfigFrom } from './config.js';
import { registerEngineGauges } from './engine-metrics.js';
import { createEngine } from './engine/index.js';

const NAME = 'pathwatch-reconciler';

/** Starts the service; resolves once it consumes. Signals stop it (the process exits). Throws ConfigError early. */
export async function runReconcilerService(
  env?: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const config = loadReconcilerConfig(env);
  const brokers = requiredStandalone(
    config.brokers,
    'KAFKA_BROKERS',
    'when the reconciler runs on its own (`pathwatch start` runs everything with a local broker)',
  );
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const metrics = createMetrics();
  const kafka = createKafka({
    brokers,
    clientId: `${NAME}-${config.instanceId}`,
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  const engine = createEngine(engineOptionsFrom(config));
  registerEngineGauges(metrics.registry, engine);
  let started = false;
  const app: ReconcilerApp = buildReconciler(
    {
      kafka,
      codec: codecFromConfig(config),
      engine,
      logger,
      metrics,
      now: Date.now,
      // close() after a fatal error only releases clients; the deadline bounds it like a shutdown.
      onFatal: fatalExit(NAME, () => app.close(), config.shutdownTimeoutMs),
    },
    reconcilerAppConfigFrom(config),
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
