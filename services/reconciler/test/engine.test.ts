// Engine behaviour that the reference model does not cover (clock edge cases with real timing, bounds,
// the port contract) plus readable examples of the lifecycle.
import type { Verdict } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import type { EnginePort } from '../src/engine-port.js';
import type { Engine, EngineOptions } from '../src/engine/index.js';
import { createEngine, IngestStatus } from '../src/engine/index.js';
import { callback, dispatch, ManualClock, request } from './events.js';

const T0 = 1_760_000_000_000;
const P0 = { partition: 0, offset: '0' };
const P1 = { partition: 1, offset: '0' };

function setup(options: EngineOptions = {}): {
  e: Engine;
  clock: ManualClock;
  out: Verdict[];
  actions: ReturnType<Engine['drainOutputs']>['actions'];
} {
  const clock = new ManualClock(T0);
  const e = createEngine({ maxOutOfOrdernessMs: 0, idleTimeoutMs: 1_000, ...options }, clock);
  const out: Verdict[] = [];
  const actions: ReturnType<Engine['drainOutputs']>['actions'] = [];
  const origTick = e.tick.bind(e);
  const collect = () => {
    const o = e.drainOutputs();
    out.push(...o.verdicts);
    actions.push(...o.actions);
  };
  e.tick = () => {
    origTick();
    collect();
  };
  for (const m of ['onRequest', 'onDispatch', 'onCallback'] as const) {
    const f: (ev: never, at: never) => ReturnType<Engine['onRequest']> = e[m].bind(e);
    (e as unknown as Record<string, unknown>)[m] = (ev: never, at: never) => {
      const r = f(ev, at);
      collect();
      return r;
    };
  }
  return { e, clock, out, actions };
}

/** Runs ticks every `stepMs` of wall time until `untilMs` after T0. */
function idle(clock: ManualClock, e: Engine, untilMs: number, stepMs = 100): void {
  while (clock.t < T0 + untilMs) {
    clock.advance(stepMs);
    e.tick();
  }
}

