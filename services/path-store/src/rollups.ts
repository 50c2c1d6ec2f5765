/**
 * Hourly rollups that stay right under corrections. Incremental materialized views would count every version of a
 * request (they fire per inserted block), so instead a timer re-aggregates whole (tenant, hour) buckets from the
 * latest versions (`FINAL`) whenever rows of that bucket were written since the last refresh:
 *
 * 1. dirty buckets = buckets with rows whose `written_at` is after the previous refresh start (minus an overlap
 *    for inserts that were in flight), within the correction window;
 * 2. every dirty bucket is rebuilt into `path_rollup_hourly` under a new `refresh_id`;
 * 3. `path_rollup_generations` then points each bucket at that refresh_id;
 * 4. the days of those buckets are re-aggregated from the current hourly generations into `path_rollup_daily`
 *    (histograms merged with sumMap) and repointed in `path_rollup_daily_generations`, so long-range dashboards
 *    read 24x fewer rows.
 *
 * Readers take, per bucket, only rows of the generation the pointer names, so a group that disappeared from a
 * bucket (a correction moved a request to another provider) is not counted twice, and a refresh that failed
 * half-way leaves the previous complete generation visible. Works identically on chdb and a server (in chdb a
 * refreshable MV would only run while the process lives anyway).
 */
import type { Logger } from '@pathwatch/core';
import type { ClickHouse } from './client.js';
import { bucketIndexSql } from './latency-histogram.js';

export interface RollupRefreshOptions {
  /** Buckets older than this are not re-aggregated any more (late corrections there stay in raw queries only). @default 7 days */
  correctionWindowMs?: number;
  /** Re-read rows written this long before the previous refresh started (inserts in flight). @default 60000 */
  overlapMs?: number;
  /** Cap on buckets rebuilt per statement (keeps memory bounded on a backfill). @default 720 */
  bucketsPerStatement?: number;
}

export interface RollupRefreshReport {
  /** (tenant, hour) buckets rebuilt. */
  buckets: number;
  refreshIds: number[];
  durationMs: number;
}

/** Sparse latency histogram of a Nullable(Int64) leg (see latency-histogram.ts). */
const hist = (leg: string): string =>
  `sumMapIf(map(${bucketIndexSql(`assumeNotNull(${leg})`)}, toUInt64(1)), ${leg} IS NOT NULL)`;

const ROLLUP_COLUMNS = [
  'tenant_id',
  'bucket',
  'operation',
  'channel',
  'route',
  'provider',
  'refresh_id',
  'requests',
  'settled',
  'on_time',
  'late',
  'failed',
  'missing_dispatch',
  'missing_outcome',
  'expired',
  'overdue',
  'orphans',
  'retried',
  'failed_over',
  'corrected',
  'execution_ok',
  'e2e_count',
  'e2e_sum_ms',
  'e2e_h',
  'dispatch_h',
  'provider_h',
  'delivery_h',
  'computed_at',
].join(', ');

