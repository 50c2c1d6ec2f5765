// Builders for input events in tests (plain objects exactly shaped like the decoded Avro records).
import type {
  CallbackStatus,
  DispatchAttempted,
  ErrorCategory,
  EvidenceLevel,
  ProviderCallback,
  RequestAccepted,
  SubmitOutcome,
  AttemptReason,
} from '@pathwatch/schemas';

let seq = 0;
const nextId = (p: string) => `${p}-${++seq}`;

export interface RequestSpec {
  rid: string;
  at: number;
  tenant?: string;
  operation?: string;
  channel?: string;
  slaMs?: number | null;
  giveUpMs?: number | null;
  apiStatus?: number;
  fingerprint?: string;
  attributes?: Record<string, string>;
  eventId?: string;
}

export function request(s: RequestSpec): RequestAccepted {
  return {
    envelope: {
      event_id: s.eventId ?? nextId('evt-req'),
      source: '//test/api',
      occurred_at: s.at,
      recorded_at: s.at,
      tenant_id: s.tenant ?? 'tenant-a',
      request_id: s.rid,
      schema_version: 2,
    },
    operation: s.operation ?? 'otp.send',
    channel: s.channel ?? 'sms',
    idempotency_key: null,
    input_fingerprint: s.fingerprint ?? 'fp_0123456789abcdef',
    sla_ms: s.slaMs === undefined ? 10_000 : s.slaMs,
    give_up_ms: s.giveUpMs === undefined ? 60_000 : s.giveUpMs,
    api_status: s.apiStatus ?? 202,
    api_latency_ms: 5,
    attributes: s.attributes ?? { country: 'DE' },
  };
}

export interface DispatchSpec {
  rid: string;
  at: number;
  attemptId?: string;
  attemptNo?: number;
  reason?: AttemptReason;
  provider?: string;
  route?: string;
  pmid?: string | null;
  submit?: SubmitOutcome;
  errorCode?: string | null;
  eventId?: string;
  tenant?: string;
}

export function dispatch(s: DispatchSpec): DispatchAttempted {
  const no = s.attemptNo ?? 1;
  return {
    envelope: {
      event_id: s.eventId ?? nextId('evt-disp'),
      source: '//test/dispatcher',
      occurred_at: s.at,
      recorded_at: s.at,
      tenant_id: s.tenant ?? 'tenant-a',
      request_id: s.rid,
      schema_version: 1,
    },
    attempt_id: s.attemptId ?? `${s.rid}/a${no}`,
    attempt_no: no,
    attempt_reason: s.reason ?? (no === 1 ? 'initial' : 'retry'),
    parent_attempt_id: null,
    route: s.route ?? 'r1',
    provider: s.provider ?? 'p1',
    provider_message_id: s.pmid === undefined ? `SM${s.rid}${no}` : s.pmid,
    submit_outcome: s.submit ?? 'accepted',
    submit_latency_ms: 50,
    error_code: s.errorCode ?? null,
  };
}

export interface CallbackSpec {
  rid: string | null;
  at: number;
  pmid: string;
  status: CallbackStatus;
  final?: boolean;
  provider?: string;
  evidence?: EvidenceLevel;
  providerEventTime?: number | null;
  providerEventId?: string | null;
  attemptId?: string | null;
  statusRaw?: string;
  errorCategory?: ErrorCategory | null;
  errorCode?: string | null;
  sequence?: number | null;
  eventId?: string;
  tenant?: string;
}

export function callback(s: CallbackSpec): ProviderCallback {
  const final = s.final ?? !(s.status === 'queued' || s.status === 'sent');
  return {
    envelope: {
      event_id: s.eventId ?? nextId('evt-cb'),
      source: '//test/webhooks',
      occurred_at: s.at,
      recorded_at: s.at,
      tenant_id: s.tenant ?? 'tenant-a',
      request_id: s.rid,
      schema_version: 1,
    },
    provider: s.provider ?? 'p1',
    provider_message_id: s.pmid,
    provider_event_id: s.providerEventId ?? null,
    attempt_id: s.attemptId ?? null,
    status_raw: s.statusRaw ?? s.status.toUpperCase(),
    status: s.status,
    is_final: final,
    error_code: s.errorCode ?? null,
    error_category: s.errorCategory ?? null,
    evidence_level: s.evidence ?? (s.status === 'delivered' ? 'handset' : 'none'),
    provider_event_time: s.providerEventTime === undefined ? null : s.providerEventTime,
    provider_sequence: s.sequence ?? null,
  };
}

/** A controllable wall clock. */
export class ManualClock {
  constructor(public t: number) {}
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}
