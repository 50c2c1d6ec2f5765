import { createCodec } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import { createEventStream, createGenerator } from '../src/generator.js';
import type { ScriptedEvent } from '../src/model.js';
import type { GeneratorOptionsInput } from '../src/options.js';
import { createSimulator } from '../src/simulator.js';
import type { SetTimer } from '../src/simulator.js';
import { createWireEncoder } from '../src/wire.js';
import type { OutboundRecord } from '../src/wire.js';

const T0 = Date.UTC(2026, 0, 1);

/** A manual clock: timers fire only when the test advances time. */
function manualClock(start: number) {
  let t = start;
  let timers: { at: number; fn: () => void }[] = [];
  const setTimer: SetTimer = (fn, ms) => {
    const entry = { at: t + Math.max(0, ms), fn };
    timers.push(entry);
    return () => {
      timers = timers.filter((x) => x !== entry);
    };
  };
  const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => t,
    setTimer,
    async advance(ms: number): Promise<void> {
      const end = t + ms;
      for (;;) {
        await flush();
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        timers = timers.filter((x) => x !== due);
        t = Math.max(t, due.at);
        due.fn();
      }
      t = end;
      await flush();
    },
  };
}

/** The events a run should send, in order (same generator, same start). */
function expectedEvents(options: GeneratorOptionsInput, units: number): ScriptedEvent[] {
  const stream = createEventStream(createGenerator(options), { maxUnits: units });
  const out: ScriptedEvent[] = [];
  for (let e = stream.next(); e; e = stream.next()) out.push(e);
  return out;
}

describe('createSimulator', () => {
  it('sends every event at its publish time in real-time pacing', async () => {
    const clock = manualClock(T0);
    const sent: { record: OutboundRecord; at: number }[] = [];
    const generatorOptions: GeneratorOptionsInput = { preset: 'chaos', seed: 3, ratePerSec: 40 };
    const sim = createSimulator({
      generatorOptions,
      now: clock.now,
      setTimer: clock.setTimer,
      send: (record) => void sent.push({ record, at: clock.now() }),
    });
    const run = sim.runBatch({ units: 150, speed: 1 });
    let finished = false;
    void run.then(() => (finished = true));
    while (!finished) await clock.advance(100);
    const report = await run;

    const expected = expectedEvents({ ...generatorOptions, startEventTime: T0 }, 150);
    const encoder = createWireEncoder(createCodec());
    expect(sent.length).toBe(expected.length);
    expect(report.eventsSent).toBe(expected.length);
    for (const [i, e] of expected.entries()) {
      const s = sent[i] as { record: OutboundRecord; at: number };
      expect(s.record.key).toBe(e.key);
      expect(s.record.value.equals(encoder.encode(e).value)).toBe(true);
      expect(s.at).toBeGreaterThanOrEqual(e.publishAt);
      expect(s.at - e.publishAt).toBeLessThanOrEqual(1);
    }
    expect(sim.expectations().length).toBe(150);
    expect(sim.stats().running).toBe(false);
  });

  it('compresses time by the speed factor', async () => {
    const clock = manualClock(T0);
    const sent: number[] = [];
    const sim = createSimulator({
      generatorOptions: { preset: 'demo', seed: 8, ratePerSec: 20 },
      now: clock.now,
      setTimer: clock.setTimer,
      send: () => void sent.push(clock.now()),
    });
    const run = sim.runBatch({ units: 100, speed: 10 });
    let finished = false;
    void run.then(() => (finished = true));
    while (!finished) await clock.advance(20);
    const report = await run;
    const virtualSpan = report.virtualEnd - report.virtualStart;
    expect(virtualSpan).toBeGreaterThan(5_000);
    expect((sent.at(-1) as number) - T0).toBeGreaterThanOrEqual(virtualSpan / 10);
    expect((sent.at(-1) as number) - T0).toBeLessThanOrEqual(virtualSpan / 10 + 2);
  });

  it('runs a batch as fast as possible, counts events and keeps the ground truth', async () => {
    const batches: number[] = [];
    const records: OutboundRecord[] = [];
    const sim = createSimulator({
      generatorOptions: { preset: 'chaos', seed: 21, startEventTime: T0 },
      send: () => {
        throw new Error('sendBatch is preferred');
      },
      sendBatch: (rs) => {
        batches.push(rs.length);
        records.push(...rs);
        return Promise.resolve();
      },
      maxBatchRecords: 200,
    });
    const report = await sim.runBatch({ units: 1_500, speed: 'max' });
    const stats = sim.stats();
    expect(report.units).toBe(1_500);
    expect(records.length).toBe(report.eventsSent);
    expect(Math.max(...batches)).toBeLessThanOrEqual(200);
    expect(stats.eventsSent).toBe(records.length);
    expect(Object.values(stats.eventsByTopic).reduce((a, b) => a + b, 0)).toBe(records.length);
    expect(Object.values(stats.eventsByLabel).reduce((a, b) => a + b, 0)).toBe(records.length);
    expect(Object.values(stats.unitsByExpectedClass).reduce((a, b) => a + b, 0)).toBe(1_500);
    expect(stats.eventsPending).toBe(0);
    const exps = sim.expectations();
    expect(exps.length).toBe(1_500);
    for (const e of exps.slice(0, 50)) expect(sim.expectationFor(e.key)).toBe(e);
    // Every request's events were sent under its key.
    const keys = new Set(records.map((r) => r.key));
    for (const e of exps) expect(keys.has(e.key)).toBe(true);
  });

  it('runs continuously until stopped', async () => {
    const clock = manualClock(T0);
    let count = 0;
    const sim = createSimulator({
      generatorOptions: { preset: 'demo', seed: 4 },
      now: clock.now,
      setTimer: clock.setTimer,
      send: () => void count++,
    });
    sim.start({ speed: 1 });
    await clock.advance(3_000);
    expect(sim.stats().running).toBe(true);
    const before = count;
    expect(before).toBeGreaterThan(50);
    await sim.stop();
    const report = await sim.done;
    expect(report?.stopped).toBe(true);
    expect(sim.stats().running).toBe(false);
    await clock.advance(3_000);
    expect(count).toBe(before);
    expect(() => sim.start()).toThrow(/runs once/);
  });

  it('withholds the ground truth of units whose events could not be sent', async () => {
    let calls = 0;
    const sim = createSimulator({
      generatorOptions: { preset: 'chaos', seed: 9, startEventTime: T0 },
      send: () => {
        calls += 1;
        if (calls % 97 === 0) return Promise.reject(new Error('broker down'));
        return Promise.resolve();
      },
    });
    const report = await sim.runBatch({ units: 400, speed: 'max' });
    const stats = sim.stats();
    expect(report.sendErrors).toBeGreaterThan(0);
    expect(stats.unitsWithLostEvents).toBeGreaterThan(0);
    expect(sim.expectations().length).toBe(400 - stats.unitsWithLostEvents);
  });
});
