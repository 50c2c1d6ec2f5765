/**
 * One reconciler per consumer group: a second instance joining the group must make the reconcilers stop at once
 * with a specific error (two engines judging the same requests would publish contradicting versions).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ReconcilerApp } from '@pathwatch/reconciler';
import { pipelineTopics, startReconciler, testLogger } from '../support/pipeline.js';
import { waitFor } from '../support/kafka.js';

describe('reconciler: one instance per group', () => {
  const logger = testLogger();
  const t = pipelineTopics('single');
  const apps: ReconcilerApp[] = [];
  afterAll(async () => {
    for (const a of apps) await a.close();
  });

  it('stops with a clear error when another instance joins its group', async () => {
    const fatal: { instance: string; err: Error }[] = [];
    const first = startReconciler(t, {
      logger,
      instanceId: 'a',
      onFatal: (err) => fatal.push({ instance: 'a', err }),
    });
    apps.push(first.app);
    await first.app.start();
    expect(fatal).toEqual([]);

    const second = startReconciler(t, {
      logger,
      instanceId: 'b',
      onFatal: (err) => fatal.push({ instance: 'b', err }),
    });
    apps.push(second.app);
    await second.app.start();
    await waitFor(() => (fatal.length > 0 ? fatal : undefined), {
      timeoutMs: 30_000,
      description: 'a reconciler to stop once the second one joined',
    });
    const stopped = fatal[0]!;
    expect(stopped.err.message).toMatch(/another reconciler instance joined consumer group .*-reconciler/);
    expect(stopped.err.message).toMatch(/assigned \d of 3 partitions/);
    expect((stopped.err as Error & { code?: string }).code).toBe('CORE_TOPOLOGY_INVALID');
  }, 90_000);
});
