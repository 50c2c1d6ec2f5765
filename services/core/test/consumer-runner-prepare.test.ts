// runStage's prepare hook (registry lookups before decoding): retried while it fails retriably, the batch then
// decoded and handled; a non-retriable failure stops the stage without decoding, dead-lettering or handling.
import { describe, expect, it } from 'vitest';
import { runStage } from '../src/consumer-runner.js';
import type { BatchHandler, Consumer, ConsumerBatch } from '../src/kafka.js';
import { createMetrics } from '../src/metrics.js';
import { createRootLogger } from '../src/logger.js';
import { PathwatchError } from '../src/errors.js';

const batch: ConsumerBatch = {
  topic: 't',
  partition: 0,
  highWatermark: '2',
  messages: [
    {
      topic: 't',
      partition: 0,
      offset: '0',
      key: null,
      value: Buffer.from('a'),
      headers: {},
      timestampMs: 0,
    },
    {
      topic: 't',
      partition: 0,
      offset: '1',
      key: null,
      value: Buffer.from('b'),
      headers: {},
      timestampMs: 0,
    },
  ],
};

function oneBatchConsumer(): { consumer: Consumer; done: Promise<void>; marked: string[] } {
  const marked: string[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const consumer: Consumer = {
    run: async (handler: BatchHandler) => {
      await handler(batch, {
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        markProcessed: (o) => marked.push(o),
      });
      resolve();
    },
    commit: () => Promise.resolve(),
    pause: () => undefined,
    resume: () => undefined,
    seek: () => undefined,
    close: () => Promise.resolve(),
  };
  return { consumer, done, marked };
}

const common = {
  stage: 'test.decode',
  metrics: createMetrics({ defaultMetrics: false }),
  logger: createRootLogger({ level: 'silent', name: 'test' }),
  retryPolicy: { initialDelayMs: 1, maxDelayMs: 1, maxAttempts: 10, maxElapsedMs: 10_000 },
  sleep: () => Promise.resolve(),
};

describe('runStage prepare', () => {
  it('retries a retriable prepare failure, then decodes and handles the batch', async () => {
    const { consumer, done, marked } = oneBatchConsumer();
    let prepared = 0;
    const decoded: string[] = [];
    const handled: string[] = [];
    const deadLettered: number[] = [];
    await runStage<string>({
      ...common,
      consumer,
      prepare: () => {
        prepared++;
        if (prepared < 3)
          return Promise.reject(
            new PathwatchError('SCHEMA_REGISTRY_UNAVAILABLE', 'down', { retriable: true }),
          );
        return Promise.resolve();
      },
      decode: (msg) => {
        decoded.push(String(msg.value));
        return { ok: true, value: String(msg.value) };
      },
      deadLetters: { publish: (_s, items) => (deadLettered.push(items.length), Promise.resolve()) },
      handle: (records) => (handled.push(...records.map((r) => r.value)), Promise.resolve()),
    });
    await done;
    expect(prepared).toBe(3);
    expect(decoded).toEqual(['a', 'b']);
    expect(handled).toEqual(['a', 'b']);
    expect(deadLettered).toEqual([]);
    expect(marked).toEqual(['1']);
  });

  it('stops on a non-retriable prepare failure: nothing decoded, dead-lettered or handled', async () => {
    const { consumer, done, marked } = oneBatchConsumer();
    const fatal: string[] = [];
    let decoded = 0;
    let handled = 0;
    await runStage<string>({
      ...common,
      consumer,
      prepare: () =>
        Promise.reject(new PathwatchError('SCHEMA_REGISTRY_BAD_RESPONSE', 'HTTP 401', { retriable: false })),
      decode: () => (decoded++, { ok: true, value: '' }),
      deadLetters: { publish: () => Promise.reject(new Error('must not be called')) },
      handle: () => (handled++, Promise.resolve()),
      onFatal: (_err, what) => fatal.push(what),
    });
    await done;
    expect(fatal).toEqual(['decode']);
    expect(decoded).toBe(0);
    expect(handled).toBe(0);
    expect(marked).toEqual([]);
  });
});

describe('runStage decode throwing', () => {
  it('a retriable throw from decode retries the batch instead of dead-lettering it', async () => {
    const { consumer, done, marked } = oneBatchConsumer();
    let calls = 0;
    const deadLettered: number[] = [];
    const handled: string[] = [];
    await runStage<string>({
      ...common,
      consumer,
      decode: (msg) => {
        calls++;
        if (calls === 1)
          throw new PathwatchError('SCHEMA_DECODE_WRITER_NOT_LOADED', 'not yet', { retriable: true });
        return { ok: true, value: String(msg.value) };
      },
      deadLetters: { publish: (_s, items) => (deadLettered.push(items.length), Promise.resolve()) },
      handle: (records) => (handled.push(...records.map((r) => r.value)), Promise.resolve()),
    });
    await done;
    expect(handled).toEqual(['a', 'b']);
    expect(deadLettered).toEqual([]);
    expect(marked).toEqual(['1']);
  });
});
