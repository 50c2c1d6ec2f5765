/**
 * The batching core of the path writer, independent of Kafka: verdicts go into a FIFO buffer, leave it in
 * batches by size (`maxBatchRows`) or age (`flushIntervalMs`), and are inserted as one block with a dedup token
 * derived from the batch's verdict ids. Offsets are committed only after the insert returned (the part is
 * written), so a crash at any point re-delivers rows that ClickHouse drops (same token) or collapses (same
 * request and version in the ReplacingMergeTree). When ClickHouse fails, the same batch is retried with the core
 * backoff (full jitter) — any store failure, since an operator can fix a detached table or a full disk and writing
 * then resumes; after `maxRetries` consecutive failures the source is paused (nothing more is fetched) until an
 * insert succeeds again; rows are never dropped. A dead-letter publish that fails non-retriably (the broker refuses
 * it: authorization, fenced, too large) is not retried: `onFatal` gets it. The buffer is bounded: `enqueue` waits
 * while it is full.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Logger, Rejection, TopicPartitionOffset } from '@pathwatch/core';
import { backoffDelayMs, isRetriable, retry, type RetryPolicy } from '@pathwatch/core';
import { storeRowProblem } from '@pathwatch/path-store';
import type { Verdict } from '@pathwatch/schemas';
import { PathWriterError } from './errors.js';

/** Stable stage names (logs, metrics, dead-letter headers). */
export const STAGES = {
  decode: 'path-writer.decode',
  validate: 'path-writer.validate',
  insert: 'path-writer.insert',
  commit: 'path-writer.commit',
  rollup: 'path-writer.rollup',
} as const;

export interface WriterRecord {
  /** null: a position only (the record was already dead-lettered upstream); its offset is committed in order. */
  verdict: Verdict | null;
  /** Source position (offsets) and original bytes (dead letters). */
  msg: IncomingMessage;
}

export interface WriterSink {
  insert(rows: readonly Verdict[], dedupToken: string): Promise<void>;
}

export interface WriterSource {
  /** Durably commits consumer progress (next offset to read). */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  pause(): void;
  resume(): void;
  /** Publishes rejected records to the dead-letter topic; resolves once they are durable there. */
  deadLetter(items: readonly { msg: IncomingMessage; rejection: Rejection }[]): Promise<void>;
}

export interface WriterMetrics {
  rowsWritten(n: number): void;
  batchFlushed(rows: number, seconds: number): void;
  insertFailed(): void;
  buffered(rows: number): void;
  paused(isPaused: boolean): void;
}

export interface PathWriterOptions {
  sink: WriterSink;
  source: WriterSource;
  logger: Logger;
  /** Rows per insert. @default 50000 */
  maxBatchRows?: number;
  /** A non-empty buffer is flushed at least this often. @default 1000 */
  flushIntervalMs?: number;
  /** `enqueue` waits while this many rows are buffered (memory bound during a ClickHouse outage). @default 100000 */
  maxBufferedRows?: number;
  /** First retry delay after a failed insert; doubles up to retryMaxMs. @default 200 */
  retryInitialMs?: number;
  /** @default 10000 */
  retryMaxMs?: number;
  /** Consecutive failed inserts before the source is paused. @default 3 */
  maxRetries?: number;
  metrics?: WriterMetrics;
  /** A failure no retry can fix stopped the flush loop (the batch stays buffered, nothing is committed). */
  onFatal?: (err: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
  setTimer?: (fn: () => void, ms: number) => () => void;
}

export interface WriterStatus {
  buffered: number;
  /** The source is paused because ClickHouse keeps failing or the buffer is full. */
  paused: boolean;
  consecutiveFailures: number;
  rowsWritten: number;
  batches: number;
  lastError: string | null;
}

type Entry =
  | { kind: 'row'; verdict: Verdict; msg: IncomingMessage }
  | { kind: 'reject'; msg: IncomingMessage; rejection: Rejection }
  | { kind: 'skip'; msg: IncomingMessage };

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const defaultSetTimer = (fn: () => void, ms: number): (() => void) => {
  const h = setTimeout(fn, ms);
  return () => clearTimeout(h);
};

/** Deterministic: the same verdicts in the same order give the same token, whichever process sends them. */
export function batchToken(rows: readonly Verdict[]): string {
  const h = createHash('sha256');
  for (const v of rows) h.update(v.verdict_id).update('\n');
  return `pw-${h.digest('hex').slice(0, 40)}`;
}

/** Next offset to consume per topic-partition for the messages of a batch. */
export function commitOffsets(msgs: readonly IncomingMessage[]): TopicPartitionOffset[] {
  const max = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const m of msgs) {
    const k = `${m.topic}\u0000${m.partition}`;
    const o = BigInt(m.offset);
    const cur = max.get(k);
    if (!cur || o > cur.offset) max.set(k, { topic: m.topic, partition: m.partition, offset: o });
  }
  return [...max.values()].map((x) => ({
    topic: x.topic,
    partition: x.partition,
    offset: String(x.offset + 1n),
  }));
}

