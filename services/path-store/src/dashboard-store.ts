/**
 * The path store's dashboard reads: request search (also the explain drill-down to example requests) and the
 * store's view of pipeline health. Plain functions over a ClickHouse client, called by the PathStore methods of
 * the same names; SQL in dashboard.sql.ts.
 */
import type { ClickHouse } from './client.js';
import {
  acceptedPerBucketSql,
  requestSearchCountSql,
  requestSearchSql,
  versionsPerBucketSql,
  type RequestSearch,
} from './dashboard.sql.js';
import { filterParams, type Filters } from './queries.sql.js';
import type { PipelineBucket, RequestSearchResult } from './results.js';

export interface RequestSearchQuery extends RequestSearch {
  from_ms: number;
  to_ms: number;
  limit: number;
}

export interface PipelineQuery extends Filters {
  from_ms: number;
  to_ms: number;
  /** Bucket width. */
  step_s: number;
  /** Versions of requests anchored before this are not read (bounds the scan of path_versions). */
  scan_from_ms: number;
}

type Row = Record<string, unknown>;
const n = (x: unknown): number => Number(x);
const nn = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
const str = (x: unknown): string => (typeof x === 'string' ? x : String(x));
const bool = (x: unknown): boolean => x === true || x === 1 || x === '1' || x === 'true';

function searchParams(q: RequestSearchQuery): Record<string, string | number> {
  const p: Record<string, string | number> = {
    from_ms: q.from_ms,
    to_ms: q.to_ms,
    limit: q.limit,
    ...filterParams(q),
  };
  for (const k of ['request_id', 'provider_message_id', 'input_fingerprint', 'cohort', 'value'] as const) {
    const v = q[k];
    if (v !== undefined) p[k] = v;
  }
  if (q.dimension?.startsWith('attr.')) p['attr_key'] = q.dimension.slice('attr.'.length);
  return p;
}

export async function searchRequests(ch: ClickHouse, q: RequestSearchQuery): Promise<RequestSearchResult> {
  const params = searchParams(q);
  const [rows, count] = await Promise.all([
    ch.query(requestSearchSql(q), params),
    ch.query(requestSearchCountSql(q), params),
  ]);
  return {
    total: n(count[0]?.['n'] ?? 0),
    items: rows.map((r: Row) => ({
      tenant_id: str(r['tenant_id']),
      request_id: str(r['request_id']),
      version: n(r['version']),
      verdict: str(r['verdict']),
      provisional: bool(r['provisional']),
      is_correction: bool(r['is_correction']),
      operation: str(r['operation']),
      channel: str(r['channel']),
      route: str(r['route']),
      provider: str(r['provider']),
      attempts: n(r['attempt_count']),
      input_fingerprint: str(r['input_fingerprint']),
      provider_message_ids: (Array.isArray(r['provider_message_ids'])
        ? (r['provider_message_ids'] as unknown[])
        : []
      ).map(str),
      sla_ms: n(r['sla_ms']),
      e2e_ms: nn(r['e2e_ms']),
      fired_by: str(r['fired_by']),
      accepted_at_ms: nn(r['accepted_at_ms']),
      path_at_ms: n(r['path_at_ms']),
    })),
  };
}

export async function pipelineBuckets(ch: ClickHouse, q: PipelineQuery): Promise<PipelineBucket[]> {
  const params = {
    from_ms: q.from_ms,
    to_ms: q.to_ms,
    step_s: q.step_s,
    scan_from_ms: q.scan_from_ms,
    ...filterParams(q),
  };
  const [versions, accepted] = await Promise.all([
    ch.query(versionsPerBucketSql(q), params),
    ch.query(acceptedPerBucketSql(q), params),
  ]);
  const byBucket = new Map<number, PipelineBucket>();
  const bucket = (ms: number): PipelineBucket => {
    let b = byBucket.get(ms);
    if (!b) {
      b = {
        bucket_start_ms: ms,
        accepted: 0,
        versions: 0,
        final_versions: 0,
        corrections: 0,
        fired_by: { event: 0, watermark: 0, wall_clock: 0, recovery: 0 },
        watermark_lag_avg_ms: null,
        watermark_lag_max_ms: null,
      };
      byBucket.set(ms, b);
    }
    return b;
  };
  for (const r of accepted) bucket(n(r['bucket_start_ms'])).accepted = n(r['accepted']);
  for (const r of versions) {
    const b = bucket(n(r['bucket_start_ms']));
    b.versions = n(r['versions']);
    b.final_versions = n(r['final_versions']);
    b.corrections = n(r['corrections']);
    b.fired_by = {
      event: n(r['fired_by_event']),
      watermark: n(r['fired_by_watermark']),
      wall_clock: n(r['fired_by_wall_clock']),
      recovery: n(r['fired_by_recovery']),
    };
    b.watermark_lag_avg_ms = nn(r['watermark_lag_avg_ms']);
    b.watermark_lag_max_ms = nn(r['watermark_lag_max_ms']);
  }
  return [...byBucket.values()].sort((a, b) => a.bucket_start_ms - b.bucket_start_ms);
}
