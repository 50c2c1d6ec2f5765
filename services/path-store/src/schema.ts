/**
 * The path store's DDL as ordered migrations. Never edit an applied migration: add a new one (the checksum check
 * stops start-up otherwise). Design notes for every choice are in the package's SCHEMA.md.
 */
import type { Migration } from './migrations.js';

const PATH_RECORDS = `CREATE TABLE IF NOT EXISTS path_records
(
    tenant_id            LowCardinality(String),
    request_id           String                                   CODEC(ZSTD(1)),
    path_at              DateTime64(3, 'UTC')                     CODEC(Delta(8), ZSTD(1)),
    version              UInt32                                   CODEC(T64, ZSTD(1)),
    verdict_id           String                                   CODEC(ZSTD(1)),
    verdict              LowCardinality(String),
    provisional          Bool,
    is_correction        Bool,
    previous_verdict     LowCardinality(String),
    error_category       LowCardinality(String),
    error_code           LowCardinality(String),
    flags                Array(LowCardinality(String)),
    api_ok               Bool,
    execution_ok         Nullable(Bool),
    outcome_ok           Nullable(Bool),
    fired_by             LowCardinality(String),
    watermark_lag_ms     Int64                                    CODEC(T64, ZSTD(1)),
    decided_at           DateTime64(3, 'UTC')                     CODEC(Delta(8), ZSTD(1)),
    emitted_at           DateTime64(3, 'UTC')                     CODEC(Delta(8), ZSTD(1)),
    operation            LowCardinality(String),
    channel              LowCardinality(String),
    input_fingerprint    String                                   CODEC(ZSTD(1)),
    attributes           Map(LowCardinality(String), String)      CODEC(ZSTD(1)),
    accepted_at          Nullable(DateTime64(3, 'UTC'))           CODEC(Delta(8), ZSTD(1)),
    sla_ms               UInt32                                   CODEC(T64, ZSTD(1)),
    give_up_ms           UInt32                                   CODEC(T64, ZSTD(1)),
    first_dispatch_at    Nullable(DateTime64(3, 'UTC'))           CODEC(Delta(8), ZSTD(1)),
    provider_accepted_at Nullable(DateTime64(3, 'UTC'))           CODEC(Delta(8), ZSTD(1)),
    final_at             Nullable(DateTime64(3, 'UTC'))           CODEC(Delta(8), ZSTD(1)),
    evidence_level       LowCardinality(String),
    callbacks            UInt32                                   CODEC(T64, ZSTD(1)),
    duplicate_callbacks  UInt32                                   CODEC(T64, ZSTD(1)),
    attempts Nested
    (
        attempt_id          String,
        attempt_no          UInt16,
        reason              LowCardinality(String),
        route               LowCardinality(String),
        provider            LowCardinality(String),
        provider_message_id Nullable(String),
        submit_outcome      LowCardinality(String),
        dispatched_at       DateTime64(3, 'UTC'),
        last_status         LowCardinality(Nullable(String)),
        last_status_at      Nullable(DateTime64(3, 'UTC'))
    ),
    hops Nested
    (
        kind   LowCardinality(String),
        at     DateTime64(3, 'UTC'),
        detail String
    ),
    route                LowCardinality(String)  MATERIALIZED attempts.route[-1],
    provider             LowCardinality(String)  MATERIALIZED attempts.provider[-1],
    first_provider       LowCardinality(String)  MATERIALIZED attempts.provider[1],
    attempt_count        UInt16                  MATERIALIZED length(attempts.attempt_id),
    input_fp             UInt64                  MATERIALIZED cityHash64(input_fingerprint),
    dispatch_ms          Nullable(Int64)         MATERIALIZED dateDiff('millisecond', accepted_at, first_dispatch_at),
    provider_ms          Nullable(Int64)         MATERIALIZED dateDiff('millisecond', first_dispatch_at, provider_accepted_at),
    delivery_ms          Nullable(Int64)         MATERIALIZED dateDiff('millisecond', provider_accepted_at, final_at),
    e2e_ms               Nullable(Int64)         MATERIALIZED dateDiff('millisecond', accepted_at, final_at),
    is_deleted           UInt8                   DEFAULT 0,
    written_at           DateTime64(3, 'UTC')    DEFAULT now64(3) CODEC(Delta(8), ZSTD(1)),
    INDEX idx_request_id request_id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_input_fp   input_fp   TYPE bloom_filter(0.01)  GRANULARITY 1
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(path_at)
ORDER BY (tenant_id, toDate(path_at), request_id)
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000`;

