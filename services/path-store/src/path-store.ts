/**
 * The path store: one object that writes verdict rows, keeps rollups fresh and answers the analyst queries with
 * typed results. Result objects use the contract's snake_case (they go to the HTTP API as they are); times are
 * epoch milliseconds (`*_ms`).
 */
import type { AttemptReason, CallbackStatus, SubmitOutcome, Verdict, VerdictClass } from '@pathwatch/schemas';
import { StoreError } from './errors.js';
import type { Logger } from '@pathwatch/core';
import {
  openClickHouse,
  type ClickHouse,
  type ClickHouseOptions,
  type ReadonlySqlLimits,
  type SqlResult,
} from './client.js';
import {
  pipelineBuckets,
  searchRequests,
  type PipelineQuery,
  type RequestSearchQuery,
} from './dashboard-store.js';
import { applyMigrations, type MigrationReport } from './migrations.js';
import { histogramQuantiles } from './latency-histogram.js';
import { PATH_INSERT_COLUMNS, PathBlockEncoder, storeRowProblem } from './path-encoding.js';
import {
  BUCKETS,
  VERSIONS_SQL,
  anomalyCountsSql,
  explainSql,
  filterParams,
  flipRateSql,
  latencySql,
  openAnomaliesSql,
  rollupWindow,
  sameInputDetailSql,
  sameInputSummarySql,
  timelineSql,
  type AnomalyKind,
  type BucketName,
  type ExplainCohort,
  type Filters,
  type GroupDimension,
  type LatencyStage,
} from './queries.sql.js';
import type {
  AnomalyResult,
  ExplainItem,
  ExplainResult,
  FlipRateRow,
  LatencyRow,
  PathTimeline,
  PipelineBucket,
  RequestSearchResult,
  SameInputItem,
  SameInputResult,
  TimeWindow,
  TimelineAttempt,
  TimelineEvent,
  VersionEntry,
} from './results.js';
import { RollupRefresher, type RollupRefreshOptions, type RollupRefreshReport } from './rollups.js';
import { PATH_STORE_MIGRATIONS } from './schema.js';

export interface LatencyQuery extends TimeWindow, Filters {
  group_by: readonly GroupDimension[];
  bucket: BucketName;
  /** Which leg: e2e (accept -> final), dispatch (accept -> first dispatch), provider (dispatch -> provider accept), delivery (provider accept -> final). */
  stage: LatencyStage;
  limit: number;
}

export interface SameInputQuery extends TimeWindow, Filters {
  min_requests: number;
  limit: number;
}

export interface FlipRateQuery extends TimeWindow, Filters {
  group_by: readonly GroupDimension[];
  bucket: BucketName;
  limit: number;
}

export interface ExplainQuery extends TimeWindow, Filters {
  cohort: ExplainCohort;
  min_support: number;
  min_cohort: number;
  limit: number;
}

export interface AnomalyQuery extends TimeWindow, Filters {
  kinds: readonly AnomalyKind[];
  limit: number;
  /** Wall clock used for `overdue_by_ms`. */
  now_ms: number;
}

export interface PathStoreOptions {
  rollups?: RollupRefreshOptions;
  /**
   * Rows per Native block. A larger batch is sent as several blocks, each encoded while the previous one is
   * being inserted (the engine works off the JS thread), with tokens `<token>.<n>` so a retry still dedups.
   * Blocks below ~50k rows cost markedly more CPU per row (parts, merges; measured 50-60k vs 75-95k rows per
   * CPU-second at 20k vs 50k).
   * @default 50000
   */
  insertBlockRows?: number;
}

export interface PathStore {
  readonly ch: ClickHouse;
  readonly migrations: MigrationReport;
  /**
   * Writes verdict rows as one block. `dedupToken` must be the same when the same batch is sent again (retry,
   * redelivery); rows must already pass `storeRowProblem`.
   */
  insertVerdicts(rows: readonly Verdict[], dedupToken: string): Promise<void>;
  /** Re-aggregates rollup buckets written since the last refresh. */
  refreshRollups(): Promise<RollupRefreshReport>;
  /** Rebuilds rollups for every bucket in the window (backfill/repair). */
  rebuildRollups(window: TimeWindow): Promise<RollupRefreshReport>;
  timeline(requestId: string, tenant?: string): Promise<PathTimeline | null>;
  latency(q: LatencyQuery): Promise<LatencyRow[]>;
  sameInput(q: SameInputQuery): Promise<SameInputResult>;
  flipRate(q: FlipRateQuery): Promise<FlipRateRow[]>;
  explain(q: ExplainQuery): Promise<ExplainResult>;
  openAnomalies(q: AnomalyQuery): Promise<AnomalyResult>;
  /** Requests matching a search (ids, provider message id, fingerprint, cohort, explain dimension), newest first. */
  searchRequests(q: RequestSearchQuery): Promise<RequestSearchResult>;
  /** Pipeline health as the store saw it: accepted requests and emitted verdict versions per bucket. */
  pipelineBuckets(q: PipelineQuery): Promise<PipelineBucket[]>;
  /** Read-only analyst SQL. */
  sql(sql: string, limits?: ReadonlySqlLimits): Promise<SqlResult>;
  close(): Promise<void>;
}

