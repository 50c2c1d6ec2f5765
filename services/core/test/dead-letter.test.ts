import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCodec, type DeadLetter } from '@pathwatch/schemas';
import {
  DEAD_LETTER_KEY_MAX_BYTES,
  buildDeadLetter,
  createDeadLetterPublisher,
  createMetrics,
  createRootLogger,
  deadLetterTopicConfigs,
  recordBatchBytes,
  resolveDeadLetterMaxBytes,
  type DeadLetterItem,
  type IncomingMessage,
  type OutgoingMessage,
  type SendOptions,
} from '@pathwatch/core';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const codec = createCodec({ now: () => NOW });
const avro = (r: DeadLetter): Buffer => codec.encode('dead_letter', r);
const json = (r: DeadLetter): Buffer => codec.encode('dead_letter', r, { format: 'json' });
const logger = createRootLogger({ level: 'silent', name: 'test' });

function item(
  value: Buffer | null,
  opts: { key?: Buffer | null; headers?: Record<string, string>; reason?: string } = {},
): DeadLetterItem {
  const msg: IncomingMessage = {
    topic: 'pathwatch.requests',
    partition: 2,
    offset: '12345',
    key: opts.key === undefined ? Buffer.from('req-1') : opts.key,
    value,
    headers: opts.headers ?? { traceparent: '00-abc-def-01' },
    timestampMs: NOW,
  };
  return {
    msg,
    rejection: {
      code: 'SCHEMA_FIELD_TOO_LONG',
      reason: opts.reason ?? 'field_too_long:x: 9 characters, limit 8',
    },
  };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const reader = createCodec({ now: () => NOW, maxPayloadBytes: 64 * 1_048_576 });
const decode = (m: OutgoingMessage): DeadLetter => reader.decode('dead_letter', m.value);

describe('buildDeadLetter', () => {
  it('writes a dead letter that fits whole, with stage, reason, coordinates, size and SHA-256 headers', () => {
    const value = Buffer.from('{"not":"a request"}');
    const b = buildDeadLetter('reconciler.decode', item(value), NOW, {
      encode: avro,
      maxRecordBytes: 1_000_000,
    });
    expect(b.truncated).toEqual([]);
    expect(b.message.headers).toEqual({
      'pw-stage': 'reconciler.decode',
      'pw-reason-code': 'SCHEMA_FIELD_TOO_LONG',
      'pw-reason': 'field_too_long:x: 9 characters, limit 8',
      'pw-source-topic': 'pathwatch.requests',
      'pw-source-partition': '2',
      'pw-source-offset': '12345',
      'pw-original-size': String(value.length),
      'pw-original-sha256': sha(value),
    });
    expect(b.message.key?.toString()).toBe('req-1');
    const d = decode(b.message);
    expect(d.original_value?.equals(value)).toBe(true);
    expect(d.original_headers).toEqual({ traceparent: '00-abc-def-01' });
    expect(d.source_offset).toBe('12345');
  });

  it('cuts a record just under the stock 1 MB limit to fit, keeping size and SHA-256 of the original', () => {
    const value = Buffer.alloc(1_040_000, 7);
    const b = buildDeadLetter('reconciler.decode', item(value), NOW, {
      encode: avro,
      maxRecordBytes: 1_000_000,
    });
    expect(b.bytes).toBeLessThanOrEqual(1_000_000);
    expect(recordBatchBytes(b.message.key, b.message.value, b.message.headers)).toBe(b.bytes);
    expect(b.truncated).toEqual(['value']);
    expect(b.message.headers?.['pw-truncated']).toBe('value');
    expect(b.message.headers?.['pw-original-size']).toBe('1040000');
    expect(b.message.headers?.['pw-original-sha256']).toBe(sha(value));
    const d = decode(b.message);
    const kept = d.original_value ?? Buffer.alloc(0);
    // A prefix of the original, and nearly all the room there is.
    expect(kept.equals(value.subarray(0, kept.length))).toBe(true);
    expect(kept.length).toBeGreaterThan(990_000);
    expect(d.original_headers).toEqual({ traceparent: '00-abc-def-01' });
  });

  it('cuts a huge key (Kafka key to 1 KiB, source_key to what fits) and drops huge original headers', () => {
    const key = Buffer.alloc(600_000, 1);
    const value = Buffer.alloc(600_000, 2);
    const headers = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`h${i}`, 'x'.repeat(10_000)]));
    const b = buildDeadLetter('path-writer.decode', item(value, { key, headers }), NOW, {
      encode: avro,
      maxRecordBytes: 300_000,
    });
    expect(b.bytes).toBeLessThanOrEqual(300_000);
    expect(b.message.key?.length).toBe(DEAD_LETTER_KEY_MAX_BYTES);
    expect(b.message.headers?.['pw-original-key-size']).toBe('600000');
    expect(b.message.headers?.['pw-original-key-sha256']).toBe(sha(key));
    expect(b.truncated).toEqual(['key', 'headers', 'value']);
    const d = decode(b.message);
    expect(d.original_headers).toEqual({});
    expect(d.source_key?.length).toBeGreaterThanOrEqual(DEAD_LETTER_KEY_MAX_BYTES);
    expect((d.original_value?.length ?? 0) + (d.source_key?.length ?? 0)).toBeGreaterThan(280_000);
  });

  it('bounds the reason (header 512 characters, record 4096)', () => {
    const reason = 'r'.repeat(100_000);
    const b = buildDeadLetter('s', item(Buffer.from('x'), { reason }), NOW, {
      encode: avro,
      maxRecordBytes: 100_000,
    });
    expect(b.message.headers?.['pw-reason']).toHaveLength(512);
    expect(decode(b.message).reason).toHaveLength(4096);
  });

  it('a null value (tombstone) is written with size -1 and no digest', () => {
    const b = buildDeadLetter('s', item(null), NOW, { encode: avro, maxRecordBytes: 100_000 });
    expect(b.message.headers?.['pw-original-size']).toBe('-1');
    expect(b.message.headers?.['pw-original-sha256']).toBeUndefined();
    expect(decode(b.message).original_value).toBeNull();
  });

  it('always fits the limit, for any sizes and either encoding (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_500_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 65_536, max: 1_200_000 }),
        fc.boolean(),
        (valueBytes, keyBytes, headerCount, limit, useJson) => {
          const value = Buffer.alloc(valueBytes, 3);
          const key = Buffer.alloc(keyBytes, 4);
          const headers = Object.fromEntries(
            Array.from({ length: headerCount }, (_, i) => [`h${i}`, 'y'.repeat(1000)]),
          );
          const b = buildDeadLetter('s', item(value, { key, headers }), NOW, {
            encode: useJson ? json : avro,
            maxRecordBytes: limit,
          });
          expect(b.bytes).toBeLessThanOrEqual(limit);
          const d = decode(b.message);
          const kept = d.original_value ?? Buffer.alloc(0);
          expect(kept.equals(value.subarray(0, kept.length))).toBe(true);
          expect(kept.length < value.length).toBe(b.truncated.includes('value'));
          if (b.truncated.length === 0) expect(d.source_key?.length).toBe(keyBytes);
        },
      ),
      { numRuns: 60, seed: 8 },
    );
  });
});

