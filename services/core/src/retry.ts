/**
 * The one retry policy of Pathwatch: exponential backoff with full jitter (each delay uniform in
 * [0, min(maxDelayMs, initialDelayMs · 2^(attempt-1))], so many clients that failed together do not retry together),
 * bounded by attempts and by elapsed time, and only for failures that say they are retriable. A stage that must
 * hold its data until the dependency returns (`maxAttempts: Infinity`) still stops at once on a non-retriable
 * failure, and when its `signal` aborts (shutdown).
 */
import { PathwatchError, isRetriable } from './errors.js';

export interface RetryPolicy {
  /** Cap of the first delay. */
  readonly initialDelayMs: number;
  /** Cap of any delay. */
  readonly maxDelayMs: number;
  /** Tries in all, the first included (Infinity: until it succeeds, a non-retriable failure or the signal). */
  readonly maxAttempts: number;
  /** No new try starts once this long has passed since the first (Infinity: no bound). */
  readonly maxElapsedMs: number;
}

/** For one request that may race a leader election or a restart: ~10 tries within 30 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 5000,
  maxAttempts: 10,
  maxElapsedMs: 30_000,
};

/** For a stage that holds data it must not drop (a transaction, a batch): until the dependency is back. */
export const STAGE_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 100,
  maxDelayMs: 5000,
  maxAttempts: Number.POSITIVE_INFINITY,
  maxElapsedMs: Number.POSITIVE_INFINITY,
};

/** Delay before try `attempt + 1` after `attempt` failed tries (full jitter). `random` returns [0, 1). */
export function backoffDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exp);
  return Math.floor(random() * cap);
}

export interface RetryFailure {
  readonly err: unknown;
  /** Failed tries so far (1 after the first). */
  readonly attempt: number;
  readonly delayMs: number;
  readonly elapsedMs: number;
}

export interface RetryOptions {
  readonly policy?: RetryPolicy;
  /** @default isRetriable (PathwatchError.retriable, or a client error's own `retriable` flag) */
  readonly isRetriable?: (err: unknown) => boolean;
  /** Called before each wait (log, heartbeat, replace a client); a rejection of it is ignored. */
  readonly onRetry?: (failure: RetryFailure) => void | Promise<void>;
  /** Aborting stops waiting and retrying: `retry` rejects with CORE_RETRY_STOPPED. */
  readonly signal?: AbortSignal;
  /** Wall clock for maxElapsedMs. @default Date.now */
  readonly now?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random?: () => number;
}

/**
 * CORE_RETRY_EXHAUSTED (attempts or time used up; `cause` is the last failure, not retriable any more) or
 * CORE_RETRY_STOPPED (the signal aborted: shutting down).
 */
export class RetryError extends PathwatchError {}

export function isRetryStopped(err: unknown): boolean {
  return err instanceof RetryError && err.code === 'CORE_RETRY_STOPPED';
}

/** Sleeps `ms`, or less when `signal` aborts first (resolves either way). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs `fn` until it succeeds, under `policy`. Non-retriable failures are rethrown as they are. */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const policy = opts.policy ?? DEFAULT_RETRY_POLICY;
  const retriable = opts.isRetriable ?? isRetriable;
  const now = opts.now ?? Date.now;
  const sleep = opts.sleep ?? abortableSleep;
  const started = now();
  const stopped = (err: unknown): RetryError =>
    new RetryError('CORE_RETRY_STOPPED', 'stopped while retrying', { retriable: false, cause: err });
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw stopped(undefined);
    try {
      return await fn(attempt);
    } catch (err) {
      if (!retriable(err)) throw err;
      if (opts.signal?.aborted) throw stopped(err);
      const elapsedMs = now() - started;
      const delayMs = backoffDelayMs(policy, attempt, opts.random);
      if (attempt >= policy.maxAttempts || elapsedMs + delayMs > policy.maxElapsedMs) {
        throw new RetryError(
          'CORE_RETRY_EXHAUSTED',
          `gave up after ${attempt} tries in ${elapsedMs} ms: ${err instanceof Error ? err.message : String(err)}`,
          { retriable: false, cause: err, context: { attempts: attempt, elapsedMs } },
        );
      }
      try {
        await opts.onRetry?.({ err, attempt, delayMs, elapsedMs });
      } catch {
        // A failing heartbeat or log must not turn a retriable failure into a crash.
      }
      await sleep(delayMs, opts.signal);
    }
  }
}
