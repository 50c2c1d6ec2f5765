// Classification of SEMANTICS.md, from scratch: a request's whole history at event time T -> its verdict class,
// provisional or final, flags, error and evidence.
import type { CallbackStatus, ErrorCategory } from '@pathwatch/schemas';
import type { ResolvedOptions } from '../../src/engine/options.js';
import { attachTo, cbSkew, cbTime } from './evidence.js';
import {
  EVIDENCE,
  FLAGS,
  evRank,
  finalOutcome,
  rank,
  type Att,
  type Cb,
  type Classified,
  type Flag,
  type Outcome,
  type Req,
} from './types.js';

export function classify(opts: ResolvedOptions, r: Req, T: number): Classified {
  const attempts = r.attempts;
  const live = r.callbacks.filter((c) => !c.dup);
  const byAttempt = new Map<Att | null, Cb[]>();
  for (const c of live) {
    const a = attachTo(r, c);
    const list = byAttempt.get(a) ?? [];
    list.push(c);
    byAttempt.set(a, list);
  }
  const unattached = byAttempt.get(null) ?? [];
  const tm = (c: Cb): number => cbTime(r, c);

  // Outcome of one attempt (or of the unattached evidence when att is null).
  const outcomeOf = (att: Att | null) => {
    const cbs = byAttempt.get(att) ?? [];
    const finals = cbs.filter((c) => c.ev.is_final && finalOutcome(c.ev.status) !== null);
    const hard = finals.filter((c) => c.ev.evidence_level !== 'provider_synthetic');
    const pool = hard.length > 0 ? hard : finals;
    const kinds = new Set(finals.map((c) => finalOutcome(c.ev.status)));
    const successes = pool.filter((c) => c.ev.status === 'delivered');
    const intermediates = cbs.filter((c) => !(c.ev.is_final && finalOutcome(c.ev.status) !== null));
    let best: Cb | null = null;
    const key = (c: Cb) => [
      rank(c.ev.status, c.ev.is_final),
      c.ev.provider_sequence ?? -Infinity,
      tm(c),
      c.natA,
      c.natB,
    ];
    for (const c of intermediates) {
      if (!best) best = c;
      else {
        const a = key(c);
        const b = key(best);
        for (let i = 0; i < a.length; i++) {
          if (a[i] !== b[i]) {
            if ((a[i] as number) > (b[i] as number)) best = c;
            break;
          }
        }
      }
    }
    let kind: Outcome | null = null;
    let time = NaN;
    let evidence = 0;
    let rec: Cb | null = null;
    let lastStatus: CallbackStatus | null = null;
    let lastStatusAt: number | null = null;
    if (successes.length > 0) {
      kind = 'success';
      time = Math.min(...successes.map((c) => tm(c)));
      evidence = Math.max(...successes.map((c) => evRank(c.ev.evidence_level)));
      lastStatus = 'delivered';
      lastStatusAt = time;
    } else if (pool.length > 0) {
      const sorted = [...pool].sort(
        (x, y) =>
          tm(x) - tm(y) ||
          (finalOutcome(x.ev.status) === finalOutcome(y.ev.status)
            ? 0
            : finalOutcome(x.ev.status) === 'failure'
              ? -1
              : 1) ||
          x.natA - y.natA ||
          x.natB - y.natB,
      );
      rec = sorted[0]!;
      kind = finalOutcome(rec.ev.status);
      time = tm(rec);
      evidence = evRank(rec.ev.evidence_level);
      lastStatus = rec.ev.status;
      lastStatusAt = tm(rec);
    } else if (att && (att.ev.submit_outcome === 'rejected' || att.ev.submit_outcome === 'error')) {
      kind = 'failure';
      time = att.ev.envelope.occurred_at;
    }
    if (lastStatus === null && best) {
      lastStatus = best.ev.status;
      lastStatusAt = tm(best);
    }
    return { kind, time, evidence, rec, conflict: kinds.size >= 2, lastStatus, lastStatusAt };
  };

  const order = [...attempts].sort(
    (x, y) =>
      x.ev.attempt_no - y.ev.attempt_no ||
      x.ev.envelope.occurred_at - y.ev.envelope.occurred_at ||
      x.attH - y.attH,
  );
  const outcomes = new Map<Att | null, ReturnType<typeof outcomeOf>>();
  for (const a of attempts) outcomes.set(a, outcomeOf(a));
  outcomes.set(null, outcomeOf(null));
  const last = order.length > 0 ? order[order.length - 1]! : null;

  const flags = new Set<Flag>();
  if (r.callbacks.some((c) => c.dup)) flags.add('duplicate_callback');
  if (attempts.length >= 2) flags.add('retried');
  if (
    attempts.some((a) => a.ev.attempt_reason === 'failover' || a.ev.attempt_reason === 'channel_fallback') ||
    new Set(attempts.map((a) => a.ev.provider)).size >= 2
  )
    flags.add('failed_over');
  if ([...outcomes.values()].some((o) => o.conflict)) flags.add('conflicting_evidence');
  if (attempts.some((a) => a.ev.submit_outcome === 'timeout')) flags.add('ambiguous_submit');
  if (live.some((c) => c.unattachedOnArrival && attachTo(r, c) !== null))
    flags.add('callback_before_dispatch');
  if (attempts.filter((a) => outcomes.get(a)!.kind === 'success').length >= 2) flags.add('multi_delivered');
  if (r.beyond) flags.add('beyond_correction_horizon');
  if (live.some((c) => cbSkew(r, c) > 0)) flags.add('provider_clock_skew');
  const flagList = FLAGS.filter((f) => flags.has(f));
  const maxEvidence = EVIDENCE[Math.max(0, ...live.map((c) => evRank(c.ev.evidence_level)))]!;
  const attemptSummaries = order.map((att) => {
    const o = outcomes.get(att)!;
    return { att, lastStatus: o.lastStatus, lastStatusAt: o.lastStatusAt };
  });
  const base: Classified = {
    cls: 'pending',
    provisional: false,
    flags: flagList,
    errCat: null,
    errCode: null,
    evidence: maxEvidence,
    finalAt: null,
    lastAttempt: last,
    attempts: attemptSummaries,
  };

  if (!r.request) {
    if (T >= r.base + opts.orphanGraceMs)
      return { ...base, cls: attempts.length > 0 ? 'orphan_dispatch' : 'orphan_callback' };
    return base;
  }
  const acceptedAt = r.base;
  const sla = acceptedAt + r.slaMs;
  const giveUp = acceptedAt + r.giveUpMs;
  const successes = [...attempts, ...(unattached.length > 0 ? [null] : [])]
    .map((a) => outcomes.get(a)!)
    .filter((o) => o.kind === 'success');
  if (successes.length > 0) {
    const finalAt = Math.min(...successes.map((o) => o.time));
    return {
      ...base,
      cls: finalAt <= sla ? 'delivered_on_time' : 'delivered_late',
      finalAt,
      evidence: EVIDENCE[Math.max(...successes.map((o) => o.evidence))]!,
    };
  }
  const api = r.request.api_status;
  if (api < 200 || api > 299)
    return { ...base, cls: 'failed', errCat: 'rejected', errCode: `api_status_${api}`, evidence: 'none' };
  const deciding = last ?? (unattached.length > 0 ? null : undefined);
  if (deciding !== undefined) {
    const o = outcomes.get(deciding)!;
    if (o.kind === 'failure' || o.kind === 'expired') {
      const settle = Math.min(o.time + opts.retryGraceMs, giveUp);
      if (T >= settle) {
        let errCat: ErrorCategory | null;
        let errCode: string | null;
        if (o.rec) {
          errCat = o.rec.ev.error_category ?? (o.kind === 'expired' ? 'expired' : 'unknown');
          errCode = o.rec.ev.error_code ?? null;
        } else {
          errCat = deciding?.ev.submit_outcome === 'rejected' ? 'rejected' : 'internal';
          errCode = deciding?.ev.error_code ?? null;
        }
        return {
          ...base,
          cls: o.kind === 'expired' ? 'expired' : 'failed',
          finalAt: o.time,
          evidence: EVIDENCE[o.evidence]!,
          errCat,
          errCode,
        };
      }
    }
  }
  if (T >= giveUp)
    return {
      ...base,
      cls: attempts.length === 0 && live.length === 0 ? 'missing_dispatch' : 'missing_outcome',
    };
  if (T >= sla) return { ...base, cls: 'overdue', provisional: true };
  return base;
}
