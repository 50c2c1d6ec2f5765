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
});
