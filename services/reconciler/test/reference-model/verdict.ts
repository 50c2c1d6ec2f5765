// A classified request -> the Verdict record the engine must emit (attempts, bounded hops, clock fields), and
// the compensation actions the rules request or retract for it.
import type { Action, ActionKind, Hop, Verdict, VerdictClass } from '@pathwatch/schemas';
import type { ResolvedOptions } from '../../src/engine/options.js';
import { cbSkew, cbTime, evidenceAt } from './evidence.js';
import type { Classified, Req } from './types.js';

/** What a verdict needs of the model beyond the request: options, event-time clock, wall clock. */
export interface VerdictContext {
  readonly o: ResolvedOptions;
  readonly T: number;
  readonly wallNow: number;
}

export function buildVerdict(
  ctx: VerdictContext,
  r: Req,
  c: Classified,
  firedBy: Verdict['fired_by'],
  decidedAt: number,
  isCorrection: boolean,
  previous: VerdictClass | null,
  revisionKind: NonNullable<Verdict['revision_kind']>,
): Verdict {
  const req = r.request;
  const hops: { hop: Hop; rank: number; i: number }[] = [];
  const push = (hop: Hop, rank: number) => hops.push({ hop, rank, i: hops.length });
  if (req) push({ kind: 'accepted', at: r.base, detail: `accepted ${req.api_status}` }, 0);
  for (const { att } of c.attempts) {
    const e = att.ev;
    push(
      {
        kind: 'dispatch',
        at: e.envelope.occurred_at,
        detail: `${e.attempt_reason} ${e.provider}/${e.route} ${e.submit_outcome}${e.error_code ? ` ${e.error_code}` : ''}`,
      },
      1,
    );
  }
  for (const cb of r.callbacks) {
    if (cb.dup) continue;
    const e = cb.ev;
    push(
      {
        kind: 'callback',
        at: cbTime(r, cb),
        detail: e.is_final
          ? `${e.status} (${e.evidence_level})`
          : `${e.status} intermediate (${e.evidence_level})`,
      },
      2,
    );
  }
  const cls = c.cls as VerdictClass;
  push(
    {
      kind: 'verdict',
      at: decidedAt,
      detail: `${cls}${c.provisional ? ' provisional' : ''} v${r.version}`,
    },
    3,
  );
  hops.sort((x, y) => x.hop.at - y.hop.at || x.rank - y.rank || x.i - y.i);
  const max = ctx.o.maxHops;
  const ordered = hops.map((h) => h.hop);
  const bounded =
    ordered.length <= max
      ? ordered
      : [...ordered.slice(0, max >> 1), ...ordered.slice(ordered.length - (max - (max >> 1)))];

  const attempts = c.attempts.map(({ att, lastStatus, lastStatusAt }) => ({
    attempt_id: att.ev.attempt_id,
    attempt_no: att.ev.attempt_no,
    reason: att.ev.attempt_reason,
    route: att.ev.route,
    provider: att.ev.provider,
    provider_message_id: att.ev.provider_message_id,
    submit_outcome: att.ev.submit_outcome,
    dispatched_at: att.ev.envelope.occurred_at,
    last_status: lastStatus,
    last_status_at: lastStatusAt,
  }));
  const dispatchTimes = r.attempts.map((a) => a.ev.envelope.occurred_at);
  const acceptedTimes = r.attempts
    .filter((a) => a.ev.submit_outcome === 'accepted')
    .map((a) => a.ev.envelope.occurred_at);
  const final = !c.provisional;
  const orphan = cls === 'orphan_callback' || cls === 'orphan_dispatch';
  const liveCallbacks = r.callbacks.filter((x) => !x.dup).length;
  let executionOk: boolean | null = null;
  if (r.attempts.some((a) => a.ev.submit_outcome === 'accepted') || liveCallbacks > 0) executionOk = true;
  else if (
    final &&
    !orphan &&
    (r.attempts.length === 0 ||
      r.attempts.every((a) => a.ev.submit_outcome === 'rejected' || a.ev.submit_outcome === 'error'))
  )
    executionOk = false;
  const outcomeOk = cls === 'delivered_on_time' ? true : final && !orphan ? false : null;
  const T = ctx.T;
  return {
    verdict_id: `${r.key}:v${r.version}`,
    request_id: r.key,
    tenant_id: r.tenant,
    version: r.version,
    verdict: cls,
    provisional: c.provisional,
    is_correction: isCorrection,
    previous_verdict: previous,
    error_category: c.errCat,
    error_code: c.errCode,
    flags: [...c.flags],
    api_ok: req !== null && req.api_status >= 200 && req.api_status <= 299,
    execution_ok: executionOk,
    outcome_ok: outcomeOk,
    fired_by: firedBy,
    watermark_lag_ms: Math.round(ctx.wallNow - (T === -Infinity ? decidedAt : T)),
    decided_at: decidedAt,
    emitted_at: ctx.wallNow,
    operation: req?.operation ?? '',
    channel: req?.channel ?? '',
    input_fingerprint: req?.input_fingerprint ?? '',
    attributes: req ? sortedAttrs(req.attributes) : {},
    accepted_at: req ? r.base : null,
    sla_ms: req ? r.slaMs : ctx.o.defaultSlaMs,
    give_up_ms: req ? r.giveUpMs : ctx.o.defaultGiveUpMs,
    first_dispatch_at: dispatchTimes.length > 0 ? Math.min(...dispatchTimes) : null,
    provider_accepted_at: acceptedTimes.length > 0 ? Math.min(...acceptedTimes) : null,
    final_at: c.finalAt,
    evidence_level: c.evidence,
    callbacks: r.callbacks.length,
    duplicate_callbacks: r.callbacks.filter((x) => x.dup).length,
    attempts,
    hops: bounded,
    revision_kind: revisionKind,
    evidence_at: evidenceAt(r) === -Infinity ? null : evidenceAt(r),
    clock_skew_ms: (() => {
      const k = Math.max(0, ...r.callbacks.filter((x) => !x.dup).map((x) => cbSkew(r, x)));
      return k > 0 ? Math.round(k) : null;
    })(),
  };
}

