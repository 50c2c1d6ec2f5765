// Ground truth from a unit's events: a small reference model of the reconciler's semantics (DESIGN.md
// "Semantics"), computed from the scripted events alone, not from the fault labels that produced them.
//
// Rules (assumptions that must match the reconciler are marked ASSUME):
// - No request but a dispatch -> orphan_dispatch; no request, no dispatch, callbacks -> orphan_callback.
// - Request without any dispatch -> missing_dispatch (decided at give-up).
// - Callbacks are matched to attempts by attempt_id, else by (provider, provider_message_id) of a dispatch.
// - Duplicates: callbacks identical in (provider, provider_message_id, provider_event_id, status, status_raw,
//   provider_event_time, provider_sequence) count once; the extra copies are duplicate_callbacks.
// - Final evidence = distinct callbacks with is_final and status delivered | undelivered | rejected | failed | expired.
//   Any delivered receipt (on any attempt) -> delivered; timeliness by the EARLIEST delivered occurred_at vs
//   accepted_at + sla_ms (on time iff <=). Else a failure receipt -> failed (its error_category, ASSUME `unknown`
//   when null), or expired for status expired. Else -> missing_outcome (decided at give-up).
// - ASSUME submit-level failures (dispatch submit_outcome rejected/error/timeout) are not final outcomes: a retry or
//   failover may follow. The generator never ends a request on a failed submit, so no rule is needed for that.
// - Processing-time lifecycle: the reconciler's clock trails the newest event time by its out-of-orderness bound.
//   Deciding evidence published at p (and after the request, and - when it has no request_id - after its
//   dispatch) yields: p <= sla - margin: final at once; sla + bound + margin <= p <= give-up - margin: provisional
//   overdue first; p >= give-up + bound + margin: overdue, missing_outcome, then a correction. Anything in
//   between is "borderline" and the generator redrafts it. A failure/expiry receipt is decided only once the
//   clock passes its occurred_at + retry grace (reconciler retryGraceMs), so it may pass through overdue even
//   when the receipt itself arrived before the SLA.
// - Flags: retried (two or more attempts, failovers included), failed_over (an attempt with reason failover or
//   channel_fallback, or on another provider than the first), ambiguous_submit (a submit timeout),
//   duplicate_callback, multi_delivered (delivered receipts on >1 attempt); callback_before_dispatch (a callback
//   published before its attempt's dispatch) is order dependent, so listed in timingFlags.
// - Layers: api_ok = 2xx; execution_ok = some submit accepted (or a timed-out attempt proven by a callback);
//   outcome_ok = delivered_on_time. Orphans: api_ok false, execution_ok true when a submit was accepted or a
//   callback exists (else null), outcome_ok null.
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
