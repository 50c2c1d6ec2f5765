// Response shapes of the /v1 endpoints the dashboard reads (as in /openapi.json). The path store's results go to
// the HTTP API as they are, so they are the store's own types; the import is type-only and leaves the bundle.
import type {
  AnomalyResult,
  ExplainResult,
  FlipRateRow,
  LatencyRow,
  PathTimeline,
  PipelineBucket,
  RequestSearchResult,
  SameInputResult,
} from '@pathwatch/path-store/results';

export type { AnomalyResult, ExplainResult, FlipRateRow, LatencyRow, SameInputResult };
export type SearchResult = RequestSearchResult;
export type Timeline = PathTimeline;

export type Labelled = { value: number | null } & Record<string, string | number | null>;

/** The store's buckets and the live metrics of the query API's process. */
export interface PipelineResult {
  from_ms: number;
  to_ms: number;
  step_s: number;
  buckets: PipelineBucket[];
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
