import { describe, expect, it } from 'vitest';
import {
  INPUT_RECORD_TOO_LARGE,
  createMetrics,
  createRootLogger,
  runStage,
  type BatchHandler,
  type Consumer,
  type DeadLetterItem,
  type IncomingMessage,
} from '@pathwatch/core';

const msg = (offset: string, bytes: number): IncomingMessage => ({
  topic: 'in',
  partition: 0,
  offset,
  key: Buffer.from('k'),
  value: Buffer.alloc(bytes, 0x7b),
  headers: { h: 'v' },
  timestampMs: 0,
});

describe('runStage input record cap', () => {
  it('dead-letters records over maxRecordBytes without decoding them, and hands on the rest', async () => {
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
    const decoded: string[] = [];
    const dead: DeadLetterItem[] = [];
    const handled: string[] = [];
    const marked: string[] = [];
    await runStage<string>({
      stage: 'test.decode',
      consumer,
      decode: (m) => {
        decoded.push(m.offset);
        return { ok: true, value: m.offset };
      },
      maxRecordBytes: 1000,
      maxRecordBytesSetting: 'TEST_MAX_INPUT_RECORD_BYTES',
      deadLetters: {
        publish: (_stage, items) => {
          dead.push(...items);
          return Promise.resolve();
        },
      },
      handle: (records) => {
        handled.push(...records.map((r) => r.value));
        return Promise.resolve();
      },
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createRootLogger({ level: 'silent', name: 't' }),
    });
    // 1 (key) + value + 2 (header): 997 fits exactly, 998 is over.
    await handler?.(
      {
        topic: 'in',
        partition: 0,
        messages: [msg('0', 998), msg('1', 997), msg('2', 50_000)],
        highWatermark: '3',
      },
      {
        heartbeat: () => Promise.resolve(),
        isRunning: () => true,
        markProcessed: (o) => void marked.push(o),
      },
    );
    expect(decoded).toEqual(['1']);
    expect(handled).toEqual(['1']);
    expect(dead.map((d) => [d.msg.offset, d.rejection.code])).toEqual([
      ['0', INPUT_RECORD_TOO_LARGE],
      ['2', INPUT_RECORD_TOO_LARGE],
    ]);
    expect(dead[0]?.rejection.reason).toBe(
      'record of 1001 bytes (key, value and headers) exceeds the input limit of 1000 bytes (TEST_MAX_INPUT_RECORD_BYTES); not decoded',
    );
    expect(marked).toEqual(['2']);
  });
});
