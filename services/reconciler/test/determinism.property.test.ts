// Determinism (SEMANTICS.md §5 "Input order"): the same per-partition input gives the same verdict versions and
// actions, field for field, whatever the interleaving of fetches across the three topics and the partitions, the
// batch boundaries, the wall timing and any crash/restart during the catch-up. Drives the ordering module the
// service uses (src/input-merger.ts) with the real engine; only Kafka is left out (this is our logic).
import fc from 'fast-check';
import type {
  Action,
  DispatchAttempted,
  ProviderCallback,
  RequestAccepted,
  Verdict,
} from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import { createEngine, IngestStatus, type Engine, type InputKind } from '../src/engine/index.js';
import type { EngineOptions } from '../src/engine/options.js';
import { INPUT_ORDER, InputMerger, type MergeSink } from '../src/input-merger.js';
import { ManualClock } from './events.js';
import { optionsArb, scenarioArb, type Op } from './scenario.js';

type Ev = RequestAccepted | DispatchAttempted | ProviderCallback;
interface Lane {
  kind: InputKind;
  partition: number;
  records: Ev[];
}

/** The pre-produced input: each topic-partition's records in the order they were published. */
function lanesOf(ops: readonly Op[]): Lane[] {
  const lanes = new Map<string, Lane>();
  for (const k of INPUT_ORDER)
    for (const p of [0, 1]) lanes.set(`${k}:${p}`, { kind: k, partition: p, records: [] });
  for (const op of ops) {
    if (op.kind === 'tick') continue;
    lanes.get(`${op.kind}:${op.partition}`)!.records.push(op.ev);
  }
  return [...lanes.values()];
}

type Log = Map<number, Map<string, Buffer>>;

interface Schedule {
  /** Fetch steps: which lane (index among lanes with records left) and how many records. */
  fetches: { lane: number; count: number; wallMs: number; tick: boolean }[];
  /** Commit after these step numbers. */
  commits: number[];
  /** Crash after these step numbers (everything since the last commit is lost; restore; resume). */
  crashes: number[];
  downtimeMs: number;
}

const scheduleArb: fc.Arbitrary<Schedule> = fc.record({
  fetches: fc.array(
    fc.record({
      lane: fc.nat(),
      count: fc.integer({ min: 1, max: 6 }),
      wallMs: fc.integer({ min: 0, max: 400 }),
      tick: fc.boolean(),
    }),
    { minLength: 1, maxLength: 80 },
  ),
  commits: fc.array(fc.nat({ max: 80 }), { maxLength: 12 }),
  crashes: fc.array(fc.nat({ max: 80 }), { maxLength: 3 }),
  downtimeMs: fc.integer({ min: 0, max: 30_000 }),
});

interface RunOutput {
  verdicts: Verdict[];
  actions: Action[];
  restarts: number;
}

/**
 * Consumes the lanes the way the service does: random fetches into the merger, the merger feeding the engine,
 * commits of outputs + changelog + positions, crashes that lose what was not committed, then a quiet tail.
 */
