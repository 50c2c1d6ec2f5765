/**
 * The analyst queries behind the API, as SQL text. Every value is a bound parameter (`{name:Type}`); the only
 * text ever composed is from fixed fragments chosen by whitelisted enums (dimensions, buckets, optional filters).
 * Times are epoch milliseconds in and out (`*_ms`), so both backends and all clients agree on one shape.
 *
 * Common parameters: {from_ms:Int64}, {to_ms:Int64} (half-open [from, to) on the path anchor `path_at`),
 * optional {tenant:String}, {operation:String}, {channel:String}, {route:String}, {provider:String}.
 */

/** Dimensions a result may be grouped by (API name -> column). */
export const GROUP_DIMENSIONS = Object.freeze({
  tenant: 'tenant_id',
  operation: 'operation',
  channel: 'channel',
  route: 'route',
  provider: 'provider',
} as const);
export type GroupDimension = keyof typeof GROUP_DIMENSIONS;
export const GROUP_DIMENSION_NAMES = Object.freeze(Object.keys(GROUP_DIMENSIONS) as GroupDimension[]);

/** Time buckets for series. */
export const BUCKETS = Object.freeze({ none: 0, hour: 3600, day: 86_400 } as const);
export type BucketName = keyof typeof BUCKETS;

export interface Filters {
  tenant?: string | undefined;
  operation?: string | undefined;
  channel?: string | undefined;
  route?: string | undefined;
  provider?: string | undefined;
}

/** `AND col = {param:String}` for each filter that is set (text from fixed fragments only). */
export function filterSql(f: Filters): string {
  let s = '';
  if (f.tenant !== undefined) s += ' AND tenant_id = {tenant:String}';
  if (f.operation !== undefined) s += ' AND operation = {operation:String}';
  if (f.channel !== undefined) s += ' AND channel = {channel:String}';
  if (f.route !== undefined) s += ' AND route = {route:String}';
  if (f.provider !== undefined) s += ' AND provider = {provider:String}';
  return s;
}

export function filterParams(f: Filters): Record<string, string> {
  const p: Record<string, string> = {};
  for (const k of ['tenant', 'operation', 'channel', 'route', 'provider'] as const) {
    const v = f[k];
    if (v !== undefined) p[k] = v;
  }
  return p;
}

const WINDOW = `path_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND path_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`;
const NOT_ORPHAN = `verdict NOT IN ('orphan_callback', 'orphan_dispatch')`;

function dimsSelect(dims: readonly GroupDimension[]): string {
  return dims.map((d) => `${GROUP_DIMENSIONS[d]} AS ${d}`).join(', ');
}

/** One request's latest version with everything needed for a timeline. Params: {request_id:String}[, {tenant:String}]. */
export function timelineSql(withTenant: boolean): string {
  return `SELECT
    tenant_id, request_id, version, verdict_id, verdict, provisional, is_correction, previous_verdict,
    error_category, error_code, flags, api_ok, execution_ok, outcome_ok, fired_by,
    toString(watermark_lag_ms)                                   AS watermark_lag_ms,
    toUnixTimestamp64Milli(decided_at)                           AS decided_at_ms,
    toUnixTimestamp64Milli(emitted_at)                           AS emitted_at_ms,
    operation, channel, input_fingerprint, attributes,
    toUnixTimestamp64Milli(path_at)                              AS path_at_ms,
    toUnixTimestamp64Milli(accepted_at)                          AS accepted_at_ms,
    sla_ms, give_up_ms,
    toUnixTimestamp64Milli(first_dispatch_at)                    AS first_dispatch_at_ms,
    toUnixTimestamp64Milli(provider_accepted_at)                 AS provider_accepted_at_ms,
    toUnixTimestamp64Milli(final_at)                             AS final_at_ms,
    evidence_level, callbacks, duplicate_callbacks,
    route, provider, attempt_count, dispatch_ms, provider_ms, delivery_ms, e2e_ms,
    attempts.attempt_id                                          AS a_attempt_id,
    attempts.attempt_no                                          AS a_attempt_no,
    attempts.reason                                              AS a_reason,
    attempts.route                                               AS a_route,
    attempts.provider                                            AS a_provider,
    attempts.provider_message_id                                 AS a_provider_message_id,
    attempts.submit_outcome                                      AS a_submit_outcome,
    arrayMap(x -> toUnixTimestamp64Milli(x), attempts.dispatched_at)  AS a_dispatched_at_ms,
    attempts.last_status                                         AS a_last_status,
    arrayMap(x -> toUnixTimestamp64Milli(x), attempts.last_status_at) AS a_last_status_at_ms,
    hops.kind                                                    AS h_kind,
    arrayMap(x -> toUnixTimestamp64Milli(x), hops.at)            AS h_at_ms,
    hops.detail                                                  AS h_detail
FROM path_records FINAL
WHERE request_id = {request_id:String}${withTenant ? ' AND tenant_id = {tenant:String}' : ''}
LIMIT 10`;
}