const REBUILD_SQL = `INSERT INTO path_rollup_hourly (${ROLLUP_COLUMNS})
SETTINGS insert_deduplication_token = {token:String}
SELECT
    tenant_id,
    toStartOfHour(path_at)                                         AS bucket,
    operation, channel, route, provider,
    {refresh_id:UInt64}                                            AS refresh_id,
    count()                                                        AS requests,
    countIf(NOT provisional AND verdict NOT IN ('orphan_callback', 'orphan_dispatch')) AS settled,
    countIf(verdict = 'delivered_on_time')                         AS on_time,
    countIf(verdict = 'delivered_late')                            AS late,
    countIf(verdict = 'failed')                                    AS failed,
    countIf(verdict = 'missing_dispatch')                          AS missing_dispatch,
    countIf(verdict = 'missing_outcome')                           AS missing_outcome,
    countIf(verdict = 'expired')                                   AS expired,
    countIf(verdict = 'overdue')                                   AS overdue,
    countIf(verdict IN ('orphan_callback', 'orphan_dispatch'))     AS orphans,
    countIf(has(flags, 'retried'))                                 AS retried,
    countIf(has(flags, 'failed_over'))                             AS failed_over,
    countIf(is_correction)                                         AS corrected,
    countIf(execution_ok = true)                                   AS execution_ok,
    countIf(e2e_ms IS NOT NULL)                                    AS e2e_count,
    toInt64(sumIf(assumeNotNull(e2e_ms), e2e_ms IS NOT NULL))      AS e2e_sum_ms,
    ${hist('e2e_ms')}                                                                AS e2e_h,
    ${hist('dispatch_ms')}                                                           AS dispatch_h,
    ${hist('provider_ms')}                                                           AS provider_h,
    ${hist('delivery_ms')}                                                           AS delivery_h,
    now64(3)                                                       AS computed_at
FROM path_records FINAL
WHERE path_at >= fromUnixTimestamp64Milli({lo_ms:Int64}, 'UTC')
  AND path_at <  fromUnixTimestamp64Milli({hi_ms:Int64}, 'UTC')
  AND (tenant_id, toUInt32(toUnixTimestamp(toStartOfHour(path_at))))
      IN (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {buckets:Array(UInt32)})))
GROUP BY tenant_id, bucket, operation, channel, route, provider`;

const POINT_SQL = `INSERT INTO path_rollup_generations (tenant_id, bucket, refresh_id, computed_at)
SETTINGS insert_deduplication_token = {token:String}
SELECT t.1, toDateTime(t.2, 'UTC'), {refresh_id:UInt64}, now64(3)
FROM (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {buckets:Array(UInt32)})) AS t)`;

/** Sums and histograms that roll hourly rows up into daily ones (same column order as ROLLUP_COLUMNS). */
const DAILY_FROM_HOURLY = `SELECT
    tenant_id, toStartOfDay(bucket) AS day_bucket, operation, channel, route, provider,
    {refresh_id:UInt64},
    sum(requests), sum(settled), sum(on_time), sum(late), sum(failed), sum(missing_dispatch), sum(missing_outcome),
    sum(expired), sum(overdue), sum(orphans), sum(retried), sum(failed_over), sum(corrected), sum(execution_ok),
    sum(e2e_count), sum(e2e_sum_ms),
    sumMap(e2e_h), sumMap(dispatch_h), sumMap(provider_h), sumMap(delivery_h),
    now64(3)
FROM path_rollup_hourly
WHERE bucket >= fromUnixTimestamp64Milli({lo_ms:Int64}, 'UTC') AND bucket < fromUnixTimestamp64Milli({hi_ms:Int64}, 'UTC')
  AND (tenant_id, bucket, refresh_id) IN (
      SELECT tenant_id, bucket, refresh_id FROM path_rollup_generations FINAL
      WHERE bucket >= fromUnixTimestamp64Milli({lo_ms:Int64}, 'UTC') AND bucket < fromUnixTimestamp64Milli({hi_ms:Int64}, 'UTC'))`;

/** Rebuilds the given (tenant, day) buckets from the current hourly generations. */
const DAILY_REBUILD_SQL = `INSERT INTO path_rollup_daily (${ROLLUP_COLUMNS})
SETTINGS insert_deduplication_token = {token:String}
${DAILY_FROM_HOURLY}
  AND (tenant_id, toUInt32(toUnixTimestamp(toStartOfDay(bucket))))
      IN (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {days:Array(UInt32)})))
GROUP BY tenant_id, day_bucket, operation, channel, route, provider`;

const DAILY_POINT_SQL = `INSERT INTO path_rollup_daily_generations (tenant_id, bucket, refresh_id, computed_at)
SETTINGS insert_deduplication_token = {token:String}
SELECT t.1, toDateTime(t.2, 'UTC'), {refresh_id:UInt64}, now64(3)
FROM (SELECT arrayJoin(arrayZip({tenants:Array(String)}, {days:Array(UInt32)})) AS t)`;

