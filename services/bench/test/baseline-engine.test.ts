import { describe, expect, it } from 'vitest';
import { IngestStatus } from '@pathwatch/reconciler';
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import { createObjectEngine } from '../src/baseline-engine.js';
import type { BenchedEngine } from '../src/baseline-engine.js';

const T0 = 1_767_225_600_000;
const AT = { partition: 0, offset: '0' };

function envelope(rid: string | null, t: number, eventId: string): RequestAccepted['envelope'] {
  return {
    event_id: eventId,
    source: '//test',
    occurred_at: t,
    recorded_at: t,
    tenant_id: 'tenant-a',
    request_id: rid,
    schema_version: 1,
  };
}

function request(rid: string, t = T0): RequestAccepted {
  return {
    envelope: envelope(rid, t, `evt_r_${rid}`),
    operation: 'otp.send',
    channel: 'sms',
    idempotency_key: null,
    input_fingerprint: 'fp_0123456789abcdef',
    sla_ms: 10_000,
    give_up_ms: 120_000,
    api_status: 202,
    api_latency_ms: 12,
    attributes: { country: 'DE' },
  };
}

function dispatch(rid: string, pmid: string, t = T0 + 40, no = 1): DispatchAttempted {
  return {
    envelope: envelope(rid, t, `evt_d_${rid}_${no}`),
    attempt_id: `${rid}/a${no}`,
    attempt_no: no,
    attempt_reason: 'initial',
    parent_attempt_id: null,
    route: 'r1',
    provider: 'twilio',
    provider_message_id: pmid,
    submit_outcome: 'accepted',
    submit_latency_ms: 80,
    error_code: null,
  };
}

function callback(
  rid: string | null,
  pmid: string,
  eventId: string,
  t: number,
  status: ProviderCallback['status'] = 'delivered',
  isFinal = true,
): ProviderCallback {
  return {
    envelope: envelope(rid, t, eventId),
    provider: 'twilio',
    provider_message_id: pmid,
    provider_event_id: null,
    attempt_id: null,
    status_raw: status.toUpperCase(),
    status,
    is_final: isFinal,
    error_code: null,
    error_category: null,
    evidence_level: 'handset',
    provider_event_time: t,
    provider_sequence: null,
  };
}

function verdicts(e: BenchedEngine): string[] {
  return e.drainOutputs().verdicts.map((v) => v.verdict);
}

describe.each([true, false])('createObjectEngine (coded strings: %s)', (coded) => {
  const make = (wall = { t: T0 }): BenchedEngine => createObjectEngine(coded, { now: () => wall.t });

  it('correlates request, dispatch and a final callback into one verdict and closes the request', () => {
    const e = make();
    expect(e.onRequest(request('req_1'), AT)).toBe(IngestStatus.APPLIED);
    expect(e.onDispatch(dispatch('req_1', 'SMabcdef0123'), AT)).toBe(IngestStatus.APPLIED);
    expect(e.stats().openRequests).toBe(1);
    expect(e.onCallback(callback(null, 'SMabcdef0123', 'evt_c1', T0 + 2_000), AT)).toBe(IngestStatus.APPLIED);
    expect(verdicts(e)).toEqual(['delivered_on_time']);
    expect(e.stats().openRequests).toBe(0);
    // Changelog: one image per touched request, a tombstone (null) once it closed.
    expect(e.drainChangelog()).toEqual([{ key: 'req_1', value: null }]);
  });

  it('detects duplicate requests, attempts and callbacks', () => {
    const e = make();
    e.onRequest(request('req_1'), AT);
    expect(e.onRequest(request('req_1'), AT)).toBe(IngestStatus.DUPLICATE);
    e.onDispatch(dispatch('req_1', 'SM00ff'), AT);
    expect(e.onDispatch(dispatch('req_1', 'SM00ff'), AT)).toBe(IngestStatus.DUPLICATE);
    const sent = callback('req_1', 'SM00ff', 'evt_c1', T0 + 800, 'sent', false);
    expect(e.onCallback(sent, AT)).toBe(IngestStatus.APPLIED);
    expect(e.onCallback(sent, AT)).toBe(IngestStatus.DUPLICATE);
    expect(verdicts(e)).toEqual([]);
    const images = e.drainChangelog() as { key: string; value: Buffer | null }[];
    expect(images.map((x) => x.key)).toEqual(['req_1']);
    expect(images[0]?.value).toBeInstanceOf(Buffer);
  });

  it('tells packed ids apart exactly (hex tails of odd length, upper case, non-ASCII)', () => {
    const e = make();
    const ids = ['req_1/a1', 'req_1/a10', 'req_1/A1', 'réq_1/ä1', 'abc', 'abcd', '0abc', ''];
    ids.forEach((id, i) => {
      const d = { ...dispatch('req_1', `SM${i}`, T0 + 40, i + 1), attempt_id: id };
      expect(e.onDispatch(d, AT)).toBe(IngestStatus.APPLIED);
    });
    ids.forEach((id, i) => {
      const d = { ...dispatch('req_1', `SM${i}`, T0 + 40, i + 1), attempt_id: id };
      expect(e.onDispatch(d, AT)).toBe(IngestStatus.DUPLICATE);
    });
  });

  it('parks a callback without request id until its dispatch arrives', () => {
    const e = make();
    e.onRequest(request('req_1'), AT);
    expect(e.onCallback(callback(null, 'SM1234', 'evt_c1', T0 + 1_000), AT)).toBe(IngestStatus.APPLIED);
    expect(verdicts(e)).toEqual([]);
    e.onDispatch(dispatch('req_1', 'SM1234'), AT);
    expect(verdicts(e)).toEqual(['delivered_on_time']);
    expect(e.stats().openRequests).toBe(0);
  });

  it('fires overdue at the SLA, delivered_late after it, missing_outcome at give-up', () => {
    const wall = { t: T0 };
    const e = make(wall);
    e.onRequest(request('req_late'), AT);
    e.onDispatch(dispatch('req_late', 'SMaa'), AT);
    e.onRequest(request('req_lost'), AT);
    e.onDispatch(dispatch('req_lost', 'SMbb'), AT);
    wall.t = T0 + 12_100; // past the SLA (10 s) and the 2 s wall fallback
    e.tick();
    expect(verdicts(e)).toEqual(['overdue', 'overdue']);
    e.onCallback(callback('req_late', 'SMaa', 'evt_c1', T0 + 15_000), AT);
    expect(verdicts(e)).toEqual(['delivered_late']);
    wall.t = T0 + 122_100;
    e.tick();
    expect(verdicts(e)).toEqual(['missing_outcome']);
    expect(e.stats().openRequests).toBe(0);
  });
});
