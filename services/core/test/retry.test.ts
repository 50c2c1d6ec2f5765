import { describe, expect, it } from 'vitest';
import {
  KafkaError,
  PathwatchError,
  RetryError,
  STAGE_RETRY_POLICY,
  backoffDelayMs,
  isRetryStopped,
  retry,
  type RetryPolicy,
} from '@pathwatch/core';

const policy: RetryPolicy = { initialDelayMs: 100, maxDelayMs: 1000, maxAttempts: 5, maxElapsedMs: 60_000 };

/** A fake clock that sleeping advances, so elapsed-time bounds are exact. */
function clock(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
    slept,
  };
}
const unavailable = (): KafkaError => KafkaError.retriable('broker down', undefined);

describe('backoffDelayMs (full jitter)', () => {
  it('draws below an exponentially growing cap, never above maxDelayMs', () => {
    expect([1, 2, 3, 4, 5, 40].map((a) => backoffDelayMs(policy, a, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelayMs(policy, 3, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(200);
  });
});

describe('retry', () => {
  it('retries retriable failures until success', async () => {
    const c = clock();
    let calls = 0;
    const got = await retry(
      () => {
        calls++;
        return calls < 3 ? Promise.reject(unavailable()) : Promise.resolve('ok');
      },
      { policy, now: c.now, sleep: c.sleep, random: () => 0.5 },
    );
    expect(got).toBe('ok');
    expect(calls).toBe(3);
    expect(c.slept).toEqual([50, 100]);
  });

  it('never retries a non-retriable failure', async () => {
    const c = clock();
    const fenced = KafkaError.nonRetriable('CORE_KAFKA_PRODUCER_FENCED', 'fenced');
    let calls = 0;
    await expect(
      retry(
        () => {
          calls++;
          return Promise.reject(fenced);
        },
        { policy: STAGE_RETRY_POLICY, now: c.now, sleep: c.sleep },
      ),
    ).rejects.toBe(fenced);
    expect(calls).toBe(1);
    expect(c.slept).toEqual([]);
  });

  it('gives up after maxAttempts, and after maxElapsedMs', async () => {
    const c = clock();
    let calls = 0;
    const err = await retry(
      () => {
        calls++;
        return Promise.reject(unavailable());
      },
      { policy, now: c.now, sleep: c.sleep, random: () => 0.999 },
    ).catch((e: unknown) => e);
    expect(calls).toBe(5);
    expect(err).toBeInstanceOf(RetryError);
    expect((err as RetryError).code).toBe('CORE_RETRY_EXHAUSTED');
    expect((err as RetryError).retriable).toBe(false);
    expect((err as RetryError).cause).toBeInstanceOf(KafkaError);

    const c2 = clock();
    calls = 0;
    const err2 = await retry(
      () => {
        calls++;
        return Promise.reject(unavailable());
      },
      {
        policy: { ...policy, maxAttempts: Infinity, maxElapsedMs: 2000 },
        now: c2.now,
        sleep: c2.sleep,
        random: () => 0.999,
      },
    ).catch((e: unknown) => e);
    expect((err2 as RetryError).code).toBe('CORE_RETRY_EXHAUSTED');
    // 99 + 199 + 399 + 799 = 1496 slept; the next delay (999) would pass 2000 ms.
    expect(c2.slept).toEqual([99, 199, 399, 799]);
    expect(calls).toBe(5);
  });

  it('stops when the signal aborts, also in the middle of a wait', async () => {
    const ac = new AbortController();
    let calls = 0;
    const p = retry(
      () => {
        calls++;
        if (calls === 2) setTimeout(() => ac.abort(), 5);
        return Promise.reject(unavailable());
      },
      {
        policy: { ...STAGE_RETRY_POLICY, initialDelayMs: 60_000, maxDelayMs: 60_000 },
        signal: ac.signal,
        random: () => 0.99,
      },
    );
    const t0 = Date.now();
    // The first wait is 59 s: abort it from outside.
    setTimeout(() => ac.abort(), 20);
    const err = await p.catch((e: unknown) => e);
    expect(isRetryStopped(err)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(calls).toBe(1);
  });

  it('calls onRetry before each wait and survives a failing one; treats client errors by their own flag', async () => {
    const c = clock();
    const seen: number[] = [];
    let calls = 0;
    await retry(
      () => {
        calls++;
        if (calls === 1)
          return Promise.reject(Object.assign(new Error('client says retriable'), { retriable: true }));
        if (calls === 2)
          return Promise.reject(new PathwatchError('X_UNAVAILABLE', 'down', { retriable: true }));
        return Promise.resolve();
      },
      {
        policy,
        now: c.now,
        sleep: c.sleep,
        onRetry: ({ attempt }) => {
          seen.push(attempt);
          throw new Error('heartbeat failed');
        },
      },
    );
    expect(seen).toEqual([1, 2]);
    await expect(
      retry(() => Promise.reject(new Error('plain')), { policy, now: c.now, sleep: c.sleep }),
    ).rejects.toThrow('plain');
  });
});
