// Semantic checks Avro cannot express: non-empty ids, length limits, plausible times, sane numbers.
// Each check returns the reason (naming the field) or null; the happy path allocates nothing.
import type { Kind, KindMap } from './catalog.js';
import type { Envelope } from './generated/types.js';

export interface ValidationOptions {
  /**
   * Earliest plausible event/record time (epoch ms).
   * @default Date.UTC(2000, 0, 1) (946684800000)
   */
  minTimestampMs?: number | undefined;
  /**
   * How far past `now()` a timestamp may lie (producer clock skew).
   * @default 86400000 (1 day)
   */
  maxFutureSkewMs?: number | undefined;
  /**
   * Processing-time clock (epoch ms) the future bound is measured against.
   * @default Date.now
   */
  now?: (() => number) | undefined;
}

export const DEFAULT_MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
export const DEFAULT_MAX_FUTURE_SKEW_MS = 86_400_000;

interface Bounds {
  readonly min: number;
  /** Upper bound at the time of the check. */
  max: number;
}

function iso(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : 'out of range';
}

function time(field: string, v: number, b: Bounds): string | null {
  if (v < b.min) return `${field}: ${v} (${iso(v)}) is before ${iso(b.min)}`;
  if (v > b.max) return `${field}: ${v} (${iso(v)}) is more than the allowed skew after now (${iso(b.max)})`;
  return null;
}

function optTime(field: string, v: number | null, b: Bounds): string | null {
  return v === null ? null : time(field, v, b);
}

/**
 * Longest value (in UTF-16 code units, JavaScript `length`; never fewer than the Unicode characters) of each string
 * field of the input records. Every output record (verdict, action, changelog image) is built from these fields,
 * so these limits bound its size; ids fit the query API (request ids up to 512 characters, filters up to 256).
 * Documented in schemas/README.md ("Length limits"); a value over its limit is rejected with
 * SCHEMA_FIELD_TOO_LONG and a reason starting `field_too_long:<field>`.
 */
export const FIELD_LIMITS = {
  'envelope.event_id': 256,
  'envelope.source': 256,
  'envelope.tenant_id': 256,
  'envelope.request_id': 512,
  operation: 256,
  channel: 256,
  idempotency_key: 512,
  input_fingerprint: 256,
  attempt_id: 256,
  parent_attempt_id: 256,
  route: 256,
  provider: 256,
  provider_message_id: 512,
  provider_event_id: 512,
  error_code: 256,
  status_raw: 4096,
} as const satisfies Readonly<Record<string, number>>;
export type LimitedField = keyof typeof FIELD_LIMITS;

/** Bounds of `attributes` on requests (the map is copied into every verdict and path row). */
export const ATTRIBUTE_LIMITS = { entries: 64, keyLength: 128, valueLength: 512 } as const;

/** Prefix of the reason of a value over its length limit (the codec reports it as SCHEMA_FIELD_TOO_LONG). */
export const FIELD_TOO_LONG = 'field_too_long:';

function tooLong(field: string, length: number, max: number, unit = 'characters'): string {
  return `${FIELD_TOO_LONG}${field}: ${length} ${unit}, limit ${max}`;
}

function len(field: LimitedField, v: string | null): string | null {
  const max = FIELD_LIMITS[field];
  return v !== null && v.length > max ? tooLong(field, v.length, max) : null;
}

function id(field: LimitedField, v: string): string | null {
  return v.length === 0 ? `${field}: must not be empty` : len(field, v);
}

function optId(field: LimitedField, v: string | null): string | null {
  return v !== null && v.length === 0 ? `${field}: must not be empty (use null when unknown)` : len(field, v);
}

function attributes(v: Readonly<Record<string, string>>): string | null {
  // for-in, not Object.keys: the happy path allocates nothing.
  let entries = 0;
  let problem: string | null = null;
  for (const k in v) {
    entries++;
    if (problem !== null) continue;
    if (k.length > ATTRIBUTE_LIMITS.keyLength)
      problem = tooLong('attributes (a key)', k.length, ATTRIBUTE_LIMITS.keyLength);
    else {
      const value = v[k] as string;
      if (value.length > ATTRIBUTE_LIMITS.valueLength)
        problem = tooLong(`attributes.${k}`, value.length, ATTRIBUTE_LIMITS.valueLength);
    }
  }
  if (entries > ATTRIBUTE_LIMITS.entries)
    return tooLong('attributes', entries, ATTRIBUTE_LIMITS.entries, 'entries');
  return problem;
}

