/**
 * What the path store's queries return: plain data in the contract's snake_case, times in epoch milliseconds
 * (`*_ms`). The HTTP API sends these as they are and the dashboard reads them by type, so this module holds
 * types only and imports nothing that needs Node (it is the `@pathwatch/path-store/results` entry).
 */
import type { AttemptReason, CallbackStatus, SubmitOutcome, VerdictClass } from '@pathwatch/schemas/types';
import type { AnomalyKind, ExplainCohort, GroupDimension } from './queries.sql.js';

export interface TimeWindow {
  from_ms: number;
  to_ms: number;
}

export interface TimelineEvent {
  at_ms: number;
  /** Milliseconds since accepted_at (or the path anchor for orphans). */
  offset_ms: number;
  /** accepted | dispatch | callback | verdict (hops), or `version` for a verdict version from the history. */
  kind: string;
  detail: string;
}

export interface VersionEntry {
  version: number;
  verdict: VerdictClass;
  provisional: boolean;
  is_correction: boolean;
  previous_verdict: VerdictClass | null;
  error_code: string | null;
  flags: string[];
  fired_by: string;
  watermark_lag_ms: number;
  decided_at_ms: number;
  emitted_at_ms: number;
}

export interface TimelineAttempt {
  attempt_id: string;
  attempt_no: number;
  reason: AttemptReason;
  route: string;
  provider: string;
  provider_message_id: string | null;
  submit_outcome: SubmitOutcome;
  dispatched_at_ms: number;
  last_status: CallbackStatus | null;
  last_status_at_ms: number | null;
}

export interface PathTimeline {
  tenant_id: string;
  request_id: string;
  version: number;
  verdict_id: string;
  verdict: VerdictClass;
  provisional: boolean;
  is_correction: boolean;
  previous_verdict: VerdictClass | null;
  error_category: string | null;
  error_code: string | null;
  flags: string[];
  layers: { api_ok: boolean; execution_ok: boolean | null; outcome_ok: boolean | null };
  operation: string;
  channel: string;
  input_fingerprint: string;
  attributes: Record<string, string>;
  route: string;
  provider: string;
  evidence_level: string;
  callbacks: number;
  duplicate_callbacks: number;
  sla_ms: number;
  give_up_ms: number;
  accepted_at_ms: number | null;
  /** accepted_at + sla_ms. */
  deadline_at_ms: number | null;
  first_dispatch_at_ms: number | null;
  provider_accepted_at_ms: number | null;
  final_at_ms: number | null;
  latency_ms: {
    accept_to_dispatch: number | null;
    dispatch_to_provider_accept: number | null;
    provider_accept_to_final: number | null;
    end_to_end: number | null;
  };
  clock: { fired_by: string; watermark_lag_ms: number; decided_at_ms: number; emitted_at_ms: number };
  attempts: TimelineAttempt[];
  /** Hops and verdict versions merged in time order. */
  events: TimelineEvent[];
  versions: VersionEntry[];
}

export interface LatencyRow {
  bucket_start_ms: number | null;
  group: Partial<Record<GroupDimension, string>>;
  requests: number;
  settled: number;
  on_time: number;
  late: number;
  failed: number;
  missing: number;
  expired: number;
  overdue: number;
  orphans: number;
  retried: number;
  failed_over: number;
  corrected: number;
  /** Requests some attempt of which a provider accepted (layer 2, execution). */
  execution_ok: number;
  /** on_time / settled (null when nothing settled). */
  on_time_rate: number | null;
  mean_ms: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface SameInputItem {
  input_fingerprint: string;
  requests: number;
  outcomes: Partial<Record<VerdictClass, number>>;
  modal_verdict: VerdictClass;
  /** Share of this input's requests that got its most common outcome. */
  consistency: number;
  providers: string[];
  latest_request_id: string;
}

export interface SameInputResult {
  /** Inputs with >= min_requests settled requests in the window. */
  fingerprints: number;
  inconsistent_fingerprints: number;
  /** Request-weighted share of requests that got their input's modal outcome (1 = fully consistent). */
  consistency_score: number | null;
  items: SameInputItem[];
}

export interface FlipRateRow {
  bucket_start_ms: number | null;
  group: Partial<Record<GroupDimension, string>>;
  /** Inputs with >= 2 settled requests in the group. */
  repeated_inputs: number;
  flipped_inputs: number;
  /** flipped_inputs / repeated_inputs. */
  input_flip_rate: number | null;
  settled_requests: number;
  /** Settled requests whose final verdict was later corrected (their latest version is a correction). */
  corrected_requests: number;
  correction_rate: number | null;
}

export interface ExplainItem {
  /** route, provider, first_provider, operation, channel, attempts, error_code, flag, or attr.<key>. */
  dimension: string;
  value: string;
  support: number;
  cohort_count: number;
  cohort_rate: number;
  rest_rate: number;
  /** P(cohort | value) / P(cohort | other values), Laplace-smoothed. */
  lift: number;
}

export interface ExplainResult {
  cohort: ExplainCohort;
  population: number;
  cohort_size: number;
  base_rate: number | null;
  items: ExplainItem[];
}

export interface AnomalyItem {
  tenant_id: string;
  request_id: string;
  verdict: AnomalyKind;
  version: number;
  operation: string;
  channel: string;
  route: string;
  provider: string;
  attempts: number;
  fired_by: string;
  accepted_at_ms: number | null;
  deadline_at_ms: number | null;
  give_up_at_ms: number | null;
  overdue_by_ms: number | null;
  decided_at_ms: number;
}

export interface AnomalyResult {
  counts: Record<AnomalyKind, number>;
  items: AnomalyItem[];
}

export interface RequestSearchItem {
  tenant_id: string;
  request_id: string;
  version: number;
  verdict: string;
  provisional: boolean;
  is_correction: boolean;
  operation: string;
  channel: string;
  route: string;
  provider: string;
  attempts: number;
  input_fingerprint: string;
  provider_message_ids: string[];
  sla_ms: number;
  e2e_ms: number | null;
  fired_by: string;
  accepted_at_ms: number | null;
  path_at_ms: number;
}

export interface RequestSearchResult {
  /** Requests matching (the items are the newest `limit` of them). */
  total: number;
  items: RequestSearchItem[];
}

export interface PipelineBucket {
  bucket_start_ms: number;
  /** Requests accepted in the bucket (event time). */
  accepted: number;
  /** Verdict versions emitted in the bucket (processing time). */
  versions: number;
  final_versions: number;
  corrections: number;
  fired_by: { event: number; watermark: number; wall_clock: number; recovery: number };
  watermark_lag_avg_ms: number | null;
  watermark_lag_max_ms: number | null;
}