export class PathWriter {
  private readonly buffer: Entry[] = [];
  private readonly maxBatchRows: number;
  private readonly flushIntervalMs: number;
  private readonly maxBufferedRows: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;
  private readonly log: Logger;
  private cancelTimer: (() => void) | undefined;
  private flushing: Promise<void> | undefined;
  private drainWaiters: (() => void)[] = [];
  private stopped = false;
  private pausedForFailures = false;
  private pausedForSpace = false;
  private readonly st: WriterStatus = {
    buffered: 0,
    paused: false,
    consecutiveFailures: 0,
    rowsWritten: 0,
    batches: 0,
    lastError: null,
  };

  constructor(private readonly opts: PathWriterOptions) {
    this.maxBatchRows = opts.maxBatchRows ?? 50_000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.maxBufferedRows = Math.max(opts.maxBufferedRows ?? 100_000, this.maxBatchRows);
    this.retryInitialMs = opts.retryInitialMs ?? 200;
    this.retryMaxMs = opts.retryMaxMs ?? 10_000;
    this.maxRetries = opts.maxRetries ?? 3;
    this.sleep = opts.sleep ?? defaultSleep;
    this.setTimer = opts.setTimer ?? defaultSetTimer;
    this.log = opts.logger.child({ stage: STAGES.insert });
  }

  status(): WriterStatus {
    return {
      ...this.st,
      buffered: this.buffer.length,
      paused: this.pausedForFailures || this.pausedForSpace,
    };
  }

  /**
   * Buffers decoded records (in offset order per partition; include dead-lettered ones as positions so the
   * committed offset moves past them). Resolves once they are buffered and the buffer is
   * below its bound; while it waits, `heartbeat` is called every `heartbeatMs` so the consumer keeps its group
   * membership, and it gives up waiting (records stay buffered) when `isRunning` turns false.
   */
  async enqueue(
    records: readonly WriterRecord[],
    control: { heartbeat?: () => Promise<void>; isRunning?: () => boolean; heartbeatMs?: number } = {},
  ): Promise<void> {
    if (this.stopped) throw new PathWriterError('PATH_WRITER_STOPPED', 'the path writer is stopped');
    for (const rec of records) {
      if (rec.verdict === null) {
        this.buffer.push({ kind: 'skip', msg: rec.msg });
        continue;
      }
      const problem = storeRowProblem(rec.verdict);
      if (problem)
        this.buffer.push({
          kind: 'reject',
          msg: rec.msg,
          rejection: { code: 'PATH_WRITER_INVALID_ROW', reason: problem },
        });
      else this.buffer.push({ kind: 'row', verdict: rec.verdict, msg: rec.msg });
    }
    this.opts.metrics?.buffered(this.buffer.length);
    if (this.buffer.length >= this.maxBatchRows) this.kick();
    else this.armTimer();
    while (this.buffer.length >= this.maxBufferedRows && !this.stopped && (control.isRunning?.() ?? true)) {
      if (!this.pausedForSpace) {
        this.pausedForSpace = true;
        this.updatePause();
        this.log.warn(
          { buffered: this.buffer.length, maxBufferedRows: this.maxBufferedRows },
          'buffer full: consumption paused',
        );
      }
      this.kick();
      await new Promise<void>((resolve) => {
        const cancel = this.setTimer(resolve, control.heartbeatMs ?? 1000);
        this.drainWaiters.push(() => {
          cancel();
          resolve();
        });
      });
      await control.heartbeat?.().catch(() => undefined);
    }
  }

  /** Flushes everything buffered (retrying until it is written) and stops accepting records. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    await this.flushAll();
    this.wakeWaiters();
  }

  /** Flushes everything currently buffered. */
  async flushAll(): Promise<void> {
    while (this.buffer.length > 0 || this.flushing) {
      if (this.flushing) await this.flushing;
      else await this.runFlush(true);
    }
  }

  private armTimer(): void {
    if (this.cancelTimer || this.buffer.length === 0 || this.stopped) return;
    this.cancelTimer = this.setTimer(() => {
      this.cancelTimer = undefined;
      this.kick(true);
    }, this.flushIntervalMs);
  }

  private kick(force = false): void {
    if (this.flushing) return;
    void this.runFlush(force).catch((err: unknown) => {
      this.log.error({ err }, 'flush loop failed');
      this.opts.onFatal?.(err);
    });
  }

  /** Full batches go at once; a partial batch only when its time is up (force) or on stop. */
  private hasBatchDue(force: boolean): boolean {
    return this.buffer.length >= this.maxBatchRows || ((force || this.stopped) && this.buffer.length > 0);
  }

