// Crash/restore: the wiring commits outputs + changelog + input offsets in one transaction; a crash loses
// everything after the last commit. The restored engine must continue every version sequence exactly.
import fc from 'fast-check';
import type { Verdict } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/engine/index.js';
import { createEngine, META_KEY } from '../src/engine/index.js';
import { dispatch, ManualClock, request } from './events.js';
import { lastClasses, optionsArb, resumeOps, run, scenarioArb, versionSequences } from './scenario.js';

/** The compacted changelog topic: partition -> key -> latest value. */
type Changelog = Map<number, Map<string, Buffer>>;

function commit(engine: Engine, log: Changelog, out: Verdict[]): void {
  out.push(...engine.drainOutputs().verdicts);
  for (const r of engine.drainChangelog()) {
    let m = log.get(r.partition);
    if (!m) log.set(r.partition, (m = new Map<string, Buffer>()));
    if (r.value === null) m.delete(r.key);
    else m.set(r.key, Buffer.from(r.value));
  }
}

function restoreInto(engine: Engine, log: Changelog): void {
  for (const [partition, m] of log)
    engine.restore(
      partition,
      [...m].map(([key, value]) => ({ key, value })),
    );
}

describe('restart from the changelog', { timeout: 600_000 }, () => {
  it('loses and repeats no version; settles like an uninterrupted run', () => {
    fc.assert(
      fc.property(
        scenarioArb(4, true),
        optionsArb,
        fc.nat(),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 120_000 }),
        (scenario, options, crashSeed, commitEvery, redeliver, downtimeMs) => {
          const opts = {
            ...options,
            correctionHorizonMs: 3_600_000,
            tombstoneHorizonMs: 604_800_000,
            recoveryReleasePerSec: 50,
          };
          const ops = scenario.ops;
          const clock = new ManualClock(0);
          const set = (t: number) => (clock.t = t);

          // Uninterrupted reference run.
          const whole = createEngine(opts, clock);
          const wholeOut: Verdict[] = [];
          run(whole, ops, set, () => wholeOut.push(...whole.drainOutputs().verdicts));

          // Run A, committing every `commitEvery` ops, crashing after op `crash`.
          const crash = crashSeed % (ops.length + 1);
          const a = createEngine(opts, clock);
          const log: Changelog = new Map();
          const committed: Verdict[] = [];
          let committedUpTo = 0;
          run(a, ops.slice(0, crash), set, (i) => {
            if ((i + 1) % commitEvery === 0) {
              commit(a, log, committed);
              committedUpTo = i + 1;
            }
          });

          // Restart B after some downtime; input resumes after the last commit, optionally re-delivering a
          // few already-committed events (an at-least-once consumer).
          const resumeAt = Math.max(0, committedUpTo - redeliver);
          const restartWall = (ops[Math.max(0, crash - 1)]?.wall ?? 0) + downtimeMs;
          clock.t = restartWall;
          const b = createEngine(opts, clock);
          restoreInto(b, log);
          const after: Verdict[] = [];
          run(b, resumeOps(ops, resumeAt, restartWall), set, () => after.push(...b.drainOutputs().verdicts));

          // Every key's versions: committed ones, then B's, consecutive from 1.
          for (const [, versions] of versionSequences([...committed, ...after]))
            expect(versions).toEqual(versions.map((_, i) => i + 1));
          // Same settled outcome as without the crash.
          const got = lastClasses([...committed, ...after], scenario.requestIds);
          const want = lastClasses(wholeOut, scenario.requestIds);
          if (process.env['PW_DEBUG'] && JSON.stringify(got) !== JSON.stringify(want)) {
            const log = (...x: unknown[]) => process.stderr.write(x.join(' ') + '\n');
            log(JSON.stringify({ opts, crash, commitEvery, redeliver, downtimeMs, committedUpTo, resumeAt }));
            ops.forEach((op, i) =>
              log(
                i,
                op.kind,
                op.wall - 1750000000000,
                op.kind !== 'tick'
                  ? JSON.stringify({
                      p: op.partition,
                      rid: op.ev.envelope.request_id,
                      t: op.ev.envelope.occurred_at - 1750000000000,
                      ...(op.kind === 'callback'
                        ? {
                            s: op.ev.status,
                            f: op.ev.is_final,
                            pmid: op.ev.provider_message_id,
                            ev: op.ev.evidence_level,
                          }
                        : {}),
                      ...(op.kind === 'dispatch'
                        ? { pmid: op.ev.provider_message_id, sub: op.ev.submit_outcome, no: op.ev.attempt_no }
                        : {}),
                      ...(op.kind === 'request'
                        ? { sla: op.ev.sla_ms, g: op.ev.give_up_ms, api: op.ev.api_status }
                        : {}),
                    })
                  : '',
              ),
            );
            for (const x of wholeOut)
              log(
                'W',
                x.request_id,
                x.version,
                x.verdict,
                x.flags.join(','),
                x.decided_at - 1750000000000,
                x.fired_by,
              );
            for (const x of committed)
              log(
                'C',
                x.request_id,
                x.version,
                x.verdict,
                x.flags.join(','),
                x.decided_at - 1750000000000,
                x.fired_by,
              );
            for (const x of after)
              log(
                'A',
                x.request_id,
                x.version,
                x.verdict,
                x.flags.join(','),
                x.decided_at - 1750000000000,
                x.fired_by,
              );
          }
          expect(got).toEqual(want);
        },
      ),
      {
        numRuns: Number(process.env['PW_FC_RUNS'] ?? 300),
        ...(process.env['PW_SEED'] ? { seed: Number(process.env['PW_SEED']) } : {}),
      },
    );
  });
});

