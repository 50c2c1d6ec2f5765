/**
 * JSON schemas of every request and response (validation, serialization and the OpenAPI document come from
 * these). Times are RFC 3339 in requests and epoch milliseconds (`*_ms`) in responses. Built from schema-parts.ts.
 */
import { ANOMALY_KINDS, EXPLAIN_COHORTS, GROUP_DIMENSION_NAMES, LATENCY_STAGES } from '@pathwatch/path-store';
import { VERDICT_CLASSES } from '@pathwatch/schemas';
import {
  answers,
  bool,
  commonErrors,
  errorRef,
  int,
  limit,
  nullableBool,
  nullableInt,
  nullableNumber,
  nullableString,
  object,
  objects,
  pathFields,
  query,
  rowKey,
  str,
  strings,
  text,
  windowProps,
} from './schema-parts.js';

export { errorSchema } from './schema-parts.js';

const dims = GROUP_DIMENSION_NAMES.join('|');
const kinds = ANOMALY_KINDS.join('|');

const groupBy = {
  type: 'string',
  pattern: `^(${dims})(,(${dims}))*$`,
  description: `Comma-separated dimensions: ${GROUP_DIMENSION_NAMES.join(', ')}.`,
} as const;

export const timelineRoute = {
  tags: ['paths'],
  summary: "One request's execution path as a timeline",
  description:
    'The latest version of the enriched path (attempts, hops, timings, layers, clock) plus every verdict version, merged in time order.',
  params: {
    type: 'object',
    required: ['request_id'],
    properties: { request_id: { ...str, maxLength: 512, description: 'Request id (1 to 512 characters).' } },
  },
  querystring: query({ tenant: str }),
  response: answers(
    {
      tenant_id: text,
      request_id: text,
      version: int,
      verdict_id: text,
      verdict: { type: 'string', enum: [...VERDICT_CLASSES] },
      provisional: bool,
      is_correction: bool,
      previous_verdict: nullableString,
      error_category: nullableString,
      error_code: nullableString,
      flags: strings,
      layers: object({ api_ok: bool, execution_ok: nullableBool, outcome_ok: nullableBool }),
      operation: text,
      channel: text,
      input_fingerprint: text,
      attributes: { type: 'object', additionalProperties: text },
      route: text,
      provider: text,
      evidence_level: text,
      callbacks: int,
      duplicate_callbacks: int,
      sla_ms: int,
      give_up_ms: int,
      accepted_at_ms: nullableInt,
      deadline_at_ms: nullableInt,
      first_dispatch_at_ms: nullableInt,
      provider_accepted_at_ms: nullableInt,
      final_at_ms: nullableInt,
      latency_ms: object({
        accept_to_dispatch: nullableInt,
        dispatch_to_provider_accept: nullableInt,
        provider_accept_to_final: nullableInt,
        end_to_end: nullableInt,
      }),
      clock: object({ fired_by: text, watermark_lag_ms: int, decided_at_ms: int, emitted_at_ms: int }),
      attempts: objects({
        attempt_id: text,
        attempt_no: int,
        reason: text,
        route: text,
        provider: text,
        provider_message_id: nullableString,
        submit_outcome: text,
        dispatched_at_ms: int,
        last_status: nullableString,
        last_status_at_ms: nullableInt,
      }),
      events: objects({ at_ms: int, offset_ms: int, kind: text, detail: text }),
      versions: objects({
        version: int,
        verdict: text,
        provisional: bool,
        is_correction: bool,
        previous_verdict: nullableString,
        error_code: nullableString,
        flags: strings,
        fired_by: text,
        watermark_lag_ms: int,
        decided_at_ms: int,
        emitted_at_ms: int,
      }),
    },
    { 404: errorRef, 409: errorRef },
  ),
} as const;

export const latencyRoute = {
  tags: ['dashboard'],
  summary: 'Latency percentiles and on-time rate over time (from the hourly rollup)',
  querystring: query({
    ...windowProps,
    group_by: groupBy,
    bucket: { type: 'string', enum: ['hour', 'day', 'none'], default: 'hour' },
    stage: {
      type: 'string',
      enum: [...LATENCY_STAGES],
      default: 'e2e',
      description:
        'e2e: accepted -> final; dispatch: accepted -> first dispatch; provider: dispatch -> provider accepted; delivery: provider accepted -> final.',
    },
    limit: limit(1000),
  }),
  response: answers({
    rows: objects({
      ...rowKey,
      requests: int,
      settled: int,
      on_time: int,
      late: int,
      failed: int,
      missing: int,
      expired: int,
      overdue: int,
      orphans: int,
      retried: int,
      failed_over: int,
      corrected: int,
      execution_ok: {
        type: 'integer',
        description: 'Requests some attempt of which a provider accepted (layer 2).',
      },
      on_time_rate: nullableNumber,
      mean_ms: nullableNumber,
      p50_ms: nullableNumber,
      p90_ms: nullableNumber,
      p95_ms: nullableNumber,
      p99_ms: nullableNumber,
    }),
  }),
} as const;

