/**
 * JSON schemas of every request and response (validation, serialization and the OpenAPI document come from
 * these). Times are RFC 3339 in requests and epoch milliseconds (`*_ms`) in responses.
 */
import { ANOMALY_KINDS, EXPLAIN_COHORTS, GROUP_DIMENSION_NAMES, LATENCY_STAGES } from '@pathwatch/path-store';
import { VERDICT_CLASSES } from '@pathwatch/schemas';

const dims = GROUP_DIMENSION_NAMES.join('|');
const kinds = ANOMALY_KINDS.join('|');

export const str = { type: 'string', minLength: 1, maxLength: 256 } as const;
export const nullableNumber = { type: ['number', 'null'] } as const;
export const nullableInt = { type: ['integer', 'null'] } as const;
const nullableString = { type: ['string', 'null'] } as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message', 'retriable'],
  properties: {
    error: { type: 'string', description: 'Stable code, e.g. QUERY_API_BAD_REQUEST.' },
    message: { type: 'string', description: 'What is wrong, naming the parameter or the limit.' },
    retriable: { type: 'boolean', description: 'Whether the same request can succeed later.' },
  },
} as const;

/** Answers every route can give: malformed input (400), an Accept header excluding JSON (406), a bug (500). */
const commonErrors = {
  400: { $ref: 'Error#' },
  406: { $ref: 'Error#' },
  500: { $ref: 'Error#' },
} as const;

export const errorResponses = {
  ...commonErrors,
  401: { $ref: 'Error#' },
  503: { $ref: 'Error#' },
} as const;

const timeRange = 'Between 1970-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z.';
export const windowProps = {
  from: {
    type: 'string',
    format: 'date-time',
    description: `Start (inclusive), RFC 3339. Default: \`to\` minus 24 h. ${timeRange}`,
  },
  to: {
    type: 'string',
    format: 'date-time',
    description: `End (exclusive), RFC 3339. Default: now. ${timeRange} The range is capped (raw-record queries: QUERY_API_MAX_RAW_RANGE_HOURS; dashboard queries: QUERY_API_MAX_ROLLUP_RANGE_DAYS).`,
  },
  tenant: { ...str, description: 'Only this tenant.' },
  operation: { ...str, description: 'Only this operation (e.g. otp.send).' },
  channel: { ...str, description: 'Only this channel.' },
  route: { ...str, description: 'Only this (final) route.' },
  provider: { ...str, description: 'Only this (final) provider.' },
} as const;

const groupBy = {
  type: 'string',
  pattern: `^(${dims})(,(${dims}))*$`,
  description: `Comma-separated dimensions: ${GROUP_DIMENSION_NAMES.join(', ')}.`,
} as const;

export const limit = (dflt: number) =>
  ({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: dflt,
    description: "Maximum rows returned (the maximum is the server's QUERY_API_MAX_RESULT_ROWS).",
  }) as const;

const groupObject = {
  type: 'object',
  properties: Object.fromEntries(GROUP_DIMENSION_NAMES.map((d) => [d, { type: 'string' }])),
  additionalProperties: false,
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
  querystring: { type: 'object', additionalProperties: false, properties: { tenant: str } },
  response: {
    200: {
      type: 'object',
      properties: {
        tenant_id: { type: 'string' },
        request_id: { type: 'string' },
        version: { type: 'integer' },
        verdict_id: { type: 'string' },
        verdict: { type: 'string', enum: [...VERDICT_CLASSES] },
        provisional: { type: 'boolean' },
        is_correction: { type: 'boolean' },
        previous_verdict: nullableString,
        error_category: nullableString,
        error_code: nullableString,
        flags: { type: 'array', items: { type: 'string' } },
        layers: {
          type: 'object',
          properties: {
            api_ok: { type: 'boolean' },
            execution_ok: { type: ['boolean', 'null'] },
            outcome_ok: { type: ['boolean', 'null'] },
          },
        },
        operation: { type: 'string' },
        channel: { type: 'string' },
        input_fingerprint: { type: 'string' },
        attributes: { type: 'object', additionalProperties: { type: 'string' } },
        route: { type: 'string' },
        provider: { type: 'string' },
        evidence_level: { type: 'string' },
        callbacks: { type: 'integer' },
        duplicate_callbacks: { type: 'integer' },
        sla_ms: { type: 'integer' },
        give_up_ms: { type: 'integer' },
        accepted_at_ms: nullableInt,
        deadline_at_ms: nullableInt,
        first_dispatch_at_ms: nullableInt,
        provider_accepted_at_ms: nullableInt,
        final_at_ms: nullableInt,
        latency_ms: {
          type: 'object',
          properties: {
            accept_to_dispatch: nullableInt,
            dispatch_to_provider_accept: nullableInt,
            provider_accept_to_final: nullableInt,
            end_to_end: nullableInt,
          },
        },
        clock: {
          type: 'object',
          properties: {
            fired_by: { type: 'string' },
            watermark_lag_ms: { type: 'integer' },
            decided_at_ms: { type: 'integer' },
            emitted_at_ms: { type: 'integer' },
          },
        },
        attempts: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              attempt_id: { type: 'string' },
              attempt_no: { type: 'integer' },
              reason: { type: 'string' },
              route: { type: 'string' },
              provider: { type: 'string' },
              provider_message_id: nullableString,
              submit_outcome: { type: 'string' },
              dispatched_at_ms: { type: 'integer' },
              last_status: nullableString,
              last_status_at_ms: nullableInt,
            },
          },
        },
        events: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              at_ms: { type: 'integer' },
              offset_ms: { type: 'integer' },
              kind: { type: 'string' },
              detail: { type: 'string' },
            },
          },
        },
        versions: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              version: { type: 'integer' },
              verdict: { type: 'string' },
              provisional: { type: 'boolean' },
              is_correction: { type: 'boolean' },
              previous_verdict: nullableString,
              error_code: nullableString,
              flags: { type: 'array', items: { type: 'string' } },
              fired_by: { type: 'string' },
              watermark_lag_ms: { type: 'integer' },
              decided_at_ms: { type: 'integer' },
              emitted_at_ms: { type: 'integer' },
            },
          },
        },
      },
    },
    404: { $ref: 'Error#' },
    409: { $ref: 'Error#' },
    ...errorResponses,
  },
} as const;

