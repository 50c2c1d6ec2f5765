/**
 * Reconciler process: config, logger, clients, signals. `node dist/main.js` with KAFKA_BROKERS set.
 */
import {
  codecFromConfig,
  createKafka,
  createMetrics,
  createRootLogger,
  describeFatal,
  kafkaSecurityFromConfig,
  onShutdown,
  topicCreationFromConfig,
  topicNamesFromConfig,
} from '@pathwatch/core';
import { buildReconciler } from './app.js';
import { engineOptionsFrom, loadReconcilerConfig } from './config.js';
import { createEngine } from './engine/index.js';

async function main(): Promise<void> {
  const config = loadReconcilerConfig();
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-reconciler' });
  if (!config.brokers)
    throw new Error(
      'KAFKA_BROKERS is required when the reconciler runs on its own (npm start runs a local broker).',
    );
  const metrics = createMetrics();
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: `pathwatch-reconciler-${config.instanceId}`,
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  const app = buildReconciler(
    {
      kafka,
      codec: codecFromConfig(config),
      engine: createEngine(engineOptionsFrom(config)),
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
      topics: topicNamesFromConfig(config),
      topicCreation: topicCreationFromConfig(config),
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
  onShutdown(logger, () => app.close(), { timeoutMs: config.shutdownTimeoutMs });
  await app.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`pathwatch-reconciler: ${describeFatal(err)}\n`);
  process.exit(1);
});
