// A stand-in engine for the wiring baseline: implements the reconciler's EnginePort with almost no logic, so
// a run with it measures what the Kafka wiring (decode, transactions, changelog, offsets) costs on its own.
// Per request it keeps one changelog record of a fixed size while open and emits one final verdict when a
// final callback carrying the request_id arrives. It decides nothing correctly: never a product figure.
import { IngestStatus } from '@pathwatch/reconciler';
import type { ChangelogRecord, ClockView, EngineOutputs, EnginePort } from '@pathwatch/reconciler';
import type { DispatchAttempted, ProviderCallback, RequestAccepted, Verdict } from '@pathwatch/schemas';

/** Bytes of the stand-in per-request state record (the real engine's records are whatever it needs). */
export const STUB_STATE_BYTES = 160;

interface Open {
  partition: number;
  ev: RequestAccepted;
}

export function createStubEngine(
  now: () => number,
): EnginePort & { readonly openRequests: number; readonly restored: number } {
  const open = new Map<string, Open>();
  const changes = new Map<string, ChangelogRecord>();
  let verdicts: Verdict[] = [];
  let restored = 0;
  const state = Buffer.alloc(STUB_STATE_BYTES, 7);

  const verdictFor = (o: Open, cb: ProviderCallback): Verdict => {
    const r = o.ev;
    const acceptedAt = r.envelope.occurred_at;
    const sla = r.sla_ms ?? 10_000;
    const delivered = cb.status === 'delivered';
    const onTime = delivered && cb.envelope.occurred_at <= acceptedAt + sla;
    return {
      verdict_id: `${r.envelope.request_id ?? ''}:1`,
      request_id: r.envelope.request_id ?? '',
      tenant_id: r.envelope.tenant_id,
      version: 1,
      verdict: delivered ? (onTime ? 'delivered_on_time' : 'delivered_late') : 'failed',
      provisional: false,
      is_correction: false,
      previous_verdict: null,
      error_category: cb.error_category,
      error_code: cb.error_code,
      flags: [],
      api_ok: true,
      execution_ok: true,
      outcome_ok: onTime,
      fired_by: 'event',
      watermark_lag_ms: 0,
      decided_at: cb.envelope.occurred_at,
      emitted_at: now(),
      operation: r.operation,
      channel: r.channel,
      input_fingerprint: r.input_fingerprint,
      attributes: r.attributes,
      accepted_at: acceptedAt,
      sla_ms: sla,
      give_up_ms: r.give_up_ms ?? 60_000,
      first_dispatch_at: null,
      provider_accepted_at: null,
      final_at: cb.envelope.occurred_at,
      evidence_level: cb.evidence_level,
      callbacks: 1,
      duplicate_callbacks: 0,
      attempts: [],
      hops: [],
      revision_kind: 'initial',
      evidence_at: null,
      clock_skew_ms: null,
    };
  };

  return {
    get openRequests() {
      return open.size;
    },
    get restored() {
      return restored;
    },
    onRequest(ev: RequestAccepted, at) {
      const id = ev.envelope.request_id;
      if (id === null) return IngestStatus.INVALID;
      open.set(id, { partition: at.partition, ev });
      changes.set(id, { partition: at.partition, key: id, value: state });
      return IngestStatus.APPLIED;
    },
    onDispatch(ev: DispatchAttempted, at) {
      const id = ev.envelope.request_id;
      if (id === null) return IngestStatus.INVALID;
      changes.set(id, { partition: at.partition, key: id, value: state });
      return IngestStatus.APPLIED;
    },
    onCallback(ev: ProviderCallback, at) {
      const id = ev.envelope.request_id;
      if (id === null || !ev.is_final) return IngestStatus.APPLIED;
      const o = open.get(id);
      if (!o) return IngestStatus.APPLIED;
      open.delete(id);
      verdicts.push(verdictFor(o, ev));
      changes.set(id, { partition: at.partition, key: id, value: null });
      return IngestStatus.APPLIED;
    },
    tick() {},
    // No event-time clock: the pipeline gauges report no inputs.
    watermarks(): ClockView {
      return { eventTime: null, source: 'watermark', lagMs: null, inputs: [], recoveryUntil: null };
    },
    setBacklog() {},
    inputsCaughtUp() {},
    drainOutputs(): EngineOutputs {
      const out = { verdicts, actions: [] };
      verdicts = [];
      return out;
    },
    drainChangelog() {
      const out = [...changes.values()];
      changes.clear();
      return out;
    },
    exportState(cursor, maxRecords) {
      // Cursor = index into the open map's insertion order (enough for a stand-in: the bench never mutates
      // during an export in a way that matters to its figures).
      const records: ChangelogRecord[] = [];
      if (cursor.phase !== 'slots') return { records, next: { phase: 'done', at: 0 } };
      let i = 0;
      for (const [key, o] of open) {
        if (i++ < cursor.at) continue;
        if (records.length >= maxRecords) return { records, next: { phase: 'slots', at: i - 1 } };
        records.push({ partition: o.partition, key, value: state });
      }
      return { records, next: { phase: 'done', at: 0 } };
    },
    restore(_partition, records) {
      for (const _ of records) restored++;
    },
    dropPartitions() {},
    // Scale-out matching is not part of the wiring's measured cost.
    onRemoteBinding: () => IngestStatus.APPLIED,
    onHandoff: () => IngestStatus.APPLIED,
    drainHandoffs: () => [],
  };
}
