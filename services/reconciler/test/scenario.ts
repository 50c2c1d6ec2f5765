// Random per-request event histories (fast-check) turned into one processing schedule: events in arrival
// order per co-partitioned input, interleaved with clock ticks and idle gaps. Also the driver that feeds a
// schedule to anything with the engine's input surface.
import fc from 'fast-check';
import type {
  AttemptReason,
  CallbackStatus,
  DispatchAttempted,
  ErrorCategory,
  EvidenceLevel,
  ProviderCallback,
  RequestAccepted,
  SubmitOutcome,
  Verdict,
} from '@pathwatch/schemas';
import type { EngineOptions } from '../src/engine/options.js';
import { callback, dispatch, request } from './events.js';

export const BASE = 1_750_000_000_000;

interface CallbackPlan {
  status: CallbackStatus;
  final: 'natural' | 'flip';
  evidence: EvidenceLevel;
  dtMs: number;
  delayMs: number;
  withRid: boolean;
  withAttemptId: boolean;
  providerTimeOffsetMs: number | null;
  providerEventId: boolean;
  sequence: number | null;
  errorCategory: ErrorCategory | null;
  dup: 'none' | 'exact' | 'natural';
}

interface AttemptPlan {
  provider: 'p1' | 'p2';
  route: 'r1' | 'r2';
  submit: SubmitOutcome;
  hasPmid: boolean;
  reason: AttemptReason;
  dtMs: number;
  delayMs: number;
  callbacks: CallbackPlan[];
  dup: 'none' | 'exact' | 'natural';
}

interface RequestPlan {
  hasRequest: boolean;
  startMs: number;
  slaMs: number | null;
  giveUpExtraMs: number | null;
  apiStatus: number;
  requestDelayMs: number;
  dupRequest: boolean;
  attempts: AttemptPlan[];
  strayCallbacks: CallbackPlan[];
}

const callbackPlan: fc.Arbitrary<CallbackPlan> = fc.record({
  status: fc.constantFrom<CallbackStatus>(
    'queued',
    'sent',
    'sent',
    'delivered',
    'delivered',
    'delivered',
    'undelivered',
    'expired',
    'failed',
    'rejected',
    'unknown',
  ),
  final: fc.constantFrom<'natural' | 'flip'>('natural', 'natural', 'natural', 'natural', 'flip'),
  evidence: fc.constantFrom<EvidenceLevel>('none', 'provider_synthetic', 'operator', 'handset', 'handset'),
  dtMs: fc.oneof(fc.integer({ min: 0, max: 8_000 }), fc.integer({ min: 0, max: 90_000 })),
  delayMs: fc.oneof(fc.integer({ min: 0, max: 3_000 }), fc.integer({ min: 0, max: 120_000 })),
  withRid: fc.boolean(),
  withAttemptId: fc.boolean(),
  // Mostly small offsets either way; sometimes a provider clock two minutes behind (skew, SEMANTICS.md §1).
  providerTimeOffsetMs: fc.option(
    fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: -3_000, max: 3_000 }) },
      { weight: 1, arbitrary: fc.constant(-120_000) },
    ),
    { nil: null },
  ),
  providerEventId: fc.boolean(),
  sequence: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
  errorCategory: fc.option(fc.constantFrom<ErrorCategory>('temporary', 'barred', 'filtered', 'unknown'), {
    nil: null,
  }),
  dup: fc.constantFrom<'none' | 'exact' | 'natural'>('none', 'none', 'none', 'exact', 'natural'),
});