const PATH_VERSIONS = `CREATE TABLE IF NOT EXISTS path_versions
(
    tenant_id        LowCardinality(String),
    request_id       String                        CODEC(ZSTD(1)),
    path_at          DateTime64(3, 'UTC')          CODEC(Delta(8), ZSTD(1)),
    version          UInt32,
    operation        LowCardinality(String),
    channel          LowCardinality(String),
    route            LowCardinality(String),
    provider         LowCardinality(String),
    verdict          LowCardinality(String),
    provisional      Bool,
    is_correction    Bool,
    previous_verdict LowCardinality(String),
    error_code       LowCardinality(String),
    flags            Array(LowCardinality(String)),
    fired_by         LowCardinality(String),
    watermark_lag_ms Int64                         CODEC(T64, ZSTD(1)),
    decided_at       DateTime64(3, 'UTC')          CODEC(Delta(8), ZSTD(1)),
    emitted_at       DateTime64(3, 'UTC')          CODEC(Delta(8), ZSTD(1)),
    INDEX idx_request_id request_id TYPE bloom_filter(0.001) GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(path_at)
ORDER BY (tenant_id, toDate(path_at), request_id, version)
SETTINGS non_replicated_deduplication_window = 1000`;

const PATH_VERSIONS_MV = `CREATE MATERIALIZED VIEW IF NOT EXISTS path_versions_mv TO path_versions AS
SELECT tenant_id, request_id, path_at, version, operation, channel, route, provider, verdict, provisional, is_correction, previous_verdict, error_code,
       flags, fired_by, watermark_lag_ms, decided_at, emitted_at
FROM path_records
WHERE is_deleted = 0`;

const QUANTILES = 'quantilesTDigest(0.5, 0.9, 0.95, 0.99)';

const ROLLUP = `CREATE TABLE IF NOT EXISTS path_rollup_hourly
(
    tenant_id         LowCardinality(String),
    bucket            DateTime('UTC'),
    operation         LowCardinality(String),
    channel           LowCardinality(String),
    route             LowCardinality(String),
    provider          LowCardinality(String),
    refresh_id        UInt64,
    requests          UInt64,
    settled           UInt64,
    on_time           UInt64,
    late              UInt64,
    failed            UInt64,
    missing_dispatch  UInt64,
    missing_outcome   UInt64,
    expired           UInt64,
    overdue           UInt64,
    orphans           UInt64,
    retried           UInt64,
    failed_over       UInt64,
    corrected         UInt64,
    execution_ok      UInt64,
    e2e_count         UInt64,
    e2e_sum_ms        Int64,
    e2e_q             AggregateFunction(${QUANTILES}, Int64),
    dispatch_q        AggregateFunction(${QUANTILES}, Int64),
    provider_q        AggregateFunction(${QUANTILES}, Int64),
    delivery_q        AggregateFunction(${QUANTILES}, Int64),
    computed_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(refresh_id)
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, bucket, operation, channel, route, provider)
SETTINGS non_replicated_deduplication_window = 1000`;

const ROLLUP_GENERATIONS = `CREATE TABLE IF NOT EXISTS path_rollup_generations
(
    tenant_id    LowCardinality(String),
    bucket       DateTime('UTC'),
    refresh_id   UInt64,
    computed_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(refresh_id)
ORDER BY (tenant_id, bucket)
SETTINGS non_replicated_deduplication_window = 1000`;

const PATHS_VIEW = `CREATE VIEW IF NOT EXISTS paths AS
SELECT *, route, provider, first_provider, attempt_count, input_fp, dispatch_ms, provider_ms, delivery_ms, e2e_ms
FROM path_records FINAL`;

// Offsets are committed once an insert returns, so the part must survive a host crash, not only a process crash.
// With 50k-row blocks the fsync cost is within measurement noise.
const FSYNC = [
  'ALTER TABLE path_records MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1',
  'ALTER TABLE path_versions MODIFY SETTING fsync_after_insert = 1, fsync_part_directory = 1',
];

// Rollups v2: log-bucketed histograms (Map(UInt16, UInt64), merged with sumMap) instead of t-digest states; see
// latency-histogram.ts. Rollups are derived data: the tables are recreated and the refresher rebuilds them
// (generations are emptied, so the first refresh re-aggregates the correction window; older ranges with
// rebuildRollups).
const HIST_ROLLUP = `CREATE TABLE IF NOT EXISTS path_rollup_hourly
(
    tenant_id         LowCardinality(String),
    bucket            DateTime('UTC'),
    operation         LowCardinality(String),
    channel           LowCardinality(String),
    route             LowCardinality(String),
    provider          LowCardinality(String),
    refresh_id        UInt64,
    requests          UInt64,
    settled           UInt64,
    on_time           UInt64,
    late              UInt64,
    failed            UInt64,
    missing_dispatch  UInt64,
    missing_outcome   UInt64,
    expired           UInt64,
    overdue           UInt64,
    orphans           UInt64,
    retried           UInt64,
    failed_over       UInt64,
    corrected         UInt64,
    execution_ok      UInt64,
    e2e_count         UInt64,
    e2e_sum_ms        Int64,
    e2e_h             Map(UInt16, UInt64),
    dispatch_h        Map(UInt16, UInt64),
    provider_h        Map(UInt16, UInt64),
    delivery_h        Map(UInt16, UInt64),
    computed_at       DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(refresh_id)
PARTITION BY toYYYYMM(bucket)
ORDER BY (tenant_id, bucket, operation, channel, route, provider)
SETTINGS non_replicated_deduplication_window = 1000`;

