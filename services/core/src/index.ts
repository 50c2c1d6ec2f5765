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
export { DEFAULT_SHUTDOWN_TIMEOUT_MS, armShutdownDeadline, onShutdown } from './shutdown.js';
export type { ShutdownOptions } from './shutdown.js';
export { StoreError } from './errors.js';
export { dataDirHolder, openClickHouse, toStoreError } from './clickhouse/client.js';
export { readonlyUserDdl } from './clickhouse/readonly-user.js';
export { loadFunctionCatalog } from './clickhouse/sql-run.js';
export type { SqlRefusalReason } from './clickhouse/sql-guard.js';
export type {
  ClickHouse,
  ClickHouseOptions,
  EmbeddedClickHouseOptions,
  ServerClickHouseOptions,
  QueryParams,
  ReadonlySqlLimits,
  SqlResult,
} from './clickhouse/client.js';
export { applyMigrations, migrationChecksum } from './clickhouse/migrations.js';
export type { Migration, MigrationReport } from './clickhouse/migrations.js';
export { PATH_STORE_MIGRATIONS } from './clickhouse/schema.js';
export { clusterDdl } from './clickhouse/cluster-ddl.js';
export type { ClusterDdlOptions } from './clickhouse/cluster-ddl.js';
export { NativeWriter } from './clickhouse/native.js';
export {
  PATH_INSERT_COLUMNS,
  PathBlockEncoder,
  encodePathRows,
  pathAnchorMs,
  storeRowProblem,
} from './clickhouse/path-encoding.js';
export { RollupRefresher } from './clickhouse/rollups.js';
export type { RollupRefreshOptions, RollupRefreshReport } from './clickhouse/rollups.js';
export {
  ANOMALY_KINDS,
  BUCKETS,
  EXPLAIN_COHORTS,
  GROUP_DIMENSION_NAMES,
  LATENCY_STAGES,
} from './clickhouse/queries.sql.js';
export type {
  AnomalyKind,
  BucketName,
  ExplainCohort,
  Filters,
  GroupDimension,
  LatencyStage,
} from './clickhouse/queries.sql.js';
export { openPathStore } from './clickhouse/path-store.js';
export type {
  AnomalyItem,
  AnomalyQuery,
  AnomalyResult,
  ExplainItem,
  ExplainQuery,
  ExplainResult,
  FlipRateQuery,
  FlipRateRow,
  LatencyQuery,
  LatencyRow,
  PathStore,
  PathStoreOptions,
  PathTimeline,
  SameInputItem,
  SameInputQuery,
  SameInputResult,
  TimeWindow,
  TimelineAttempt,
  TimelineEvent,
  VersionEntry,
} from './clickhouse/path-store.js';
export { clickhouseConfigSpec, clickhouseOptionsFromConfig } from './clickhouse/config-spec.js';
export type { ClickHouseConfig } from './clickhouse/config-spec.js';
export { advertiseSqlEndpoint, readAdvert, runSql } from './clickhouse/run-sql.js';
export type { RunSqlOptions, RunSqlResult, SqlEndpointAdvert } from './clickhouse/run-sql.js';
export { kafkajsPatched } from './kafkajs-patch.js';
export { buildHealthServer, startHealthServer } from './health-server.js';
export type { HealthServerOptions, ReadinessResult, RunningHealthServer } from './health-server.js';
export { SERVICE_HTTP_PORTS, serviceHttpVars } from './service-http-config.js';
export type { ServiceHttpPrefix } from './service-http-config.js';
