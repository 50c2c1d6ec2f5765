import { recordKey } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import { createEventStream, createGenerator, generateUnits } from '../src/generator.js';
import type {
  FaultKind,
  ScriptedCallback,
  ScriptedEvent,
  ScriptedUnit,
  VerdictExpectation,
} from '../src/model.js';
import { resolveGeneratorOptions } from '../src/options.js';
import { replayPaced } from '../src/replay.js';
import type { GeneratorOptionsInput } from '../src/options.js';

const T0 = Date.UTC(2026, 0, 1);
const CHAOS: GeneratorOptionsInput = { preset: 'chaos', seed: 20260101, startEventTime: T0, hotSpots: [] };
const N = 12_000;
const units = generateUnits(CHAOS, N);
const options = resolveGeneratorOptions(CHAOS);
const requests = units.filter((u) => u.kind === 'request');
const expectationsOf = (us: readonly ScriptedUnit[]): VerdictExpectation[] =>
  us.map((u) => u.expectation).filter((e): e is VerdictExpectation => e.kind !== 'invalid');
const reqExp = expectationsOf(requests);
const withFault = (f: FaultKind): VerdictExpectation[] => reqExp.filter((e) => e.faults.includes(f));
const callbacksOf = (u: ScriptedUnit): ScriptedCallback[] =>
  u.events.filter((e): e is ScriptedCallback => e.kind === 'callback');

/** |observed - expected| within 5 binomial sigmas plus 0.5 % of the population (redrafts bias rates slightly). */
function expectRate(observed: number, population: number, p: number): void {
  const expected = population * p;
  const tolerance = 5 * Math.sqrt(population * p * (1 - p)) + 0.005 * population;
  expect(
    Math.abs(observed - expected),
    `observed ${observed}, expected ${expected.toFixed(1)} ± ${tolerance.toFixed(1)}`,
  ).toBeLessThanOrEqual(tolerance);
}

describe('determinism', () => {
  it('reproduces the same units for the same seed and options', () => {
    const a = generateUnits(CHAOS, 400);
    const b = generateUnits(CHAOS, 400);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).toBe(JSON.stringify(units.slice(0, 400)));
  });

  it('differs for another seed', () => {
    const a = generateUnits({ ...CHAOS, seed: 1 }, 50).map((u) => u.expectation.key);
    const b = generateUnits({ ...CHAOS, seed: 2 }, 50).map((u) => u.expectation.key);
    expect(a.filter((k) => b.includes(k))).toEqual([]);
  });

  it('draws unique event ids and request ids', () => {
    const eventIds = new Set<string>();
    let events = 0;
    for (const u of units) {
      for (const e of u.events) {
        if (e.kind === 'invalid') continue;
        events++;
        eventIds.add(e.value.envelope.event_id);
      }
    }
    expect(eventIds.size).toBe(events);
    expect(new Set(reqExp.map((e) => e.requestId)).size).toBe(reqExp.length);
  });
});