/** Every version of one request's verdict, oldest first. Params: {request_id:String}, {tenant:String}. */
export const VERSIONS_SQL = `SELECT
    version, verdict, provisional, is_correction, previous_verdict, error_code, flags, fired_by,
    toString(watermark_lag_ms)          AS watermark_lag_ms,
    toUnixTimestamp64Milli(decided_at)  AS decided_at_ms,
    toUnixTimestamp64Milli(emitted_at)  AS emitted_at_ms
FROM path_versions FINAL
WHERE request_id = {request_id:String} AND tenant_id = {tenant:String}
ORDER BY version`;

/**
 * Latency percentiles and on-time rate from the rollups (dashboard path). Whole days inside the window come from
 * the daily rollup, the edge hours from the hourly one (hourly series read the hourly rollup only); each level is
 * read at its current generation. Params: {hour_lo_ms}, {day_lo_ms}, {day_hi_ms}, {to_ms} (see `rollupWindow`),
 * {step_s:UInt32} (bucket width), {limit}, filters. `stage` picks the histogram column (percentiles are read
 * from the merged histogram in TypeScript).
 */
export function latencySql(
  dims: readonly GroupDimension[],
  bucket: BucketName,
  stage: LatencyStage,
  f: Filters,
): string {
  const histogram = `${stage}_h`;
  const bucketExpr =
    bucket === 'none'
      ? `toInt64(0)`
      : `toInt64(toUnixTimestamp(toStartOfInterval(bucket, INTERVAL {step_s:UInt32} SECOND))) * 1000`;
  const tenantFilter = f.tenant !== undefined ? ' AND tenant_id = {tenant:String}' : '';
  const ms = (p: string): string => `fromUnixTimestamp64Milli({${p}:Int64}, 'UTC')`;
  const level = (table: string, generations: string, range: string, genRange: string): string =>
    `SELECT * FROM ${table}
        WHERE ${range}${filterSql(f)}
          AND (tenant_id, bucket, refresh_id) IN (
                SELECT tenant_id, bucket, refresh_id FROM ${generations} FINAL
                WHERE ${genRange}${tenantFilter})`;
  const hourlyRange =
    bucket === 'hour'
      ? `bucket >= ${ms('hour_lo_ms')} AND bucket < ${ms('to_ms')}`
      : `((bucket >= ${ms('hour_lo_ms')} AND bucket < ${ms('day_lo_ms')}) OR (bucket >= ${ms('day_hi_ms')} AND bucket < ${ms('to_ms')}))`;
  const hourly = level(
    'path_rollup_hourly',
    'path_rollup_generations',
    hourlyRange,
    `bucket >= ${ms('hour_lo_ms')} AND bucket < ${ms('to_ms')}`,
  );
  const dayRange = `bucket >= ${ms('day_lo_ms')} AND bucket < ${ms('day_hi_ms')}`;
  const daily = level('path_rollup_daily', 'path_rollup_daily_generations', dayRange, dayRange);
  const source = bucket === 'hour' ? `(${hourly})` : `(${daily}\n    UNION ALL\n    ${hourly})`;
  const groupCols = ['bucket_start_ms', ...dims].join(', ');
  return `SELECT
    ${bucketExpr}                                   AS bucket_start_ms${dims.length ? `,\n    ${dimsSelect(dims)}` : ''},
    sum(requests)                                  AS requests,
    sum(settled)                                   AS settled,
    sum(on_time)                                   AS on_time,
    sum(late)                                      AS late,
    sum(failed)                                    AS failed,
    sum(missing_dispatch) + sum(missing_outcome)   AS missing,
    sum(expired)                                   AS expired,
    sum(overdue)                                   AS overdue,
    sum(orphans)                                   AS orphans,
    sum(retried)                                   AS retried,
    sum(failed_over)                               AS failed_over,
    sum(corrected)                                 AS corrected,
    sum(execution_ok)                              AS execution_ok,
    sum(e2e_count)                                 AS e2e_count,
    sum(e2e_sum_ms)                                AS e2e_sum_ms,
    sumMap(${histogram})                            AS h
FROM ${source}
GROUP BY ${groupCols}
HAVING requests > 0
ORDER BY ${groupCols}
LIMIT {limit:UInt32}`;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Splits [from, to) into the hourly edges and the whole days between them: hour_lo = start of from's hour;
 * [day_lo, day_hi) = whole UTC days inside the window (empty, at `to`, when there is none).
 */
export function rollupWindow(
  fromMs: number,
  toMs: number,
): { hour_lo_ms: number; day_lo_ms: number; day_hi_ms: number; to_ms: number } {
  const dayLo = Math.ceil(fromMs / DAY_MS) * DAY_MS;
  const dayHi = Math.floor(toMs / DAY_MS) * DAY_MS;
  const none = dayLo >= dayHi;
  return {
    hour_lo_ms: Math.floor(fromMs / HOUR_MS) * HOUR_MS,
    day_lo_ms: none ? toMs : dayLo,
    day_hi_ms: none ? toMs : dayHi,
    to_ms: toMs,
  };
}
export const LATENCY_STAGES = Object.freeze(['e2e', 'dispatch', 'provider', 'delivery'] as const);
export type LatencyStage = (typeof LATENCY_STAGES)[number];

/** Settled outcome classes compared by the variance queries (overdue is provisional, orphans have no input). */
export const SETTLED_CLASSES = Object.freeze([
  'delivered_on_time',
  'delivered_late',
  'failed',
  'missing_dispatch',
  'missing_outcome',
  'expired',
] as const);
const CLASS_COUNTS = `[${SETTLED_CLASSES.map((c) => `countIf(verdict = '${c}')`).join(', ')}]`;

/**
 * Same input, different outcome, pass 1 (one row): per input fingerprint with >= {min_requests} settled requests,
 * the count per outcome class; window totals (consistency score = requests that got their input's modal outcome
 * / all requests) and the {limit} least consistent fingerprints as (input_fp, requests off the modal outcome,
 * requests). Keyed by the UInt64 `input_fp` with fixed-size states only: no strings, no window functions.
 */
export function sameInputSummarySql(f: Filters): string {
  return `SELECT
    count()                    AS fingerprints,
    countIf(outcomes > 1)      AS inconsistent_fingerprints,
    sum(n)                     AS total_requests,
    sum(modal)                 AS total_modal,
    arraySlice(arraySort(x -> (-x.2, -x.3, x.1), groupArrayIf((toString(input_fp), n - modal, n), outcomes > 1)), 1, {limit:UInt32}) AS top
FROM (
    SELECT input_fp, count() AS n, ${CLASS_COUNTS} AS cs, arrayMax(cs) AS modal, arrayCount(x -> x > 0, cs) AS outcomes
    FROM path_records FINAL
    WHERE ${WINDOW} AND NOT provisional AND ${NOT_ORPHAN}${filterSql(f)}
    GROUP BY input_fp
    HAVING n >= {min_requests:UInt32}
)`;
}

/** Same input, pass 2: details of the chosen fingerprints ({fps:Array(String)} of input_fp; bloom-filter lookups). */
export function sameInputDetailSql(f: Filters): string {
  return `SELECT toString(input_fp) AS input_fp, any(input_fingerprint) AS input_fingerprint, verdict, count() AS c,
       groupUniqArray(8)(provider) AS providers,
       argMax(request_id, path_at) AS last_request, toUnixTimestamp64Milli(max(path_at)) AS last_at_ms
FROM path_records FINAL
WHERE ${WINDOW} AND NOT provisional AND ${NOT_ORPHAN}${filterSql(f)}
  AND input_fp IN (SELECT toUInt64(arrayJoin({fps:Array(String)})))
GROUP BY input_fp, verdict`;
}

function bucketOf(bucket: BucketName): string {
  return bucket === 'none'
    ? 'toInt64(0)'
    : `toInt64(toUnixTimestamp(toStartOfInterval(path_at, INTERVAL {step_s:UInt32} SECOND))) * 1000`;
}

/**
 * Flip rates in one pass over the latest versions: per (bucket, dims) the settled requests, those whose final
 * verdict was corrected (the latest version is a correction: every version after a final one is), and the
 * repeated inputs (>= 2 settled requests) with how many of them did not always get the same outcome
 * (`min(verdict) != max(verdict)`: no uniqExact state per input).
 */
export function flipRateSql(dims: readonly GroupDimension[], bucket: BucketName, f: Filters): string {
  const inner = ['bucket_start_ms', ...dims].join(', ');
  return `SELECT ${inner},
       sum(n)                             AS settled_requests,
       sum(nc)                            AS corrected_requests,
       countIf(n >= 2)                    AS repeated_inputs,
       countIf(n >= 2 AND mn != mx)       AS flipped_inputs
FROM (
    SELECT ${bucketOf(bucket)} AS bucket_start_ms${dims.length ? `, ${dimsSelect(dims)}` : ''}, input_fp,
           count() AS n, countIf(is_correction) AS nc, min(verdict) AS mn, max(verdict) AS mx
    FROM path_records FINAL
    WHERE ${WINDOW} AND NOT provisional AND ${NOT_ORPHAN}${filterSql(f)}
    GROUP BY ${inner}, input_fp
)
GROUP BY ${inner}
ORDER BY ${inner}
LIMIT {limit:UInt32}`;
}

/** Cohorts `explain` can contrast against the rest. */
export const EXPLAIN_COHORTS = Object.freeze([
  'delivered_late',
  'failed',
  'missing_dispatch',
  'missing_outcome',
  'expired',
  'overdue',
  'not_on_time',
] as const);
export type ExplainCohort = (typeof EXPLAIN_COHORTS)[number];

/**
 * Explain a cohort: every (dimension, value) of the population ranked by lift = P(cohort | value) /
 * P(cohort | not value), Laplace-smoothed so small counts do not explode; support thresholds drop noise; empty
 * values (no error code, no attribute) are not explanations. Column dimensions are aggregated with GROUPING SETS
 * straight on their LowCardinality columns (5x cheaper than expanding every row into (dimension, value) pairs);
 * flags and attributes through ARRAY JOIN; the empty grouping set carries the population totals.
 * Params: window, filters, {cohort:String}, {min_support:UInt32}, {min_cohort:UInt32}, {limit:UInt32}.
 */
export function explainSql(cohort: ExplainCohort, f: Filters): string {
  const inCohort = cohort === 'not_on_time' ? `verdict != 'delivered_on_time'` : `verdict = {cohort:String}`;
  const where = `${WINDOW} AND ${NOT_ORPHAN}${filterSql(f)}`;
  const cols = [
    ['route', 'route'],
    ['provider', 'provider'],
    ['first_provider', 'first_provider'],
    ['operation', 'operation'],
    ['channel', 'channel'],
    ['attempts', 'attempt_count'],
    ['error_code', 'error_code'],
  ] as const;
  // With group_by_use_nulls, a row of grouping set (c) has every other column NULL; () has all NULL.
  const dimension = `multiIf(${cols.map(([name, c]) => `${c} IS NOT NULL, '${name}'`).join(', ')}, '*')`;
  const value = `coalesce(${cols.map(([, c]) => `toString(${c})`).join(', ')}, '*')`;
  return `SELECT dimension, value, support, cohort_count, cohort_rate, rest_rate, lift, population, population_cohort
FROM (
    SELECT dimension, value, support, cohort_count,
        max(if(dimension = '*', support, 0)) OVER ()           AS population,
        max(if(dimension = '*', cohort_count, 0)) OVER ()      AS population_cohort,
        cohort_count / support                                 AS cohort_rate,
        (population_cohort - cohort_count) / greatest(population - support, 1) AS rest_rate,
        ((cohort_count + 1) / (support + 2)) / ((population_cohort - cohort_count + 1) / (population - support + 2)) AS lift
    FROM (
        SELECT ${dimension} AS dimension, ${value} AS value, count() AS support, countIf(${inCohort}) AS cohort_count
        FROM path_records FINAL
        WHERE ${where}
        GROUP BY GROUPING SETS (${cols.map(([, c]) => `(${c})`).join(', ')}, ())
        UNION ALL
        SELECT 'flag', toString(fl), count(), countIf(${inCohort})
        FROM path_records FINAL ARRAY JOIN flags AS fl
        WHERE ${where}
        GROUP BY fl
        UNION ALL
        SELECT concat('attr.', toString(ak)), toString(av), count(), countIf(${inCohort})
        FROM path_records FINAL ARRAY JOIN attributes.keys AS ak, attributes.values AS av
        WHERE ${where}
        GROUP BY ak, av
    )
)
WHERE dimension != '*' AND value != '' AND support >= {min_support:UInt32} AND cohort_count >= {min_cohort:UInt32}
ORDER BY lift DESC, support DESC, dimension, value
LIMIT {limit:UInt32}
SETTINGS group_by_use_nulls = 1`;
}

/** Classes an open anomaly can have: overdue (SLA passed, no outcome yet) or missing (give-up passed). */
export const ANOMALY_KINDS = Object.freeze(['overdue', 'missing_dispatch', 'missing_outcome'] as const);
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** Open anomalies: latest version still overdue or missing. Params: window, filters, {kinds:Array(String)}, {limit:UInt32}. */
export function openAnomaliesSql(f: Filters): string {
  return `SELECT
    tenant_id, request_id, version, verdict, provisional, operation, channel, route, provider, attempt_count, fired_by,
    toUnixTimestamp64Milli(accepted_at)  AS accepted_at_ms,
    toUnixTimestamp64Milli(path_at)      AS path_at_ms,
    toUnixTimestamp64Milli(decided_at)   AS decided_at_ms,
    sla_ms, give_up_ms
FROM path_records FINAL
WHERE ${WINDOW} AND verdict IN {kinds:Array(String)}${filterSql(f)}
ORDER BY path_at ASC, request_id
LIMIT {limit:UInt32}`;
}

export function anomalyCountsSql(f: Filters): string {
  return `SELECT verdict, count() AS n
FROM path_records FINAL
WHERE ${WINDOW} AND verdict IN {kinds:Array(String)}${filterSql(f)}
GROUP BY verdict`;
}
