// Builds one unit of traffic (a request with its execution path, an orphan, or an invalid record) from a seed
// and an arrival index. Deterministic: the same (options, index, anchor time) always gives the same events.
//
// A request's deciding times are placed outside the safety margins by construction (windows below); whatever
// still lands on a margin (rare combinations of modifiers) is caught by deriveTruth and redrafted with the next
// sub-seed, so every emitted unit has exact ground truth.
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
import { SimulatorError } from './errors.js';
import type { FaultKind, ScriptedUnit, UnitKind, VerdictExpectation } from './model.js';
import type { GeneratorOptions, OperationSpec, ProviderSpec, RouteSpec } from './options.js';
import { OUTCOME_FAULTS } from './options.js';
import { Rng, sortableId } from './prng.js';
import { deriveTruth } from './truth.js';
import { FAILURE_MIX, STATUS_RAW, errorCode, failureStatus, messageIdPrefix } from './vocabulary.js';
import { buildInvalid } from './invalid.js';
import { draftOrphan } from './orphans.js';
import {
  finalizeDrafts,
  fingerprintOf,
  placeIn,
  uniformIn,
  type AnyDraft,
  type Draft,
  type Interval,
  type ScenarioContext,
} from './scenario-drafts.js';

export { createScenarioContext, fingerprintOf } from './scenario-drafts.js';
export type { ScenarioContext, SchemaVersions } from './scenario-drafts.js';
export { INVALID_REASON_CODES } from './invalid.js';

/** Drafts tried per unit before giving up; the last one is a plain delivery with no faults. */
const MAX_DRAFTS = 12;

interface Attempt {
  readonly id: string;
  readonly no: number;
  readonly reason: AttemptReason;
  readonly parentId: string | null;
  readonly route: RouteSpec;
  readonly provider: ProviderSpec;
  readonly outcome: SubmitOutcome;
  readonly pmid: string | null;
  /** Ambiguous timeout the provider had in fact accepted: its message id (never in our dispatch event). */
  readonly hiddenPmid: string | null;
  readonly doneAt: number;
  readonly latencyMs: number;
  readonly errorCode: string | null;
}

type Outcome = 'deliver' | (typeof OUTCOME_FAULTS)[number];

const OUTCOME_LABEL: Readonly<Record<(typeof OUTCOME_FAULTS)[number], FaultKind>> = {
  dropDispatch: 'drop_dispatch',
  dropFinalCallback: 'drop_final_callback',
  delayBeyondSla: 'delay_beyond_sla',
  providerFailure: 'provider_failure',
  expired: 'expired',
  lateEvidenceAfterGiveUp: 'late_evidence_after_give_up',
  delayedReceipt: 'delayed_receipt',
};

const API_STATUSES = [
  { status: 202, weight: 70 },
  { status: 200, weight: 20 },
  { status: 201, weight: 10 },
] as const;

/** Draws the unit kind of arrival `index` (orphans and invalid records are arrivals too). */
export function unitKindOf(options: GeneratorOptions, index: number): UnitKind {
  const f = options.faults;
  const u = Rng.from(options.seed, 'unit-kind', index).next();
  if (u < f.orphanCallback) return 'orphan_callback';
  if (u < f.orphanCallback + f.orphanDispatch) return 'orphan_dispatch';
  if (u < f.orphanCallback + f.orphanDispatch + f.invalidRecord) return 'invalid';
  return 'request';
}

