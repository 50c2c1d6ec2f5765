export {
  PathwatchError,
  ConfigError,
  KafkaError,
  TopologyError,
  KAFKA_ERROR_CODES,
  KAFKA_FIX_HINTS,
  describeFatal,
  isProducerFenced,
  isRecordTooLarge,
  isRetriable,
} from './errors.js';
export type { ErrorContext, KafkaErrorCode } from './errors.js';
export { classifyKafka, toKafkaError } from './kafka-errors.js';
export {
  DEFAULT_RETRY_POLICY,
  STAGE_RETRY_POLICY,
  RetryError,
  abortableSleep,
  backoffDelayMs,
  isRetryStopped,
  retry,
} from './retry.js';
export type { RetryFailure, RetryOptions, RetryPolicy } from './retry.js';
export { StageHealth, combineHealth } from './health.js';
export type { StageHealthOptions, StageHealthReport } from './health.js';
export {
  readConfig,
  readConfigs,
  configDocRows,
  consumerTimeoutProblems,
  parse,
  LOG_LEVELS,
  sharedVars,
} from './config.js';
export type { VarSpec, ConfigOf, LogLevel } from './config.js';
export {
  SASL_MECHANISMS,
  codecFromConfig,
  connectConfigSpec,
  connectProblems,
  initCodec,
  kafkaSecurityConfigSpec,
  kafkaSecurityFromConfig,
  kafkaSecurityProblems,
  schemaRegistryConfigSpec,
  schemaRegistryFromConfig,
  schemaRegistryProblems,
  topicCreationFromConfig,
  topicNamesFromConfig,
  topicsConfigSpec,
  topicsProblems,
} from './connect-config.js';
export type {
  ConnectConfig,
  KafkaSecurity,
  KafkaSecurityConfig,
  SaslMechanism,
  SchemaRegistryConfig,
  TopicCreation,
  TopicsConfig,
} from './connect-config.js';
export { createRootLogger, redactingStream, REDACT_PATHS } from './logger.js';
export { REDACTED, isSensitiveName, redactText, redactUrl, redactValue } from './redact.js';
export type { Logger } from './logger.js';
export { createKafka, chunkMessages } from './kafka.js';
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
  SendOptions,
  TopicSpec,
  TopicPartitionOffset,
  TransactionalBatch,
  TransactionalProducer,
} from './kafka.js';
export { createMetrics, Counter, Gauge, Histogram, Registry } from './metrics.js';
export type { CoreMetrics } from './metrics.js';
export {
  DEAD_LETTER_KEY_MAX_BYTES,
  DEFAULT_DEAD_LETTER_MAX_BYTES,
  buildDeadLetter,
  createDeadLetterPublisher,
  deadLetterBatchBytes,
  deadLetterTopicConfigs,
  incomingRecordBytes,
  recordBatchBytes,
  recordDeadLetters,
  resolveDeadLetterMaxBytes,
  toDeadLetter,
} from './dead-letter.js';
export type {
  BuiltDeadLetter,
  DeadLetterBuildOptions,
  DeadLetterItem,
  DeadLetterPublisher,
  Rejection,
} from './dead-letter.js';
export { INPUT_RECORD_TOO_LARGE, runStage } from './consumer-runner.js';
export type { Decoded, DecodeResult, StageRunnerOptions } from './consumer-runner.js';
export { DEFAULT_SHUTDOWN_TIMEOUT_MS, armShutdownDeadline, onShutdown } from './shutdown.js';
export type { ShutdownOptions } from './shutdown.js';
export { fatalExit, fatalLine, requiredStandalone, runMain } from './run-main.js';
export type { RunMainOptions } from './run-main.js';
export { kafkajsPatched } from './kafkajs-patch.js';
