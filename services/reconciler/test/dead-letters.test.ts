import { describe, expect, it } from 'vitest';
import { createMetrics, createRootLogger, type DeadLetterItem } from '@pathwatch/core';
import { createCodec } from '@pathwatch/schemas';
import { TransactionalDeadLetters } from '../src/dead-letters.js';

const NOW = Date.UTC(2025, 5, 1);
const item = (offset: string, bytes = 10): DeadLetterItem => ({
  msg: {
    topic: 'in',
    partition: 0,
    offset,
    key: Buffer.from(`k${offset}`),
    value: Buffer.alloc(bytes, 1),
    headers: {},
    timestampMs: NOW,
  },
  rejection: { code: 'SCHEMA_DECODE_BAD_MAGIC', reason: 'first byte 0x01' },
});

function setup() {
  const metrics = createMetrics({ defaultMetrics: false });
  const dl = new TransactionalDeadLetters({
    codec: createCodec({ now: () => NOW }),
    topic: 'dlq',
    metrics,
    logger: createRootLogger({ level: 'silent', name: 't' }),
    now: () => NOW,
    maxRecordBytes: 200_000,
  });
  return { dl, metrics };
}

describe('reconciler dead letters (transactional)', () => {
  it('stages the decode step until its batch settles, then drains with the offsets in input order', async () => {
    const { dl, metrics } = setup();
    await dl.publisher.publish('reconciler.decode', [item('1'), item('3')]);
    // Not settled: a transaction drained now (with other offsets) must not carry them.
    expect(dl.drain().count).toBe(0);
    dl.settle('reconciler.apply', [item('2')]);
    const drained = dl.drain();
    expect(drained.entry.topic).toBe('dlq');
    expect(
      drained.entry.messages.map((m) => [m.headers?.['pw-stage'], m.headers?.['pw-source-offset']]),
    ).toEqual([
      ['reconciler.decode', '1'],
      ['reconciler.decode', '3'],
      ['reconciler.apply', '2'],
    ]);
    // Drained once: the next transaction has none of them.
    expect(dl.drain().count).toBe(0);
    // Counted only once the transaction committed.
    expect(await metrics.registry.getSingleMetricAsString('pathwatch_dead_letters_total')).not.toMatch(
      /} \d/,
    );
    drained.committed();
    expect(await metrics.registry.getSingleMetricAsString('pathwatch_dead_letters_total')).toMatch(
      /stage="reconciler.decode",reason_code="SCHEMA_DECODE_BAD_MAGIC"} 2/,
    );
  });

  it("cuts dead letters to the topic's limit and bounds the produce chunks by it", () => {
    const { dl } = setup();
    dl.setMaxRecordBytes(100_000);
    dl.settle('reconciler.apply', [item('7', 150_000)]);
    const drained = dl.drain();
    expect(drained.entry.maxBatchBytes).toBeLessThanOrEqual(100_000);
    const [m] = drained.entry.messages;
    expect(m?.headers?.['pw-truncated']).toBe('value');
    expect(m?.value?.length).toBeLessThan(100_000);
  });
});
