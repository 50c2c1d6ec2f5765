/**
 * Helpers for pipeline tests on the real broker: per-test topic names, a reconciler on them, and a collector
 * that reads a topic with our own Kafka wrapper (read_committed, like any downstream consumer).
 */
import {
  createKafka,
  createMetrics,
  createRootLogger,
  type Consumer,
  type CoreMetrics,
  type IncomingMessage,
  type KafkaClient,
  type Logger,
} from '@pathwatch/core';
import { createCodec, DEFAULT_TOPICS, type Codec, type TopicNames } from '@pathwatch/schemas';
import {
  buildReconciler,
  createEngine,
  type EngineOptions,
  type ReconcilerApp,
  type ReconcilerAppConfig,
} from '@pathwatch/reconciler';
import { kafkaBrokers, uniqueName } from './kafka.js';

export interface PipelineTopics {
  topics: TopicNames;
  changelog: string;
  groupId: string;
}

export function pipelineTopics(prefix: string): PipelineTopics {
  const base = uniqueName(prefix);
  const topics = Object.fromEntries(
    Object.entries(DEFAULT_TOPICS).map(([k, t]) => [k, `${base}.${t}`]),
  ) as unknown as TopicNames;
  return { topics, changelog: `${base}.state`, groupId: `${base}-reconciler` };
}

export function testLogger(): Logger {
  return createRootLogger({
    level:
      process.env['PW_TEST_LOG_LEVEL'] === undefined
        ? 'silent'
        : (process.env['PW_TEST_LOG_LEVEL'] as 'info'),
    name: 'it',
  });
}

export function testKafkaClient(logger: Logger): KafkaClient {
  return createKafka({ brokers: kafkaBrokers(), clientId: uniqueName('it'), logger });
}

export function startReconciler(
  t: PipelineTopics,
  opts: {
    logger: Logger;
    engine?: EngineOptions;
    instanceId?: string;
    partitions?: number;
    now?: () => number;
    onFatal?: (err: Error) => void;
    /** The process's metrics (share one with other stages and a query API). @default a new set */
    metrics?: CoreMetrics;
    /** Overrides of the app configuration (limits, timeouts). */
    config?: Partial<ReconcilerAppConfig>;
  },
): { app: ReconcilerApp; codec: Codec } {
  const codec = createCodec({ topics: t.topics });
  const now = opts.now ?? Date.now;
  const app = buildReconciler(
    {
      kafka: testKafkaClient(opts.logger),
      codec,
      engine: createEngine(opts.engine ?? {}, { now }),
      logger: opts.logger,
      metrics: opts.metrics ?? createMetrics({ defaultMetrics: false }),
      now,
      ...(opts.onFatal ? { onFatal: opts.onFatal } : {}),
    },
    {
      topics: t.topics,
      changelogTopic: t.changelog,
      groupId: t.groupId,
      instanceId: opts.instanceId ?? '0',
      commitIntervalMs: 100,
      tickIntervalMs: 100,
      topicPartitions: opts.partitions ?? 3,
      createTopics: true,
      ...opts.config,
    },
  );
  return { app, codec };
}

/** Collects every record of a topic from the beginning, in the background, until closed. */
export async function collect(
  kafka: KafkaClient,
  topic: string,
): Promise<{ messages: IncomingMessage[]; close: () => Promise<void> }> {
  const messages: IncomingMessage[] = [];
  const consumer: Consumer = await kafka.consumer({
    groupId: uniqueName('collector'),
    topics: [topic],
    fromBeginning: true,
  });
  await consumer.run((batch, control) => {
    messages.push(...batch.messages);
    const last = batch.messages[batch.messages.length - 1];
    if (last) control.markProcessed(last.offset);
    return Promise.resolve();
  });
  return { messages, close: () => consumer.close() };
}