describe('fault rates', () => {
  const f = options.faults;
  const unitKinds = (k: ScriptedUnit['kind']): number => units.filter((u) => u.kind === k).length;

  it('draws unit kinds (orphans, invalid records) at their rates', () => {
    expectRate(unitKinds('orphan_callback'), N, f.orphanCallback);
    expectRate(unitKinds('orphan_dispatch'), N, f.orphanDispatch);
    expectRate(unitKinds('invalid'), N, f.invalidRecord);
  });

  it('draws each outcome fault at its rate among requests', () => {
    const n = reqExp.length;
    expectRate(withFault('drop_dispatch').length, n, f.dropDispatch);
    expectRate(withFault('drop_final_callback').length, n, f.dropFinalCallback);
    expectRate(withFault('delay_beyond_sla').length, n, f.delayBeyondSla);
    expectRate(withFault('provider_failure').length, n, f.providerFailure);
    expectRate(withFault('expired').length, n, f.expired);
    expectRate(withFault('late_evidence_after_give_up').length, n, f.lateEvidenceAfterGiveUp);
    expectRate(withFault('delayed_receipt').length, n, f.delayedReceipt);
  });

  it('draws execution faults at their rates among dispatched requests', () => {
    const dispatched = reqExp.filter((e) => !e.faults.includes('drop_dispatch'));
    expectRate(withFault('ambiguous_timeout').length, dispatched.length, f.ambiguousTimeout);
    const retriedOrFailedOver = dispatched.filter(
      (e) =>
        (e.faults.includes('retry') || e.faults.includes('failover')) &&
        !e.faults.includes('ambiguous_timeout'),
    );
    expectRate(retriedOrFailedOver.length, dispatched.length, f.retry + f.failover);
    const ambiguous = withFault('ambiguous_timeout');
    // Delivers only when the request itself ends delivered before give-up, hence "at most" the knob.
    expect(withFault('ambiguous_timeout_delivers').length).toBeLessThanOrEqual(
      ambiguous.length * f.ambiguousTimeoutDelivers * 1.2,
    );
    expect(withFault('ambiguous_timeout_delivers').length).toBeGreaterThan(0);
  });

  it('applies modifiers to requests that have callbacks', () => {
    const withCallbacks = requests
      .filter((u) => callbacksOf(u).length > 0)
      .map((u) => u.expectation as VerdictExpectation);
    const share = (k: FaultKind): number => withCallbacks.filter((e) => e.faults.includes(k)).length;
    expectRate(share('duplicate_callback'), withCallbacks.length, f.duplicateCallback);
    expectRate(share('callback_without_request_id'), withCallbacks.length, f.callbackWithoutRequestId);
  });

  it('scripts callback_before_dispatch at its rate where an early callback can overtake a lagging dispatch', () => {
    // Applicable when the earliest callback of the last attempt comes soon enough after the dispatch that
    // holding the dispatch back stays within maxDispatchLagMs; the dispatch's own ingest lag blurs the edge.
    const t = options.timing;
    let surely = 0;
    let maybe = 0;
    let observed = 0;
    for (const u of requests) {
      const e = u.expectation as VerdictExpectation;
      const dispatches = u.events.filter((x) => x.kind === 'dispatch');
      const last = dispatches.sort((a, b) => b.value.attempt_no - a.value.attempt_no)[0];
      if (!last) continue;
      const cbs = callbacksOf(u).filter(
        (c) =>
          c.label !== 'callback:duplicate' &&
          c.value.provider_message_id === last.value.provider_message_id &&
          !(e.faults.includes('out_of_order_callback') && c.value.status === 'sent'),
      );
      if (cbs.length === 0) continue;
      const lead = Math.min(...cbs.map((c) => c.publishAt)) + t.dispatchDelay.maxMs - last.occurredAt;
      if (lead <= t.maxDispatchLagMs) surely++;
      else if (lead <= t.maxDispatchLagMs + t.ingestLag.maxMs) maybe++;
      if (e.faults.includes('callback_before_dispatch')) observed++;
    }
    const tolerance = (n: number): number => 5 * Math.sqrt(n * f.callbackBeforeDispatch) + 0.005 * n;
    expect(observed).toBeGreaterThanOrEqual(surely * f.callbackBeforeDispatch - tolerance(surely));
    expect(observed).toBeLessThanOrEqual(
      (surely + maybe) * f.callbackBeforeDispatch + tolerance(surely + maybe),
    );
    expect(observed).toBeGreaterThan(0);
  });
});