describe('lifecycle examples', () => {
  it('overdue at the SLA, then a late delivery settles it as delivered_late and retracts the resend', () => {
    const { e, clock, out, actions } = setup({
      actionRules: [{ verdict: 'overdue', kinds: ['resend_alternate_route'] }],
    });
    e.onRequest(request({ rid: 'r1', at: T0, slaMs: 2_000, giveUpMs: 30_000 }), P0);
    e.onDispatch(dispatch({ rid: 'r1', at: T0 + 100 }), P0);
    idle(clock, e, 5_000);
    expect(out.map((v) => [v.version, v.verdict, v.provisional, v.fired_by])).toEqual([
      [1, 'overdue', true, 'wall_clock'],
    ]);
    expect(actions.map((a) => [a.kind, a.action_id, a.provisional])).toEqual([
      ['resend_alternate_route', 'r1:resend_alternate_route:overdue', true],
    ]);
    e.onCallback(callback({ rid: null, pmid: 'SMr11', at: T0 + 4_000, status: 'delivered' }), P0);
    const v2 = out[1]!;
    expect([
      v2.version,
      v2.verdict,
      v2.provisional,
      v2.is_correction,
      v2.previous_verdict,
      v2.final_at,
    ]).toEqual([2, 'delivered_late', false, false, 'overdue', T0 + 4_000]);
    expect(actions[1]).toMatchObject({
      kind: 'retract',
      retracts_action_id: 'r1:resend_alternate_route:overdue',
      reason: 'delivered_late',
    });
  });

  it('missing_outcome at give-up, corrected to delivered_late by late evidence', () => {
    const { e, clock, out } = setup();
    e.onRequest(request({ rid: 'r2', at: T0, slaMs: 1_000, giveUpMs: 3_000 }), P0);
    e.onDispatch(dispatch({ rid: 'r2', at: T0 + 50 }), P0);
    idle(clock, e, 6_000);
    expect(out.map((v) => v.verdict)).toEqual(['overdue', 'missing_outcome']);
    expect(out[1]!.execution_ok).toBe(true);
    expect(out[1]!.outcome_ok).toBe(false);
    e.onCallback(
      callback({
        rid: 'r2',
        pmid: 'SMr21',
        at: T0 + 5_000,
        status: 'delivered',
        providerEventTime: T0 + 4_500,
      }),
      P0,
    );
    expect(out[2]).toMatchObject({
      version: 3,
      verdict: 'delivered_late',
      is_correction: true,
      previous_verdict: 'missing_outcome',
      final_at: T0 + 4_500,
    });
  });

  it('a retry inside the grace keeps a failed attempt open; the retry delivers on time', () => {
    const { e, clock, out } = setup({ retryGraceMs: 2_000 });
    e.onRequest(request({ rid: 'r3', at: T0, slaMs: 10_000, giveUpMs: 60_000 }), P0);
    e.onDispatch(dispatch({ rid: 'r3', at: T0 + 10, provider: 'p1' }), P0);
    e.onCallback(
      callback({ rid: 'r3', pmid: 'SMr31', at: T0 + 500, status: 'undelivered', errorCategory: 'network' }),
      P0,
    );
    e.onDispatch(
      dispatch({ rid: 'r3', at: T0 + 1_500, attemptNo: 2, reason: 'failover', provider: 'p2' }),
      P0,
    );
    idle(clock, e, 4_000);
    expect(out).toEqual([]);
    e.onCallback(
      callback({ rid: 'r3', pmid: 'SMr32', provider: 'p2', at: T0 + 4_000, status: 'delivered' }),
      P0,
    );
    expect(out.map((v) => [v.verdict, v.flags])).toEqual([['delivered_on_time', ['retried', 'failed_over']]]);
    expect(out[0]!.attempts.map((a) => a.last_status)).toEqual(['undelivered', 'delivered']);
  });

  it('without a retry the failure settles after the grace, with the error category', () => {
    const { e, clock, out } = setup({ retryGraceMs: 2_000 });
    e.onRequest(request({ rid: 'r4', at: T0 }), P0);
    e.onDispatch(dispatch({ rid: 'r4', at: T0 + 10 }), P0);
    e.onCallback(
      callback({
        rid: 'r4',
        pmid: 'SMr41',
        at: T0 + 500,
        status: 'undelivered',
        errorCategory: 'barred',
        errorCode: '30004',
      }),
      P0,
    );
    idle(clock, e, 4_000);
    expect(out.map((v) => [v.verdict, v.error_category, v.error_code, v.final_at])).toEqual([
      ['failed', 'barred', '30004', T0 + 500],
    ]);
  });

  it('a callback without request_id waits for its dispatch and is matched when it arrives', () => {
    const bindings: string[] = [];
    const { e, out } = setup({ onBinding: (p, m, r) => bindings.push(`${p}/${m}->${r}`) });
    e.onRequest(request({ rid: 'r5', at: T0 }), P0);
    e.onCallback(callback({ rid: null, pmid: 'SMx', at: T0 + 800, status: 'delivered' }), P1);
    expect(e.stats().pendingCallbacks).toBe(1);
    e.onDispatch(dispatch({ rid: 'r5', at: T0 + 100, pmid: 'SMx' }), P0);
    expect(e.stats().pendingCallbacks).toBe(0);
    expect(out.map((v) => [v.request_id, v.verdict, v.flags])).toEqual([
      ['r5', 'delivered_on_time', ['callback_before_dispatch']],
    ]);
    expect(e.lookupRequestId('p1', 'SMx')).toBe('r5');
    expect(bindings).toEqual(['p1/SMx->r5']);
  });

  it('an unmatched callback becomes orphan_callback keyed provider:pmid after the orphan grace', () => {
    const { e, clock, out } = setup({ orphanGraceMs: 2_000 });
    e.onCallback(callback({ rid: null, pmid: 'SMnone', at: T0, status: 'delivered' }), P1);
    idle(clock, e, 4_000);
    expect(out.map((v) => [v.request_id, v.verdict, v.accepted_at, v.api_ok])).toEqual([
      ['p1:SMnone', 'orphan_callback', null, false],
    ]);
  });

  it('exact duplicates are no-ops; a re-sent report with a new event id is a duplicate_callback', () => {
    const { e, out } = setup();
    e.onRequest(request({ rid: 'r6', at: T0 }), P0);
    e.onDispatch(dispatch({ rid: 'r6', at: T0 + 10 }), P0);
    const cb = callback({
      rid: 'r6',
      pmid: 'SMr61',
      at: T0 + 500,
      status: 'delivered',
      providerEventId: 'pe-1',
    });
    expect(e.onCallback(cb, P0)).toBe(IngestStatus.APPLIED);
    expect(e.onCallback(cb, P0)).toBe(IngestStatus.DUPLICATE);
    expect(out).toHaveLength(1);
    e.onCallback({ ...cb, envelope: { ...cb.envelope, event_id: 'other' } }, P0);
    expect(out.map((v) => [v.version, v.flags, v.callbacks, v.duplicate_callbacks])).toEqual([
      [1, [], 1, 0],
      [2, ['duplicate_callback'], 2, 1],
    ]);
    expect(e.onRequest(request({ rid: 'r6', at: T0 }), P0)).toBe(IngestStatus.DUPLICATE);
    expect(e.onDispatch(dispatch({ rid: 'r6', at: T0 + 10 }), P0)).toBe(IngestStatus.DUPLICATE);
  });

  it('a synthetic final is overridden by carrier evidence (flagged); a carrier final is not', () => {
    const { e, clock, out } = setup({ retryGraceMs: 0 });
    e.onRequest(request({ rid: 'r7', at: T0, slaMs: 10_000 }), P0);
    e.onDispatch(dispatch({ rid: 'r7', at: T0 + 10 }), P0);
    e.onCallback(
      callback({ rid: 'r7', pmid: 'SMr71', at: T0 + 100, status: 'expired', evidence: 'provider_synthetic' }),
      P0,
    );
    idle(clock, e, 1_000);
    e.onCallback(
      callback({ rid: 'r7', pmid: 'SMr71', at: T0 + 200, status: 'delivered', evidence: 'handset' }),
      P0,
    );
    expect(out.map((v) => [v.verdict, v.flags, v.is_correction])).toEqual([
      ['expired', [], false],
      ['delivered_on_time', ['conflicting_evidence'], true],
    ]);
    e.onCallback(
      callback({ rid: 'r7', pmid: 'SMr71', at: T0 + 300, status: 'failed', evidence: 'operator' }),
      P0,
    );
    expect(out).toHaveLength(2); // delivered stands: a hard success decides; conflict already flagged
  });

  it('an API-rejected request is failed at once', () => {
    const { e, out } = setup();
    e.onRequest(request({ rid: 'r8', at: T0, apiStatus: 429 }), P0);
    expect(out.map((v) => [v.verdict, v.api_ok, v.error_category, v.error_code, v.decided_at])).toEqual([
      ['failed', false, 'rejected', 'api_status_429', T0],
    ]);
  });
});