describe('dead-letter topic limit', () => {
  it('the topic Pathwatch creates accepts the configured size', () => {
    expect(deadLetterTopicConfigs(1_000_000)).toEqual({ 'max.message.bytes': '1000000' });
  });

  it("uses the topic's max.message.bytes when it is smaller, the configured value otherwise or when unreadable", async () => {
    const admin = (v: string | Error) => ({
      topicConfig: () =>
        v instanceof Error ? Promise.reject(v) : Promise.resolve({ 'max.message.bytes': v }),
    });
    expect(await resolveDeadLetterMaxBytes(admin('500000'), 't', 1_000_000, logger)).toBe(500_000);
    expect(await resolveDeadLetterMaxBytes(admin('1048588'), 't', 1_000_000, logger)).toBe(1_000_000);
    expect(await resolveDeadLetterMaxBytes(admin(new Error('denied')), 't', 1_000_000, logger)).toBe(
      1_000_000,
    );
  });

  it('the publisher sends fitted dead letters in batches bounded by the limit, and counts them', async () => {
    const sent: { messages: readonly OutgoingMessage[]; opts: SendOptions | undefined }[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const publisher = createDeadLetterPublisher({
      producer: {
        send: (_topic, messages, opts) => {
          sent.push({ messages, opts });
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
      },
      topic: 'dlq',
      encode: avro,
      metrics,
      logger,
      now: () => NOW,
      maxRecordBytes: 200_000,
    });
    await publisher.publish('reconciler.decode', [item(Buffer.alloc(500_000)), item(Buffer.from('x'))]);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.opts?.maxBatchBytes).toBeLessThanOrEqual(200_000);
    const [big, small] = sent[0]?.messages ?? [];
    expect(big?.headers?.['pw-truncated']).toBe('value');
    expect(small?.headers?.['pw-truncated']).toBeUndefined();
    expect(await metrics.registry.getSingleMetricAsString('pathwatch_dead_letters_total')).toMatch(
      /stage="reconciler.decode",reason_code="SCHEMA_FIELD_TOO_LONG"} 2/,
    );
  });
});