describe('ground truth consistency', () => {
  it('maps every outcome fault to its verdict and lifecycle', () => {
    for (const e of withFault('drop_dispatch')) {
      expect(e.verdict).toBe('missing_dispatch');
      expect(e.lifecycle).toEqual(['overdue', 'missing_dispatch']);
      expect(e.attempts).toBe(0);
      expect(e.layers).toEqual({ apiOk: true, executionOk: false, outcomeOk: false });
    }
    for (const e of withFault('drop_final_callback')) {
      expect(e.verdict).toBe('missing_outcome');
      expect(e.lifecycle).toEqual(['overdue', 'missing_outcome']);
      expect(e.layers.executionOk).toBe(true);
    }
    for (const e of withFault('delay_beyond_sla')) expect(e.lifecycle).toEqual(['overdue', 'delivered_late']);
    const grace = options.timing.retryGraceMs;
    for (const e of withFault('provider_failure')) {
      expect(e.verdict).toBe('failed');
      expect(e.errorCategory).not.toBeNull();
      expect(e.errorCode).not.toBeNull();
      // Decided at receipt + retry grace: past the SLA means a provisional overdue first.
      if ((e.finalAt as number) + grace > (e.slaDeadlineAt as number))
        expect(e.lifecycle).toEqual(['overdue', 'failed']);
      expect((e.finalAt as number) + grace).toBeLessThanOrEqual(
        (e.giveUpAt as number) - options.timing.safetyMarginMs,
      );
    }
    const failed = withFault('provider_failure');
    expect(failed.some((e) => e.lifecycle.length === 1)).toBe(true);
    expect(failed.some((e) => e.lifecycle.length === 2)).toBe(true);
    for (const e of withFault('expired')) {
      expect(e.lifecycle).toEqual(['overdue', 'expired']);
      expect(e.errorCategory).toBe('expired');
    }
    for (const e of withFault('late_evidence_after_give_up')) {
      expect(e.lifecycle).toEqual(['overdue', 'missing_outcome', 'delivered_late']);
      expect(e.correctionExpected).toBe(true);
    }
    for (const e of withFault('delayed_receipt'))
      expect(e.lifecycle).toEqual(['overdue', 'delivered_on_time']);
  });

  it('derives missing_* and corrections only from the faults that cause them', () => {
    for (const e of reqExp) {
      if (e.verdict === 'missing_dispatch') expect(e.faults).toContain('drop_dispatch');
      if (e.verdict === 'missing_outcome') expect(e.faults).toContain('drop_final_callback');
      if (e.verdict === 'expired') expect(e.faults).toContain('expired');
      if (e.verdict === 'failed') expect(e.faults).toContain('provider_failure');
      if (e.correctionExpected) expect(e.faults).toContain('late_evidence_after_give_up');
    }
  });

  it('maps execution faults and modifiers to flags', () => {
    const violations: string[] = [];
    const same = (e: VerdictExpectation, what: string, a: boolean, b: boolean): void => {
      if (a !== b) violations.push(`${e.key}: ${what}`);
    };
    for (const e of reqExp) {
      same(
        e,
        'retried',
        e.flags.includes('retried'),
        e.faults.includes('retry') || e.faults.includes('failover') || e.faults.includes('ambiguous_timeout'),
      );
      same(e, 'retried = several attempts', e.flags.includes('retried'), e.attempts >= 2);
      same(e, 'failed_over', e.flags.includes('failed_over'), e.faults.includes('failover'));
      same(
        e,
        'ambiguous_submit',
        e.flags.includes('ambiguous_submit'),
        e.faults.includes('ambiguous_timeout'),
      );
      same(
        e,
        'multi_delivered',
        e.flags.includes('multi_delivered'),
        e.faults.includes('ambiguous_timeout_delivers'),
      );
      same(
        e,
        'duplicate_callback',
        e.flags.includes('duplicate_callback'),
        e.faults.includes('duplicate_callback'),
      );
      same(
        e,
        'callback_before_dispatch',
        e.timingFlags.includes('callback_before_dispatch'),
        e.faults.includes('callback_before_dispatch'),
      );
      same(e, 'duplicate count', e.duplicateCallbacks > 0, e.faults.includes('duplicate_callback'));
      same(e, 'lifecycle ends in the verdict', e.lifecycle.at(-1) === e.verdict, true);
      same(e, 'passesThroughOverdue', e.passesThroughOverdue, e.lifecycle[0] === 'overdue');
      same(e, 'outcome layer', e.layers.outcomeOk === true, e.verdict === 'delivered_on_time');
    }
    expect(violations).toEqual([]);
  });

  it('covers every verdict class and flag', () => {
    const classes = new Set(expectationsOf(units).map((e) => e.verdict));
    expect([...classes].sort()).toEqual(
      [
        'delivered_late',
        'delivered_on_time',
        'expired',
        'failed',
        'missing_dispatch',
        'missing_outcome',
        'orphan_callback',
        'orphan_dispatch',
      ].sort(),
    );
    const flags = new Set(reqExp.flatMap((e) => [...e.flags, ...e.timingFlags]));
    expect([...flags].sort()).toEqual([
      'ambiguous_submit',
      'callback_before_dispatch',
      'duplicate_callback',
      'failed_over',
      'multi_delivered',
      'retried',
    ]);
  });

  it('agrees with the raw events on timeliness and keeps deciding times out of the margins', () => {
    const m = options.timing.safetyMarginMs;
    const b = options.timing.watermarkBoundMs;
    for (const u of requests) {
      const e = u.expectation as VerdictExpectation;
      const sla = e.slaDeadlineAt as number;
      const giveUp = e.giveUpAt as number;
      const finals = callbacksOf(u).filter((c) => c.value.is_final && c.label !== 'callback:duplicate');
      const delivered = finals.filter((c) => c.value.status === 'delivered');
      if (delivered.length > 0) {
        const first = Math.min(...delivered.map((c) => c.value.envelope.occurred_at));
        expect(e.verdict).toBe(first <= sla ? 'delivered_on_time' : 'delivered_late');
        expect(e.finalAt).toBe(first);
        for (const c of delivered)
          expect(Math.abs(c.value.envelope.occurred_at - sla)).toBeGreaterThanOrEqual(m);
      }
      for (const c of finals) {
        const p = c.publishAt;
        const inSlaGap = p > sla - m && p < sla + b + m;
        const inGiveUpGap = p > giveUp - m && p < giveUp + b + m;
        expect(
          inSlaGap || inGiveUpGap,
          `unit ${u.index}: final receipt published at +${p - (e.acceptedAt as number)} ms`,
        ).toBe(false);
      }
      if (e.verdict === 'missing_outcome' || e.verdict === 'missing_dispatch') expect(finals).toEqual([]);
      for (const d of u.events)
        if (d.kind === 'dispatch') expect(d.publishAt).toBeLessThanOrEqual(giveUp - m);
    }
  });

  it('finds same input, different outcome, and a slow provider x country', () => {
    const byFingerprint = new Map<string, Set<string>>();
    for (const e of reqExp) {
      const s = byFingerprint.get(e.inputFingerprint as string) ?? new Set<string>();
      s.add(e.verdict);
      byFingerprint.set(e.inputFingerprint as string, s);
    }
    const varied = [...byFingerprint.values()].filter((s) => s.size >= 2).length;
    expect(varied).toBeGreaterThan(50);

    const demo = expectationsOf(
      generateUnits({ preset: 'demo', seed: 11, startEventTime: T0 }, 8_000),
    ).filter((e) => e.kind === 'request');
    const lateShare = (pred: (e: VerdictExpectation) => boolean): number => {
      const xs = demo.filter((e) => e.channel === 'sms' && e.verdict.startsWith('delivered') && pred(e));
      return xs.filter((e) => e.verdict === 'delivered_late').length / xs.length;
    };
    const hot = (e: VerdictExpectation): boolean =>
      e.providers.at(-1) === 'beaconsms' && e.attributes['country'] === 'BR';
    expect(lateShare(hot)).toBeGreaterThan(0.5);
    expect(lateShare((e) => !hot(e))).toBeLessThan(0.15);
  });
});

