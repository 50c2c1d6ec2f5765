// The simulator as its own process: config from the environment, a Kafka producer, signals.
import { ConfigError, createKafka, createRootLogger, onShutdown } from '@pathwatch/core';
import { DEFAULT_TOPICS } from '@pathwatch/schemas';
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
  const kafka = createKafka({ brokers: config.brokers, clientId: 'pathwatch-simulator', logger });
  if (config.createTopics) {
    const admin = await kafka.admin();
    try {
      await admin.ensureTopics(
        [DEFAULT_TOPICS.request, DEFAULT_TOPICS.dispatch, DEFAULT_TOPICS.callback].map((topic) => ({
          topic,
          partitions: config.topicPartitions,
        })),
      );
    } finally {
      await admin.close();
    }
  }
  // Idempotent producer: one request in flight per connection, so retries never reorder a partition.
  const producer = await kafka.producer({ idempotent: true });
  const app = createSimulatorApp({ config, producer, logger });
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
