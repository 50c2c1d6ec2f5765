/**
 * Determinism on the real broker (SEMANTICS.md §5, "Input order"): one pre-produced input (the simulator's chaos
 * faults with horizons of seconds, published as fast as possible, three topics x 3 partitions), reconciled twice
 * by two independent reconcilers (own group, changelog and output topics). The second one is stopped and
 * restarted from its changelog while it is still catching up. Both must publish the same verdict versions and
 * actions: the same count, the same (request, version) set, the same class, flags and lifecycle fields per
 * version. The counts are printed (the figures the issue asks for).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator, producerSink } from '@pathwatch/simulator';
import type { Action, Verdict } from '@pathwatch/schemas';
import {
  collect,
  pipelineTopics,
  startReconciler,
  testKafkaClient,
  testLogger,
  type PipelineTopics,
} from '../support/pipeline.js';
import { uniqueName, waitFor } from '../support/kafka.js';

const ENGINE = { retryGraceMs: 300, orphanGraceMs: 3000, maxOutOfOrdernessMs: 100 };

/** The same input topics, with this run's own group, changelog and outputs. */
function runTopics(input: PipelineTopics, name: string): PipelineTopics {
  const own = pipelineTopics(name);
  return {
    topics: {
      ...own.topics,
      request: input.topics.request,
      dispatch: input.topics.dispatch,
      callback: input.topics.callback,
    },
    changelog: own.changelog,
    groupId: `${uniqueName(name)}-reconciler`,
  };
}

/** What must be equal between runs: everything but wall time and what only says how a clock fired. */
function key(v: Verdict): string {
  return JSON.stringify([
    v.request_id,
    v.version,
    v.verdict,
    v.provisional,
    v.is_correction,
    v.revision_kind,
    v.previous_verdict,
    v.flags,
    v.error_category,
    v.error_code,
    v.final_at,
    v.evidence_at,
    v.decided_at,
    v.evidence_level,
    v.callbacks,
    v.clock_skew_ms,
  ]);
}

describe('reconciler determinism (real broker)', { timeout: 600_000 }, () => {
  const logger = testLogger();
  const input = pipelineTopics('det');
  const kafka = testKafkaClient(logger);
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('two runs over one pre-produced input (one restarted mid catch-up) publish the same versions', async () => {
    const admin = await kafka.admin();
    cleanups.push(() => admin.close());
    await admin.ensureTopics(
      [input.topics.request, input.topics.dispatch, input.topics.callback].map((topic) => ({
        topic,
        partitions: 3,
      })),
    );
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    const { codec } = startReconciler(runTopics(input, 'det-codec'), { logger });
    const sim = createSimulator({
      generatorOptions: { preset: 'fast', seed: 20261204, ratePerSec: 2_000 },
      send: () => Promise.reject(new Error('batch sink only')),
      sendBatch: producerSink(producer),
      codec,
      logger,
    });
    await sim.runBatch({ units: 20_000, speed: 'max' });
    const inputs = (
      await Promise.all(
        [input.topics.request, input.topics.dispatch, input.topics.callback].map((t) =>
          admin.topicOffsets(t),
        ),
      )
    )
      .flat()
      .reduce((n, o) => n + Number(o.high), 0);

    let restartedAt = 0;
    /** Runs one reconciler over the input until its outputs stop growing; `restart` stops and restarts it once. */
    const reconcile = async (name: string, restart: boolean) => {
      const t = runTopics(input, name);
      await admin.ensureTopics(
        [t.topics.verdict, t.topics.action].map((topic) => ({ topic, partitions: 3 })),
      );
      const verdicts = await collect(kafka, t.topics.verdict);
      cleanups.push(verdicts.close);
      const actions = await collect(kafka, t.topics.action);
      cleanups.push(actions.close);
      let { app } = startReconciler(t, { logger, engine: ENGINE });
      await app.start();
      if (restart) {
        // Stopped while catching up (its first verdicts are out, most input is not read yet), then restarted
        // from its changelog and committed offsets.
        await waitFor(() => app.stats().inputs >= 2_000, {
          timeoutMs: 60_000,
          intervalMs: 5,
          description: 'first inputs applied',
        });
        restartedAt = app.stats().inputs;
        await app.close();
        ({ app } = startReconciler(t, { logger, engine: ENGINE }));
        await app.start();
      }
      cleanups.push(() => app.close());
      // Settled: every input read and nothing new for 8 s (the longest horizon of the preset is a few seconds).
      let last = -1;
      let stableSince = Date.now();
      await waitFor(
        () => {
          const n = verdicts.messages.length + actions.messages.length;
          if (n !== last) {
            last = n;
            stableSince = Date.now();
          }
          return verdicts.messages.length > 0 && Date.now() - stableSince > 8_000;
        },
        { timeoutMs: 240_000, intervalMs: 500, description: `${name} settled` },
      );
      await app.close();
      process.stdout.write(`determinism: ${name} settled after ${app.stats().inputs} inputs applied\n`);
      return {
        verdicts: verdicts.messages.map((m) => codec.decode('verdict', m.value)),
        actions: actions.messages.map((m) => codec.decode('action', m.value)),
      };
    };

    const a = await reconcile('det-a', false);
    const b = await reconcile('det-b', true);
    const dedupe = <T>(xs: T[], id: (x: T) => string) => new Map(xs.map((x) => [id(x), x]));
    // A version published twice (a redelivery across the restart) would be the identical record: compare sets.
    const va = dedupe(a.verdicts, (v) => v.verdict_id);
    const vb = dedupe(b.verdicts, (v) => v.verdict_id);
    const aa = dedupe(a.actions, (x: Action) => x.action_id);
    const ab = dedupe(b.actions, (x: Action) => x.action_id);
    process.stdout.write(
      `determinism: ${inputs} input records; run A ${a.verdicts.length} verdict versions (${va.size} distinct), ` +
        `${a.actions.length} actions; run B (restarted) ${b.verdicts.length} verdict versions (${vb.size} distinct), ` +
        `${b.actions.length} actions; B restarted after ${restartedAt} inputs\n`,
    );
    expect(restartedAt).toBeLessThan(inputs / 2);
    expect(va.size).toBeGreaterThan(10_000);
    expect(b.verdicts.length).toBe(a.verdicts.length);
    expect(b.actions.length).toBe(a.actions.length);
    expect([...vb.keys()].sort()).toEqual([...va.keys()].sort());
    const diff = [...va.values()]
      .filter((v) => key(v) !== key(vb.get(v.verdict_id)!))
      .map((v) => v.verdict_id);
    expect(diff).toEqual([]);
    expect([...ab.keys()].sort()).toEqual([...aa.keys()].sort());
  });
});