type Row = Record<string, unknown>;

const n = (x: unknown): number => Number(x);
const nn = (x: unknown): number | null => (x === null || x === undefined ? null : Number(x));
const str = (x: unknown): string => (typeof x === 'string' ? x : String(x));
const orNull = (x: unknown): string | null => (x === '' || x === null || x === undefined ? null : str(x));
const bool = (x: unknown): boolean => x === true || x === 1 || x === '1' || x === 'true';
const nbool = (x: unknown): boolean | null => (x === null || x === undefined ? null : bool(x));
const arr = (x: unknown): unknown[] => (Array.isArray(x) ? (x as unknown[]) : []);
const ratio = (a: number, b: number): number | null => (b > 0 ? a / b : null);

function groupOf(r: Row, dims: readonly GroupDimension[]): Partial<Record<GroupDimension, string>> {
  const g: Partial<Record<GroupDimension, string>> = {};
  for (const d of dims) g[d] = str(r[d]);
  return g;
}

function windowParams(q: TimeWindow & Filters): Record<string, string | number> {
  return { from_ms: q.from_ms, to_ms: q.to_ms, ...filterParams(q) };
}

function toTimeline(r: Row, versions: VersionEntry[]): PathTimeline {
  const accepted = nn(r['accepted_at_ms']);
  const anchor = accepted ?? n(r['path_at_ms']);
  const sla = n(r['sla_ms']);
  const ids = arr(r['a_attempt_id']);
  const attempts: TimelineAttempt[] = ids.map((id, i) => ({
    attempt_id: str(id),
    attempt_no: n(arr(r['a_attempt_no'])[i]),
    reason: str(arr(r['a_reason'])[i]) as AttemptReason,
    route: str(arr(r['a_route'])[i]),
    provider: str(arr(r['a_provider'])[i]),
    provider_message_id: orNull(arr(r['a_provider_message_id'])[i]),
    submit_outcome: str(arr(r['a_submit_outcome'])[i]) as SubmitOutcome,
    dispatched_at_ms: n(arr(r['a_dispatched_at_ms'])[i]),
    last_status: orNull(arr(r['a_last_status'])[i]) as CallbackStatus | null,
    last_status_at_ms: nn(arr(r['a_last_status_at_ms'])[i]),
  }));
  const kinds = arr(r['h_kind']);
  const events: TimelineEvent[] = kinds.map((k, i) => {
    const at = n(arr(r['h_at_ms'])[i]);
    return { at_ms: at, offset_ms: at - anchor, kind: str(k), detail: str(arr(r['h_detail'])[i]) };
  });
  for (const v of versions) {
    events.push({
      at_ms: v.decided_at_ms,
      offset_ms: v.decided_at_ms - anchor,
      kind: 'version',
      detail: `v${v.version} ${v.verdict}${v.provisional ? ' (provisional)' : ''}${v.is_correction ? ` correction of ${v.previous_verdict ?? '?'}` : ''} fired by ${v.fired_by}, watermark lag ${v.watermark_lag_ms} ms`,
    });
  }
  // Stable: hops keep their recorded order when times tie, versions follow.
  events.sort((a, b) => a.at_ms - b.at_ms);
  return {
    tenant_id: str(r['tenant_id']),
    request_id: str(r['request_id']),
    version: n(r['version']),
    verdict_id: str(r['verdict_id']),
    verdict: str(r['verdict']) as VerdictClass,
    provisional: bool(r['provisional']),
    is_correction: bool(r['is_correction']),
    previous_verdict: orNull(r['previous_verdict']) as VerdictClass | null,
    error_category: orNull(r['error_category']),
    error_code: orNull(r['error_code']),
    flags: arr(r['flags']).map(str),
    layers: {
      api_ok: bool(r['api_ok']),
      execution_ok: nbool(r['execution_ok']),
      outcome_ok: nbool(r['outcome_ok']),
    },
    operation: str(r['operation']),
    channel: str(r['channel']),
    input_fingerprint: str(r['input_fingerprint']),
    attributes: (r['attributes'] ?? {}) as Record<string, string>,
    route: str(r['route']),
    provider: str(r['provider']),
    evidence_level: str(r['evidence_level']),
    callbacks: n(r['callbacks']),
    duplicate_callbacks: n(r['duplicate_callbacks']),
    sla_ms: sla,
    give_up_ms: n(r['give_up_ms']),
    accepted_at_ms: accepted,
    deadline_at_ms: accepted === null ? null : accepted + sla,
    first_dispatch_at_ms: nn(r['first_dispatch_at_ms']),
    provider_accepted_at_ms: nn(r['provider_accepted_at_ms']),
    final_at_ms: nn(r['final_at_ms']),
    latency_ms: {
      accept_to_dispatch: nn(r['dispatch_ms']),
      dispatch_to_provider_accept: nn(r['provider_ms']),
      provider_accept_to_final: nn(r['delivery_ms']),
      end_to_end: nn(r['e2e_ms']),
    },
    clock: {
      fired_by: str(r['fired_by']),
      watermark_lag_ms: n(r['watermark_lag_ms']),
      decided_at_ms: n(r['decided_at_ms']),
      emitted_at_ms: n(r['emitted_at_ms']),
    },
    attempts,
    events,
    versions,
  };
}

