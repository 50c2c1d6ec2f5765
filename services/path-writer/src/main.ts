// The path writer as its own process: config from the environment, the path store, Kafka, signals.
import {
  ConfigError,
  clickhouseOptionsFromConfig,
  codecFromConfig,
  createKafka,
  createMetrics,
  createRootLogger,
  describeFatal,
  kafkaSecurityFromConfig,
  onShutdown,
  openPathStore,
  topicCreationFromConfig,
  topicNamesFromConfig,
} from '@pathwatch/core';
import { buildPathWriter } from './app.js';
import { loadPathWriterConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadPathWriterConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (!config.brokers) {
    process.stderr.write(
      'KAFKA_BROKERS: required when the path writer runs on its own (`npm start` runs everything with a local broker)\n',
    );
    process.exit(2);
  }
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-path-writer' });
  const now = (): number => Date.now();
  const store = await openPathStore(
    clickhouseOptionsFromConfig(config),
    { logger, now },
    {
      rollups: { correctionWindowMs: config.rollupCorrectionWindowHours * 3_600_000 },
    },
  );
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: 'pathwatch-path-writer',
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  const app = buildPathWriter(
    {
      kafka,
      store,
      codec: codecFromConfig(config),
      logger,
      metrics: createMetrics(),
      now,
      onFatal: (err) => {
        process.stderr.write(`pathwatch-path-writer: ${describeFatal(err)}\n`);
        process.exit(1);
      },
    },
    { ...config, topics: topicNamesFromConfig(config), topicCreation: topicCreationFromConfig(config) },
  );
  onShutdown(
    logger,
    async () => {
      await app.close();
      await store.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
  await app.start();
}

main().catch((err: unknown) => {
  process.stderr.write(
    `pathwatch-path-writer: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
