import { describe, expect, it } from 'vitest';
import { chunkMessages, type OutgoingMessage } from '@pathwatch/core';

const msg = (bytes: number, key = 'k'): OutgoingMessage => ({ key, value: Buffer.alloc(bytes) });

describe('chunkMessages', () => {
  it('keeps every message, in order, in chunks under the bound', () => {
    const messages = Array.from({ length: 1000 }, (_, i) => msg(1000 + (i % 7) * 100, `k${i}`));
    const chunks = chunkMessages(messages, 64 * 1024);
    expect(chunks.flat()).toEqual(messages);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) {
      const size = c.reduce((n, m) => n + 64 + (m.value?.length ?? 0) + (m.key?.length ?? 0), 0);
      expect(size).toBeLessThanOrEqual(64 * 1024);
    }
  });

  it('gives a message larger than the bound a chunk of its own', () => {
    const chunks = chunkMessages([msg(10), msg(100_000), msg(10)], 1000);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
    expect(chunkMessages([])).toEqual([]);
  });

  it('bounds each partition separately when partitions are explicit', () => {
    const to = (partition: number, bytes: number): OutgoingMessage => ({ ...msg(bytes), partition });
    // Four partitions of ~400 KB each fit one request under a 512 KiB per-partition bound.
    const spread = [0, 1, 2, 3].map((p) => to(p, 400_000));
    expect(chunkMessages(spread).map((c) => c.length)).toEqual([4]);
    // Two of them on one partition do not.
    expect(chunkMessages([to(0, 400_000), to(0, 400_000)]).map((c) => c.length)).toEqual([1, 1]);
    // Unassigned messages count toward every partition.
    expect(chunkMessages([to(0, 400_000), msg(200_000)]).map((c) => c.length)).toEqual([1, 1]);
    expect(chunkMessages([to(0, 100_000), msg(100_000), to(1, 300_000)]).map((c) => c.length)).toEqual([3]);
  });
});
