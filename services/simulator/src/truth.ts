// Ground truth from a unit's events: a small reference model of the reconciler's semantics
// (services/reconciler/SEMANTICS.md, section numbers below), computed from the scripted events alone, not from
// the fault labels that produced them. It covers the cases the generator produces; anything else is reported
// as "borderline" and the generator redrafts the unit.
//
// - §3.1 No request but a dispatch -> orphan_dispatch; no request, no dispatch, callbacks -> orphan_callback.
// - §3.5 Request without any dispatch or callback -> missing_dispatch (decided at give-up).
// - §2 Callbacks belong to the attempt with their attempt_id, else the one that recorded (provider,
//   provider_message_id). §1 Duplicate reports (same natural key, new event id) are kept and counted but are no
//   evidence; the generator's copies are identical in every field but the envelope.
// - §2/§3.2 Final evidence = distinct callbacks with is_final and status delivered | undelivered | rejected |
//   failed | expired. Any delivered receipt -> delivered; on time iff the EARLIEST delivered time <= accepted_at
//   + sla_ms. §3.4 Else a failure receipt on the last attempt -> failed (its error_category, `unknown` when null)
//   or expired, decided once T passes receipt time + retryGraceMs. Else missing_outcome at give-up.
// - §2 A failed submit (rejected/error) is a failure too: the generator always follows it with the next attempt
//   well within its retry grace (else borderline), so it never decides a request.
// - §5 Lifecycle: T trails the newest event time by the out-of-orderness bound. Deciding evidence usable at
//   processing time p (after its request, and - without request_id - after its dispatch) yields:
//   p <= sla - margin: final at once; sla + bound + margin <= p <= give-up - margin: provisional overdue first;
//   p >= give-up + bound + margin: overdue, missing_outcome, then a class correction (§4). A failure is decided
//   at the later of p and receipt time + retry grace, so it may pass through overdue even when the receipt
//   arrived before the SLA. Times between those zones are borderline.
// - §3 Flags: retried (>= 2 attempts), failed_over (reason failover/channel_fallback or >= 2 providers),
//   ambiguous_submit (a submit timeout), duplicate_callback, multi_delivered (>= 2 attempts delivered);
//   callback_before_dispatch depends on arrival order, so it is listed in timingFlags.
// - §3 Layers: api_ok = request present and 2xx; execution_ok = a submit accepted or a callback exists, false
//   for missing_dispatch; outcome_ok = delivered_on_time, false for other final classes, null for orphans.
//   Evidence level: delivered -> the successes' level; failed/expired -> that receipt's; else the highest.
import type { ErrorCategory, EvidenceLevel, VerdictClass } from '@pathwatch/schemas';
import type {
  ExpectedLayers,
  ScriptedCallback,
  ScriptedDispatch,
  ScriptedEvent,
  ScriptedRequest,
  VerdictFlag,
} from './model.js';

export interface TruthContext {
  /** Effective horizons (the request's, or the operation configuration's when the request omits them). */
  readonly slaMs: number;
  readonly giveUpMs: number;
  readonly safetyMarginMs: number;
  readonly watermarkBoundMs: number;
  readonly crossTopicGapMs: number;
  /** A failure/expiry receipt is decided this long (event time) after it occurred (the reconciler's retry grace). */
  readonly retryGraceMs: number;
}

export interface DerivedTruth {
  readonly verdict: VerdictClass;
  readonly errorCategory: ErrorCategory | null;
  readonly errorCode: string | null;
  readonly flags: VerdictFlag[];
  readonly timingFlags: VerdictFlag[];
  readonly lifecycle: VerdictClass[];
  readonly passesThroughOverdue: boolean;
  readonly correctionExpected: boolean;
  readonly decidedByHorizon: boolean;
  readonly layers: ExpectedLayers;
  readonly finalAt: number | null;
  readonly evidenceLevel: EvidenceLevel;
  readonly attempts: number;
  readonly callbacks: number;
  readonly duplicateCallbacks: number;
  readonly decidedAt: number;
  /** Why the unit's truth would depend on timing the reconciler does not promise; empty when exact. */
  readonly borderline: string[];
}

