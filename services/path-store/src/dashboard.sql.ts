/**
 * The queries behind the dashboard's request search (and the explain drill-down to example requests) and its
 * pipeline-health page, in their own file so they move with the rest of the path-store SQL. Same rules as
 * queries.sql.ts: every value is a bound parameter; the only composed text comes from fixed fragments chosen by
 * whitelisted names. Times are epoch milliseconds in and out.
 */
import { filterSql, type Filters } from './queries.sql.js';

const WINDOW = `path_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC') AND path_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')`;

/** Column dimensions an explain item can name (same names and columns as `explainSql`). */
export const SEARCH_DIMENSION_COLUMNS = Object.freeze({
  route: 'route',
  provider: 'provider',
  first_provider: 'first_provider',
  operation: 'operation',
  channel: 'channel',
  attempts: 'toString(attempt_count)',
  error_code: 'error_code',
} as const);

/** Verdict cohorts a search can be narrowed to: a verdict class, or every class but on time. */
export const SEARCH_COHORT_NOT_ON_TIME = 'not_on_time';

export interface RequestSearch extends Filters {
  request_id?: string | undefined;
  provider_message_id?: string | undefined;
  input_fingerprint?: string | undefined;
  /** A verdict class, or `not_on_time`. */
  cohort?: string | undefined;
  /** An explain dimension: a key of SEARCH_DIMENSION_COLUMNS, `flag`, or `attr.<key>`; with `value`. */
  dimension?: string | undefined;
  value?: string | undefined;
}

/** The WHERE fragments of a search beyond window and filters (text from fixed fragments only). */
export function searchWhereSql(s: RequestSearch): string {
  let w = '';
  if (s.request_id !== undefined) w += ' AND request_id = {request_id:String}';
  if (s.provider_message_id !== undefined)
    w += ' AND has(attempts.provider_message_id, {provider_message_id:String})';
  if (s.input_fingerprint !== undefined) w += ' AND input_fingerprint = {input_fingerprint:String}';
  if (s.cohort !== undefined)
    w +=
      s.cohort === SEARCH_COHORT_NOT_ON_TIME
        ? ` AND verdict NOT IN ('delivered_on_time', 'orphan_callback', 'orphan_dispatch')`
        : ' AND verdict = {cohort:String}';
  if (s.dimension !== undefined) {
    const col = (SEARCH_DIMENSION_COLUMNS as Record<string, string>)[s.dimension];
    if (col !== undefined) w += ` AND ${col} = {value:String}`;
    else if (s.dimension === 'flag') w += ' AND has(flags, {value:String})';
    else if (s.dimension.startsWith('attr.')) w += ' AND attributes[{attr_key:String}] = {value:String}';
  }
  return w;
}

/**
 * Requests matching a search, newest first, with what a result list shows. Params: window, filters, the search
 * fields that are set ({attr_key} for `attr.` dimensions), {limit:UInt32}.
 */
export function requestSearchSql(s: RequestSearch): string {
  return `SELECT
    tenant_id, request_id, version, verdict, provisional, is_correction, operation, channel, route, provider,
    attempt_count, input_fingerprint, sla_ms, e2e_ms, fired_by,
    toUnixTimestamp64Milli(accepted_at)  AS accepted_at_ms,
    toUnixTimestamp64Milli(path_at)      AS path_at_ms,
    arrayFilter(x -> x != '', attempts.provider_message_id) AS provider_message_ids
FROM path_records FINAL
WHERE ${WINDOW}${filterSql(s)}${searchWhereSql(s)}
ORDER BY path_at DESC, request_id
LIMIT {limit:UInt32}`;
}

/** The number of requests matching a search (the list is capped by limit). Same params as requestSearchSql. */
export function requestSearchCountSql(s: RequestSearch): string {
  return `SELECT count() AS n FROM path_records FINAL WHERE ${WINDOW}${filterSql(s)}${searchWhereSql(s)}`;
}

/**
 * Verdict versions emitted per bucket (processing time `emitted_at`), for pipeline health: how many, how many
 * final and how many corrections, what fired them (`wall_clock` means every input was idle), and the
 * watermark lag when they were decided. Reads `path_versions` (every version, not only the latest) for requests
 * anchored from {scan_from_ms} (a bound: versions of requests accepted earlier are not counted).
 * Params: {scan_from_ms:Int64}, {from_ms:Int64}, {to_ms:Int64}, {step_s:UInt32}, filters.
 */
export function versionsPerBucketSql(f: Filters): string {
  return `SELECT
    toInt64(toUnixTimestamp(toStartOfInterval(emitted_at, INTERVAL {step_s:UInt32} SECOND))) * 1000 AS bucket_start_ms,
    count()                                   AS versions,
    countIf(NOT provisional)                  AS final_versions,
    countIf(is_correction)                    AS corrections,
    countIf(fired_by = 'event')               AS fired_by_event,
    countIf(fired_by = 'watermark')           AS fired_by_watermark,
    countIf(fired_by = 'wall_clock')          AS fired_by_wall_clock,
    countIf(fired_by = 'recovery')            AS fired_by_recovery,
    toInt64(avg(watermark_lag_ms))            AS watermark_lag_avg_ms,
    max(watermark_lag_ms)                     AS watermark_lag_max_ms
FROM (SELECT * FROM path_versions FINAL
      WHERE path_at >= fromUnixTimestamp64Milli({scan_from_ms:Int64}, 'UTC')
        AND path_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')
        AND emitted_at >= fromUnixTimestamp64Milli({from_ms:Int64}, 'UTC')
        AND emitted_at < fromUnixTimestamp64Milli({to_ms:Int64}, 'UTC')${filterSql(f)})
GROUP BY bucket_start_ms
ORDER BY bucket_start_ms`;
}

/**
 * Requests accepted per bucket (event time `path_at`; orphans left out): the input rate as the store saw it.
 * Params: window, {step_s:UInt32}, filters.
 */
export function acceptedPerBucketSql(f: Filters): string {
  return `SELECT
    toInt64(toUnixTimestamp(toStartOfInterval(path_at, INTERVAL {step_s:UInt32} SECOND))) * 1000 AS bucket_start_ms,
    count() AS accepted
FROM path_records FINAL
WHERE ${WINDOW} AND verdict NOT IN ('orphan_callback', 'orphan_dispatch')${filterSql(f)}
GROUP BY bucket_start_ms
ORDER BY bucket_start_ms`;
}