/** Every (tenant, day) with hourly rows in the window (after a restart the daily level may lag the hourly one). */
const DAYS_IN_WINDOW_SQL = `SELECT tenant_id, toUInt32(toUnixTimestamp(toStartOfDay(bucket))) AS bucket
FROM path_rollup_generations FINAL
WHERE bucket >= fromUnixTimestamp64Milli({lo_ms:Int64}, 'UTC')
GROUP BY tenant_id, bucket`;

const DIRTY_SQL = `SELECT tenant_id, toUInt32(toUnixTimestamp(toStartOfHour(path_at))) AS bucket
FROM path_records
WHERE written_at >= fromUnixTimestamp64Milli({since_ms:Int64}, 'UTC')
  AND path_at >= fromUnixTimestamp64Milli({window_start_ms:Int64}, 'UTC')
GROUP BY tenant_id, bucket
ORDER BY bucket, tenant_id`;

const ALL_BUCKETS_SQL = `SELECT tenant_id, toUInt32(toUnixTimestamp(toStartOfHour(path_at))) AS bucket
FROM path_records
WHERE path_at >= fromUnixTimestamp64Milli({lo_ms:Int64}, 'UTC')
  AND path_at <  fromUnixTimestamp64Milli({hi_ms:Int64}, 'UTC')
GROUP BY tenant_id, bucket
ORDER BY bucket, tenant_id`;

interface Bucket {
  tenant_id: string;
  bucket: number;
}

/** Stateful refresher: remembers where the previous refresh started (server clock). One per process. */
export class RollupRefresher {
  private lastStartMs: number | undefined;
  private lastRefreshId = 0;
  private running: Promise<RollupRefreshReport> | undefined;
  private readonly correctionWindowMs: number;
  private readonly overlapMs: number;
  private readonly bucketsPerStatement: number;
  private readonly log: Logger;

  constructor(
    private readonly ch: ClickHouse,
    opts: RollupRefreshOptions & { logger: Logger },
  ) {
    this.correctionWindowMs = opts.correctionWindowMs ?? 7 * 86_400_000;
    this.overlapMs = opts.overlapMs ?? 60_000;
    this.bucketsPerStatement = opts.bucketsPerStatement ?? 720;
    this.log = opts.logger.child({ module: 'rollups' });
  }

