/**
 * Reconciler process: config, logger, clients, signals. `node dist/main.js` with KAFKA_BROKERS set.
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
  runMain,
} from '@pathwatch/core';
import { buildReconciler } from './app.js';
import { engineOptionsFrom, loadReconcilerConfig, reconcilerAppConfigFrom } from './config.js';
import { createEngine } from './engine/index.js';

const NAME = 'pathwatch-reconciler';

void runMain(NAME, async () => {
  const config = loadReconcilerConfig();
  const brokers = requiredStandalone(
    config.brokers,
    'KAFKA_BROKERS',
    'when the reconciler runs on its own (`npm start` runs everything with a local broker)',
  );
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const kafka = createKafka({
    brokers,
    clientId: `${NAME}-${config.instanceId}`,
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  const app = buildReconciler(
    {
      kafka,
      codec: codecFromConfig(config),
      engine: createEngine(engineOptionsFrom(config)),
      logger,
      metrics: createMetrics(),
      now: Date.now,
      // close() after a fatal error only releases clients; the deadline bounds it like a shutdown.
      onFatal: fatalExit(NAME, () => app.close(), config.shutdownTimeoutMs),
    },
    reconcilerAppConfigFrom(config),
  );
  onShutdown(logger, () => app.close(), { timeoutMs: config.shutdownTimeoutMs });
  await app.start();
});
