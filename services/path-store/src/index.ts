export { STORE_ERROR_CODES, StoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export { dataDirHolder, openClickHouse, toStoreError } from './client.js';
export { readonlyUserDdl } from './readonly-user.js';
export { loadFunctionCatalog } from './sql-run.js';
export type { SqlRefusalReason } from './sql-guard.js';
export type {
  ClickHouse,
  ClickHouseOptions,
  EmbeddedClickHouseOptions,
  ServerClickHouseOptions,
  QueryParams,
  ReadonlySqlLimits,
  SqlResult,
} from './client.js';
export { applyMigrations, migrationChecksum } from './migrations.js';
export type { Migration, MigrationReport } from './migrations.js';
export { PATH_STORE_MIGRATIONS } from './schema.js';
export { clusterDdl } from './cluster-ddl.js';
export type { ClusterDdlOptions } from './cluster-ddl.js';
export { NativeWriter } from './native.js';
export {
  PATH_INSERT_COLUMNS,
  PathBlockEncoder,
  encodePathRows,
  pathAnchorMs,
  storeRowProblem,
} from './path-encoding.js';
export { RollupRefresher } from './rollups.js';
export type { RollupRefreshOptions, RollupRefreshReport } from './rollups.js';
export {
  ANOMALY_KINDS,
  BUCKETS,
  EXPLAIN_COHORTS,
  GROUP_DIMENSION_NAMES,
  LATENCY_STAGES,
} from './queries.sql.js';
export type {
  AnomalyKind,
  BucketName,
  ExplainCohort,
  Filters,
  GroupDimension,
  LatencyStage,
} from './queries.sql.js';
export { openPathStore } from './path-store.js';
export { SEARCH_COHORT_NOT_ON_TIME, SEARCH_DIMENSION_COLUMNS } from './dashboard.sql.js';
export type { PipelineQuery, RequestSearchQuery } from './dashboard-store.js';
export type {
  AnomalyQuery,
  ExplainQuery,
  FlipRateQuery,
  LatencyQuery,
  PathStore,
  PathStoreOptions,
  SameInputQuery,
} from './path-store.js';
export type {
  AnomalyItem,
  AnomalyResult,
  ExplainItem,
  ExplainResult,
  FlipRateRow,
  LatencyRow,
  PathTimeline,
  PipelineBucket,
  RequestSearchItem,
  RequestSearchResult,
  SameInputItem,
  SameInputResult,
  TimeWindow,
  TimelineAttempt,
  TimelineEvent,
  VersionEntry,
} from './results.js';
export { clickhouseConfigSpec, clickhouseOptionsFromConfig } from './config-spec.js';
export type { ClickHouseConfig } from './config-spec.js';
export { advertiseSqlEndpoint, readAdvert, runSql } from './run-sql.js';
export type { RunSqlOptions, RunSqlResult, SqlEndpointAdvert } from './run-sql.js';