const attemptPlan: fc.Arbitrary<AttemptPlan> = fc.record({
  provider: fc.constantFrom<'p1' | 'p2'>('p1', 'p1', 'p2'),
  route: fc.constantFrom<'r1' | 'r2'>('r1', 'r2'),
  submit: fc.constantFrom<SubmitOutcome>(
    'accepted',
    'accepted',
    'accepted',
    'accepted',
    'rejected',
    'timeout',
    'error',
  ),
  hasPmid: fc.constantFrom(true, true, true, false),
  reason: fc.constantFrom<AttemptReason>('retry', 'failover', 'channel_fallback', 'resend', 'other'),
  dtMs: fc.integer({ min: 0, max: 6_000 }),
  delayMs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 40_000 })),
  callbacks: fc.array(callbackPlan, { maxLength: 3 }),
  dup: fc.constantFrom<'none' | 'exact' | 'natural'>('none', 'none', 'none', 'none', 'exact', 'natural'),
});

const requestPlan: fc.Arbitrary<RequestPlan> = fc.record({
  hasRequest: fc.constantFrom(true, true, true, true, true, false),
  startMs: fc.integer({ min: 0, max: 20_000 }),
  slaMs: fc.option(fc.constantFrom(2_000, 5_000, 10_000), { nil: null }),
  giveUpExtraMs: fc.option(fc.constantFrom(0, 5_000, 20_000, 40_000), { nil: null }),
  apiStatus: fc.constantFrom(202, 202, 202, 202, 202, 202, 400),
  requestDelayMs: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.integer({ min: 0, max: 90_000 })),
  dupRequest: fc.constantFrom(false, false, false, true),
  attempts: fc.array(attemptPlan, { maxLength: 3 }),
  strayCallbacks: fc.array(callbackPlan, { maxLength: 1 }),
});

export const optionsArb: fc.Arbitrary<EngineOptions> = fc.record({
  retryGraceMs: fc.constantFrom(0, 2_000, 5_000),
  orphanGraceMs: fc.constantFrom(3_000, 30_000),
  correctionHorizonMs: fc.constantFrom(10_000, 60_000, 3_600_000),
  tombstoneHorizonMs: fc.constantFrom(30_000, 604_800_000),
  maxOutOfOrdernessMs: fc.constantFrom(0, 500, 2_000),
  idleTimeoutMs: fc.constantFrom(300, 1_000),
  defaultDeadlines: fc.constant({ slaMs: 4_000, giveUpMs: 30_000 }),
  deadlineRules: fc.constant([{ channel: 'voice', slaMs: 8_000, giveUpMs: 50_000 }]),
  actionRules: fc.constantFrom(undefined, [
    { verdict: 'overdue' as const, kinds: ['resend_alternate_route' as const] },
    { verdict: 'missing_outcome' as const, kinds: ['alert' as const, 'refund' as const] },
    { verdict: 'delivered_late' as const, kinds: ['refund' as const], channel: 'sms' },
    { verdict: 'orphan_dispatch' as const, kinds: ['alert' as const] },
    { verdict: 'failed' as const, kinds: ['fallback_channel' as const] },
  ]),
  maxHops: fc.constantFrom(6, 32),
});

export type Op =
  | { kind: 'request'; wall: number; partition: number; ev: RequestAccepted }
  | { kind: 'dispatch'; wall: number; partition: number; ev: DispatchAttempted }
  | { kind: 'callback'; wall: number; partition: number; ev: ProviderCallback }
  | { kind: 'tick'; wall: number };

export interface Scenario {
  ops: Op[];
  /** Request ids that have a request event. */
  requestIds: string[];
}

function part(key: string): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return Math.abs(h) % 2;
}

function isFinalNatural(s: CallbackStatus): boolean {
  return !(s === 'queued' || s === 'sent' || s === 'unknown');
}

