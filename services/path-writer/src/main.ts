// The path writer as its own process: config from the environment, the path store, Kafka, signals.
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
import { clickhouseOptionsFromConfig, openPathStore } from '@pathwatch/path-store';
import { buildPathWriter } from './app.js';
import { loadPathWriterConfig, pathStoreOptionsFrom, pathWriterAppConfigFrom } from './config.js';

const NAME = 'pathwatch-path-writer';

void runMain(NAME, async () => {
  const config = loadPathWriterConfig();
  const brokers = requiredStandalone(
    config.brokers,
    'KAFKA_BROKERS',
    'when the path writer runs on its own (`npm start` runs everything with a local broker)',
  );
  const logger = createRootLogger({ level: config.logLevel, name: NAME });
  const now = (): number => Date.now();
  const store = await openPathStore(
    clickhouseOptionsFromConfig(config),
    { logger, now },
    pathStoreOptionsFrom(config),
  );
  const close = async (): Promise<void> => {
    await app.close();
    await store.close();
  };
  const app = buildPathWriter(
    {
      kafka: createKafka({ brokers, clientId: NAME, logger, security: kafkaSecurityFromConfig(config) }),
      store,
      codec: codecFromConfig(config),
      logger,
      metrics: createMetrics(),
      now,
      onFatal: fatalExit(NAME, close, config.shutdownTimeoutMs),
    },
    pathWriterAppConfigFrom(config),
  );
  onShutdown(logger, close, { timeoutMs: config.shutdownTimeoutMs });
  await app.start();
});
