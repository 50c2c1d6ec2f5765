/**
 * Custom topic names end to end on the real broker, configured the way an operator does it (PATHWATCH_TOPIC_*
 * variables through the reconciler's own config loader): the reconciler creates the topics with the configured
 * partitions, replication factor and retention, reads the custom inputs and writes verdicts to the custom output;
 * the co-partitioning check still refuses inputs with different partition counts under custom names.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { TopologyError, codecFromConfig, createMetrics, topicNamesFromConfig } from '@pathwatch/core';
import {
  buildReconciler,
  createEngine,
  engineOptionsFrom,
  loadReconcilerConfig,
  reconcilerAppConfigFrom,
  type ReconcilerApp,
  type ReconcilerConfig,
} from '@pathwatch/reconciler';
import { collect, testKafkaClient, testLogger } from '../support/pipeline.js';
import { createTopics, kafkaBrokers, uniqueName, waitFor } from '../support/kafka.js';
import { deliveredRequest } from '../support/events.js';

const logger = testLogger();
const kafka = testKafkaClient(logger);
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function envFor(base: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    PATHWATCH_TOPIC_REQUESTS: `${base}_acme.api.accepted`,
    PATHWATCH_TOPIC_DISPATCHES: `${base}_acme.dispatch.attempts`,
    PATHWATCH_TOPIC_CALLBACKS: `${base}_acme.provider.receipts`,
    PATHWATCH_TOPIC_VERDICTS: `${base}_acme.outcomes.verdicts`,
    PATHWATCH_TOPIC_ACTIONS: `${base}_acme.outcomes.actions`,
    PATHWATCH_TOPIC_DEAD_LETTER: `${base}_acme.outcomes.dlq`,
    RECONCILER_CHANGELOG_TOPIC: `${base}_acme.outcomes.state`,
    RECONCILER_GROUP_ID: `${base}-rc`,
    PATHWATCH_TOPIC_PARTITIONS: '2',
    PATHWATCH_TOPIC_REPLICATION_FACTOR: '1',
    PATHWATCH_TOPIC_RETENTION_MS: '86400000',
    RECONCILER_COMMIT_INTERVAL_MS: '100',
    ...extra,
  };
}

function reconcilerFor(config: ReconcilerConfig, onFatal?: (err: Error) => void): ReconcilerApp {
  return buildReconciler(
    {
      kafka,
      codec: codecFromConfig(config),
      engine: createEngine(engineOptionsFrom(config)),
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      now: Date.now,
      ...(onFatal ? { onFatal } : {}),
    },
    reconcilerAppConfigFrom(config),
  );
}

describe('custom topic names (PATHWATCH_TOPIC_*)', () => {
  it('creates the configured topics with partitions and retention, and runs on them', async () => {
    const config = loadReconcilerConfig(envFor(uniqueName('ct')));
    const topics = topicNamesFromConfig(config);
    expect(topics.request).toMatch(/_acme\.api\.accepted$/);
    const app = reconcilerFor(config);
    await app.start();
    cleanups.push(() => app.close());

    const admin = await kafka.admin();
    cleanups.push(() => admin.close());
    for (const topic of [topics.request, topics.dispatch, topics.callback, topics.verdict, topics.action]) {
      expect(await admin.partitionCount(topic), topic).toBe(2);
      expect((await admin.topicConfig(topic, ['retention.ms']))['retention.ms'], topic).toBe('86400000');
    }
    expect((await admin.topicConfig(topics.dead_letter, ['retention.ms']))['retention.ms']).toBe('86400000');
    // The changelog keeps everything whatever PATHWATCH_TOPIC_RETENTION_MS says (the reconciler purges it).
    expect((await admin.topicConfig(config.changelogTopic, ['retention.ms']))['retention.ms']).toBe('-1');

    const codec = codecFromConfig(config);
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    const ev = deliveredRequest('ct-1', Date.now() - 20_000);
    await producer.send(topics.request, [{ key: 'ct-1', value: codec.encode('request', ev.request) }]);
    await producer.send(topics.dispatch, [{ key: 'ct-1', value: codec.encode('dispatch', ev.dispatch) }]);
    await producer.send(topics.callback, [{ key: 'ct-1', value: codec.encode('callback', ev.callback) }]);

    const verdicts = await collect(kafka, topics.verdict);
    cleanups.push(() => verdicts.close());
    const final = await waitFor(
      () =>
        verdicts.messages
          .map((m) => codec.decode('verdict', m.value))
          .find((v) => v.request_id === 'ct-1' && !v.provisional),
      { description: 'the verdict of ct-1 on the custom verdict topic', timeoutMs: 60_000 },
    );
    expect(final.verdict).toBe('delivered_on_time');
    expect(app.stats().inputs).toBe(3);
  });

  it('still refuses inputs that are not co-partitioned under custom names', async () => {
    const base = uniqueName('ctp');
    // Pre-created with different partition counts; the reconciler creates only what is missing.
    const [requests, dispatches] = await createTopics([
      { prefix: `${base}-req`, partitions: 2 },
      { prefix: `${base}-disp`, partitions: 3 },
    ]);
    const config = loadReconcilerConfig(
      envFor(base, {
        PATHWATCH_TOPIC_REQUESTS: requests as string,
        PATHWATCH_TOPIC_DISPATCHES: dispatches as string,
      }),
    );
    const app = reconcilerFor(config);
    cleanups.push(() => app.close());
    const err = await app.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TopologyError);
    expect((err as Error).message).toContain(`${requests as string}=2`);
    expect((err as Error).message).toContain(`${dispatches as string}=3`);
    expect((err as Error).message).toMatch(/co-partitioned/);
  });
});
