import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { createRootLogger, onShutdown } from '@pathwatch/core';

const log = createRootLogger({ level: 'silent', name: 'test' });

function signals(): { once: NodeJS.Process['once']; emit: (s: string) => void } {
  const e = new EventEmitter();
  return { once: ((s: string, fn: () => void) => e.once(s, fn)) as never, emit: (s) => e.emit(s, s) };
}

describe('onShutdown', () => {
  it('exits 0 once close finishes', async () => {
    const sig = signals();
    const exit = vi.fn();
    onShutdown(log, () => Promise.resolve(), { exit, signals: sig, timeoutMs: 1000 });
    sig.emit('SIGTERM');
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(0));
  });

  it('exits 1 at the deadline when close hangs', () => {
    vi.useFakeTimers();
    try {
      const sig = signals();
      const exit = vi.fn();
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      onShutdown(log, () => new Promise(() => undefined), { exit, signals: sig, timeoutMs: 5000 });
      sig.emit('SIGTERM');
      vi.advanceTimersByTime(4999);
      expect(exit).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(exit).toHaveBeenCalledWith(1);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(/shutdown did not finish within 5000 ms/);
      stderr.mockRestore();
    } finally {
      vi.useRealTimers();
    }
  });

  it('exits 1 when close fails, and 130 on a second signal', async () => {
    const sig = signals();
    const exit = vi.fn();
    onShutdown(log, () => Promise.reject(new Error('boom')), { exit, signals: sig, timeoutMs: 1000 });
    sig.emit('SIGINT');
    await vi.waitFor(() => expect(exit).toHaveBeenCalledWith(1));
    const sig2 = signals();
    const exit2 = vi.fn();
    onShutdown(log, () => new Promise(() => undefined), { exit: exit2, signals: sig2, timeoutMs: 60_000 });
    sig2.emit('SIGTERM');
    // `once` per signal: the second SIGTERM arrives as SIGINT's listener is still there; emit both kinds.
    sig2.emit('SIGINT');
    expect(exit2).toHaveBeenCalledWith(130);
  });
});