export function emitActions(
  opts: ResolvedOptions,
  actions: Action[],
  r: Req,
  v: Verdict,
  c: Classified,
): void {
  const cls = v.verdict;
  const lastProvider = c.lastAttempt?.ev.provider ?? null;
  const lastRoute = c.lastAttempt?.ev.route ?? null;
  const mk = (id: string, kind: ActionKind, retracts: string | null): Action => ({
    action_id: id,
    request_id: v.request_id,
    tenant_id: v.tenant_id,
    kind,
    reason: cls,
    retracts_action_id: retracts,
    verdict_id: v.verdict_id,
    verdict_version: v.version,
    provisional: v.provisional,
    created_at: v.decided_at,
    operation: v.operation,
    channel: v.channel,
    last_provider: lastProvider,
    last_route: lastRoute,
    // actionRules carry no rule id or parameters.
    rule_id: null,
    params: {},
  });
  // Retractions in (trigger class, kind) order, as the engine's bit order.
  const classes: VerdictClass[] = [
    'delivered_late',
    'failed',
    'missing_dispatch',
    'missing_outcome',
    'expired',
    'orphan_callback',
    'orphan_dispatch',
    'overdue',
  ];
  const kinds: ActionKind[] = ['resend_alternate_route', 'fallback_channel', 'refund', 'alert'];
  for (const trigger of classes) {
    for (const kind of kinds) {
      const id = `${r.key}:${kind}:${trigger}`;
      if (!r.emitted.has(id) || r.retracted.has(id)) continue;
      if (!moot(trigger, cls)) continue;
      r.retracted.add(id);
      actions.push(mk(`${id}:retract`, 'retract', id));
    }
  }
  if (cls === 'delivered_on_time') return;
  for (const rule of opts.actionRules) {
    if (rule.verdict !== cls) continue;
    if (rule.operation !== undefined && rule.operation !== v.operation) continue;
    if (rule.channel !== undefined && rule.channel !== v.channel) continue;
    for (const kind of rule.kinds) {
      const id = `${r.key}:${kind}:${cls}`;
      if (r.emitted.has(id)) continue;
      r.emitted.add(id);
      actions.push(mk(id, kind, null));
    }
  }
}

function moot(trigger: VerdictClass, now: VerdictClass): boolean {
  if (now === 'delivered_on_time') return trigger !== 'delivered_on_time';
  if (now === 'delivered_late') return trigger !== 'delivered_late';
  const orphan = (c: VerdictClass) => c === 'orphan_callback' || c === 'orphan_dispatch';
  if (orphan(trigger)) return !orphan(now);
  return false;
}

function sortedAttrs(a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(a).sort()) out[k] = a[k]!;
  return out;
}