  /** Rebuilds buckets written since the previous refresh. Concurrent calls share one run. */
  refresh(): Promise<RollupRefreshReport> {
    this.running ??= this.refreshOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Rebuilds every bucket with rows in [fromMs, toMs) (backfill, repair after manual deletes). */
  async rebuild(fromMs: number, toMs: number): Promise<RollupRefreshReport> {
    const started = performance.now();
    await this.loadState();
    const nowMs = await this.serverNowMs();
    const buckets = await this.ch.query<Bucket>(ALL_BUCKETS_SQL, { lo_ms: fromMs, hi_ms: toMs });
    const ids = await this.rebuildBuckets(
      buckets.map((b) => ({ tenant_id: b.tenant_id, bucket: Number(b.bucket) })),
      nowMs,
    );
    return { buckets: buckets.length, refreshIds: ids, durationMs: performance.now() - started };
  }

  private async serverNowMs(): Promise<number> {
    const rows = await this.ch.query<{ now: string }>('SELECT toUnixTimestamp64Milli(now64(3)) AS now');
    return Number(rows[0]?.now);
  }

  /** After a restart: continue from the newest generation written, or (none yet) rebuild the whole window. */
  private async loadState(): Promise<void> {
    if (this.lastStartMs !== undefined) return;
    const rows = await this.ch.query<{ last: string | null; id: string | null }>(
      'SELECT toUnixTimestamp64Milli(max(computed_at)) AS last, toString(max(refresh_id)) AS id FROM path_rollup_generations',
    );
    const last = Number(rows[0]?.last ?? 0);
    this.lastRefreshId = Math.max(this.lastRefreshId, Number(rows[0]?.id ?? 0));
    if (last > 0) {
      // A crash between the hourly and the daily step leaves days behind: rebuild the window's days once.
      const days = await this.ch.query<Bucket>(DAYS_IN_WINDOW_SQL, { lo_ms: last - this.correctionWindowMs });
      for (let i = 0; i < days.length; i += this.bucketsPerStatement) {
        const refreshId = Math.max(last, this.lastRefreshId + 1);
        this.lastRefreshId = refreshId;
        await this.rebuildDays(
          days
            .slice(i, i + this.bucketsPerStatement)
            .map((d) => ({ tenant_id: d.tenant_id, bucket: Number(d.bucket) })),
          refreshId,
        );
      }
    }
    this.lastStartMs = last > 0 ? last : 0;
  }

  private async refreshOnce(): Promise<RollupRefreshReport> {
    const started = performance.now();
    const startMs = await this.serverNowMs();
    await this.loadState();
    const since = Math.max(0, (this.lastStartMs ?? 0) - this.overlapMs);
    const dirty = await this.ch.query<Bucket>(DIRTY_SQL, {
      since_ms: since,
      window_start_ms: startMs - this.correctionWindowMs,
    });
    const ids = await this.rebuildBuckets(
      dirty.map((b) => ({ tenant_id: b.tenant_id, bucket: Number(b.bucket) })),
      startMs,
    );
    this.lastStartMs = startMs;
    const report = { buckets: dirty.length, refreshIds: ids, durationMs: performance.now() - started };
    if (dirty.length > 0)
      this.log.debug(
        { buckets: dirty.length, durationMs: Math.round(report.durationMs) },
        'rollups refreshed',
      );
    return report;
  }

  private async rebuildBuckets(buckets: readonly Bucket[], nowMs: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < buckets.length; i += this.bucketsPerStatement) {
      const chunk = buckets.slice(i, i + this.bucketsPerStatement);
      // Strictly increasing even if the clock steps back: readers trust the newest generation.
      const refreshId = Math.max(nowMs, this.lastRefreshId + 1);
      this.lastRefreshId = refreshId;
      const tenants = chunk.map((b) => b.tenant_id);
      const hours = chunk.map((b) => b.bucket);
      const lo = Math.min(...hours) * 1000;
      const hi = (Math.max(...hours) + 3600) * 1000;
      const params = { tenants, buckets: hours, refresh_id: refreshId, lo_ms: lo, hi_ms: hi };
      await this.ch.command(REBUILD_SQL, { ...params, token: `rollup-${refreshId}` });
      await this.ch.command(POINT_SQL, {
        tenants,
        buckets: hours,
        refresh_id: refreshId,
        token: `rollup-gen-${refreshId}`,
      });
      await this.rebuildDays(
        chunk.map((b) => ({ tenant_id: b.tenant_id, bucket: b.bucket - (b.bucket % 86_400) })),
        refreshId,
      );
      ids.push(refreshId);
    }
    return ids;
  }

  /** Re-aggregates (tenant, day) buckets from the current hourly generations, then repoints them. */
  private async rebuildDays(days: readonly Bucket[], refreshId: number): Promise<void> {
    const unique = [...new Map(days.map((d) => [`${d.tenant_id}\u0000${d.bucket}`, d])).values()];
    if (unique.length === 0) return;
    const tenants = unique.map((d) => d.tenant_id);
    const starts = unique.map((d) => d.bucket);
    const params = {
      tenants,
      days: starts,
      refresh_id: refreshId,
      lo_ms: Math.min(...starts) * 1000,
      hi_ms: (Math.max(...starts) + 86_400) * 1000,
    };
    await this.ch.command(DAILY_REBUILD_SQL, { ...params, token: `rollup-day-${refreshId}` });
    await this.ch.command(DAILY_POINT_SQL, {
      tenants,
      days: starts,
      refresh_id: refreshId,
      token: `rollup-day-gen-${refreshId}`,
    });
  }
}