/** Output-side ids: non-empty only (they derive from limited input fields). */
function outId(field: string, v: string): string | null {
  return v.length === 0 ? `${field}: must not be empty` : null;
}

function nonNegative(field: string, v: number | null): string | null {
  return v !== null && v < 0 ? `${field}: ${v} must be >= 0` : null;
}

function atLeastOne(field: string, v: number): string | null {
  return v < 1 ? `${field}: ${v} must be >= 1` : null;
}

function envelope(e: Envelope, b: Bounds, requestIdRequired: boolean): string | null {
  return (
    id('envelope.event_id', e.event_id) ??
    id('envelope.source', e.source) ??
    id('envelope.tenant_id', e.tenant_id) ??
    (requestIdRequired && e.request_id === null ? 'envelope.request_id: required on this topic' : null) ??
    optId('envelope.request_id', e.request_id) ??
    time('envelope.occurred_at', e.occurred_at, b) ??
    time('envelope.recorded_at', e.recorded_at, b) ??
    atLeastOne('envelope.schema_version', e.schema_version)
  );
}

type Check<K extends Kind> = (v: KindMap[K], b: Bounds) => string | null;

const CHECKS: { readonly [K in Kind]: Check<K> } = {
  request: (v, b) =>
    envelope(v.envelope, b, true) ??
    id('operation', v.operation) ??
    id('channel', v.channel) ??
    len('idempotency_key', v.idempotency_key) ??
    len('input_fingerprint', v.input_fingerprint) ??
    attributes(v.attributes) ??
    nonNegative('sla_ms', v.sla_ms) ??
    nonNegative('give_up_ms', v.give_up_ms) ??
    nonNegative('api_latency_ms', v.api_latency_ms) ??
    (v.api_status < 100 || v.api_status > 599 ? `api_status: ${v.api_status} is not an HTTP status` : null),
  dispatch: (v, b) =>
    envelope(v.envelope, b, true) ??
    id('attempt_id', v.attempt_id) ??
    atLeastOne('attempt_no', v.attempt_no) ??
    optId('parent_attempt_id', v.parent_attempt_id) ??
    len('route', v.route) ??
    id('provider', v.provider) ??
    optId('provider_message_id', v.provider_message_id) ??
    len('error_code', v.error_code) ??
    nonNegative('submit_latency_ms', v.submit_latency_ms),
  callback: (v, b) =>
    envelope(v.envelope, b, false) ??
    id('provider', v.provider) ??
    id('provider_message_id', v.provider_message_id) ??
    len('provider_event_id', v.provider_event_id) ??
    optId('attempt_id', v.attempt_id) ??
    len('status_raw', v.status_raw) ??
    len('error_code', v.error_code),
  verdict: (v, b) =>
    outId('verdict_id', v.verdict_id) ??
    outId('request_id', v.request_id) ??
    outId('tenant_id', v.tenant_id) ??
    atLeastOne('version', v.version) ??
    nonNegative('sla_ms', v.sla_ms) ??
    nonNegative('give_up_ms', v.give_up_ms) ??
    time('emitted_at', v.emitted_at, b) ??
    time('decided_at', v.decided_at, b) ??
    optTime('accepted_at', v.accepted_at, b),
  action: (v, b) =>
    outId('action_id', v.action_id) ??
    outId('request_id', v.request_id) ??
    outId('verdict_id', v.verdict_id) ??
    atLeastOne('verdict_version', v.verdict_version) ??
    time('created_at', v.created_at, b),
  dead_letter: (v, b) =>
    outId('stage', v.stage) ??
    outId('reason_code', v.reason_code) ??
    outId('source_topic', v.source_topic) ??
    time('failed_at', v.failed_at, b),
};

/** A reusable checker bound to its options. */
export type Validator = <K extends Kind>(kind: K, value: KindMap[K]) => string | null;

export function createValidator(options: ValidationOptions = {}): Validator {
  const min = options.minTimestampMs ?? DEFAULT_MIN_TIMESTAMP_MS;
  const skew = options.maxFutureSkewMs ?? DEFAULT_MAX_FUTURE_SKEW_MS;
  const now = options.now ?? Date.now;
  const bounds: Bounds = { min, max: 0 };
  return (kind, value) => {
    bounds.max = now() + skew;
    return (CHECKS[kind] as Check<typeof kind>)(value, bounds);
  };
}
