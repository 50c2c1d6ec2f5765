export { PathwatchError, ConfigError, KafkaError, TopologyError, isRetriable } from './errors.js';
export type { ErrorContext } from './errors.js';
export { readConfig, configDocRows, parse, LOG_LEVELS } from './config.js';
export type { VarSpec, ConfigOf, LogLevel } from './config.js';
export { createRootLogger } from './logger.js';
export type { Logger } from './logger.js';
export { createKafka } from './kafka.js';
export type {
  KafkaClient,
  KafkaOptions,
  Producer,
  Consumer,
  Admin,
  ConsumerOptions,
  ConsumerBatch,
  BatchControl,
  BatchHandler,
  IncomingMessage,
  OutgoingMessage,
  TopicSpec,
  TopicPartitionOffset,
  TransactionalBatch,
  TransactionalProducer,
} from './kafka.js';
export { createMetrics, Counter, Gauge, Histogram, Registry } from './metrics.js';
export type { CoreMetrics } from './metrics.js';
export { createDeadLetterPublisher, toDeadLetter } from './dead-letter.js';
export type { DeadLetterPublisher, Rejection } from './dead-letter.js';
export { runStage } from './consumer-runner.js';
export type { Decoded, DecodeResult, StageRunnerOptions } from './consumer-runner.js';
export { onShutdown } from './shutdown.js';