describe('event time vs publish time', () => {
  it('never publishes before the event occurred or before the unit arrived, and records in between', () => {
    const maxLag = options.timing.ingestLag.maxMs;
    const violations: string[] = [];
    for (const u of units) {
      let prev = -Infinity;
      for (const e of u.events) {
        const at = `unit ${u.index} ${e.label}`;
        if (e.publishAt < e.occurredAt) violations.push(`${at}: published before it occurred`);
        if (e.publishAt < u.anchorAt) violations.push(`${at}: published before the unit arrived`);
        if (e.publishAt < prev) violations.push(`${at}: unit events not in publish order`);
        prev = e.publishAt;
        if (e.kind === 'invalid') continue;
        const env = e.value.envelope;
        if (env.occurred_at !== e.occurredAt) violations.push(`${at}: occurred_at differs from the script`);
        if (env.recorded_at < e.occurredAt || env.recorded_at > e.publishAt)
          violations.push(`${at}: recorded_at outside [occurred, publish]`);
        if (e.kind === 'request' && (e.occurredAt !== u.anchorAt || e.publishAt - e.occurredAt > maxLag))
          violations.push(`${at}: request lag`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keys records like the schemas package (request_id, else provider:provider_message_id)', () => {
    for (const u of units) {
      for (const e of u.events) {
        if (e.kind === 'invalid') continue;
        const key =
          e.kind === 'request'
            ? recordKey('request', e.value)
            : e.kind === 'dispatch'
              ? recordKey('dispatch', e.value)
              : recordKey('callback', e.value);
        expect(e.key).toBe(key);
      }
    }
  });

  it('publishes the scripted reorderings', () => {
    const byAttempt = (u: ScriptedUnit, attemptPmid: string): ScriptedEvent | undefined =>
      u.events.find((e) => e.kind === 'dispatch' && e.value.provider_message_id === attemptPmid);
    for (const u of requests) {
      const e = u.expectation as VerdictExpectation;
      const cbs = callbacksOf(u);
      if (e.faults.includes('out_of_order_callback')) {
        const sent = cbs.find((c) => c.value.status === 'sent') as ScriptedCallback;
        const final = cbs.find(
          (c) => c.value.is_final && c.value.provider_message_id === sent.value.provider_message_id,
        ) as ScriptedCallback;
        expect(sent.occurredAt).toBeLessThan(final.occurredAt);
        expect(sent.publishAt).toBeGreaterThan(final.publishAt);
      }
      if (e.faults.includes('callback_before_dispatch')) {
        expect(
          cbs.some((c) => c.publishAt < (byAttempt(u, c.value.provider_message_id)?.publishAt ?? -Infinity)),
        ).toBe(true);
      }
      if (e.faults.includes('callback_without_request_id')) {
        const bare = cbs.filter((c) => c.value.envelope.request_id === null);
        expect(bare.length).toBeGreaterThan(0);
        for (const c of bare) {
          expect(c.value.attempt_id).toBeNull();
          expect(byAttempt(u, c.value.provider_message_id)).toBeDefined();
        }
      }
      if (e.faults.includes('late_evidence_after_give_up')) {
        expect((e.finalAt as number) - (e.giveUpAt as number)).toBeGreaterThanOrEqual(
          options.timing.watermarkBoundMs + options.timing.safetyMarginMs,
        );
      }
    }
  });
});

describe('event stream', () => {
  it('merges units into global publish order, every event exactly once', () => {
    const gen = createGenerator(CHAOS);
    const seen: ScriptedUnit[] = [];
    const stream = createEventStream(gen, { maxUnits: 3_000, onUnit: (u) => seen.push(u) });
    const out: ScriptedEvent[] = [];
    for (let e = stream.next(); e !== undefined; e = stream.next()) out.push(e);
    expect(seen.length).toBe(3_000);
    expect(out.length).toBe(seen.reduce((s, u) => s + u.events.length, 0));
    for (let i = 1; i < out.length; i++)
      expect((out[i] as ScriptedEvent).publishAt).toBeGreaterThanOrEqual(
        (out[i - 1] as ScriptedEvent).publishAt,
      );
    expect(new Set(out.map((e) => `${e.unit}/${e.seq}`)).size).toBe(out.length);
  });
});

describe('options', () => {
  it('rejects horizons that leave no room outside the margins, naming the operation', () => {
    expect(() =>
      resolveGeneratorOptions({
        operations: [
          {
            name: 'otp.send',
            channel: 'sms',
            weight: 1,
            slaMs: 5_000,
            giveUpMs: 6_000,
            templates: ['t'],
            priority: 'high',
          },
        ],
      }),
    ).toThrow(/otp\.send\/sms: giveUpMs 6000/);
    expect(() => resolveGeneratorOptions({ faults: { dropDispatch: 0.7, dropFinalCallback: 0.7 } })).toThrow(
      /sum to/,
    );
    expect(() => resolveGeneratorOptions({ faults: { retry: 1.5 } })).toThrow(/faults.retry/);
  });

  it('offers a fast preset (horizons of seconds) that covers every class', () => {
    const fast = expectationsOf(generateUnits({ preset: 'fast', seed: 6, startEventTime: T0 }, 3_000));
    expect(new Set(fast.map((e) => e.verdict)).size).toBe(8);
    const sms = fast.find((e) => e.channel === 'sms' && e.kind === 'request');
    expect(sms?.slaMs).toBe(1_500);
    expect(sms?.giveUpMs).toBe(4_000);
    expect(resolveGeneratorOptions({ preset: 'fast' }).timing.retryGraceMs).toBe(300);
  });

  it('generates exact truth for compressed test horizons', () => {
    const fast = generateUnits(
      {
        preset: 'chaos',
        seed: 5,
        startEventTime: T0,
        timing: {
          safetyMarginMs: 150,
          watermarkBoundMs: 200,
          ingestLag: { medianMs: 5, p99Ms: 40, maxMs: 50 },
          submitTimeoutMs: 300,
          retryBackoffMs: [50, 100],
          retryGraceMs: 300,
        },
        operations: [
          {
            name: 'otp.send',
            channel: 'sms',
            weight: 1,
            slaMs: 1_500,
            giveUpMs: 4_000,
            templates: ['otp-v3'],
            priority: 'high',
          },
        ],
      },
      2_000,
    );
    const classes = new Set(expectationsOf(fast).map((e) => e.verdict));
    expect(classes.size).toBe(8);
  });
});

describe('replayPaced', () => {
  it('delivers events in publish order with ticks in between and through the tail', () => {
    const stream = createEventStream(createGenerator(CHAOS), { maxUnits: 300 });
    const seen: { kind: 'tick' | 'event'; at: number }[] = [];
    const report = replayPaced(
      stream,
      {
        onEvent: (e) => seen.push({ kind: 'event', at: e.publishAt }),
        onTick: (at) => seen.push({ kind: 'tick', at }),
      },
      { tickMs: 50, tailMs: 2_000 },
    );
    const at = seen.map((s) => s.at);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(seen.filter((s) => s.kind === 'event').length).toBe(report.events);
    expect(report.endedAt).toBeGreaterThan((report.lastPublishAt as number) + 1_900);
    const ticks = seen.filter((s) => s.kind === 'tick').map((s) => s.at);
    for (let i = 1; i < ticks.length; i++) expect((ticks[i] as number) - (ticks[i - 1] as number)).toBe(50);
  });
});