class ClickHousePathStore implements PathStore {
  private readonly rollups: RollupRefresher;
  private readonly blockRows: number;
  // Two encoders: one block is being inserted while the next is encoded into the other.
  private readonly encoders = [new PathBlockEncoder(), new PathBlockEncoder()] as const;

  constructor(
    readonly ch: ClickHouse,
    readonly migrations: MigrationReport,
    logger: Logger,
    opts: PathStoreOptions,
  ) {
    this.rollups = new RollupRefresher(ch, { ...opts.rollups, logger });
    this.blockRows = opts.insertBlockRows ?? 50_000;
  }

  private insertChain: Promise<void> = Promise.resolve();

  insertVerdicts(rows: readonly Verdict[], dedupToken: string): Promise<void> {
    // Serialized: the encode buffers are shared, and block order within a batch must hold.
    const run = this.insertChain.then(() => this.insertNow(rows, dedupToken));
    this.insertChain = run.catch(() => undefined);
    return run;
  }

  private async insertNow(rows: readonly Verdict[], dedupToken: string): Promise<void> {
    if (rows.length === 0) return;
    for (const v of rows) {
      const problem = storeRowProblem(v);
      if (problem) {
        throw new StoreError('CORE_STORE_INVALID_ROW', `verdict ${v.verdict_id}: ${problem}`, {
          retriable: false,
          context: { verdictId: v.verdict_id },
        });
      }
    }
    if (rows.length <= this.blockRows) {
      await this.ch.insertNative(
        'path_records',
        PATH_INSERT_COLUMNS,
        this.encoders[0].encode(rows),
        dedupToken,
      );
      return;
    }
    let inflight: Promise<void> = Promise.resolve();
    for (let k = 0, i = 0; i < rows.length; k++, i += this.blockRows) {
      // Encoding (sync) overlaps the previous block's insert; at most one insert is in flight.
      const encoder = k % 2 === 0 ? this.encoders[0] : this.encoders[1];
      const block = encoder.encode(rows.slice(i, i + this.blockRows));
      await inflight;
      inflight = this.ch.insertNative('path_records', PATH_INSERT_COLUMNS, block, `${dedupToken}.${k}`);
    }
    await inflight;
  }

  refreshRollups(): Promise<RollupRefreshReport> {
    return this.rollups.refresh();
  }

  rebuildRollups(w: TimeWindow): Promise<RollupRefreshReport> {
    return this.rollups.rebuild(w.from_ms, w.to_ms);
  }

