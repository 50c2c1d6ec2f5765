// Invalid records: bytes the codec must refuse, each with the dead-letter reason code it must produce.
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import type { DeadLetterExpectation, InputKind, InvalidKind, ScriptedEvent, ScriptedUnit } from './model.js';
import { Rng, sortableId } from './prng.js';
import type { ScenarioContext } from './scenario-drafts.js';

const INVALID_KINDS: readonly InvalidKind[] = [
  'empty',
  'bad_magic',
  'unknown_schema_id',
  'truncated_avro',
  'malformed_json',
  'schema_invalid_json',
  'semantically_invalid_avro',
];

/** The codec's DecodeError code for each invalid kind (the dead-letter reason_code). */
export const INVALID_REASON_CODES: Readonly<Record<InvalidKind, string>> = {
  empty: 'SCHEMA_DECODE_EMPTY',
  bad_magic: 'SCHEMA_DECODE_BAD_MAGIC',
  unknown_schema_id: 'SCHEMA_DECODE_UNKNOWN_SCHEMA_ID',
  truncated_avro: 'SCHEMA_DECODE_BAD_AVRO',
  malformed_json: 'SCHEMA_DECODE_BAD_JSON',
  schema_invalid_json: 'SCHEMA_VALIDATION_FAILED',
  semantically_invalid_avro: 'SCHEMA_VALIDATION_FAILED',
};

export function buildInvalid(ctx: ScenarioContext, index: number, t0: number): ScriptedUnit {
  const rng = Rng.from(ctx.options.seed, 'unit', index, 0);
  const topicKind = rng.pick<InputKind>(['request', 'dispatch', 'callback']);
  const invalidKind = rng.pick(INVALID_KINDS);
  const requestId = sortableId('req', t0, rng);
  const envelope = {
    event_id: sortableId('evt', t0, rng),
    source: '//notify/broken-producer',
    occurred_at: t0,
    recorded_at: t0,
    tenant_id: rng.weighted(ctx.options.tenants, (x) => x.weight).name,
    request_id: requestId,
    schema_version: ctx.versions[topicKind],
  };
  const template: RequestAccepted | DispatchAttempted | ProviderCallback =
    topicKind === 'request'
      ? {
          envelope,
          operation: 'otp.send',
          channel: 'sms',
          idempotency_key: null,
          input_fingerprint: 'fp_invalid',
          sla_ms: 5_000,
          give_up_ms: 20_000,
          api_status: 202,
          api_latency_ms: 40,
          attributes: {},
        }
      : topicKind === 'dispatch'
        ? {
            envelope,
            attempt_id: `${requestId}/a1`,
            attempt_no: 1,
            attempt_reason: 'initial',
            parent_attempt_id: null,
            route: 'relaycom/eu-direct',
            provider: 'relaycom',
            provider_message_id: `SM${rng.hex(24)}`,
            submit_outcome: 'accepted',
            submit_latency_ms: 120,
            error_code: null,
          }
        : {
            envelope,
            provider: 'relaycom',
            provider_message_id: `SM${rng.hex(24)}`,
            provider_event_id: null,
            attempt_id: null,
            status_raw: 'delivered',
            status: 'delivered',
            is_final: true,
            error_code: null,
            error_category: null,
            evidence_level: 'handset',
            provider_event_time: t0,
            provider_sequence: null,
          };
  const key = `invalid:${index}`;
  const publishAt = t0 + rng.latency(ctx.options.timing.ingestLag);
  const expectation: DeadLetterExpectation = {
    kind: 'invalid',
    unit: index,
    key,
    topicKind,
    invalidKind,
    reasonCode: INVALID_REASON_CODES[invalidKind],
    publishAt,
  };
  const event: ScriptedEvent = {
    kind: 'invalid',
    unit: index,
    seq: 0,
    label: `invalid:${invalidKind}`,
    occurredAt: t0,
    publishAt,
    key,
    traceparent: `00-${rng.hex(32)}-${rng.hex(16)}-01`,
    format: invalidKind.endsWith('json') ? 'json' : 'avro',
    topicKind,
    invalidKind,
    template,
    noise: rng.hex(64),
  };
  return { index, kind: 'invalid', anchorAt: t0, events: [event], expectation, redrafts: 0 };
}