/** Builds the processing schedule. */
function build(plans: RequestPlan[], tickTimes: number[], settle: boolean, idPrefix: string): Scenario {
  const timed: { arrival: number; order: number; op: Op }[] = [];
  let order = 0;
  const add = (arrival: number, op: Op) => timed.push({ arrival, order: order++, op });
  const requestIds: string[] = [];
  plans.forEach((p, n) => {
    const rid = `req_${idPrefix}${n}`;
    const t0 = BASE + p.startMs;
    const channel = n % 3 === 2 ? 'voice' : 'sms';
    if (p.hasRequest) {
      requestIds.push(rid);
      const ev = request({
        rid,
        at: t0,
        slaMs: p.slaMs,
        giveUpMs: p.slaMs !== null && p.giveUpExtraMs !== null ? p.slaMs + p.giveUpExtraMs : null,
        apiStatus: p.apiStatus,
        channel,
        attributes: { country: n % 2 === 0 ? 'DE' : 'FR', tier: 'gold' },
        eventId: `evt-req-${rid}`,
      });
      const arrival = t0 + p.requestDelayMs;
      add(arrival, { kind: 'request', wall: arrival, partition: part(rid), ev });
      if (p.dupRequest)
        add(arrival + 700, { kind: 'request', wall: arrival + 700, partition: part(rid), ev });
    }
    let tAttempt = t0;
    const cbPlans: {
      plan: CallbackPlan;
      base: number;
      pmid: string;
      attemptId: string | null;
      provider: string;
    }[] = [];
    p.attempts.forEach((a, i) => {
      tAttempt += a.dtMs + 10;
      const no = i + 1;
      const pmid = a.hasPmid && a.submit !== 'timeout' ? `SM${idPrefix}${n}x${no}` : null;
      const ev = dispatch({
        rid,
        at: tAttempt,
        attemptNo: no,
        reason: no === 1 ? 'initial' : a.reason,
        provider: a.provider,
        route: a.route,
        pmid,
        submit: a.submit,
        errorCode: a.submit === 'rejected' ? 'E21211' : null,
        eventId: `evt-d-${rid}-${no}`,
      });
      const arrival = tAttempt + a.delayMs;
      add(arrival, { kind: 'dispatch', wall: arrival, partition: part(rid), ev });
      if (a.dup === 'exact')
        add(arrival + 300, { kind: 'dispatch', wall: arrival + 300, partition: part(rid), ev });
      if (a.dup === 'natural') {
        const again = { ...ev, envelope: { ...ev.envelope, event_id: `${ev.envelope.event_id}-again` } };
        add(arrival + 300, { kind: 'dispatch', wall: arrival + 300, partition: part(rid), ev: again });
      }
      // A timed-out submit may still have reached the provider: its callbacks carry the pmid it never told us.
      const cbPmid = pmid ?? `SM${idPrefix}${n}x${no}`;
      for (const c of a.callbacks)
        cbPlans.push({
          plan: c,
          base: tAttempt,
          pmid: cbPmid,
          attemptId: `${rid}/a${no}`,
          provider: a.provider,
        });
    });
    for (const c of p.strayCallbacks)
      cbPlans.push({ plan: c, base: t0, pmid: `SMstray${idPrefix}${n}`, attemptId: null, provider: 'p1' });
    cbPlans.forEach(({ plan: c, base, pmid, attemptId, provider }, k) => {
      const at = base + c.dtMs;
      const natural = isFinalNatural(c.status);
      const ev = callback({
        rid: c.withRid ? rid : null,
        at,
        pmid,
        provider,
        status: c.status,
        final: c.final === 'natural' ? natural : !natural,
        evidence: c.evidence,
        providerEventTime: c.providerTimeOffsetMs === null ? null : at + c.providerTimeOffsetMs,
        providerEventId: c.providerEventId ? `pe-${rid}-${k}` : null,
        attemptId: c.withAttemptId ? attemptId : null,
        errorCategory: c.status === 'delivered' ? null : c.errorCategory,
        errorCode: c.status === 'delivered' || c.status === 'sent' || c.status === 'queued' ? null : '30003',
        sequence: c.sequence,
        eventId: `evt-c-${rid}-${k}`,
      });
      const key = c.withRid ? rid : `${provider}:${pmid}`;
      const arrival = at + c.delayMs;
      add(arrival, { kind: 'callback', wall: arrival, partition: part(key), ev });
      if (c.dup === 'exact')
        add(arrival + 250, { kind: 'callback', wall: arrival + 250, partition: part(key), ev });
      if (c.dup === 'natural') {
        const again = {
          ...ev,
          envelope: { ...ev.envelope, event_id: `${ev.envelope.event_id}-again`, occurred_at: at + 1 },
        };
        add(arrival + 250, { kind: 'callback', wall: arrival + 250, partition: part(key), ev: again });
      }
    });
  });
  for (const t of tickTimes) add(BASE + t, { kind: 'tick', wall: BASE + t });
  timed.sort((x, y) => x.arrival - y.arrival || x.order - y.order);
  const ops = timed.map((x) => x.op);
  if (settle) {
    const last = ops.length > 0 ? ops[ops.length - 1]!.wall : BASE;
    // Quiet period: every input goes idle, the clock advances with wall time past every horizon we use.
    for (const dt of [2_000, 4_000, 200_000, 400_000, 4_000_000, 8_000_000])
      ops.push({ kind: 'tick', wall: last + dt });
  }
  return { ops, requestIds };
}

