/**
 * Small input events for connection tests (topics, registry, security): one request delivered on time, with
 * event times in the recent past so its verdict is due at once.
 */
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';

let seq = 0;

function envelope(requestId: string | null, at: number, schemaVersion = 1) {
  seq += 1;
  return {
    event_id: `conn-${process.pid}-${seq}`,
    source: '//connect/test',
    occurred_at: at,
    recorded_at: at + 5,
    tenant_id: 'acme',
    request_id: requestId,
    schema_version: schemaVersion,
  };
}

export function requestEvent(id: string, at: number): RequestAccepted {
  return {
    envelope: envelope(id, at, 2),
    operation: 'otp.send',
    channel: 'sms',
    idempotency_key: null,
    input_fingerprint: `fp-${id}`,
    sla_ms: 2000,
    give_up_ms: 5000,
    api_status: 202,
    api_latency_ms: 40,
    attributes: { country: 'BR' },
  };
}

export function dispatchEvent(id: string, at: number): DispatchAttempted {
  return {
    envelope: envelope(id, at),
    attempt_id: `${id}-a1`,
    attempt_no: 1,
    attempt_reason: 'initial',
    parent_attempt_id: null,
    route: 'r1',
    provider: 'p1',
    provider_message_id: `pm-${id}`,
    submit_outcome: 'accepted',
    submit_latency_ms: 30,
    error_code: null,
  };
}

export function callbackEvent(id: string, at: number): ProviderCallback {
  return {
    envelope: envelope(id, at),
    provider: 'p1',
    provider_message_id: `pm-${id}`,
    provider_event_id: null,
    attempt_id: null,
    status_raw: 'DELIVRD',
    status: 'delivered',
    is_final: true,
    error_code: null,
    error_category: null,
    evidence_level: 'handset',
    provider_event_time: at,
    provider_sequence: null,
  };
}

/** The three events of one request delivered `deliveredAfterMs` after it was accepted at `at`. */
export function deliveredRequest(
  id: string,
  at: number,
  deliveredAfterMs = 800,
): {
  request: RequestAccepted;
  dispatch: DispatchAttempted;
  callback: ProviderCallback;
} {
  return {
    request: requestEvent(id, at),
    dispatch: dispatchEvent(id, at + 50),
    callback: callbackEvent(id, at + deliveredAfterMs),
  };
}
