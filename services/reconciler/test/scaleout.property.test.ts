// Scale-out (SEMANTICS.md §10): two instances splitting the partitions settle every request like one instance
// seeing everything. Random histories (scenario.ts: requests, dispatches with provider message ids, callbacks
// with and without request_id, duplicates, arrival disorder, idle gaps) run through
//   (a) ONE engine owning all four partitions, and
//   (b) TWO engines, X owning partitions {0, 1} and Y owning {2, 3}, partition = hash(record key) % 4 (a
//       request/dispatch/callback with request_id is keyed by it, a callback without request_id by
//       `provider:provider_message_id`), joined by an in-process transport standing for the two internal topics:
//       each binding (onBinding) goes to the owner of hash(`provider:pmid`), each drained handoff to the owner of
//       hash(request_id); delivered after every input event, or late by a few steps (FIFO per topic-partition,
//       as Kafka keeps it).
//
// What must be equal: for every request key, and every pseudo key whose pair no dispatch ever binds, the last
// verdict's decision K = (class, provisional, flags, error category, error code, evidence level). K is a function
// of the key's whole evidence once the clock passed every deadline, and both setups feed the same evidence to the
// same key. What may differ, and is not compared: how many versions led there and their timing (decided_at,
// fired_by, watermark lag), the per-version counters and hops: each instance's clock sees only its own partitions,
// and a handed-off callback reaches the request one transaction hop after it arrived, so an intermediate verdict
// (e.g. missing_outcome before the delivery arrives) can exist in (b) and not in (a). Pseudo keys that a dispatch
// binds may or may not have published an orphan_callback before the binding, depending on that timing. With late
// delivery, callback_before_dispatch may additionally appear in (b): a callback that arrived after its dispatch
// but before the binding reached its instance really did wait unattached there (it never disappears: anything
// that waited in (a) waited in (b) too).
import fc from 'fast-check';
import type { Verdict } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import type { Engine, EngineOptions, IngestStatusCode } from '../src/engine/index.js';
import { createEngine, IngestStatus } from '../src/engine/index.js';
import { ManualClock } from './events.js';
import type { Op } from './scenario.js';
import { optionsArb, scenarioArb } from './scenario.js';

const PARTITIONS = 4;

function partitionOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % PARTITIONS;
}

function keyOf(op: Exclude<Op, { kind: 'tick' }>): string {
  const rid = op.ev.envelope.request_id;
  if (rid) return rid;
  return op.kind === 'callback' ? `${op.ev.provider}:${op.ev.provider_message_id}` : '';
}

function apply(
  e: Engine,
  op: Exclude<Op, { kind: 'tick' }>,
  at: { partition: number; offset: string },
): void {
  if (op.kind === 'request') e.onRequest(op.ev, at);
  else if (op.kind === 'dispatch') e.onDispatch(op.ev, at);
  else e.onCallback(op.ev, at);
}

type Decision = readonly [string, boolean, string, string | null, string | null, string];

function decisions(verdicts: readonly Verdict[], dropFlag: string | null): Map<string, Decision> {
  const last = new Map<string, Decision>();
  for (const v of verdicts)
    last.set(v.request_id, [
      v.verdict,
      v.provisional,
      v.flags.filter((f) => f !== dropFlag).join(','),
      v.error_category,
      v.error_code,
      v.evidence_level,
    ]);
  return last;
}

/** A quiet period after the last event: every input goes idle and every clock passes every deadline. */
function settleTicks(ops: readonly Op[]): Op[] {
  const last = ops.length > 0 ? ops[ops.length - 1]!.wall : 0;
  return [1_000, 2_000, 4_000, 400_000, 4_000_000, 8_000_000].map((dt) => ({
    kind: 'tick',
    wall: last + dt,
  }));
}

