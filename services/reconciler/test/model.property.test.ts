// The engine against the reference model, verdict for verdict, on random histories and schedules.
import fc from 'fast-check';
import type { Action, Verdict } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/index.js';
import { ReferenceModel } from './reference-model.js';
import { optionsArb, run, scenarioArb } from './scenario.js';
import { ManualClock } from './events.js';

function byKey<T extends { request_id: string }>(xs: readonly T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const list = m.get(x.request_id) ?? [];
    list.push(x);
    m.set(x.request_id, list);
  }
  return m;
}

function plain<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

describe('engine = reference model', { timeout: 600_000 }, () => {
  it('emits the same versions and actions per request, in the same order', () => {
    fc.assert(
      fc.property(scenarioArb(), optionsArb, (scenario, options) => {
        const clock = new ManualClock(0);
        const engine = createEngine(options, clock);
        const model = new ReferenceModel(options, clock.now);
        const ev: Verdict[] = [];
        const ea: Action[] = [];
        const mv: Verdict[] = [];
        const ma: Action[] = [];
        run(
          engine,
          scenario.ops,
          (t) => (clock.t = t),
          () => {
            const o = engine.drainOutputs();
            ev.push(...o.verdicts);
            ea.push(...o.actions);
          },
        );
        run(
          model,
          scenario.ops,
          (t) => (clock.t = t),
          () => {
            const o = model.drainOutputs();
            mv.push(...o.verdicts);
            ma.push(...o.actions);
          },
        );
        const e = byKey(plain(ev));
        const m = byKey(plain(mv));
        expect([...e.keys()].sort()).toEqual([...m.keys()].sort());
        for (const [k, list] of m) expect(e.get(k)).toEqual(list);
        const eA = byKey(plain(ea));
        const mA = byKey(plain(ma));
        expect([...eA.keys()].sort()).toEqual([...mA.keys()].sort());
        for (const [k, list] of mA) expect(eA.get(k)).toEqual(list);
      }),
      { numRuns: Number(process.env['PW_FC_RUNS'] ?? 400) },
    );
  });
});

describe('lifecycle invariants', { timeout: 600_000 }, () => {
  it('versions are consecutive per request; overdue <=> provisional; corrections follow a final version', () => {
    fc.assert(
      fc.property(scenarioArb(), optionsArb, (scenario, options) => {
        const clock = new ManualClock(0);
        // Within the tombstone horizon a forgotten request's versions continue (beyond it they restart at 1).
        const engine = createEngine({ ...options, tombstoneHorizonMs: 604_800_000 }, clock);
        const all: Verdict[] = [];
        run(
          engine,
          scenario.ops,
          (t) => (clock.t = t),
          () => all.push(...engine.drainOutputs().verdicts),
        );
        for (const [key, list] of byKey(all)) {
          for (let i = 0; i < list.length; i++) {
            const v = list[i]!;
            const prev = list[i - 1];
            if (prev) expect(v.version).toBe(prev.version + 1);
            expect(v.verdict_id).toBe(`${key}:v${v.version}`);
            expect(v.provisional).toBe(v.verdict === 'overdue');
            // A correction changes the class of a final version; the same class again is a revision.
            expect(v.is_correction).toBe(
              prev !== undefined ? !prev.provisional && prev.verdict !== v.verdict : false,
            );
            expect(v.revision_kind).toBe(
              prev === undefined
                ? v.version === 1
                  ? 'initial'
                  : v.revision_kind
                : prev.provisional
                  ? 'progress'
                  : prev.verdict !== v.verdict
                    ? 'correction'
                    : 'revision',
            );
            if (prev) expect(v.previous_verdict).toBe(prev.verdict);
            if (v.verdict === 'delivered_on_time') expect(v.outcome_ok).toBe(true);
            if (v.verdict === 'orphan_callback' || v.verdict === 'orphan_dispatch')
              expect(v.accepted_at).toBeNull();
            // Skew-safe time: no latency is negative, whatever the provider's clock says.
            if (v.final_at !== null && v.accepted_at !== null)
              expect(v.final_at).toBeGreaterThanOrEqual(v.accepted_at);
            if (v.final_at !== null && v.first_dispatch_at !== null && v.attempts.length > 0)
              expect(v.final_at).toBeGreaterThanOrEqual(v.first_dispatch_at);
            expect((v.clock_skew_ms ?? 0) > 0).toBe(v.flags.includes('provider_clock_skew'));
            // Causal: decided no earlier than its evidence and its acceptance; the verdict hop comes last and
            // the timeline is in time order.
            if (v.evidence_at !== null) expect(v.decided_at).toBeGreaterThanOrEqual(v.evidence_at);
            if (v.accepted_at !== null) expect(v.decided_at).toBeGreaterThanOrEqual(v.accepted_at);
            expect(v.hops[v.hops.length - 1]).toMatchObject({ kind: 'verdict', at: v.decided_at });
            for (let h = 1; h < v.hops.length; h++)
              expect(v.hops[h]!.at).toBeGreaterThanOrEqual(v.hops[h - 1]!.at);
          }
        }
      }),
      { numRuns: Number(process.env['PW_FC_RUNS'] ?? 200) },
    );
  });
});

describe('order independence', { timeout: 600_000 }, () => {
  it('the settled class of every request does not depend on the processing order', () => {
    fc.assert(
      fc.property(
        scenarioArb(4, false),
        optionsArb,
        fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
        (scenario, options, perm) => {
          const opts = { ...options, correctionHorizonMs: 3_600_000, tombstoneHorizonMs: 604_800_000 };
          const events = scenario.ops.filter((o) => o.kind !== 'tick');
          const walls = events.map((o) => o.wall);
          // Another arrival order of the same events (Fisher-Yates driven by `perm`), on the same wall times.
          const shuffled = [...events];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = (perm[i % perm.length] ?? 0) % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          const settle = (ops: typeof events) => {
            const last = walls.length > 0 ? walls[walls.length - 1]! : 0;
            return [
              ...ops.map((o, i) => ({ ...o, wall: walls[i]! })),
              ...[2_000, 300_000, 600_000].map((dt) => ({ kind: 'tick' as const, wall: last + dt })),
            ];
          };
          const finalClasses = (ops: ReturnType<typeof settle>) => {
            const clock = new ManualClock(0);
            const engine = createEngine(opts, clock);
            const last = new Map<string, string>();
            run(
              engine,
              ops,
              (t) => (clock.t = t),
              () => {
                for (const v of engine.drainOutputs().verdicts) last.set(v.request_id, v.verdict);
              },
            );
            return scenario.requestIds.map((rid) => `${rid}=${last.get(rid) ?? 'none'}`);
          };
          expect(finalClasses(settle(shuffled))).toEqual(finalClasses(settle(events)));
        },
      ),
      { numRuns: Number(process.env['PW_FC_RUNS'] ?? 300) },
    );
  });
});