describe('hybrid clock', () => {
  it('an idle input does not hold the clock back', () => {
    const { e, clock } = setup();
    e.onRequest(request({ rid: 'a', at: T0 }), P0); // request topic p0 then goes quiet
    for (let i = 1; i <= 20; i++) {
      clock.t = T0 + i * 200;
      e.onDispatch(dispatch({ rid: `d${i}`, at: T0 + i * 200 }), P0);
      e.tick();
    }
    const w = e.watermarks();
    expect(w.eventTime).toBe(T0 + 4_000);
    const req = w.inputs.find((x) => x.kind === 'request' && x.partition === 0)!;
    const disp = w.inputs.find((x) => x.kind === 'dispatch' && x.partition === 0)!;
    expect([req.idle, disp.idle, req.watermark, disp.watermark]).toEqual([true, false, T0, T0 + 4_000]);
  });

  it('when every input is quiet, a missing outcome is flagged within ~1 s of its deadline', () => {
    const { e, clock, out } = setup({ maxOutOfOrdernessMs: 500, idleTimeoutMs: 1_000 });
    e.onRequest(request({ rid: 'q', at: T0, slaMs: 5_000, giveUpMs: 20_000 }), P0);
    e.onDispatch(dispatch({ rid: 'q', at: T0 + 20 }), P0);
    idle(clock, e, 30_000, 100);
    const missing = out.find((v) => v.verdict === 'missing_outcome')!;
    expect(missing.fired_by).toBe('wall_clock');
    // decided when the extrapolated clock reached give-up; emitted within a second of the deadline.
    expect(missing.decided_at).toBeGreaterThanOrEqual(T0 + 20_000);
    expect(missing.emitted_at - (T0 + 20_000)).toBeLessThanOrEqual(1_000);
    const overdue = out.find((v) => v.verdict === 'overdue')!;
    expect(overdue.emitted_at - (T0 + 5_000)).toBeLessThanOrEqual(1_000);
  });

  it('a consumer catching up on an old backlog fires nothing early, even across a pause', () => {
    const { e, clock, out } = setup({ maxOutOfOrdernessMs: 500, idleTimeoutMs: 1_000 });
    const past = T0 - 3_600_000; // events an hour old, read now
    for (let i = 0; i < 50; i++) {
      e.onRequest(request({ rid: `b${i}`, at: past + i * 1_000, slaMs: 5_000, giveUpMs: 30_000 }), P0);
      e.onDispatch(dispatch({ rid: `b${i}`, at: past + i * 1_000 + 10 }), P0);
      clock.advance(5); // reading fast: 5 ms of wall time per second of event time
      e.tick();
    }
    // Every verdict so far was decided by event time: deadlines at most the newest event time seen.
    for (const v of out) expect(v.decided_at).toBeLessThanOrEqual(past + 49_010);
    // A consumer pause longer than the idle timeout while the wiring reports a backlog: still nothing early.
    e.setBacklog('request', 0, 1_000);
    e.setBacklog('dispatch', 0, 1_000);
    idle(clock, e, clock.t - T0 + 5_000);
    for (const v of out) expect(v.decided_at).toBeLessThanOrEqual(past + 49_010);
    expect(e.watermarks().eventTime).toBe(past + 49_000 - 500); // the request input bounds it
    // Caught up and quiet: the clock extrapolates from the last event and the backlog deadlines fire.
    e.setBacklog('request', 0, 0);
    e.setBacklog('dispatch', 0, 0);
    idle(clock, e, clock.t - T0 + 60_000);
    expect(out.filter((v) => v.verdict === 'missing_outcome')).toHaveLength(50);
  });

  it('event times far ahead of the wall clock do not fast-forward the clock', () => {
    const { e } = setup({ maxFutureSkewMs: 60_000 });
    e.onRequest(request({ rid: 'f', at: T0 + 86_400_000 }), P0);
    expect(e.watermarks().eventTime).toBe(T0 + 60_000);
    expect(e.stats().counters['futureCapped']).toBe(1);
  });
});

