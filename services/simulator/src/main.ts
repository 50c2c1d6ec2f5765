// The simulator as its own process: config from the environment, a Kafka producer, signals.
import {
  codecFromConfig,
  createKafka,
  createRootLogger,
  initCodec,
  kafkaSecurityFromConfig,
  onShutdown,
  runMain,
  topicCreationFromConfig,
  topicNamesFromConfig,
} from '@pathwatch/core';
import { createSimulatorApp } from './app.js';
import { loadSimulatorConfig } from './config.js';

const NAME = 'pathwatch-simulator';

void runMain(NAME, async () => {
  const config = loadSimulatorConfig();
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: NAME,
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  // Configured topic names and, with SCHEMA_REGISTRY_URL, registry ids (init registers the subjects).
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
});