describe('recovery after downtime', () => {
  it('releases verdicts overdue because we were down at a bounded rate, flagged and fired_by recovery', () => {
    const T0 = 1_760_000_000_000;
    const clock = new ManualClock(T0);
    const opts = { maxOutOfOrdernessMs: 0, idleTimeoutMs: 1_000, recoveryReleasePerSec: 100 };
    const a = createEngine(opts, clock);
    const log: Changelog = new Map();
    const committed: Verdict[] = [];
    for (let i = 0; i < 500; i++) {
      a.onRequest(request({ rid: `r${i}`, at: T0 + i, slaMs: 5_000, giveUpMs: 600_000 }), {
        partition: i % 4,
        offset: String(i),
      });
      a.onDispatch(dispatch({ rid: `r${i}`, at: T0 + i + 10 }), { partition: i % 4, offset: String(i) });
    }
    commit(a, log, committed);
    expect(committed).toEqual([]);
    expect(log.get(0)?.has(META_KEY)).toBe(true);

    // Down for a minute (all SLAs passed meanwhile), no traffic since.
    clock.t = T0 + 60_000;
    const b = createEngine(opts, clock);
    restoreInto(b, log);
    expect(b.stats().openRequests).toBe(500);
    const released: Verdict[] = [];
    for (let s = 1; s <= 12; s++) {
      clock.t = T0 + 60_000 + s * 500;
      b.tick();
      released.push(...b.drainOutputs().verdicts);
      // Never faster than the configured rate (plus the first second's burst allowance).
      expect(released.length).toBeLessThanOrEqual(100 * (s * 0.5) + 1);
    }
    expect(released.length).toBeGreaterThan(0);
    for (const v of released) {
      expect(v.verdict).toBe('overdue');
      expect(v.fired_by).toBe('recovery');
      expect(v.flags).toContain('overdue_due_to_downtime');
    }
    for (let s = 0; s < 20; s++) {
      clock.advance(1_000);
      b.tick();
      released.push(...b.drainOutputs().verdicts);
    }
    expect(new Set(released.map((v) => v.request_id)).size).toBe(500);
    expect(b.watermarks().recoveryUntil).toBeNull();
  });

  it('restores state that round-trips: same verdict on the same evidence', () => {
    const T0 = 1_760_000_000_000;
    const clock = new ManualClock(T0);
    const a = createEngine({ maxOutOfOrdernessMs: 0 }, clock);
    a.onRequest(
      request({ rid: 'x', at: T0, attributes: { b: '2', a: '1' }, fingerprint: 'fp_deadbeefdeadbeef' }),
      { partition: 3, offset: '1' },
    );
    a.onDispatch(
      dispatch({
        rid: 'x',
        at: T0 + 5,
        provider: 'pX',
        route: 'rX',
        pmid: 'SM0123456789abcdef0123456789abcdef',
      }),
      { partition: 3, offset: '2' },
    );
    const log: Changelog = new Map();
    commit(a, log, []);
    const b = createEngine({ maxOutOfOrdernessMs: 0 }, clock);
    b.dropPartitions([7]);
    restoreInto(b, log);
    expect(b.lookupRequestId('pX', 'SM0123456789abcdef0123456789abcdef')).toBe('x');
    const cb = {
      envelope: {
        event_id: 'e1',
        source: 's',
        occurred_at: T0 + 900,
        recorded_at: T0 + 900,
        tenant_id: 'tenant-a',
        request_id: null,
        schema_version: 1,
      },
      provider: 'pX',
      provider_message_id: 'SM0123456789abcdef0123456789abcdef',
      provider_event_id: null,
      attempt_id: null,
      status_raw: 'DELIVRD',
      status: 'delivered' as const,
      is_final: true,
      error_code: null,
      error_category: null,
      evidence_level: 'handset' as const,
      provider_event_time: null,
      provider_sequence: null,
    };
    a.onCallback(cb, { partition: 3, offset: '3' });
    b.onCallback(cb, { partition: 3, offset: '3' });
    const va = a.drainOutputs().verdicts;
    const vb = b.drainOutputs().verdicts;
    expect(vb).toEqual(va);
    // Dropping the partition forgets it silently.
    b.dropPartitions([3]);
    expect(b.stats().openRequests + b.stats().closedTraces).toBe(0);
    expect(b.lookupRequestId('pX', 'SM0123456789abcdef0123456789abcdef')).toBeNull();
  });
});
