// The simulator as its own process: config from the environment, a Kafka producer, signals.
import {
  ConfigError,
  codecFromConfig,
  createKafka,
  createRootLogger,
  initCodec,
  kafkaSecurityFromConfig,
  onShutdown,
  topicCreationFromConfig,
  topicNamesFromConfig,
} from '@pathwatch/core';
import { createSimulatorApp } from './app.js';
import { loadSimulatorConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadSimulatorConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-simulator' });
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: 'pathwatch-simulator',
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  const codec = codecFromConfig(config);
  await initCodec(codec);
  const topics = topicNamesFromConfig(config);
  if (config.createTopics) {
    const admin = await kafka.admin();
    try {
      await admin.ensureTopics(
        [topics.request, topics.dispatch, topics.callback].map((topic) => ({
          topic,
          partitions: config.topicPartitions,
          ...topicCreationFromConfig(config),
        })),
      );
    } finally {
      await admin.close();
    }
  }
  // Idempotent producer: one request in flight per connection, so retries never reorder a partition.
  const producer = await kafka.producer({ idempotent: true });
  const app = createSimulatorApp({ config, producer, logger, codec });
  let shuttingDown = false;
  onShutdown(logger, async () => {
    shuttingDown = true;
    await app.stop();
    await producer.close();
  });
  const report = await app.start();
  if (shuttingDown) return; // the shutdown handler closes the producer and exits
  logger.info({ ...report }, 'simulator run finished');
  await producer.close();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `pathwatch-simulator: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