/** (a): one engine, every partition. */
function single(ops: readonly Op[], options: EngineOptions): Verdict[] {
  const clock = new ManualClock(0);
  const e = createEngine(options, clock);
  const out: Verdict[] = [];
  let offset = 0;
  for (const op of [...ops, ...settleTicks(ops)]) {
    clock.t = op.wall;
    if (op.kind === 'tick') e.tick();
    else apply(e, op, { partition: partitionOf(keyOf(op)), offset: String(offset++) });
    out.push(...e.drainOutputs().verdicts);
  }
  return out;
}

interface Message {
  due: number;
  topic: 'bindings' | 'handoffs';
  partition: number;
  deliver: (e: Engine, at: { partition: number; offset: string }) => IngestStatusCode;
}

/**
 * (b): two engines and the transport. `delays[i]` is how many steps the i-th message waits (0 = delivered
 * before the next input event); each topic-partition stays FIFO.
 */
function split(
  ops: readonly Op[],
  options: EngineOptions,
  delays: readonly number[],
): { verdicts: Verdict[]; statuses: Map<string, number>; engines: Engine[] } {
  const clock = new ManualClock(0);
  const queue: Message[] = [];
  const lastDue = new Map<string, number>();
  let step = 0;
  let sent = 0;
  const send = (m: Omit<Message, 'due'>) => {
    const fifo = `${m.topic}:${m.partition}`;
    const due = Math.max(
      step + (delays.length > 0 ? delays[sent % delays.length]! : 0),
      lastDue.get(fifo) ?? 0,
    );
    sent++;
    lastDue.set(fifo, due);
    queue.push({ ...m, due });
  };
  const engines = [0, 1].map(() =>
    createEngine(
      {
        ...options,
        // The wiring publishes every binding keyed provider:pmid, in the output transaction.
        onBinding: (provider, pmid, rid) =>
          send({
            topic: 'bindings',
            partition: partitionOf(`${provider}:${pmid}`),
            deliver: (e, at) => e.onRemoteBinding(provider, pmid, rid, at),
          }),
      },
      clock,
    ),
  );
  const owner = (partition: number) => engines[partition < 2 ? 0 : 1]!;
  const verdicts: Verdict[] = [];
  const statuses = new Map<string, number>();
  let offset = 0;
  const drain = () => {
    for (const e of engines) {
      verdicts.push(...e.drainOutputs().verdicts);
      for (const h of e.drainHandoffs())
        send({
          topic: 'handoffs',
          partition: partitionOf(h.requestId),
          deliver: (to, at) => to.onHandoff(h.requestId, h.value, at),
        });
    }
  };
  /** Delivers every message due (all of them when `all`), in queue order, until nothing more is due. */
  const pump = (all: boolean) => {
    drain();
    for (;;) {
      const k = queue.findIndex((m) => all || m.due <= step);
      if (k < 0) return;
      // FIFO per topic-partition: an earlier message of the same topic-partition goes first.
      const m = queue.splice(k, 1)[0]!;
      const s = m.deliver(owner(m.partition), { partition: m.partition, offset: String(offset++) });
      const name = `${m.topic}:${s}`;
      statuses.set(name, (statuses.get(name) ?? 0) + 1);
      drain();
    }
  };
  for (const op of ops) {
    clock.t = op.wall;
    if (op.kind === 'tick') for (const e of engines) e.tick();
    else {
      const partition = partitionOf(keyOf(op));
      apply(owner(partition), op, { partition, offset: String(offset++) });
    }
    pump(false);
    step++;
  }
  // Whatever is still in flight arrives; then the quiet period.
  pump(true);
  for (const op of settleTicks(ops)) {
    clock.t = op.wall;
    for (const e of engines) e.tick();
    pump(true);
  }
  return { verdicts, statuses, engines };
}

/** Request keys, and pseudo keys (provider:pmid) whose pair no dispatch binds. */
function comparedKeys(ops: readonly Op[], a: Map<string, Decision>, b: Map<string, Decision>): string[] {
  const bound = new Set<string>();
  for (const op of ops)
    if (op.kind === 'dispatch' && op.ev.provider_message_id)
      bound.add(`${op.ev.provider}:${op.ev.provider_message_id}`);
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => k.startsWith('req_') || !bound.has(k)).sort();
}

