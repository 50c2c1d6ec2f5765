/**
 * Crash safety on the real broker: the reconciler runs as its own process and is SIGKILLed several times while
 * the simulator is publishing. After the last restart the verdict topic (read_committed, like any consumer)
 * must hold the exact expected final verdict for every unit, every request's versions must be 1..n without a gap,
 * and any (request, version) seen twice must be identical.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator, producerSink, type VerdictExpectation } from '@pathwatch/simulator';
import { createCodec, type Verdict } from '@pathwatch/schemas';
import { collect, pipelineTopics, testKafkaClient, testLogger } from '../support/pipeline.js';
import { waitFor } from '../support/kafka.js';
import { ReconcilerChild } from '../support/child-control.js';

describe('reconciler crash safety (kill -9, real broker)', () => {
  const logger = testLogger();
  const t = pipelineTopics('crash');
  const kafka = testKafkaClient(logger);
  const codec = createCodec({ topics: t.topics });
  const cleanups: (() => Promise<void>)[] = [];
  const child = new ReconcilerChild(t);
  afterAll(async () => {
    await child.kill();
    for (const c of cleanups.reverse()) await c();
  });

  it('loses no verdict and shows no duplicate across repeated SIGKILLs', async () => {
    await child.start();
    const verdicts = await collect(kafka, t.topics.verdict);
    cleanups.push(verdicts.close);
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    const sim = createSimulator({
      generatorOptions: { preset: 'fast', seed: 7, ratePerSec: 40, faults: { invalidRecord: 0 } },
      send: () => Promise.reject(new Error('batch sink only')),
      sendBatch: producerSink(producer),
      codec,
      logger,
    });
    const run = sim.runBatch({ units: 500, speed: 1 });

    // Kill mid-stream three times, at different points of the publishing, and restart each time.
    await child.killRepeatedly([2500, 3000, 3500]);
    await run;

    const requests = sim.expectations().filter((e): e is VerdictExpectation => e.kind !== 'invalid');
    const latest = new Map<string, Verdict>();
    const seen = new Map<string, Verdict>();
    const duplicates: string[] = [];
    const decodeAll = (): void => {
      latest.clear();
      seen.clear();
      duplicates.length = 0;
      for (const m of verdicts.messages) {
        const v = codec.decode('verdict', m.value);
        const id = `${v.request_id}#${v.version}`;
        const prior = seen.get(id);
        if (prior) duplicates.push(id);
        else seen.set(id, v);
        const prev = latest.get(v.request_id);
        if (!prev || v.version > prev.version) latest.set(v.request_id, v);
      }
    };
    await waitFor(
      () => {
        decodeAll();
        return requests.every((e) => {
          const v = latest.get(e.key);
          return v !== undefined && !v.provisional && v.verdict === e.verdict;
        });
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'every unit settled after the crashes' },
    ).catch(() => undefined);
    decodeAll();

    const wrong = requests
      .map((e) => ({
        key: e.key,
        expected: e.verdict,
        got: latest.get(e.key)?.verdict ?? 'none',
        provisional: latest.get(e.key)?.provisional,
      }))
      .filter((x) => x.got !== x.expected || x.provisional !== false);
    expect(wrong).toEqual([]);

    // Versions 1..n with no gap per request; a (request, version) seen twice must be the identical version.
    const versions = new Map<string, number[]>();
    for (const v of seen.values())
      versions.set(v.request_id, [...(versions.get(v.request_id) ?? []), v.version]);
    for (const [id, vs] of versions) {
      vs.sort((a, b) => a - b);
      expect(vs, id).toEqual(vs.map((_, i) => i + 1));
    }
    for (const m of verdicts.messages) {
      const v = codec.decode('verdict', m.value);
      const first = seen.get(`${v.request_id}#${v.version}`);
      expect({ verdict: v.verdict, provisional: v.provisional, flags: v.flags }).toEqual({
        verdict: first?.verdict,
        provisional: first?.provisional,
        flags: first?.flags,
      });
    }
    // Exactly-once output: no (request, version) is visible twice at all.
    expect(duplicates).toEqual([]);

    // The child snapshots every few KiB of changelog: the restores above read logs purged below a snapshot.
    const admin = await kafka.admin();
    try {
      const offsets = await admin.topicOffsets(t.changelog);
      expect(offsets.some((o) => BigInt(o.low) > 0n)).toBe(true);
    } finally {
      await admin.close();
    }
  }, 300_000);
});
