/**
 * JSON schemas of the routes added for the dashboard (request search, pipeline health). Same conventions as
 * schemas.ts: RFC 3339 times in requests, epoch milliseconds (`*_ms`) in responses, every parameter bounded.
 */
import { CLOCK_SOURCES, VERDICT_CLASSES } from '@pathwatch/schemas';
import {
  answers,
  bool,
  int,
  limit,
  nullableBool,
  nullableInt,
  nullableNumber,
  object,
  objects,
  pathFields,
  query,
  str,
  strings,
  text,
  windowProps,
} from './schema-parts.js';

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
  querystring: query({
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
  }),
  response: answers({
    total: { type: 'integer', description: 'Requests matching (items holds the newest `limit`).' },
    items: objects({
      tenant_id: text,
      request_id: text,
      version: int,
      verdict: text,
      provisional: bool,
      is_correction: bool,
      ...pathFields,
      input_fingerprint: text,
      provider_message_ids: strings,
      sla_ms: int,
      e2e_ms: nullableInt,
      fired_by: text,
      accepted_at_ms: nullableInt,
      path_at_ms: int,
    }),
  }),
} as const;

const labelled = (labels: readonly string[]) =>
  objects({ ...Object.fromEntries(labels.map((l) => [l, text])), value: nullableNumber });

export const pipelineRoute = {
  tags: ['ops'],
  summary:
    'Pipeline health: accepted requests and emitted verdict versions per bucket (store), and the live metrics of this process (input, consumer lag, watermarks, idle inputs, dead letters)',
  description:
    'buckets: from the path store (requests by acceptance time; verdict versions by emission time, with corrections, ' +
    'what fired them — wall_clock means every input was idle — and the watermark lag at decision). live: the metrics ' +
    'registry of this process (filled when the reconciler and path writer run in it, as under `pathwatch start`).',
  querystring: query({
    ...windowProps,
    step: {
      type: 'string',
      enum: ['auto', 'minute', 'hour'],
      default: 'auto',
      description: 'Bucket width (auto: minute up to 6 hours, else hour).',
    },
  }),
  response: answers({
    from_ms: int,
    to_ms: int,
    step_s: int,
    buckets: objects({
      bucket_start_ms: int,
      accepted: int,
      versions: int,
      final_versions: int,
      corrections: int,
      fired_by: object(Object.fromEntries(CLOCK_SOURCES.map((c) => [c, int]))),
      watermark_lag_avg_ms: nullableInt,
      watermark_lag_max_ms: nullableInt,
    }),
    live: object({
      sampled_at_ms: int,
      reconciler_in_process: bool,
      writer_in_process: bool,
      events_in: labelled(['stage', 'topic']),
      dead_letters: labelled(['stage', 'reason_code']),
      consumer_lag: labelled(['topic', 'partition']),
      input_watermark_lag_ms: labelled(['kind', 'partition']),
      input_idle: labelled(['kind', 'partition']),
      verdicts: labelled(['verdict', 'provisional', 'correction', 'fired_by']),
      clock_lag_ms: nullableNumber,
      clock_wall_clock: nullableBool,
      writer_buffered_rows: nullableNumber,
      writer_paused: nullableBool,
    }),
  }),
} as const;