describe('horizons', () => {
  it('a late callback inside the correction horizon corrects; after it, it is an orphan continuing the versions', () => {
    const { e, clock, out } = setup({ correctionHorizonMs: 10_000, orphanGraceMs: 1_000 });
    e.onRequest(request({ rid: 'h', at: T0, slaMs: 1_000, giveUpMs: 2_000 }), P0);
    idle(clock, e, 4_000);
    expect(out.map((v) => v.verdict)).toEqual(['overdue', 'missing_dispatch']);
    e.onDispatch(dispatch({ rid: 'h', at: T0 + 500 }), P0);
    expect(out[2]).toMatchObject({ verdict: 'missing_outcome', is_correction: true, version: 3 });
    idle(clock, e, 20_000);
    expect(e.stats().closedTraces).toBe(0);
    expect(e.stats().tombstones).toBe(1);
    e.onCallback(callback({ rid: 'h', pmid: 'SMh1', at: T0 + 19_000, status: 'delivered' }), P0);
    idle(clock, e, 24_000);
    expect(out[3]).toMatchObject({
      version: 4,
      verdict: 'orphan_callback',
      is_correction: true,
      previous_verdict: 'missing_outcome',
      flags: ['beyond_correction_horizon'],
    });
    // A request for a forgotten request id is not judged again.
    expect(e.onRequest(request({ rid: 'h', at: T0 }), P0)).toBe(IngestStatus.TOO_LATE);
  });
});

describe('state bounds', () => {
  it('keeps open, pending and closed state within its bounds and says so', () => {
    const { e, out } = setup({
      maxOpenRequests: 10,
      maxPendingCallbacks: 5,
      maxClosedTraces: 7,
      maxCallbacksPerRequest: 3,
    });
    for (let i = 0; i < 30; i++)
      e.onRequest(request({ rid: `o${i}`, at: T0 + i, slaMs: 60_000 + i, giveUpMs: 120_000 }), P0);
    let st = e.stats();
    expect(st.openRequests).toBe(10);
    expect(st.closedTraces).toBe(7);
    expect(st.counters['evictedOpen']).toBe(20);
    expect(st.counters['evictedClosed']).toBe(13);
    // The earliest deadlines went first, decided as at give-up and flagged.
    expect(out[0]).toMatchObject({
      request_id: 'o0',
      verdict: 'missing_dispatch',
      flags: ['state_bound_evicted'],
    });
    for (let i = 0; i < 9; i++)
      e.onCallback(callback({ rid: null, pmid: `SMp${i}`, at: T0 + i, status: 'sent' }), P1);
    st = e.stats();
    expect(st.pendingCallbacks).toBe(5);
    expect(st.counters['evictedPending']).toBe(4);
    expect(out.filter((v) => v.verdict === 'orphan_callback')).toHaveLength(4);
    e.onDispatch(dispatch({ rid: 'o29', at: T0 + 100 }), P0);
    for (let i = 0; i < 3; i++)
      expect(
        e.onCallback(callback({ rid: 'o29', pmid: 'SMo291', at: T0 + 200 + i, status: 'sent' }), P0),
      ).toBe(IngestStatus.APPLIED);
    expect(e.onCallback(callback({ rid: 'o29', pmid: 'SMo291', at: T0 + 300, status: 'sent' }), P0)).toBe(
      IngestStatus.REFUSED,
    );
    expect(st.bytes.total).toBeGreaterThan(0);
  });
});

