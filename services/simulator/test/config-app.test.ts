import { ConfigError, createRootLogger } from '@pathwatch/core';
import type { OutgoingMessage } from '@pathwatch/core';
import { createCodec } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import { createSimulatorApp, producerSink } from '../src/app.js';
import { loadSimulatorConfig } from '../src/config.js';
import type { OutboundRecord } from '../src/wire.js';

describe('loadSimulatorConfig', () => {
  it('applies documented defaults', () => {
    const c = loadSimulatorConfig({ KAFKA_BROKERS: 'localhost:19092' });
    expect(c).toMatchObject({
      brokers: ['localhost:19092'],
      preset: 'demo',
      speed: 1,
      jsonShare: 0.25,
      safetyMarginMs: 500,
      watermarkBoundMs: 1_000,
      topicPartitions: 4,
    });
    expect(c.ratePerSec).toBeUndefined();
    expect(c.seed).toBeUndefined();
    expect(c.units).toBeUndefined();
  });

  it('parses overrides', () => {
    const c = loadSimulatorConfig({
      KAFKA_BROKERS: 'a:1,b:2',
      SIM_PRESET: 'chaos',
      SIM_RATE_PER_SEC: '2.5',
      SIM_SPEED: 'max',
      SIM_SEED: '7',
      SIM_UNITS: '100',
    });
    expect(c).toMatchObject({
      brokers: ['a:1', 'b:2'],
      preset: 'chaos',
      ratePerSec: 2.5,
      speed: 'max',
      seed: 7,
      units: 100,
    });
  });

  it('names every bad variable', () => {
    let err: unknown;
    try {
      loadSimulatorConfig({ SIM_SPEED: '-1', SIM_JSON_SHARE: '2', SIM_PRESET: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.variable).sort()).toEqual([
      'KAFKA_BROKERS',
      'SIM_JSON_SHARE',
      'SIM_PRESET',
      'SIM_SPEED',
    ]);
  });
});

describe('producerSink', () => {
  it('keeps publish order, one produce request per run of records to the same topic', async () => {
    const calls: { topic: string; keys: (string | Buffer | null)[] }[] = [];
    const sink = producerSink({
      send: (topic: string, messages: readonly OutgoingMessage[]) => {
        calls.push({ topic, keys: messages.map((m) => m.key) });
        return Promise.resolve();
      },
    });
    const rec = (topic: string, key: string): OutboundRecord => ({
      topic,
      key,
      value: Buffer.from(key),
      headers: { traceparent: 'x' },
    });
    await sink([rec('a', '1'), rec('a', '2'), rec('b', '3'), rec('a', '4')]);
    expect(calls).toEqual([
      { topic: 'a', keys: ['1', '2'] },
      { topic: 'b', keys: ['3'] },
      { topic: 'a', keys: ['4'] },
    ]);
  });
});

describe('createSimulatorApp', () => {
  it('runs a finite batch from configuration through the producer and decodes back', async () => {
    const codec = createCodec();
    const produced: { topic: string; value: Buffer }[] = [];
    const app = createSimulatorApp({
      config: {
        ...loadSimulatorConfig({
          KAFKA_BROKERS: 'localhost:1',
          SIM_PRESET: 'chaos',
          SIM_SEED: '12',
          SIM_UNITS: '300',
          SIM_SPEED: 'max',
        }),
        statsIntervalMs: 0,
      },
      producer: {
        send: (topic, messages) => {
          for (const m of messages) produced.push({ topic, value: m.value as Buffer });
          return Promise.resolve();
        },
      },
      logger: createRootLogger({ level: 'silent', name: 'test' }),
      codec,
    });
    expect(app.seed).toBe(12);
    const report = await app.start();
    expect(report.units).toBe(300);
    expect(produced.length).toBe(report.eventsSent);
    const valid = produced.filter((p) => p.value.length > 0 && (p.value[0] === 0 || p.value[0] === 0x7b));
    let decoded = 0;
    for (const p of valid) {
      const kind = codec.kindForTopic(p.topic);
      if (!kind) throw new Error(`unexpected topic ${p.topic}`);
      try {
        codec.decode(kind, p.value);
        decoded++;
      } catch {
        // invalid records (dead-letter material) are counted below
      }
    }
    const invalid = app.simulator.stats().unitsByExpectedClass['dead_letter'] ?? 0;
    expect(produced.length - decoded).toBe(invalid);
  });
});