export const latencyRoute = {
  tags: ['dashboard'],
  summary: 'Latency percentiles and on-time rate over time (from the hourly rollup)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
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
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        rows: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              bucket_start_ms: nullableInt,
              group: groupObject,
              requests: { type: 'integer' },
              settled: { type: 'integer' },
              on_time: { type: 'integer' },
              late: { type: 'integer' },
              failed: { type: 'integer' },
              missing: { type: 'integer' },
              expired: { type: 'integer' },
              overdue: { type: 'integer' },
              orphans: { type: 'integer' },
              retried: { type: 'integer' },
              failed_over: { type: 'integer' },
              corrected: { type: 'integer' },
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
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const sameInputRoute = {
  tags: ['variance'],
  summary: 'Same input, different outcome (by input fingerprint) with a consistency score',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...windowProps,
      min_requests: { type: 'integer', minimum: 2, maximum: 1_000_000, default: 2 },
      limit: limit(50),
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        fingerprints: { type: 'integer' },
        inconsistent_fingerprints: { type: 'integer' },
        consistency_score: nullableNumber,
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              input_fingerprint: { type: 'string' },
              requests: { type: 'integer' },
              outcomes: { type: 'object', additionalProperties: { type: 'integer' } },
              modal_verdict: { type: 'string' },
              consistency: nullableNumber,
              providers: { type: 'array', items: { type: 'string' } },
              latest_request_id: { type: 'string' },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const flipRateRoute = {
  tags: ['variance'],
  summary:
    'Outcome flip rate: repeated inputs whose outcome differs, and verdicts corrected after being final',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...windowProps,
      group_by: groupBy,
      bucket: { type: 'string', enum: ['hour', 'day', 'none'], default: 'none' },
      limit: limit(1000),
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        rows: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              bucket_start_ms: nullableInt,
              group: groupObject,
              repeated_inputs: { type: 'integer' },
              flipped_inputs: { type: 'integer' },
              input_flip_rate: nullableNumber,
              settled_requests: { type: 'integer' },
              corrected_requests: { type: 'integer' },
              correction_rate: nullableNumber,
            },
          },
        },
      },
    },
    ...errorResponses,
  },
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
  response: {
    200: {
      type: 'object',
      properties: {
        cohort: { type: 'string' },
        population: { type: 'integer' },
        cohort_size: { type: 'integer' },
        base_rate: nullableNumber,
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              dimension: { type: 'string' },
              value: { type: 'string' },
              support: { type: 'integer' },
              cohort_count: { type: 'integer' },
              cohort_rate: nullableNumber,
              rest_rate: nullableNumber,
              lift: nullableNumber,
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const anomaliesRoute = {
  tags: ['anomalies'],
  summary: 'Open anomalies: requests still overdue or missing (not resolved by a final outcome)',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...windowProps,
      kind: {
        type: 'string',
        pattern: `^(${kinds})(,(${kinds}))*$`,
        description: `Comma-separated: ${ANOMALY_KINDS.join(', ')}. Default: all.`,
      },
      limit: limit(100),
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        counts: {
          type: 'object',
          properties: Object.fromEntries(ANOMALY_KINDS.map((k) => [k, { type: 'integer' }])),
        },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              tenant_id: { type: 'string' },
              request_id: { type: 'string' },
              verdict: { type: 'string' },
              version: { type: 'integer' },
              operation: { type: 'string' },
              channel: { type: 'string' },
              route: { type: 'string' },
              provider: { type: 'string' },
              attempts: { type: 'integer' },
              fired_by: { type: 'string' },
              accepted_at_ms: nullableInt,
              deadline_at_ms: nullableInt,
              give_up_at_ms: nullableInt,
              overdue_by_ms: nullableInt,
              decided_at_ms: { type: 'integer' },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

export const sqlRoute = {
  tags: ['sql'],
  summary: 'Read-only SQL for analysts: one SELECT (WITH, UNION, subqueries, joins) over the path store tables; see SECURITY.md',
  querystring: { type: 'object', additionalProperties: false, properties: {} },
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
  response: {
    200: {
      type: 'object',
      properties: {
        columns: {
          type: 'array',
          items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } },
        },
        rows: { type: 'array', items: { type: 'array' } },
        truncated: { type: 'boolean' },
        elapsed_ms: nullableNumber,
      },
    },
    404: { $ref: 'Error#' },
    413: { $ref: 'Error#' },
    415: { $ref: 'Error#' },
    422: { $ref: 'Error#' },
    ...errorResponses,
  },
} as const;

export const healthRoute = {
  tags: ['ops'],
  summary: 'Liveness',
  security: [],
  response: { 200: { type: 'object', properties: { status: { type: 'string' } } }, ...commonErrors },
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
      additionalProperties: {
        type: 'object',
        properties: { ok: { type: 'boolean' }, detail: { type: 'string' } },
      },
    },
  },
} as const;