  private runFlush(force: boolean): Promise<void> {
    // With nothing due, the async body below would finish synchronously: its `finally` would clear `flushing`
    // before the assignment sets it, leaving a settled promise marked as in progress for good (flushAll then
    // spins on it in microtasks, starving the event loop, and kick never flushes again).
    if (!this.hasBatchDue(force)) return Promise.resolve();
    this.flushing = (async () => {
      try {
        while (this.hasBatchDue(force)) {
          await this.flushBatch(this.buffer.slice(0, this.maxBatchRows));
          force = false;
        }
      } finally {
        this.flushing = undefined;
        this.armTimer();
      }
    })();
    return this.flushing;
  }

  private async flushBatch(batch: Entry[]): Promise<void> {
    const verdicts: Verdict[] = [];
    const rejects: { msg: IncomingMessage; rejection: Rejection }[] = [];
    for (const e of batch) {
      if (e.kind === 'row') verdicts.push(e.verdict);
      else if (e.kind === 'reject') rejects.push({ msg: e.msg, rejection: e.rejection });
    }
    const token = batchToken(verdicts);
    const started = performance.now();
    await this.untilDone('dead-letter', () =>
      rejects.length > 0 ? this.opts.source.deadLetter(rejects) : Promise.resolve(),
    );
    await this.untilDone('insert', () =>
      verdicts.length > 0 ? this.opts.sink.insert(verdicts, token) : Promise.resolve(),
    );
    const seconds = (performance.now() - started) / 1000;
    // Durable in ClickHouse: only now may the source forget these records.
    this.buffer.splice(0, batch.length);
    this.st.rowsWritten += verdicts.length;
    this.st.batches += 1;
    this.opts.metrics?.rowsWritten(verdicts.length);
    this.opts.metrics?.batchFlushed(verdicts.length, seconds);
    this.opts.metrics?.buffered(this.buffer.length);
    this.log.debug({ rows: verdicts.length, rejected: rejects.length, token, seconds }, 'batch flushed');
    const offsets = commitOffsets(batch.map((e) => e.msg));
    await this.commit(offsets);
    if (this.pausedForSpace && this.buffer.length < this.maxBufferedRows) {
      this.pausedForSpace = false;
      this.updatePause();
    }
    this.wakeWaiters();
  }

  private policy(maxAttempts: number): RetryPolicy {
    return {
      initialDelayMs: this.retryInitialMs,
      maxDelayMs: this.retryMaxMs,
      maxAttempts,
      maxElapsedMs: Number.POSITIVE_INFINITY,
    };
  }

  private async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    try {
      await retry(() => this.opts.source.commit(offsets), {
        policy: this.policy(3),
        sleep: (ms) => this.sleep(ms),
      });
    } catch (err) {
      // Not committing is safe (the rows are stored; a redelivery collapses), so give up after a few tries, or at
      // once when it cannot succeed: a rebalance took the partition away and the new owner resumes from its own
      // position.
      this.log.warn(
        { err, offsets, stage: STAGES.commit },
        'offset commit failed: rows are stored and will be deduplicated if redelivered',
      );
    }
  }

  /**
   * Retries `fn` until it succeeds: backoff, and pause the source after maxRetries consecutive failures. Store
   * failures are all retried (see the top of this file); a dead-letter failure only when it is retriable.
   */
  private async untilDone(what: 'dead-letter' | 'insert', fn: () => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await fn();
        if (this.st.consecutiveFailures > 0)
          this.log.info({ what, failures: this.st.consecutiveFailures }, 'recovered: writing again');
        this.st.consecutiveFailures = 0;
        this.st.lastError = null;
        if (this.pausedForFailures) {
          this.pausedForFailures = false;
          this.updatePause();
        }
        return;
      } catch (err) {
        if (what === 'dead-letter' && !isRetriable(err)) throw err;
        const delay = backoffDelayMs(this.policy(Number.POSITIVE_INFINITY), attempt);
        this.st.consecutiveFailures += 1;
        this.st.lastError = err instanceof Error ? err.message : String(err);
        this.opts.metrics?.insertFailed();
        if (this.st.consecutiveFailures >= this.maxRetries && !this.pausedForFailures) {
          this.pausedForFailures = true;
          this.updatePause();
          this.log.error(
            { err, what, failures: this.st.consecutiveFailures },
            'ClickHouse keeps failing: consumption paused, retrying',
          );
        } else {
          this.log.warn(
            { err, what, delayMs: delay, failures: this.st.consecutiveFailures },
            'write failed: retrying',
          );
        }
        await this.sleep(delay);
      }
    }
  }

  private updatePause(): void {
    const paused = this.pausedForFailures || this.pausedForSpace;
    if (paused === this.st.paused) return;
    this.st.paused = paused;
    this.opts.metrics?.paused(paused);
    if (paused) this.opts.source.pause();
    else this.opts.source.resume();
  }

  private wakeWaiters(): void {
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of ws) w();
  }
}
