// Semantic checks Avro cannot express: non-empty ids, plausible times, sane numbers.
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

function id(field: string, v: string): string | null {
  return v.length === 0 ? `${field}: must not be empty` : null;
}

function optId(field: string, v: string | null): string | null {
  return v !== null && v.length === 0 ? `${field}: must not be empty (use null when unknown)` : null;
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
    nonNegative('sla_ms', v.sla_ms) ??
    nonNegative('give_up_ms', v.give_up_ms) ??
    nonNegative('api_latency_ms', v.api_latency_ms) ??
    (v.api_status < 100 || v.api_status > 599 ? `api_status: ${v.api_status} is not an HTTP status` : null),
  dispatch: (v, b) =>
    envelope(v.envelope, b, true) ??
    id('attempt_id', v.attempt_id) ??
    atLeastOne('attempt_no', v.attempt_no) ??
    id('provider', v.provider) ??
    optId('provider_message_id', v.provider_message_id) ??
    nonNegative('submit_latency_ms', v.submit_latency_ms),
  callback: (v, b) =>
    envelope(v.envelope, b, false) ??
    id('provider', v.provider) ??
    id('provider_message_id', v.provider_message_id) ??
    optId('attempt_id', v.attempt_id),
  verdict: (v, b) =>
    id('verdict_id', v.verdict_id) ??
    id('request_id', v.request_id) ??
    id('tenant_id', v.tenant_id) ??
    atLeastOne('version', v.version) ??
    nonNegative('sla_ms', v.sla_ms) ??
    nonNegative('give_up_ms', v.give_up_ms) ??
    time('emitted_at', v.emitted_at, b) ??
    time('decided_at', v.decided_at, b) ??
    optTime('accepted_at', v.accepted_at, b),
  action: (v, b) =>
    id('action_id', v.action_id) ??
    id('request_id', v.request_id) ??
    id('verdict_id', v.verdict_id) ??
    atLeastOne('verdict_version', v.verdict_version) ??
    time('created_at', v.created_at, b),
  dead_letter: (v, b) =>
    id('stage', v.stage) ??
    id('reason_code', v.reason_code) ??
    id('source_topic', v.source_topic) ??
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
