/**
 * Helpers for integration tests on the real broker provided by global-setup.ts. Every test creates its own
 * topics and groups with unique names, so tests never see each other's data and need no cleanup.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { IHeaders, Message } from 'kafkajs';
import { inject } from 'vitest';

/** Bootstrap servers of the broker under test (KAFKA_BROKERS, a container, or the local broker). */
export function kafkaBrokers(): string[] {
  return inject('kafkaBrokers');
}

let counter = 0;

/** A name no other test (or earlier run on a kept broker) uses: `<prefix>-<time>-<pid>-<n>-<random>`. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${process.pid}-${counter}-${randomBytes(3).toString('hex')}`;
}

export function uniqueGroupId(prefix = 'it-group'): string {
  return uniqueName(prefix);
}

/** A kafkajs client for the broker under test; quiet, since failures surface as rejected promises anyway. */
export function testKafka(opts: { clientId?: string; logLevel?: logLevel } = {}): Kafka {
  return new Kafka({
    clientId: opts.clientId ?? uniqueName('it'),
    brokers: kafkaBrokers(),
    logLevel: opts.logLevel ?? logLevel.NOTHING,
  });
}

/** Creates topics with unique names and waits for their partition leaders; returns the names in order. */
export async function createTopics(
  specs: readonly { prefix: string; partitions?: number; config?: Readonly<Record<string, string>> }[],
  kafka: Kafka = testKafka(),
): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = specs.map((s) => ({
      topic: uniqueName(s.prefix),
      numPartitions: s.partitions ?? 1,
      replicationFactor: 1,
      configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
    }));
    await admin.createTopics({ topics, waitForLeaders: true });
    return topics.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** One topic with a unique name and `partitions` partitions. */
export async function createTopic(
  prefix: string,
  partitions = 1,
  kafka: Kafka = testKafka(),
): Promise<string> {
  const [topic] = await createTopics([{ prefix, partitions }], kafka);
  if (topic === undefined) throw new Error('createTopics returned no topic');
  return topic;
}

/** Sends messages in one request and waits for the broker's acknowledgement (acks=all). */
export async function produce(topic: string, messages: Message[], kafka: Kafka = testKafka()): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

export interface ConsumedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: string | null;
  readonly headers: IHeaders;
}

/**
 * Reads `topic` from the beginning with a fresh group until `count` messages arrived, then disconnects.
 * Rejects after `timeoutMs` with what it got so far.
 */
export async function consumeMessages(
  topic: string,
  count: number,
  opts: { timeoutMs?: number; groupId?: string; kafka?: Kafka } = {},
): Promise<ConsumedMessage[]> {
  const kafka = opts.kafka ?? testKafka();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId: opts.groupId ?? uniqueGroupId(),
    allowAutoTopicCreation: false,
  });
  const got: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`consumed ${got.length} of ${count} messages from ${topic} within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: ({ topic: t, partition, message }) => {
            got.push({
              topic: t,
              partition,
              offset: message.offset,
              key: message.key?.toString() ?? null,
              value: message.value?.toString() ?? null,
              headers: message.headers ?? {},
            });
            if (got.length >= count) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
    return got;
  } finally {
    await consumer.disconnect();
  }
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`, and returns that. On timeout, rejects
 * naming `description` and the probe's last error, if any.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  opts: { timeoutMs?: number; intervalMs?: number; description: string },
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 30_000} ms waiting for ${opts.description}` +
          (lastError instanceof Error ? `; last error: ${lastError.message}` : ''),
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