export const scenarioArb = (maxRequests = 4, settle = true): fc.Arbitrary<Scenario> =>
  fc
    .record({
      plans: fc.array(requestPlan, { minLength: 1, maxLength: maxRequests }),
      ticks: fc.array(fc.integer({ min: 0, max: 200_000 }), { maxLength: 25 }),
      prefix: fc.constantFrom('a', 'b'),
    })
    .map(({ plans, ticks, prefix }) => build(plans, ticks, settle, prefix));

/** The engine's input surface (the engine and the reference model both have it). */
export interface Runnable {
  onRequest(ev: RequestAccepted, at: { partition: number; offset: string }): unknown;
  onDispatch(ev: DispatchAttempted, at: { partition: number; offset: string }): unknown;
  onCallback(ev: ProviderCallback, at: { partition: number; offset: string }): unknown;
  tick(): void;
}

/** Feeds the schedule; `setWall` moves the shared wall clock before each op. */
export function run(
  target: Runnable,
  ops: readonly Op[],
  setWall: (t: number) => void,
  onStep?: (i: number) => void,
): void {
  let offset = 0;
  ops.forEach((op, i) => {
    setWall(op.wall);
    const at = { partition: op.kind === 'tick' ? 0 : op.partition, offset: String(offset++) };
    if (op.kind === 'request') target.onRequest(op.ev, at);
    else if (op.kind === 'dispatch') target.onDispatch(op.ev, at);
    else if (op.kind === 'callback') target.onCallback(op.ev, at);
    else target.tick();
    onStep?.(i);
  });
}

/** The last verdict class per request id (`none` when it got no verdict), for comparing runs. */
export function lastClasses(vs: readonly Verdict[], ids: readonly string[]): string[] {
  const last = new Map<string, string>();
  for (const v of vs) last.set(v.request_id, v.verdict);
  return ids.map((id) => `${id}=${last.get(id) ?? 'none'}`);
}

/**
 * What a restarted engine is fed: the ops from `from` on (processing time no earlier than the restart), then
 * ticks for 40 s and two far ones, so every deadline and horizon passes.
 */
export function resumeOps(ops: readonly Op[], from: number, restartWall: number): Op[] {
  const rest: Op[] = ops.slice(from).map((o) => ({ ...o, wall: Math.max(o.wall, restartWall) }));
  const last = rest.length > 0 ? rest[rest.length - 1]!.wall : restartWall;
  for (let k = 1; k <= 40; k++) rest.push({ kind: 'tick', wall: last + k * 1_000 });
  for (const dt of [200_000, 400_000]) rest.push({ kind: 'tick', wall: last + dt });
  return rest;
}

/** The versions of each request id, in emission order. */
export function versionSequences(vs: readonly Verdict[]): Map<string, number[]> {
  const seq = new Map<string, number[]>();
  for (const v of vs) seq.set(v.request_id, [...(seq.get(v.request_id) ?? []), v.version]);
  return seq;
}
