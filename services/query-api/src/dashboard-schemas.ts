/**
 * JSON schemas of the routes added for the dashboard (request search, pipeline health). Same conventions as
 * schemas.ts: RFC 3339 times in requests, epoch milliseconds (`*_ms`) in responses, every parameter bounded.
 */
import { VERDICT_CLASSES } from '@pathwatch/schemas';
import { errorResponses, limit, nullableInt, str, windowProps } from './schemas.js';

const COLUMN_DIMENSIONS = [
  'route',
  'provider',
  'first_provider',
  'operation',
  'channel',
  'attempts',
  'error_code',
];

export const searchRoute = {
  tags: ['paths'],
  summary:
    'Find requests: by request id, provider message id, input fingerprint, tenant and other filters, verdict cohort, or an explain dimension/value',
  description:
    'Newest first within the time window (raw records; the range is capped by QUERY_API_MAX_RAW_RANGE_HOURS). ' +
    '`dimension` and `value` come together: an item of /v1/explain (route, provider, first_provider, operation, ' +
    'channel, attempts, error_code, flag or attr.<key>) drills down to its example requests.',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...windowProps,
      request_id: { ...str, maxLength: 512, description: 'Exactly this request id.' },
      provider_message_id: { ...str, description: 'Some attempt got this provider message id.' },
      input_fingerprint: { ...str, description: 'Exactly this input fingerprint.' },
      cohort: {
        type: 'string',
        enum: [...VERDICT_CLASSES, 'not_on_time'],
        description: 'Latest verdict is this class (not_on_time: any settled or open class but on time).',
      },
      dimension: {
        type: 'string',
        pattern: `^(${COLUMN_DIMENSIONS.join('|')}|flag|attr\\..{1,200})$`,
        description: 'An explain dimension; needs `value`.',
      },
      value: { type: 'string', maxLength: 256, description: 'Value of `dimension` (may be empty).' },
      limit: limit(50),
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        total: { type: 'integer', description: 'Requests matching (items holds the newest `limit`).' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              tenant_id: { type: 'string' },
              request_id: { type: 'string' },
              version: { type: 'integer' },
              verdict: { type: 'string' },
              provisional: { type: 'boolean' },
              is_correction: { type: 'boolean' },
              operation: { type: 'string' },
              channel: { type: 'string' },
              route: { type: 'string' },
              provider: { type: 'string' },
              attempts: { type: 'integer' },
              input_fingerprint: { type: 'string' },
              provider_message_ids: { type: 'array', items: { type: 'string' } },
              sla_ms: { type: 'integer' },
              e2e_ms: nullableInt,
              fired_by: { type: 'string' },
              accepted_at_ms: nullableInt,
              path_at_ms: { type: 'integer' },
            },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;

const labelled = (labels: readonly string[]) =>
  ({
    type: 'array',
    items: {
      type: 'object',
      properties: {
        ...Object.fromEntries(labels.map((l) => [l, { type: 'string' }])),
        value: { type: ['number', 'null'] },
      },
    },
  }) as const;

export const pipelineRoute = {
  tags: ['ops'],
  summary:
    'Pipeline health: accepted requests and emitted verdict versions per bucket (store), and the live metrics of this process (input, consumer lag, watermarks, idle inputs, dead letters)',
  description:
    'buckets: from the path store (requests by acceptance time; verdict versions by emission time, with corrections, ' +
    'what fired them — wall_clock means every input was idle — and the watermark lag at decision). live: the metrics ' +
    'registry of this process (filled when the reconciler and path writer run in it, as under `pathwatch start`).',
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...windowProps,
      step: {
        type: 'string',
        enum: ['auto', 'minute', 'hour'],
        default: 'auto',
        description: 'Bucket width (auto: minute up to 6 hours, else hour).',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      properties: {
        from_ms: { type: 'integer' },
        to_ms: { type: 'integer' },
        step_s: { type: 'integer' },
        buckets: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              bucket_start_ms: { type: 'integer' },
              accepted: { type: 'integer' },
              versions: { type: 'integer' },
              final_versions: { type: 'integer' },
              corrections: { type: 'integer' },
              fired_by: {
                type: 'object',
                properties: {
                  event: { type: 'integer' },
                  watermark: { type: 'integer' },
                  wall_clock: { type: 'integer' },
                  recovery: { type: 'integer' },
                },
              },
              watermark_lag_avg_ms: nullableInt,
              watermark_lag_max_ms: nullableInt,
            },
          },
        },
        live: {
          type: 'object',
          properties: {
            sampled_at_ms: { type: 'integer' },
            reconciler_in_process: { type: 'boolean' },
            writer_in_process: { type: 'boolean' },
            events_in: labelled(['stage', 'topic']),
            dead_letters: labelled(['stage', 'reason_code']),
            consumer_lag: labelled(['topic', 'partition']),
            input_watermark_lag_ms: labelled(['kind', 'partition']),
            input_idle: labelled(['kind', 'partition']),
            verdicts: labelled(['verdict', 'provisional', 'correction', 'fired_by']),
            clock_lag_ms: { type: ['number', 'null'] },
            clock_wall_clock: { type: ['boolean', 'null'] },
            writer_buffered_rows: { type: ['number', 'null'] },
            writer_paused: { type: ['boolean', 'null'] },
          },
        },
      },
    },
    ...errorResponses,
  },
} as const;