export const PATH_STORE_MIGRATIONS: readonly Migration[] = Object.freeze([
  { id: 1, name: 'path_records', statements: [PATH_RECORDS] },
  { id: 2, name: 'path_versions', statements: [PATH_VERSIONS, PATH_VERSIONS_MV] },
  { id: 3, name: 'path_rollup_hourly', statements: [ROLLUP, ROLLUP_GENERATIONS] },
  { id: 4, name: 'paths_view', statements: [PATHS_VIEW] },
  { id: 5, name: 'fsync_inserts', statements: FSYNC },
  {
    id: 6,
    name: 'path_rollup_daily',
    statements: [
      'CREATE TABLE IF NOT EXISTS path_rollup_daily AS path_rollup_hourly',
      'CREATE TABLE IF NOT EXISTS path_rollup_daily_generations AS path_rollup_generations',
    ],
  },
  {
    id: 7,
    name: 'rollup_histograms',
    statements: [
      'DROP TABLE IF EXISTS path_rollup_daily',
      'DROP TABLE IF EXISTS path_rollup_hourly',
      HIST_ROLLUP,
      'CREATE TABLE IF NOT EXISTS path_rollup_daily AS path_rollup_hourly',
      'TRUNCATE TABLE IF EXISTS path_rollup_generations',
      'TRUNCATE TABLE IF EXISTS path_rollup_daily_generations',
    ],
  },
  {
    // Verdict schema v2: how a version relates to the previous one, the evidence time it rests on, the provider
    // clock skew measured on the request (per provider: GROUP BY provider). Latencies can no longer be negative
    // (the reconciler bounds evidence times); greatest(0, …) (null legs stay null) keeps rows written before that from a skewed
    // provider clock out of the percentiles too.
    id: 8,
    name: 'revisions_and_skew',
    statements: [
      "ALTER TABLE path_records ADD COLUMN IF NOT EXISTS revision_kind LowCardinality(String) DEFAULT '' AFTER is_correction",
      "ALTER TABLE path_records ADD COLUMN IF NOT EXISTS evidence_at Nullable(DateTime64(3, 'UTC')) AFTER decided_at",
      'ALTER TABLE path_records ADD COLUMN IF NOT EXISTS clock_skew_ms Nullable(Int64) AFTER final_at',
      "ALTER TABLE path_records MODIFY COLUMN dispatch_ms Nullable(Int64) MATERIALIZED if(accepted_at IS NULL OR first_dispatch_at IS NULL, NULL, greatest(0, dateDiff('millisecond', assumeNotNull(accepted_at), assumeNotNull(first_dispatch_at))))",
      "ALTER TABLE path_records MODIFY COLUMN provider_ms Nullable(Int64) MATERIALIZED if(first_dispatch_at IS NULL OR provider_accepted_at IS NULL, NULL, greatest(0, dateDiff('millisecond', assumeNotNull(first_dispatch_at), assumeNotNull(provider_accepted_at))))",
      "ALTER TABLE path_records MODIFY COLUMN delivery_ms Nullable(Int64) MATERIALIZED if(provider_accepted_at IS NULL OR final_at IS NULL, NULL, greatest(0, dateDiff('millisecond', assumeNotNull(provider_accepted_at), assumeNotNull(final_at))))",
      "ALTER TABLE path_records MODIFY COLUMN e2e_ms Nullable(Int64) MATERIALIZED if(accepted_at IS NULL OR final_at IS NULL, NULL, greatest(0, dateDiff('millisecond', assumeNotNull(accepted_at), assumeNotNull(final_at))))",
      // The view's SELECT * was expanded when it was created: recreate it so it has the new columns.
      'DROP VIEW IF EXISTS paths',
      PATHS_VIEW,
    ],
  },
]);

/**
 * The schema as it stands after every migration, one statement per object in dependency order, for a ClickHouse
 * cluster set up by hand (cluster-ddl.ts turns these into replicated `ON CLUSTER` DDL).
 */
export const PATH_STORE_FINAL_OBJECTS: readonly { readonly name: string; readonly ddl: string }[] =
  Object.freeze([
    { name: 'path_records', ddl: PATH_RECORDS },
    { name: 'path_versions', ddl: PATH_VERSIONS },
    { name: 'path_versions_mv', ddl: PATH_VERSIONS_MV },
    { name: 'path_rollup_hourly', ddl: HIST_ROLLUP },
    { name: 'path_rollup_daily', ddl: HIST_ROLLUP.replace('path_rollup_hourly', 'path_rollup_daily') },
    { name: 'path_rollup_generations', ddl: ROLLUP_GENERATIONS },
    {
      name: 'path_rollup_daily_generations',
      ddl: ROLLUP_GENERATIONS.replace('path_rollup_generations', 'path_rollup_daily_generations'),
    },
    { name: 'paths', ddl: PATHS_VIEW },
  ]);

/** Tables whose inserts must survive a host crash (migration 5). */
export const FSYNC_TABLES: readonly string[] = Object.freeze(['path_records', 'path_versions']);
