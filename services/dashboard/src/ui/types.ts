// Response shapes of the /v1 endpoints the dashboard reads (as in /openapi.json).

export interface LatencyRow {
  bucket_start_ms: number | null;
  group: Record<string, string>;
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
  execution_ok: number;
  on_time_rate: number | null;
  mean_ms: number | null;
  p50_ms: number | null;
  p90_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

export interface AnomalyItem {
  tenant_id: string;
  request_id: string;
  verdict: string;
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
  counts: Record<string, number>;
  items: AnomalyItem[];
}

export interface SearchItem {
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

export interface SearchResult {
  total: number;
  items: SearchItem[];
}

export interface Attempt {
  attempt_id: string;
  attempt_no: number;
  reason: string;
  route: string;
  provider: string;
  provider_message_id: string | null;
  submit_outcome: string;
  dispatched_at_ms: number;
  last_status: string | null;
  last_status_at_ms: number | null;
}

export interface Version {
  version: number;
  verdict: string;
  provisional: boolean;
  is_correction: boolean;
  previous_verdict: string | null;
  error_code: string | null;
  flags: string[];
  fired_by: string;
  watermark_lag_ms: number;
  decided_at_ms: number;
  emitted_at_ms: number;
}

export interface Timeline {
  tenant_id: string;
  request_id: string;
  version: number;
  verdict: string;
  provisional: boolean;
  is_correction: boolean;
  previous_verdict: string | null;
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
  deadline_at_ms: number | null;
  first_dispatch_at_ms: number | null;
  provider_accepted_at_ms: number | null;
  final_at_ms: number | null;
  latency_ms: { end_to_end: number | null };
  attempts: Attempt[];
  events: { at_ms: number; offset_ms: number; kind: string; detail: string }[];
  versions: Version[];
}

export interface SameInputResult {
  fingerprints: number;
  inconsistent_fingerprints: number;
  consistency_score: number | null;
  items: {
    input_fingerprint: string;
    requests: number;
    outcomes: Record<string, number>;
    modal_verdict: string;
    consistency: number | null;
    providers: string[];
    latest_request_id: string;
  }[];
}

export interface ExplainResult {
  cohort: string;
  population: number;
  cohort_size: number;
  base_rate: number | null;
  items: {
    dimension: string;
    value: string;
    support: number;
    cohort_count: number;
    cohort_rate: number | null;
    rest_rate: number | null;
    lift: number | null;
  }[];
}

export interface FlipRateRow {
  repeated_inputs: number;
  flipped_inputs: number;
  input_flip_rate: number | null;
  settled_requests: number;
  corrected_requests: number;
  correction_rate: number | null;
}

export type Labelled = { value: number | null } & Record<string, string | number | null>;

export interface PipelineResult {
  from_ms: number;
  to_ms: number;
  step_s: number;
  buckets: {
    bucket_start_ms: number;
    accepted: number;
    versions: number;
    final_versions: number;
    corrections: number;
    fired_by: { event: number; watermark: number; wall_clock: number; recovery: number };
    watermark_lag_avg_ms: number | null;
    watermark_lag_max_ms: number | null;
  }[];
  live: {
    sampled_at_ms: number;
    reconciler_in_process: boolean;
    writer_in_process: boolean;
    events_in: Labelled[];
    dead_letters: Labelled[];
    consumer_lag: Labelled[];
    input_watermark_lag_ms: Labelled[];
    input_idle: Labelled[];
    verdicts: Labelled[];
    clock_lag_ms: number | null;
    clock_wall_clock: boolean | null;
    writer_buffered_rows: number | null;
    writer_paused: boolean | null;
  };
}