const FINAL_STATUSES = new Set(['delivered', 'undelivered', 'rejected', 'failed', 'expired']);
const EVIDENCE_RANK: Readonly<Record<EvidenceLevel, number>> = {
  none: 0,
  provider_synthetic: 1,
  operator: 2,
  handset: 3,
};

type Zone = 'before_sla' | 'overdue' | 'after_give_up';
const ZONE_ORDER: Readonly<Record<Zone, number>> = { before_sla: 0, overdue: 1, after_give_up: 2 };

export function callbackIdentity(c: ScriptedCallback): string {
  const v = c.value;
  return [
    v.provider,
    v.provider_message_id,
    v.provider_event_id ?? '',
    v.status,
    v.status_raw,
    v.provider_event_time ?? '',
    v.provider_sequence ?? '',
  ].join('\u0000');
}

function maxEvidence(callbacks: readonly ScriptedCallback[]): EvidenceLevel {
  let best: EvidenceLevel = 'none';
  for (const c of callbacks)
    if (EVIDENCE_RANK[c.value.evidence_level] > EVIDENCE_RANK[best]) best = c.value.evidence_level;
  return best;
}

function sortedFlags(set: Set<VerdictFlag>): VerdictFlag[] {
  return [...set].sort();
}

export function deriveTruth(events: readonly ScriptedEvent[], ctx: TruthContext): DerivedTruth {
  const request = events.find((e): e is ScriptedRequest => e.kind === 'request');
  const dispatches = events.filter((e): e is ScriptedDispatch => e.kind === 'dispatch');
  const callbacks = events.filter((e): e is ScriptedCallback => e.kind === 'callback');
  const borderline: string[] = [];
  const lastPublishAt = events.reduce((m, e) => Math.max(m, e.publishAt), -Infinity);

  // Distinct callbacks (first published copy wins), duplicates counted.
  const distinct = new Map<string, ScriptedCallback>();
  for (const c of callbacks) {
    const id = callbackIdentity(c);
    const seen = distinct.get(id);
    if (!seen || c.publishAt < seen.publishAt) distinct.set(id, c);
  }
  const distinctCallbacks = [...distinct.values()];
  const duplicateCallbacks = callbacks.length - distinct.size;

  const attemptOf = (c: ScriptedCallback): ScriptedDispatch | undefined => {
    const byId =
      c.value.attempt_id === null
        ? undefined
        : dispatches.find((d) => d.value.attempt_id === c.value.attempt_id);
    return (
      byId ??
      dispatches.find(
        (d) =>
          d.value.provider === c.value.provider &&
          d.value.provider_message_id === c.value.provider_message_id,
      )
    );
  };

  const flags = new Set<VerdictFlag>();
  const timingFlags = new Set<VerdictFlag>();
  if (dispatches.length >= 2) flags.add('retried');
  const firstProvider = dispatches[0]?.value.provider;
  if (
    dispatches.some(
      (d) =>
        d.value.attempt_reason === 'failover' ||
        d.value.attempt_reason === 'channel_fallback' ||
        d.value.provider !== firstProvider,
    )
  ) {
    flags.add('failed_over');
  }
  if (dispatches.some((d) => d.value.submit_outcome === 'timeout')) flags.add('ambiguous_submit');
  if (duplicateCallbacks > 0) flags.add('duplicate_callback');
  for (const c of callbacks) {
    const d = attemptOf(c);
    if (!d) continue;
    const gap = d.publishAt - c.publishAt;
    if (Math.abs(gap) < ctx.crossTopicGapMs)
      borderline.push(
        `callback ${c.value.envelope.event_id} within ${ctx.crossTopicGapMs} ms of its dispatch`,
      );
    if (gap > 0) timingFlags.add('callback_before_dispatch');
  }

  const base = {
    attempts: dispatches.length,
    callbacks: callbacks.length,
    duplicateCallbacks,
    evidenceLevel: maxEvidence(distinctCallbacks),
  };

  if (!request) {
    const verdict: VerdictClass = dispatches.length > 0 ? 'orphan_dispatch' : 'orphan_callback';
    return {
      ...base,
      verdict,
      errorCategory: null,
      errorCode: null,
      flags: sortedFlags(flags),
      timingFlags: sortedFlags(timingFlags),
      lifecycle: [verdict],
      passesThroughOverdue: false,
      correctionExpected: false,
      decidedByHorizon: true,
      layers: {
        apiOk: false,
        executionOk:
          dispatches.some((d) => d.value.submit_outcome === 'accepted') || distinctCallbacks.length > 0
            ? true
            : null,
        outcomeOk: null,
      },
      finalAt: null,
      decidedAt: lastPublishAt,
      borderline,
    };
  }

  const acceptedAt = request.value.envelope.occurred_at;
  const slaAt = acceptedAt + ctx.slaMs;
  const giveUpAt = acceptedAt + ctx.giveUpMs;
  const m = ctx.safetyMarginMs;
  const b = ctx.watermarkBoundMs;
  const zoneOf = (p: number): Zone | null => {
    if (p <= slaAt - m) return 'before_sla';
    if (p >= slaAt + b + m && p <= giveUpAt - m) return 'overdue';
    if (p >= giveUpAt + b + m) return 'after_give_up';
    return null;
  };
  const apiOk = request.value.api_status >= 200 && request.value.api_status < 300;

  for (const d of dispatches) {
    if (Math.max(d.publishAt, request.publishAt) > giveUpAt - m)
      borderline.push(`dispatch ${d.value.attempt_id} published after give-up - margin`);
  }
  // A failed submit decides `failed` once its retry grace passes, unless the next attempt is in by then.
  const byNo = [...dispatches].sort((x, y) => x.value.attempt_no - y.value.attempt_no);
  for (let i = 0; i + 1 < byNo.length; i++) {
    const d = byNo[i] as ScriptedDispatch;
    const next = byNo[i + 1] as ScriptedDispatch;
    const failedSubmit = d.value.submit_outcome === 'rejected' || d.value.submit_outcome === 'error';
    if (failedSubmit && next.publishAt > d.occurredAt + ctx.retryGraceMs - m) {
      borderline.push(
        `attempt ${next.value.attempt_no} published after the retry grace of the failed attempt before it`,
      );
    }
  }

  if (dispatches.length === 0) {
    if (callbacks.length > 0) borderline.push('callbacks for a request without dispatch (semantics open)');
    return {
      ...base,
      verdict: 'missing_dispatch',
      errorCategory: null,
      errorCode: null,
      flags: sortedFlags(flags),
      timingFlags: sortedFlags(timingFlags),
      lifecycle: ['overdue', 'missing_dispatch'],
      passesThroughOverdue: true,
      correctionExpected: false,
      decidedByHorizon: true,
      layers: { apiOk, executionOk: false, outcomeOk: false },
      finalAt: null,
      decidedAt: giveUpAt,
      borderline,
    };
  }

  const finals = distinctCallbacks.filter((c) => c.value.is_final && FINAL_STATUSES.has(c.value.status));
  const delivered = finals.filter((c) => c.value.status === 'delivered');
  const provenTimeout = callbacks.some((c) => attemptOf(c)?.value.submit_outcome === 'timeout');
  const executionOk = dispatches.some((d) => d.value.submit_outcome === 'accepted') || provenTimeout;
  if (
    !dispatches.some((d) => d.value.submit_outcome === 'accepted' || d.value.submit_outcome === 'timeout')
  ) {
    borderline.push('every submit failed (request-level semantics open)');
  }
  if (delivered.length > 0 && delivered.length < finals.length)
    borderline.push('delivered and failure receipts mixed');
  if (delivered.length === 0 && finals.length > 1) borderline.push('several distinct failure receipts');

  let verdict: VerdictClass;
  let errorCategory: ErrorCategory | null = null;
  let errorCode: string | null = null;
  let finalAt: number | null = null;
  if (delivered.length > 0) {
    finalAt = Math.min(...delivered.map((c) => c.occurredAt));
    verdict = finalAt <= slaAt ? 'delivered_on_time' : 'delivered_late';
    for (const c of delivered) {
      if (Math.abs(c.occurredAt - slaAt) < m)
        borderline.push(`delivered at ${c.occurredAt - acceptedAt} ms, within ${m} ms of the SLA`);
      if (c.occurredAt <= slaAt !== finalAt <= slaAt)
        borderline.push('delivered receipts on both sides of the SLA');
    }
    const attemptsDelivered = new Set(
      delivered.map((c) => attemptOf(c)?.value.attempt_id ?? c.value.provider_message_id),
    );
    if (attemptsDelivered.size > 1) flags.add('multi_delivered');
  } else if (finals.length > 0) {
    const f = finals[0] as ScriptedCallback;
    finalAt = f.occurredAt;
    verdict = f.value.status === 'expired' ? 'expired' : 'failed';
    errorCategory = f.value.error_category ?? 'unknown';
    errorCode = f.value.error_code;
  } else {
    verdict = 'missing_outcome';
  }

  let lifecycle: VerdictClass[];
  let decidedAt: number;
  if (finals.length === 0) {
    lifecycle = ['overdue', 'missing_outcome'];
    decidedAt = giveUpAt;
  } else {
    let zone: Zone | undefined;
    decidedAt = -Infinity;
    if (delivered.length === 0 && finalAt !== null) {
      // A failure is decided once the clock passes finalAt + retry grace (and the receipt is in).
      const graceEnd = finalAt + ctx.retryGraceMs;
      const graceZone: Zone | null =
        graceEnd <= slaAt - m
          ? 'before_sla'
          : graceEnd >= slaAt + m && graceEnd <= giveUpAt - m
            ? 'overdue'
            : null;
      if (graceZone === null)
        borderline.push(`failure decided at ${graceEnd - acceptedAt} ms, inside a horizon margin`);
      zone = graceZone ?? undefined;
      decidedAt = graceEnd + b;
    }
    for (const f of finals) {
      const lo = Math.max(f.publishAt, request.publishAt);
      // Without request_id the callback is only usable once its dispatch (carrying the provider id) is in.
      const hi = Math.max(lo, attemptOf(f)?.publishAt ?? lo);
      const zLo = zoneOf(lo);
      const zHi = zoneOf(hi);
      if (zLo === null || zHi === null || zLo !== zHi) {
        borderline.push(
          `final evidence usable at ${lo - acceptedAt}..${hi - acceptedAt} ms, inside a horizon margin`,
        );
      } else if (zone === undefined) {
        zone = zLo;
      } else if (delivered.length === 0) {
        // Failure: decided at the later of the receipt's arrival and the end of its retry grace.
        if (ZONE_ORDER[zLo] > ZONE_ORDER[zone]) zone = zLo;
      } else if (zone !== zLo) {
        borderline.push('final receipts usable in different lifecycle zones');
      }
      decidedAt = Math.max(decidedAt, hi);
    }
    if (zone === 'after_give_up') lifecycle = ['overdue', 'missing_outcome', verdict];
    else if (zone === 'overdue') lifecycle = ['overdue', verdict];
    else lifecycle = [verdict];
  }

  return {
    ...base,
    verdict,
    errorCategory,
    errorCode,
    flags: sortedFlags(flags),
    timingFlags: sortedFlags(timingFlags),
    lifecycle,
    passesThroughOverdue: lifecycle[0] === 'overdue',
    correctionExpected: lifecycle.length === 3,
    decidedByHorizon: finals.length === 0,
    layers: { apiOk, executionOk, outcomeOk: verdict === 'delivered_on_time' },
    finalAt,
    decidedAt,
    borderline,
  };
}