export const sameInputRoute = {
  tags: ['variance'],
  summary: 'Same input, different outcome (by input fingerprint) with a consistency score',
  querystring: query({
    ...windowProps,
    min_requests: { type: 'integer', minimum: 2, maximum: 1_000_000, default: 2 },
    limit: limit(50),
  }),
  response: answers({
    fingerprints: int,
    inconsistent_fingerprints: int,
    consistency_score: nullableNumber,
    items: objects({
      input_fingerprint: text,
      requests: int,
      outcomes: { type: 'object', additionalProperties: int },
      modal_verdict: text,
      consistency: nullableNumber,
      providers: strings,
      latest_request_id: text,
    }),
  }),
} as const;

export const flipRateRoute = {
  tags: ['variance'],
  summary:
    'Outcome flip rate: repeated inputs whose outcome differs, and verdicts corrected after being final',
  querystring: query({
    ...windowProps,
    group_by: groupBy,
    bucket: { type: 'string', enum: ['hour', 'day', 'none'], default: 'none' },
    limit: limit(1000),
  }),
  response: answers({
    rows: objects({
      ...rowKey,
      repeated_inputs: int,
      flipped_inputs: int,
      input_flip_rate: nullableNumber,
      settled_requests: int,
      corrected_requests: int,
      correction_rate: nullableNumber,
    }),
  }),
} as const;

export const explainRoute = {
  tags: ['variance'],
  summary: 'Explain a cohort: attribute values ranked by lift against the rest',
  description:
    'lift = P(cohort | value) / P(cohort | other values), Laplace-smoothed; values below the support thresholds are left out.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    required: ['cohort'],
    properties: {
      ...windowProps,
      cohort: { type: 'string', enum: [...EXPLAIN_COHORTS] },
      min_support: {
        type: 'integer',
        minimum: 1,
        maximum: 100_000_000,
        default: 30,
        description: 'Minimum requests having the value.',
      },
      min_cohort: {
        type: 'integer',
        minimum: 1,
        maximum: 100_000_000,
        default: 10,
        description: 'Minimum cohort requests having the value.',
      },
      limit: limit(25),
    },
  },
  response: answers({
    cohort: text,
    population: int,
    cohort_size: int,
    base_rate: nullableNumber,
    items: objects({
      dimension: text,
      value: text,
      support: int,
      cohort_count: int,
      cohort_rate: nullableNumber,
      rest_rate: nullableNumber,
      lift: nullableNumber,
    }),
  }),
} as const;

export const anomaliesRoute = {
  tags: ['anomalies'],
  summary: 'Open anomalies: requests still overdue or missing (not resolved by a final outcome)',
  querystring: query({
    ...windowProps,
    kind: {
      type: 'string',
      pattern: `^(${kinds})(,(${kinds}))*$`,
      description: `Comma-separated: ${ANOMALY_KINDS.join(', ')}. Default: all.`,
    },
    limit: limit(100),
  }),
  response: answers({
    counts: object(Object.fromEntries(ANOMALY_KINDS.map((k) => [k, int]))),
    items: objects({
      tenant_id: text,
      request_id: text,
      verdict: text,
      version: int,
      ...pathFields,
      fired_by: text,
      accepted_at_ms: nullableInt,
      deadline_at_ms: nullableInt,
      give_up_at_ms: nullableInt,
      overdue_by_ms: nullableInt,
      decided_at_ms: int,
    }),
  }),
} as const;

export const sqlRoute = {
  tags: ['sql'],
  summary:
    'Read-only SQL for analysts: one SELECT (WITH, UNION, subqueries, joins) over the path store tables; see SECURITY.md',
  querystring: query({}),
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['sql'],
    properties: {
      sql: { type: 'string', minLength: 1, maxLength: 100_000 },
      max_rows: {
        type: 'integer',
        minimum: 1,
        maximum: 1_000_000,
        description: "Row cap of the result; capped at the server's QUERY_API_SQL_MAX_ROWS.",
      },
    },
  },
  response: answers(
    {
      columns: objects({ name: text, type: text }),
      rows: { type: 'array', items: { type: 'array' } },
      truncated: bool,
      elapsed_ms: nullableNumber,
    },
    { 404: errorRef, 413: errorRef, 415: errorRef, 422: errorRef },
  ),
} as const;

export const healthRoute = {
  tags: ['ops'],
  summary: 'Liveness',
  security: [],
  response: { 200: object({ status: text }), ...commonErrors },
} as const;

export const readyRoute = {
  tags: ['ops'],
  summary: 'Readiness: ClickHouse answers (and every registered check passes)',
  security: [],
  response: {
    200: { $ref: 'Readiness#' },
    503: { $ref: 'Readiness#' },
    ...commonErrors,
  },
} as const;

export const readinessSchema = {
  $id: 'Readiness',
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ready', 'not_ready'] },
    checks: {
      type: 'object',
      additionalProperties: object({ ok: bool, detail: text }),
    },
  },
} as const;