  async timeline(requestId: string, tenant?: string): Promise<PathTimeline | null> {
    const rows = await this.ch.query(timelineSql(tenant !== undefined), {
      request_id: requestId,
      ...(tenant !== undefined ? { tenant } : {}),
    });
    if (rows.length === 0) return null;
    if (rows.length > 1) {
      throw new StoreError(
        'CORE_STORE_QUERY_FAILED',
        `request_id ${requestId} exists in ${rows.length} tenants (${rows.map((r) => str(r['tenant_id'])).join(', ')}): pass tenant`,
        { retriable: false, context: { ambiguous: true } },
      );
    }
    const r = rows[0] as Row;
    const versions = (
      await this.ch.query(VERSIONS_SQL, { request_id: requestId, tenant: str(r['tenant_id']) })
    ).map((v): VersionEntry => ({
      version: n(v['version']),
      verdict: str(v['verdict']) as VerdictClass,
      provisional: bool(v['provisional']),
      is_correction: bool(v['is_correction']),
      previous_verdict: orNull(v['previous_verdict']) as VerdictClass | null,
      error_code: orNull(v['error_code']),
      flags: arr(v['flags']).map(str),
      fired_by: str(v['fired_by']),
      watermark_lag_ms: n(v['watermark_lag_ms']),
      decided_at_ms: n(v['decided_at_ms']),
      emitted_at_ms: n(v['emitted_at_ms']),
    }));
    return toTimeline(r, versions);
  }

  async latency(q: LatencyQuery): Promise<LatencyRow[]> {
    const rows = await this.ch.query(latencySql(q.group_by, q.bucket, q.stage, q), {
      ...filterParams(q),
      ...rollupWindow(q.from_ms, q.to_ms),
      step_s: BUCKETS[q.bucket],
      limit: q.limit,
    });
    return rows.map((r) => {
      const qs = histogramQuantiles(r['h'] as Record<string, unknown> | null, [0.5, 0.9, 0.95, 0.99]);
      const settled = n(r['settled']);
      const e2eCount = n(r['e2e_count']);
      return {
        bucket_start_ms: q.bucket === 'none' ? null : n(r['bucket_start_ms']),
        group: groupOf(r, q.group_by),
        requests: n(r['requests']),
        settled,
        on_time: n(r['on_time']),
        late: n(r['late']),
        failed: n(r['failed']),
        missing: n(r['missing']),
        expired: n(r['expired']),
        overdue: n(r['overdue']),
        orphans: n(r['orphans']),
        retried: n(r['retried']),
        failed_over: n(r['failed_over']),
        corrected: n(r['corrected']),
        execution_ok: n(r['execution_ok']),
        on_time_rate: ratio(n(r['on_time']), settled),
        mean_ms: q.stage === 'e2e' ? ratio(n(r['e2e_sum_ms']), e2eCount) : null,
        p50_ms: qs[0] ?? null,
        p90_ms: qs[1] ?? null,
        p95_ms: qs[2] ?? null,
        p99_ms: qs[3] ?? null,
      };
    });
  }

  async sameInput(q: SameInputQuery): Promise<SameInputResult> {
    const params = { ...windowParams(q), min_requests: q.min_requests, limit: q.limit };
    const summary = (await this.ch.query(sameInputSummarySql(q), params))[0];
    const top = arr(summary?.['top']).map((t) => {
      const [fp, off, requests] = t as [string, unknown, unknown];
      return { fp: str(fp), off: n(off), requests: n(requests) };
    });
    const items: SameInputItem[] = [];
    if (top.length > 0) {
      const detail = await this.ch.query(sameInputDetailSql(q), {
        ...windowParams(q),
        fps: top.map((t) => t.fp),
      });
      const byFp = new Map<string, Row[]>();
      for (const r of detail) {
        const k = str(r['input_fp']);
        byFp.set(k, [...(byFp.get(k) ?? []), r]);
      }
      for (const t of top) {
        const rows = byFp.get(t.fp) ?? [];
        const outcomes: Partial<Record<VerdictClass, number>> = {};
        let modal: VerdictClass = 'delivered_on_time';
        let modalCount = -1;
        let latest = '';
        let latestAt = -Infinity;
        const providers = new Set<string>();
        for (const r of rows) {
          const c = n(r['c']);
          const verdict = str(r['verdict']) as VerdictClass;
          outcomes[verdict] = c;
          if (c > modalCount || (c === modalCount && verdict < modal)) [modal, modalCount] = [verdict, c];
          for (const p of arr(r['providers'])) providers.add(str(p));
          if (n(r['last_at_ms']) > latestAt)
            [latest, latestAt] = [str(r['last_request']), n(r['last_at_ms'])];
        }
        items.push({
          input_fingerprint: rows[0] ? str(rows[0]['input_fingerprint']) : t.fp,
          requests: t.requests,
          outcomes,
          modal_verdict: modal,
          consistency: (t.requests - t.off) / t.requests,
          providers: [...providers].sort(),
          latest_request_id: latest,
        });
      }
    }
    const fingerprints = n(summary?.['fingerprints'] ?? 0);
    return {
      fingerprints,
      inconsistent_fingerprints: n(summary?.['inconsistent_fingerprints'] ?? 0),
      consistency_score:
        fingerprints > 0 ? ratio(n(summary?.['total_modal']), n(summary?.['total_requests'])) : null,
      items,
    };
  }