describe('port contract', () => {
  it('the engine is the wiring EnginePort: driven through the port alone, a request becomes state and a verdict', () => {
    const clock = new ManualClock(T0);
    const port: EnginePort = createEngine({ maxOutOfOrdernessMs: 0, idleTimeoutMs: 1_000 }, clock);
    expect(port.onRequest(request({ rid: 'port-1', at: T0, slaMs: 1_000, giveUpMs: 2_000 }), P0)).toBe(
      IngestStatus.APPLIED,
    );
    const changelog = port.drainChangelog();
    expect(changelog.filter((r) => r.key === 'port-1')).toHaveLength(1);
    // No dispatch and no more input: one tick past give-up on wall time evaluates each deadline it passed, at its
    // own time (SEMANTICS §4): overdue at the SLA, then missing_dispatch at give-up.
    clock.advance(5_000);
    port.tick();
    expect(port.drainOutputs().verdicts.map((v) => [v.request_id, v.verdict, v.fired_by])).toEqual([
      ['port-1', 'overdue', 'wall_clock'],
      ['port-1', 'missing_dispatch', 'wall_clock'],
    ]);
  });
});

describe('skew-safe time and causal timelines', () => {
  it('a provider clock 2 minutes behind cannot make a delivery heard 5 s after acceptance on time (3 s SLA)', () => {
    const { e, out } = setup();
    e.onRequest(request({ rid: 's1', at: T0, slaMs: 3_000, giveUpMs: 30_000 }), P0);
    e.onDispatch(dispatch({ rid: 's1', at: T0 + 100, pmid: 'SMs1' }), P0);
    e.onCallback(
      callback({
        rid: 's1',
        at: T0 + 5_000,
        pmid: 'SMs1',
        status: 'delivered',
        providerEventTime: T0 - 115_000,
      }),
      P0,
    );
    const v = out[out.length - 1]!;
    expect(v).toMatchObject({
      verdict: 'delivered_late',
      final_at: T0 + 5_000,
      clock_skew_ms: 115_100,
      evidence_at: T0 + 5_000,
    });
    expect(v.flags).toContain('provider_clock_skew');
    expect(v.final_at! - v.accepted_at!).toBeGreaterThanOrEqual(0);
    // The verdict follows the callback that decided it.
    expect(v.hops.map((h) => h.kind)).toEqual(['accepted', 'dispatch', 'callback', 'verdict']);
    expect(v.decided_at).toBeGreaterThanOrEqual(T0 + 5_000);
  });

  it('a slightly early provider time within the bounds is the evidence time (no skew flag)', () => {
    const { e, out } = setup();
    e.onRequest(request({ rid: 's2', at: T0, slaMs: 3_000, giveUpMs: 30_000 }), P0);
    e.onDispatch(dispatch({ rid: 's2', at: T0 + 100, pmid: 'SMs2' }), P0);
    e.onCallback(
      callback({
        rid: 's2',
        at: T0 + 5_000,
        pmid: 'SMs2',
        status: 'delivered',
        providerEventTime: T0 + 2_000,
      }),
      P0,
    );
    expect(out[out.length - 1]).toMatchObject({
      verdict: 'delivered_on_time',
      final_at: T0 + 2_000,
      clock_skew_ms: null,
    });
    expect(out[out.length - 1]!.flags).not.toContain('provider_clock_skew');
  });

  it('a flag-only version after a final verdict is a revision, not a correction', () => {
    const { e, out } = setup();
    e.onRequest(request({ rid: 's3', at: T0, slaMs: 3_000, giveUpMs: 30_000 }), P0);
    e.onDispatch(dispatch({ rid: 's3', at: T0 + 100, pmid: 'SMs3' }), P0);
    e.onCallback(callback({ rid: 's3', at: T0 + 1_000, pmid: 'SMs3', status: 'delivered' }), P0);
    // The same report again under a new event id: a duplicate report (flag only).
    e.onCallback(
      callback({ rid: 's3', at: T0 + 1_000, pmid: 'SMs3', status: 'delivered', eventId: 'again' }),
      P0,
    );
    expect(out.map((v) => [v.verdict, v.is_correction, v.revision_kind, v.flags])).toEqual([
      ['delivered_on_time', false, 'initial', []],
      ['delivered_on_time', false, 'revision', ['duplicate_callback']],
    ]);
  });
});