function consume(lanes: readonly Lane[], opts: EngineOptions, s: Schedule, startWall: number): RunOutput {
  const clock = new ManualClock(startWall);
  const log: Log = new Map();
  const committed: RunOutput = { verdicts: [], actions: [], restarts: 0 };
  const commits = new Set(s.commits);
  const crashes = new Set(s.crashes);
  /** Committed position per lane (next offset to read). */
  const committedPos = lanes.map(() => 0);

  let engine!: Engine;
  let merger!: InputMerger<Ev>;
  /** Next offset to fetch per lane (the consumer's position). */
  let fetchPos: number[] = [];
  const sink: MergeSink<Ev> = {
    feed(kind, partition, r) {
      const at = { partition, offset: r.offset };
      let st: number;
      if (kind === 'request') st = engine.onRequest(r.value as RequestAccepted, at);
      else if (kind === 'dispatch') st = engine.onDispatch(r.value as DispatchAttempted, at);
      else st = engine.onCallback(r.value as ProviderCallback, at);
      expect(st).not.toBe(IngestStatus.INVALID);
    },
    setBacklog: (kind, partition, n) => engine.setBacklog(kind, partition, n),
  };
  const start = () => {
    engine = createEngine(opts, clock);
    for (const [partition, m] of log)
      engine.restore(
        partition,
        [...m].map(([key, value]) => ({ key, value })),
      );
    merger = new InputMerger<Ev>({ maxTaskIdleMs: Infinity, now: clock.now });
    lanes.forEach((l, i) =>
      merger.assign(l.kind, l.partition, String(committedPos[i]), String(l.records.length), sink),
    );
    fetchPos = [...committedPos];
  };
  const commit = () => {
    const o = engine.drainOutputs();
    pending.verdicts.push(...o.verdicts);
    pending.actions.push(...o.actions);
    for (const r of engine.drainChangelog()) {
      let m = log.get(r.partition);
      if (!m) log.set(r.partition, (m = new Map<string, Buffer>()));
      if (r.value === null) m.delete(r.key);
      else m.set(r.key, Buffer.from(r.value));
    }
    for (const p of merger.takePositions()) {
      const i = lanes.findIndex((l) => l.kind === p.kind && l.partition === p.partition);
      committedPos[i] = Number(p.offset);
    }
    committed.verdicts.push(...pending.verdicts);
    committed.actions.push(...pending.actions);
    pending = { verdicts: [], actions: [] };
  };
  let pending: { verdicts: Verdict[]; actions: Action[] } = { verdicts: [], actions: [] };
  start();
  const left = () => lanes.map((l, i) => i).filter((i) => fetchPos[i]! < lanes[i]!.records.length);
  let step = 0;
  for (;;) {
    const open = left();
    if (open.length === 0) break;
    const f = s.fetches[step % s.fetches.length]!;
    const i = open[f.lane % open.length]!;
    const l = lanes[i]!;
    const from = fetchPos[i]!;
    const to = Math.min(l.records.length, from + f.count);
    clock.advance(f.wallMs);
    merger.add(
      l.kind,
      l.partition,
      l.records.slice(from, to).map((ev, k) => ({
        offset: String(from + k),
        eventTime: ev.envelope.occurred_at,
        value: ev,
      })),
      String(to - 1),
      String(l.records.length),
      sink,
    );
    fetchPos[i] = to;
    merger.pump(sink);
    if (f.tick) engine.tick();
    if (commits.has(step)) commit();
    // A crash while a backlog is still unread (catch-up): everything since the last commit is lost.
    if (crashes.has(step) && left().length > 0) {
      pending = { verdicts: [], actions: [] };
      clock.advance(s.downtimeMs);
      start();
      committed.restarts++;
    }
    step++;
  }
  // Everything read and fed; traffic is quiet: the clock goes on with wall time past every horizon.
  engine.inputsCaughtUp();
  for (const dt of [100, 1_000, 2_000, 5_000, 20_000, 60_000, 200_000, 400_000, 4_000_000, 8_000_000]) {
    clock.t += dt;
    engine.tick();
  }
  commit();
  return committed;
}

/** Field for field, without what is wall time by definition (`emitted_at`, `watermark_lag_ms`). */
function comparable(vs: readonly Verdict[]): Map<string, unknown[]> {
  const m = new Map<string, unknown[]>();
  for (const v of vs) {
    const { emitted_at: _e, watermark_lag_ms: _w, ...rest } = v;
    const list = m.get(v.request_id) ?? [];
    list.push(JSON.parse(JSON.stringify(rest)));
    m.set(v.request_id, list);
  }
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function actionsByRequest(as: readonly Action[]): Map<string, unknown[]> {
  const m = new Map<string, unknown[]>();
  for (const a of as) m.set(a.request_id, [...(m.get(a.request_id) ?? []), JSON.parse(JSON.stringify(a))]);
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

describe('determinism: same per-partition input, same output', { timeout: 600_000 }, () => {
  it('any fetch interleaving, batch split, timing and crash/restart gives the same versions and actions', () => {
    let restarts = 0;
    let versions = 0;
    fc.assert(
      fc.property(scenarioArb(5, false), optionsArb, scheduleArb, scheduleArb, (scenario, options, a, b) => {
        const opts = { ...options, tombstoneHorizonMs: 604_800_000, recoveryReleasePerSec: 50 };
        const lanes = lanesOf(scenario.ops);
        // A pre-produced input, consumed later (wall time well after the event times).
        const startWall = 1_750_000_000_000 + 3_600_000;
        const runA = consume(lanes, opts, { ...a, crashes: [] }, startWall);
        const runB = consume(lanes, opts, b, startWall + 77_777);
        expect(comparable(runB.verdicts)).toEqual(comparable(runA.verdicts));
        expect(actionsByRequest(runB.actions)).toEqual(actionsByRequest(runA.actions));
        restarts += runB.restarts;
        versions += runA.verdicts.length;
      }),
      { numRuns: Number(process.env['PW_FC_RUNS'] ?? 300) },
    );
    // The property was exercised: restarts happened mid catch-up and versions were compared.
    expect(restarts).toBeGreaterThan(0);
    expect(versions).toBeGreaterThan(0);
  });
});
