// Orphan units: a dispatch or a callback whose request never arrives (or arrives too late to be judged).
import type { DispatchAttempted, ProviderCallback } from '@pathwatch/schemas';
import type { ScriptedUnit, VerdictExpectation } from './model.js';
import type { ProviderSpec } from './options.js';
import type { Rng } from './prng.js';
import { sortableId } from './prng.js';
import { deriveTruth } from './truth.js';
import { STATUS_RAW, messageIdPrefix } from './vocabulary.js';
import { finalizeDrafts, type AnyDraft, type Draft, type ScenarioContext } from './scenario-drafts.js';

export function draftOrphan(
  ctx: ScenarioContext,
  rng: Rng,
  index: number,
  t0: number,
  kind: 'orphan_callback' | 'orphan_dispatch',
  draftNo: number,
): ScriptedUnit | undefined {
  const o = ctx.options;
  const tenant = rng.weighted(o.tenants, (x) => x.weight).name;
  const route = rng.weighted(o.routes, (r) => r.weight);
  const p = ctx.providers.get(route.provider) as ProviderSpec;
  const pmid = `${messageIdPrefix(p.style)}${rng.hex(24)}`;
  const traceId = rng.hex(32);
  const occurredAt = t0;
  const publishAt = t0 + rng.latency(o.timing.ingestLag);
  const envelope = (source: string, requestId: string | null, version: number) => ({
    event_id: sortableId('evt', occurredAt, rng),
    source,
    occurred_at: occurredAt,
    recorded_at: occurredAt,
    tenant_id: tenant,
    request_id: requestId,
    schema_version: version,
  });
  let drafts: AnyDraft[];
  let requestId: string | null;
  let key: string;
  if (kind === 'orphan_dispatch') {
    requestId = sortableId('req', t0, rng);
    key = requestId;
    drafts = [
      {
        kind: 'dispatch',
        label: 'dispatch:orphan',
        occurredAt,
        publishAt,
        key,
        attemptId: `${requestId}/a1`,
        value: {
          envelope: envelope(`//notify/dispatcher/worker-${rng.int(4)}`, requestId, ctx.versions.dispatch),
          attempt_id: `${requestId}/a1`,
          attempt_no: 1,
          attempt_reason: 'initial',
          parent_attempt_id: null,
          route: route.name,
          provider: p.name,
          provider_message_id: pmid,
          submit_outcome: 'accepted',
          submit_latency_ms: rng.latency(p.submitLatency),
          error_code: null,
        },
      } satisfies Draft<DispatchAttempted>,
    ];
  } else {
    requestId = rng.chance(0.5) ? sortableId('req', t0, rng) : null;
    key = requestId ?? `${p.name}:${pmid}`;
    drafts = [
      {
        kind: 'callback',
        label: 'callback:orphan',
        occurredAt,
        publishAt,
        key,
        attemptId: null,
        value: {
          envelope: envelope(`//notify/webhook-ingress/${p.name}`, requestId, ctx.versions.callback),
          provider: p.name,
          provider_message_id: pmid,
          provider_event_id: p.eventIds ? `${p.name}-ev-${rng.hex(16)}` : null,
          attempt_id: null,
          status_raw: STATUS_RAW[p.style].delivered,
          status: 'delivered',
          is_final: true,
          error_code: null,
          error_category: null,
          evidence_level: p.deliveredEvidence,
          provider_event_time: occurredAt,
          provider_sequence: null,
        },
      } satisfies Draft<ProviderCallback>,
    ];
  }
  const events = finalizeDrafts(drafts, index, traceId, rng, o.wire.jsonShare);
  const truth = deriveTruth(events, {
    slaMs: 0,
    giveUpMs: 0,
    safetyMarginMs: o.timing.safetyMarginMs,
    watermarkBoundMs: o.timing.watermarkBoundMs,
    crossTopicGapMs: o.timing.crossTopicGapMs,
    retryGraceMs: o.timing.retryGraceMs,
  });
  if (truth.borderline.length > 0) return undefined;
  const expectation: VerdictExpectation = {
    kind,
    unit: index,
    requestId,
    key,
    tenantId: tenant,
    operation: null,
    channel: route.channel,
    inputFingerprint: null,
    attributes: {},
    routes: kind === 'orphan_dispatch' ? [route.name] : [],
    providers: [p.name],
    faults: [kind],
    verdict: truth.verdict,
    errorCategory: null,
    errorCode: null,
    flags: truth.flags,
    timingFlags: truth.timingFlags,
    lifecycle: truth.lifecycle,
    passesThroughOverdue: false,
    correctionExpected: false,
    decidedByHorizon: true,
    layers: truth.layers,
    acceptedAt: null,
    slaMs: null,
    giveUpMs: null,
    slaDeadlineAt: null,
    giveUpAt: null,
    finalAt: null,
    evidenceLevel: truth.evidenceLevel,
    attempts: truth.attempts,
    callbacks: truth.callbacks,
    duplicateCallbacks: truth.duplicateCallbacks,
    firstPublishAt: publishAt,
    lastPublishAt: publishAt,
    decidedAt: truth.decidedAt,
  };
  return { index, kind, anchorAt: t0, events, expectation, redrafts: draftNo };
}