export function buildUnit(ctx: ScenarioContext, index: number, anchorAt: number): ScriptedUnit {
  const kind = unitKindOf(ctx.options, index);
  if (kind === 'invalid') return buildInvalid(ctx, index, anchorAt);
  for (let draft = 0; draft < MAX_DRAFTS; draft++) {
    const rng = Rng.from(ctx.options.seed, 'unit', index, draft);
    const plain = draft === MAX_DRAFTS - 1;
    const unit =
      kind === 'request'
        ? draftRequest(ctx, rng, index, anchorAt, plain, draft)
        : draftOrphan(ctx, rng, index, anchorAt, kind, draft);
    if (unit) return unit;
  }
  throw new SimulatorError(
    'SIM_SCRIPT_INFEASIBLE',
    `unit ${index}: no draft kept every deciding time outside the safety margins; widen the gap between SLA and give-up`,
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

function draftRequest(
  ctx: ScenarioContext,
  rng: Rng,
  index: number,
  t0: number,
  plain: boolean,
  draftNo: number,
): ScriptedUnit | undefined {
  const o = ctx.options;
  const f = o.faults;
  const t = o.timing;
  const tenant = rng.weighted(o.tenants, (x) => x.weight).name;
  const op: OperationSpec = rng.weighted(o.operations, (x) => x.weight);
  const country = rng.weighted(o.countries, (x) => x.weight).code;
  const template = rng.pick(op.templates);
  const slot = rng.int(o.inputPoolSize);
  const fingerprint = fingerprintOf([tenant, op.name, op.channel, template, country, String(slot)]);
  const requestId = sortableId('req', t0, rng);
  const traceId = rng.hex(32);
  const faults = new Set<FaultKind>();

  const slaAt = t0 + op.slaMs;
  const giveUpAt = t0 + op.giveUpMs;
  const m = t.safetyMarginMs;
  const b = t.watermarkBoundMs;
  const lagMax = t.ingestLag.maxMs;
  // Occurrence windows for deciding evidence: published before the SLA margin, clearly overdue but before
  // give-up, or clearly after give-up (late evidence).
  const onTimeMax = slaAt - m - lagMax;
  const lateMin = slaAt + b + m;
  const lateMax = giveUpAt - m - lagMax;
  const afterMin = giveUpAt + b + m + t.lateEvidence.minMs;
  const afterMax = giveUpAt + b + m + t.lateEvidence.maxMs;

  // --- routing and execution prelude -------------------------------------------------------------------------
  const eligible = ctx.routesFor(op.channel, country);
  const primary = rng.weighted(eligible, (r) => r.weight);
  const uPrelude = rng.next();
  const prelude: 'none' | 'retry' | 'failover' | 'ambiguous' = plain
    ? 'none'
    : uPrelude < f.retry
      ? 'retry'
      : uPrelude < f.retry + f.failover
        ? 'failover'
        : uPrelude < f.retry + f.failover + f.ambiguousTimeout
          ? 'ambiguous'
          : 'none';
  const alternative = (): RouteSpec | undefined => {
    const others = eligible.filter((r) => r.provider !== primary.provider);
    return others.length > 0 ? rng.weighted(others, (r) => r.weight) : undefined;
  };

  const attempts: Attempt[] = [];
  let at = t0 + rng.latency(t.queueLatency);
  const provider = (r: RouteSpec): ProviderSpec => ctx.providers.get(r.provider) as ProviderSpec;
  const attempt = (
    route: RouteSpec,
    reason: AttemptReason,
    outcome: SubmitOutcome,
    hidden = false,
  ): Attempt => {
    const p = provider(route);
    const no = attempts.length + 1;
    const latencyMs =
      outcome === 'timeout'
        ? t.submitTimeoutMs
        : Math.min(rng.latency(p.submitLatency), Math.max(1, t.submitTimeoutMs - 1));
    const a: Attempt = {
      id: `${requestId}/a${no}`,
      no,
      reason,
      parentId: attempts.at(-1)?.id ?? null,
      route,
      provider: p,
      outcome,
      pmid: outcome === 'accepted' ? `${messageIdPrefix(p.style)}${rng.hex(24)}` : null,
      hiddenPmid: hidden ? `${messageIdPrefix(p.style)}${rng.hex(24)}` : null,
      doneAt: at + latencyMs,
      latencyMs,
      errorCode:
        outcome === 'accepted'
          ? null
          : outcome === 'timeout'
            ? 'ETIMEDOUT'
            : outcome === 'rejected'
              ? '429'
              : '503',
    };
    attempts.push(a);
    at = a.doneAt + (t.retryBackoffMs[Math.min(no - 1, t.retryBackoffMs.length - 1)] ?? 0);
    return a;
  };
  if (prelude === 'retry') {
    faults.add('retry');
    const failures = rng.chance(0.3) ? 2 : 1;
    for (let i = 0; i < failures; i++) attempt(primary, i === 0 ? 'initial' : 'retry', 'error');
    attempt(primary, 'retry', 'accepted');
  } else if (prelude === 'failover') {
    const alt = alternative();
    attempt(primary, 'initial', rng.chance(0.5) ? 'error' : 'rejected');
    if (alt) {
      faults.add('failover');
      attempt(alt, 'failover', 'accepted');
    } else {
      faults.add('retry');
      attempt(primary, 'retry', 'accepted');
    }
  } else if (prelude === 'ambiguous') {
    faults.add('ambiguous_timeout');
    const alt = alternative();
    attempt(primary, 'initial', 'timeout', rng.chance(f.ambiguousTimeoutDelivers));
    if (alt) {
      faults.add('failover');
      attempt(alt, 'failover', 'accepted');
    } else {
      faults.add('retry');
      attempt(primary, 'retry', 'accepted');
    }
  } else {
    attempt(primary, 'initial', 'accepted');
  }
  const last = attempts.at(-1) as Attempt;
  const hot = ctx.hotSpot(last.provider.name, country);

  // --- outcome ------------------------------------------------------------------------------------------------
  let outcome: Outcome = 'deliver';
  if (!plain) {
    let u = rng.next();
    for (const k of OUTCOME_FAULTS) {
      const p = k === 'providerFailure' ? f[k] * (hot?.failureFactor ?? 1) : f[k];
      if (u < p) {
        outcome = k;
        break;
      }
      u -= p;
    }
  }
  const dupWanted = !plain && rng.chance(f.duplicateCallback);
  const oooWanted = !plain && rng.chance(f.outOfOrderCallback);
  const cbdWanted = !plain && rng.chance(f.callbackBeforeDispatch);
  const noRequestIdWanted = !plain && rng.chance(f.callbackWithoutRequestId);
  const skipWanted = !plain && rng.chance(f.skipIntermediate);

  if (outcome === 'dropDispatch') {
    faults.clear();
    attempts.length = 0;
  }
  if (outcome !== 'deliver') faults.add(OUTCOME_LABEL[outcome]);

  // --- final receipt time (event time) ------------------------------------------------------------------------
  const acceptedAt = last.doneAt;
  const earliest = acceptedAt + t.minDeliveryMs;
  const g = t.retryGraceMs;
  const interval = (lo: number, hi: number): Interval | null => (lo <= hi ? [lo, hi] : null);
  const onWindow = interval(earliest, onTimeMax);
  const lateWindow = interval(Math.max(lateMin, earliest), lateMax);
  // Failure receipts are decided retryGraceMs later: that decision must also stay out of the margins.
  const failureWindows = [
    interval(earliest, Math.min(onTimeMax, slaAt - m - g)),
    interval(Math.max(earliest, slaAt + m - g), Math.min(onTimeMax, giveUpAt - m - g)),
    interval(Math.max(earliest, lateMin, slaAt + m - g), Math.min(lateMax, giveUpAt - m - g)),
  ];
  const expiryWindow = interval(Math.max(lateMin, earliest), Math.min(lateMax, giveUpAt - m - g));
  const naturalDelivery = (): number =>
    acceptedAt +
    Math.max(
      t.minDeliveryMs,
      Math.round(rng.latency(last.provider.deliveryLatency) * (hot?.latencyFactor ?? 1)),
    );

  let finalAt: number | null = null;
  let finalKind: 'delivered' | 'failure' | 'expired' | null = null;
  let finalPublishOverride: number | null = null;
  if (outcome === 'deliver') {
    finalAt = placeIn(rng, naturalDelivery(), [onWindow, lateWindow]);
    finalKind = 'delivered';
  } else if (outcome === 'delayBeyondSla') {
    finalAt = lateWindow ? uniformIn(rng, lateWindow[0], lateWindow[1]) : null;
    finalKind = 'delivered';
  } else if (outcome === 'expired') {
    finalAt = expiryWindow ? uniformIn(rng, expiryWindow[0], expiryWindow[1]) : null;
    finalKind = 'expired';
  } else if (outcome === 'lateEvidenceAfterGiveUp') {
    finalAt = uniformIn(rng, Math.max(afterMin, earliest), Math.max(afterMax, earliest));
    finalKind = 'delivered';
  } else if (outcome === 'delayedReceipt') {
    const natural = naturalDelivery();
    finalAt = onWindow ? Math.min(Math.max(natural, onWindow[0]), onWindow[1]) : null;
    finalKind = 'delivered';
    finalPublishOverride = uniformIn(rng, lateMin, giveUpAt - m);
  } else if (outcome === 'providerFailure') {
    finalAt = placeIn(rng, acceptedAt + rng.latency(last.provider.failureLatency), failureWindows);
    finalKind = 'failure';
  }
  if (finalKind !== null && finalAt === null) return undefined; // no room for this outcome: redraft

  // Hot spot: label it when it shaped this request (slow delivery or its failure category).
  if (
    hot &&
    ((hot.latencyFactor !== 1 && finalKind === 'delivered') ||
      (hot.failureFactor !== 1 && finalKind === 'failure'))
  ) {
    faults.add('hot_spot');
  }

  // --- drafts -------------------------------------------------------------------------------------------------
  const lag = (): number => rng.latency(t.ingestLag);
  const drafts: AnyDraft[] = [];
  const envelope = (occurredAt: number, source: string, requestIdOrNull: string | null, version: number) => ({
    event_id: sortableId('evt', occurredAt, rng),
    source,
    occurred_at: occurredAt,
    recorded_at: occurredAt,
    tenant_id: tenant,
    request_id: requestIdOrNull,
    schema_version: version,
  });
  const slaInRequest = rng.chance(o.wire.slaInRequestShare);
  const request: Draft<RequestAccepted> = {
    kind: 'request',
    label: 'request',
    occurredAt: t0,
    publishAt: t0 + lag(),
    key: requestId,
    attemptId: null,
    value: {
      envelope: envelope(t0, `//notify/api-gateway/pod-${rng.int(8)}`, requestId, ctx.versions.request),
      operation: op.name,
      channel: op.channel,
      idempotency_key: rng.chance(0.6) ? `idem_${rng.hex(20)}` : null,
      input_fingerprint: fingerprint,
      sla_ms: slaInRequest ? op.slaMs : null,
      give_up_ms: slaInRequest ? op.giveUpMs : null,
      api_status: rng.weighted(API_STATUSES, (s) => s.weight).status,
      api_latency_ms: rng.latency(o.timing.apiLatency),
      attributes: { country, template, priority: op.priority },
    },
  };
  drafts.push(request);

  const dispatchDrafts = new Map<string, Draft<DispatchAttempted>>();
  for (const a of attempts) {
    const d: Draft<DispatchAttempted> = {
      kind: 'dispatch',
      label: `dispatch:${a.outcome}`,
      occurredAt: a.doneAt,
      publishAt: a.doneAt + lag(),
      key: requestId,
      attemptId: a.id,
      value: {
        envelope: envelope(
          a.doneAt,
          `//notify/dispatcher/worker-${rng.int(4)}`,
          requestId,
          ctx.versions.dispatch,
        ),
        attempt_id: a.id,
        attempt_no: a.no,
        attempt_reason: a.reason,
        parent_attempt_id: a.parentId,
        route: a.route.name,
        provider: a.provider.name,
        provider_message_id: a.pmid,
        submit_outcome: a.outcome,
        submit_latency_ms: a.latencyMs,
        error_code: a.errorCode,
      },
    };
    dispatchDrafts.set(a.id, d);
    drafts.push(d);
  }

  let sequence = 0;
  const callback = (
    a: Attempt,
    pmid: string,
    occurredAt: number,
    label: string,
    status: CallbackStatus,
    isFinal: boolean,
    evidence: EvidenceLevel,
    category: ErrorCategory | null,
  ): Draft<ProviderCallback> => {
    sequence += 1;
    const d: Draft<ProviderCallback> = {
      kind: 'callback',
      label,
      occurredAt,
      publishAt: occurredAt + lag(),
      key: requestId,
      attemptId: a.id,
      value: {
        envelope: envelope(
          occurredAt,
          `//notify/webhook-ingress/${a.provider.name}`,
          requestId,
          ctx.versions.callback,
        ),
        provider: a.provider.name,
        provider_message_id: pmid,
        provider_event_id: a.provider.eventIds ? `${a.provider.name}-ev-${rng.hex(16)}` : null,
        attempt_id: a.id,
        status_raw: STATUS_RAW[a.provider.style][status],
        status,
        is_final: isFinal,
        error_code: category === null ? null : errorCode(a.provider.style, category),
        error_category: category,
        evidence_level: evidence,
        provider_event_time: occurredAt,
        provider_sequence: a.provider.style === 'smpp' ? null : sequence,
      },
    };
    drafts.push(d);
    return d;
  };

  const lastCallbacks: Draft<ProviderCallback>[] = [];
  let sent: Draft<ProviderCallback> | null = null;
  let final: Draft<ProviderCallback> | null = null;
  if (outcome !== 'dropDispatch' && last.pmid !== null) {
    const pmid = last.pmid;
    let sentAt: number | null = last.provider.sentLatency
      ? acceptedAt + rng.latency(last.provider.sentLatency)
      : null;
    if (sentAt !== null && skipWanted) {
      faults.add('skip_intermediate');
      sentAt = null;
    }
    if (sentAt !== null && finalAt !== null && sentAt >= finalAt - 20) {
      sentAt = acceptedAt + Math.round((finalAt - acceptedAt) * rng.uniform(0.2, 0.6));
    }
    if (sentAt !== null) {
      sent = callback(last, pmid, sentAt, 'callback:sent', 'sent', false, 'none', null);
      lastCallbacks.push(sent);
    }
    if (finalAt !== null && finalKind !== null) {
      if (finalKind === 'delivered') {
        final = callback(
          last,
          pmid,
          finalAt,
          'callback:delivered',
          'delivered',
          true,
          last.provider.deliveredEvidence,
          null,
        );
      } else {
        const category: ErrorCategory =
          finalKind === 'expired'
            ? 'expired'
            : (hot?.failureCategory ?? rng.weighted(FAILURE_MIX, (x) => x.weight).category);
        const { status, evidence } = failureStatus(category);
        final = callback(last, pmid, finalAt, `callback:${status}`, status, true, evidence, category);
      }
      if (finalPublishOverride !== null) final.publishAt = Math.max(final.publishAt, finalPublishOverride);
      lastCallbacks.push(final);
    }
  }

  // Ambiguous timeout the provider had accepted: it delivers too (a double send), on the same side of the SLA.
  const first = attempts[0];
  if (
    first?.hiddenPmid &&
    final &&
    finalAt !== null &&
    (outcome === 'deliver' || outcome === 'delayBeyondSla')
  ) {
    const firstEarliest = first.doneAt - first.latencyMs + t.minDeliveryMs;
    const [lo, hi] =
      finalAt <= slaAt ? [firstEarliest, onTimeMax] : [Math.max(firstEarliest, lateMin), lateMax];
    if (lo <= hi) {
      faults.add('ambiguous_timeout_delivers');
      callback(
        first,
        first.hiddenPmid,
        uniformIn(rng, lo, hi),
        'callback:delivered',
        'delivered',
        true,
        first.provider.deliveredEvidence,
        null,
      );
    }
  }

  // --- publish-time faults ------------------------------------------------------------------------------------
  // A dispatcher lags by a bounded time: only an early callback can overtake its dispatch.
  const lastDispatch = dispatchDrafts.get(last.id);
  const ooo = oooWanted && sent !== null && final !== null;
  // The earliest callback once an out-of-order `sent` has moved behind the final receipt.
  const firstCallbackPublish = Math.min(
    ...lastCallbacks.filter((c) => !(ooo && c === sent)).map((c) => c.publishAt),
  );
  const cbd =
    cbdWanted &&
    lastDispatch !== undefined &&
    firstCallbackPublish + t.dispatchDelay.maxMs - lastDispatch.publishAt <= t.maxDispatchLagMs;
  // Callbacks follow their dispatch by a clear gap unless the fault says otherwise.
  for (const d of drafts) {
    if (d.kind !== 'callback' || d.attemptId === null) continue;
    if (cbd && d.attemptId === last.id) continue;
    const disp = dispatchDrafts.get(d.attemptId);
    if (disp) d.publishAt = Math.max(d.publishAt, disp.publishAt + t.crossTopicGapMs);
  }
  if (ooo && sent && final) {
    faults.add('out_of_order_callback');
    sent.publishAt = final.publishAt + uniformIn(rng, t.outOfOrderDelay.minMs, t.outOfOrderDelay.maxMs);
  }
  if (cbd) {
    faults.add('callback_before_dispatch');
    lastDispatch.publishAt = Math.max(
      lastDispatch.publishAt,
      firstCallbackPublish + uniformIn(rng, t.dispatchDelay.minMs, t.dispatchDelay.maxMs),
    );
  }
  if (noRequestIdWanted && lastCallbacks.length > 0) {
    faults.add('callback_without_request_id');
    for (const c of lastCallbacks) {
      c.value.envelope.request_id = null;
      c.value.attempt_id = null;
      c.key = `${c.value.provider}:${c.value.provider_message_id}`;
    }
  }
  const dupTarget = final ?? sent;
  if (dupWanted && dupTarget) {
    faults.add('duplicate_callback');
    const copies = rng.chance(0.3) ? 2 : 1;
    let after = dupTarget.publishAt;
    for (let i = 0; i < copies; i++) {
      after += uniformIn(rng, t.duplicateDelay.minMs, t.duplicateDelay.maxMs);
      const copy: Draft<ProviderCallback> = {
        ...dupTarget,
        label: 'callback:duplicate',
        publishAt: after,
        value: {
          ...dupTarget.value,
          // A re-delivered webhook is a new receipt for our ingress (new event id) of the same provider event.
          envelope: { ...dupTarget.value.envelope, event_id: sortableId('evt', after, rng) },
        },
      };
      drafts.push(copy);
    }
  }

  const events = finalizeDrafts(drafts, index, traceId, rng, o.wire.jsonShare);
  const truth = deriveTruth(events, {
    slaMs: op.slaMs,
    giveUpMs: op.giveUpMs,
    safetyMarginMs: m,
    watermarkBoundMs: b,
    crossTopicGapMs: t.crossTopicGapMs,
    retryGraceMs: g,
  });
  if (truth.borderline.length > 0) return undefined;

  const expectation: VerdictExpectation = {
    kind: 'request',
    unit: index,
    requestId,
    key: requestId,
    tenantId: tenant,
    operation: op.name,
    channel: op.channel,
    inputFingerprint: fingerprint,
    attributes: request.value.attributes,
    routes: attempts.map((a) => a.route.name),
    providers: attempts.map((a) => a.provider.name),
    faults: [...faults].sort(),
    verdict: truth.verdict,
    errorCategory: truth.errorCategory,
    errorCode: truth.errorCode,
    flags: truth.flags,
    timingFlags: truth.timingFlags,
    lifecycle: truth.lifecycle,
    passesThroughOverdue: truth.passesThroughOverdue,
    correctionExpected: truth.correctionExpected,
    decidedByHorizon: truth.decidedByHorizon,
    layers: truth.layers,
    acceptedAt: t0,
    slaMs: op.slaMs,
    giveUpMs: op.giveUpMs,
    slaDeadlineAt: slaAt,
    giveUpAt,
    finalAt: truth.finalAt,
    evidenceLevel: truth.evidenceLevel,
    attempts: truth.attempts,
    callbacks: truth.callbacks,
    duplicateCallbacks: truth.duplicateCallbacks,
    firstPublishAt: events[0]?.publishAt ?? t0,
    lastPublishAt: events.at(-1)?.publishAt ?? t0,
    decidedAt: truth.decidedAt,
  };
  return { index, kind: 'request', anchorAt: t0, events, expectation, redrafts: draftNo };
}