  async flipRate(q: FlipRateQuery): Promise<FlipRateRow[]> {
    const rows = await this.ch.query(flipRateSql(q.group_by, q.bucket, q), {
      ...windowParams(q),
      step_s: BUCKETS[q.bucket],
      limit: q.limit,
    });
    return rows.map((r) => {
      const repeated = n(r['repeated_inputs']);
      const flipped = n(r['flipped_inputs']);
      const settled = n(r['settled_requests']);
      const corrected = n(r['corrected_requests']);
      return {
        bucket_start_ms: q.bucket === 'none' ? null : n(r['bucket_start_ms']),
        group: groupOf(r, q.group_by),
        repeated_inputs: repeated,
        flipped_inputs: flipped,
        input_flip_rate: ratio(flipped, repeated),
        settled_requests: settled,
        corrected_requests: corrected,
        correction_rate: ratio(corrected, settled),
      };
    });
  }

  async explain(q: ExplainQuery): Promise<ExplainResult> {
    const rows = await this.ch.query(explainSql(q.cohort, q), {
      ...windowParams(q),
      cohort: q.cohort,
      min_support: q.min_support,
      min_cohort: q.min_cohort,
      limit: q.limit,
    });
    let population = 0;
    let cohortSize = 0;
    const items = rows.map((r): ExplainItem => {
      population = n(r['population']);
      cohortSize = n(r['population_cohort']);
      return {
        dimension: str(r['dimension']),
        value: str(r['value']),
        support: n(r['support']),
        cohort_count: n(r['cohort_count']),
        cohort_rate: n(r['cohort_rate']),
        rest_rate: n(r['rest_rate']),
        lift: n(r['lift']),
      };
    });
    return {
      cohort: q.cohort,
      population,
      cohort_size: cohortSize,
      base_rate: ratio(cohortSize, population),
      items,
    };
  }

  async openAnomalies(q: AnomalyQuery): Promise<AnomalyResult> {
    const params = { ...windowParams(q), kinds: [...q.kinds], limit: q.limit };
    const [rows, counts] = await Promise.all([
      this.ch.query(openAnomaliesSql(q), params),
      this.ch.query(anomalyCountsSql(q), params),
    ]);
    const c: Record<AnomalyKind, number> = { overdue: 0, missing_dispatch: 0, missing_outcome: 0 };
    for (const r of counts) c[str(r['verdict']) as AnomalyKind] = n(r['n']);
    return {
      counts: c,
      items: rows.map((r) => {
        const accepted = nn(r['accepted_at_ms']);
        const deadline = accepted === null ? null : accepted + n(r['sla_ms']);
        return {
          tenant_id: str(r['tenant_id']),
          request_id: str(r['request_id']),
          verdict: str(r['verdict']) as AnomalyKind,
          version: n(r['version']),
          operation: str(r['operation']),
          channel: str(r['channel']),
          route: str(r['route']),
          provider: str(r['provider']),
          attempts: n(r['attempt_count']),
          fired_by: str(r['fired_by']),
          accepted_at_ms: accepted,
          deadline_at_ms: deadline,
          give_up_at_ms: accepted === null ? null : accepted + n(r['give_up_ms']),
          overdue_by_ms: deadline === null ? null : Math.max(0, q.now_ms - deadline),
          decided_at_ms: n(r['decided_at_ms']),
        };
      }),
    };
  }

  searchRequests(q: RequestSearchQuery): Promise<RequestSearchResult> {
    return searchRequests(this.ch, q);
  }

  pipelineBuckets(q: PipelineQuery): Promise<PipelineBucket[]> {
    return pipelineBuckets(this.ch, q);
  }

  sql(sql: string, limits?: ReadonlySqlLimits): Promise<SqlResult> {
    return this.ch.readonlySql(sql, limits);
  }

  close(): Promise<void> {
    return this.ch.close();
  }
}

/** Opens ClickHouse, applies the path-store migrations, and returns the store. */
export async function openPathStore(
  opts: ClickHouseOptions,
  deps: { logger: Logger; now: () => number },
  storeOpts: PathStoreOptions = {},
): Promise<PathStore> {
  const ch = await openClickHouse(opts, deps);
  try {
    const report = await applyMigrations(ch, PATH_STORE_MIGRATIONS, deps);
    return new ClickHousePathStore(ch, report, deps.logger, storeOpts);
  } catch (err) {
    await ch.close().catch(() => undefined);
    throw err;
  }
}
