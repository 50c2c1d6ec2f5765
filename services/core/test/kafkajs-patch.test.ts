import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkajsPatched } from '@pathwatch/core';
import { groupMessagesPerPartition } from '../src/kafkajs-patch.js';

describe('kafkajs grouping patch', () => {
  it('is what kafkajs loads', () => {
    expect(kafkajsPatched).toBe(true);
    const require = createRequire(import.meta.url);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });

  it('groups per partition in input order, like the original', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ key: `k${i}`, n: i }));
    const partitioner = ({ message }: { message: unknown }): number => (message as { n: number }).n % 3;
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}, {}, {}],
      messages,
      partitioner,
    });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    for (const p of [0, 1, 2]) {
      const ns = (grouped[p] as { n: number }[]).map((m) => m.n);
      expect(ns).toEqual(messages.filter((m) => m.n % 3 === p).map((m) => m.n));
    }
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual(
      {},
    );
  });
});