/** What the runs exercised, summed over a property's runs (so a test can insist the generator reaches it). */
type Tally = Record<'forwarded' | 'remoteMatched' | 'handoffCallbacksApplied' | 'pendingMatched', number>;

function check(ops: readonly Op[], options: EngineOptions, delays: readonly number[], tally: Tally): void {
  const opts: EngineOptions = {
    ...options,
    // Nothing is forgotten while evidence can still arrive (a forgotten request would be handled by tombstone
    // rules, which differ by design between a local pseudo key and a forwarded callback; see SEMANTICS.md §10).
    correctionHorizonMs: 3_600_000,
    tombstoneHorizonMs: 604_800_000,
  };
  const one = decisions(single(ops, opts), null);
  const { verdicts, statuses, engines } = split(ops, opts, delays);
  const late = delays.some((d) => d > 0);
  const two = decisions(verdicts, null);
  for (const k of comparedKeys(ops, one, two)) {
    const a = one.get(k);
    const b = two.get(k);
    if (!late) {
      expect([k, b]).toEqual([k, a]);
      continue;
    }
    // Late delivery: the same decision, except that (b) may add callback_before_dispatch.
    expect([k, b?.[0], b?.[1], b?.[3], b?.[4], b?.[5]]).toEqual([k, a?.[0], a?.[1], a?.[3], a?.[4], a?.[5]]);
    const fa = new Set(a?.[2] ? a[2].split(',') : []);
    const fb = new Set(b?.[2] ? b[2].split(',') : []);
    fb.delete('callback_before_dispatch');
    fa.delete('callback_before_dispatch');
    expect([k, [...fb].sort()]).toEqual([k, [...fa].sort()]);
    if (a?.[2].split(',').includes('callback_before_dispatch'))
      expect([k, b?.[2].split(',').includes('callback_before_dispatch')]).toEqual([k, true]);
  }
  // The transport never carried a malformed or refused record, and nothing is left waiting.
  for (const [name] of statuses)
    expect(name).toMatch(
      new RegExp(`:(${IngestStatus.APPLIED}|${IngestStatus.DUPLICATE}|${IngestStatus.IGNORED})$`),
    );
  for (const e of engines) {
    expect(e.stats().pendingHandoffs).toBe(0);
    for (const k of Object.keys(tally) as (keyof Tally)[]) tally[k] += e.stats().counters[k] ?? 0;
  }
}

function newTally(): Tally {
  return { forwarded: 0, remoteMatched: 0, handoffCallbacksApplied: 0, pendingMatched: 0 };
}

/** Both paths across instances (forwarded after the binding, handed off from a pseudo key) and the local one. */
function expectCoverage(t: Tally): void {
  expect(t.forwarded).toBeGreaterThan(20);
  expect(t.remoteMatched).toBeGreaterThan(5);
  expect(t.handoffCallbacksApplied).toBeGreaterThan(20);
  expect(t.pendingMatched).toBeGreaterThan(5);
}

describe('scale-out: two instances settle like one', { timeout: 600_000 }, () => {
  it('bindings and handoffs delivered before the next event: identical decisions', () => {
    const tally = newTally();
    fc.assert(
      fc.property(scenarioArb(5, false), optionsArb, (scenario, options) =>
        check(scenario.ops, options, [], tally),
      ),
      { numRuns: Number(process.env['PW_FC_RUNS'] ?? 200) },
    );
    expectCoverage(tally);
  });

  it('bindings and handoffs delivered a few steps late: same decisions (callback_before_dispatch may be added)', () => {
    const tally = newTally();
    fc.assert(
      fc.property(
        scenarioArb(5, false),
        optionsArb,
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 16 }),
        (scenario, options, delays) => check(scenario.ops, options, delays, tally),
      ),
      { numRuns: Number(process.env['PW_FC_RUNS'] ?? 200) },
    );
    expectCoverage(tally);
  });
});
