/**
 * The reconciler on the real broker against the simulator's ground truth: every request's final verdict, every
 * orphan, and every invalid record in the dead-letter topic — 100% precision and recall per verdict class.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  createSimulator,
  producerSink,
  type DeadLetterExpectation,
  type VerdictExpectation,
} from '@pathwatch/simulator';
import type { DeadLetter, Verdict } from '@pathwatch/schemas';
import {
  collect,
  pipelineTopics,
  startReconciler,
  testKafkaClient,
  testLogger,
} from '../support/pipeline.js';
import { waitFor } from '../support/kafka.js';

describe('reconciler vs ground truth (real broker)', () => {
  const logger = testLogger();
  const t = pipelineTopics('gt');
  const kafka = testKafkaClient(logger);
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('reaches the expected final verdict for every unit of a fast-horizon chaos run', async () => {
    // The `fast` preset compresses horizons to seconds; the engine's graces are set to match its assumptions.
    const { app, codec } = startReconciler(t, { logger, engine: { retryGraceMs: 300, orphanGraceMs: 3000 } });
    await app.start();
    cleanups.push(() => app.close());

    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    const sim = createSimulator({
      generatorOptions: { preset: 'fast', seed: 20261127, ratePerSec: 60 },
      send: () => Promise.reject(new Error('batch sink only')),
      sendBatch: producerSink(producer),
      codec,
      logger,
    });
    const verdicts = await collect(kafka, t.topics.verdict);
    cleanups.push(verdicts.close);
    const deadLetters = await collect(kafka, t.topics.dead_letter);
    cleanups.push(deadLetters.close);

    // Real time: the clock's idle and wall-clock paths are exercised as in production.
    await sim.runBatch({ units: 600, speed: 1 });
    const expectations = sim.expectations();
    const requests = expectations.filter((e): e is VerdictExpectation => e.kind !== 'invalid');
    const invalid = expectations.filter((e): e is DeadLetterExpectation => e.kind === 'invalid');
    expect(requests.length).toBeGreaterThan(500);

    const latest = new Map<string, Verdict>();
    const decode = (): void => {
      latest.clear();
      for (const m of verdicts.messages) {
        const v = codec.decode('verdict', m.value);
        const prev = latest.get(v.request_id);
        if (!prev || v.version > prev.version) latest.set(v.request_id, v);
      }
    };
    const settled = (): boolean => {
      decode();
      return requests.every((e) => {
        const v = latest.get(e.key);
        return v !== undefined && !v.provisional && v.verdict === e.verdict;
      });
    };
    const giveUpMax = Math.max(...requests.map((e) => (e.giveUpMs ?? 0) + 60_000));
    await waitFor(() => settled(), {
      timeoutMs: Math.min(180_000, giveUpMax + 30_000),
      intervalMs: 500,
      description: 'every unit settled',
    }).catch(() => undefined);
    decode();

    // Precision and recall per class: confusion between expected and observed final classes.
    const confusion = new Map<string, number>();
    for (const e of requests) {
      const v = latest.get(e.key);
      const observed = v === undefined ? 'none' : v.provisional ? `provisional:${v.verdict}` : v.verdict;
      const k = `${e.verdict} -> ${observed}`;
      confusion.set(k, (confusion.get(k) ?? 0) + 1);
    }
    const wrong = [...confusion].filter(([k]) => {
      const [exp, obs] = k.split(' -> ');
      return exp !== obs;
    });
    expect(wrong, `confusion: ${JSON.stringify([...confusion])}`).toEqual([]);
    // No verdicts for keys the simulator never created (false positives).
    const known = new Set(requests.map((e) => e.key));
    expect([...latest.keys()].filter((k) => !known.has(k))).toEqual([]);
    // Flags that hold in any processing order.
    for (const e of requests) {
      const v = latest.get(e.key);
      for (const f of e.flags) expect(v?.flags, `${e.key} flag ${f}`).toContain(f);
    }
    // Versions strictly increase per request in the topic (per-key order).
    const lastVersion = new Map<string, number>();
    for (const m of verdicts.messages) {
      const v = codec.decode('verdict', m.value);
      expect(v.version, `${v.request_id} versions`).toBeGreaterThan(lastVersion.get(v.request_id) ?? 0);
      lastVersion.set(v.request_id, v.version);
    }

    // Every invalid record is in the dead-letter topic with its reason code and original bytes.
    await waitFor(() => deadLetters.messages.length >= invalid.length, {
      timeoutMs: 30_000,
      description: 'dead letters',
    });
    const dls: DeadLetter[] = deadLetters.messages.map((m) => codec.decode('dead_letter', m.value));
    expect(dls.length).toBe(invalid.length);
    expect(dls.map((d) => d.reason_code).sort()).toEqual(invalid.map((e) => e.reasonCode).sort());
    for (const d of dls) {
      expect(d.stage).toBe('reconciler.decode');
      expect(d.reason.length).toBeGreaterThan(5);
    }
  }, 240_000);
});
