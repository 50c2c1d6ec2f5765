import { describe, expect, it } from 'vitest';
import {
  PathwatchError,
  createMetrics,
  createRootLogger,
  runStage,
  type BatchHandler,
  type Consumer,
  type IncomingMessage,
  type Rejection,
} from '@pathwatch/core';

function msg(offset: number, value: string): IncomingMessage {
  return {
    topic: 't',
    partition: 0,
    offset: String(offset),
    key: null,
    value: Buffer.from(value),
    headers: {},
    timestampMs: 0,
  };
}

/** A consumer that hands one batch to the stage and records what it marked processed. */
function oneBatch(messages: IncomingMessage[]): { consumer: Consumer; marked: string[]; ran: Promise<void> } {
  const marked: string[] = [];
  let handler: BatchHandler | undefined;
  const consumer: Consumer = {
    run: (h) => {
      handler = h;
      return Promise.resolve();
    },
    commit: () => Promise.resolve(),
    pause: () => undefined,
    resume: () => undefined,
    seek: () => undefined,
    close: () => Promise.resolve(),
  };
  const ran = Promise.resolve().then(() =>
    handler?.(
      { topic: 't', partition: 0, messages, highWatermark: String(messages.length) },
      {
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        markProcessed: (o) => void marked.push(o),
      },
    ),
  );
  return { consumer, marked, ran };
}

const notFetchedYet = (): PathwatchError =>
  new PathwatchError('SCHEMA_DECODE_WRITER_NOT_LOADED', 'writer schema id 7 not fetched yet', {
    retriable: true,
  });

describe('runStage decoding', () => {
  it('retries a retriable decode failure through decodeAsync instead of dead-lettering it', async () => {
    const { consumer, marked, ran } = oneBatch([msg(0, 'a'), msg(1, 'new-schema'), msg(2, 'bad')]);
    const dead: Rejection[] = [];
    const handled: string[] = [];
    let slowCalls = 0;
    await runStage<string>({
      stage: 'test.decode',
      consumer,
      decode: (m) => {
        const v = m.value?.toString() ?? '';
        if (v === 'new-schema') throw notFetchedYet();
        if (v === 'bad') return { ok: false, rejection: { code: 'X_BAD', reason: 'bad' } };
        return { ok: true, value: v };
      },
      decodeAsync: (m) => {
        slowCalls++;
        // The first slow attempt still fails retriably (registry down), the second succeeds.
        if (slowCalls === 1) return Promise.reject(notFetchedYet());
        return Promise.resolve({ ok: true, value: `${m.value?.toString() ?? ''}:fetched` });
      },
      deadLetters: {
        publish: (_s, items) => {
          dead.push(...items.map((i) => i.rejection));
          return Promise.resolve();
        },
      },
      handle: (records) => {
        handled.push(...records.map((r) => r.value));
        return Promise.resolve();
      },
      metrics: createMetrics(),
      logger: createRootLogger({ level: 'silent', name: 'test' }),
      sleep: () => Promise.resolve(),
    });
    await ran;
    expect(slowCalls).toBe(2);
    expect(handled).toEqual(['a', 'new-schema:fetched']);
    expect(dead).toEqual([{ code: 'X_BAD', reason: 'bad' }]);
    expect(marked).toEqual(['2']);
  });

  it('does not retry a non-retriable decode failure: it propagates as before, nothing is marked', async () => {
    const { consumer, marked, ran } = oneBatch([msg(0, 'a')]);
    const fatal: string[] = [];
    let slowCalls = 0;
    await runStage<string>({
      stage: 'test.decode',
      consumer,
      decode: () => {
        throw new TypeError('decoder bug');
      },
      decodeAsync: () => {
        slowCalls++;
        return Promise.resolve({ ok: true, value: 'x' });
      },
      deadLetters: { publish: () => Promise.resolve() },
      handle: () => Promise.resolve(),
      metrics: createMetrics(),
      logger: createRootLogger({ level: 'silent', name: 'test' }),
      onFatal: (err, what) => void fatal.push(`${what}:${(err as Error).message}`),
    });
    await expect(ran).rejects.toThrow('decoder bug');
    expect(slowCalls).toBe(0);
    expect(fatal).toEqual([]);
    expect(marked).toEqual([]);
  });
});
