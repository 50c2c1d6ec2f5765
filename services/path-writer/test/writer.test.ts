// Unit tier of the path writer's batching core: a fake sink (ClickHouse) and source (Kafka) of our own, a manual
// timer and an instant sleep, so every batch boundary, retry, pause and commit is decided by the test, not a clock.
import { describe, expect, it } from 'vitest';
import {
  createRootLogger,
  type IncomingMessage,
  type Rejection,
  type TopicPartitionOffset,
} from '@pathwatch/core';
import { StoreError } from '@pathwatch/path-store';
import type { Verdict } from '@pathwatch/schemas';
import { KafkaError } from '@pathwatch/core';
import { PathWriter, batchToken, syntheticVerdict, type WriterRecord } from '../src/index.js';

const logger = createRootLogger({ level: 'silent', name: 'writer-test' });

class FakeSink {
  readonly inserts: { ids: string[]; token: string }[] = [];
  /** Failures to throw before the next insert succeeds. */
  failures: Error[] = [];
  insert(rows: readonly Verdict[], token: string): Promise<void> {
    const f = this.failures.shift();
    if (f !== undefined) return Promise.reject(f);
    this.inserts.push({ ids: rows.map((r) => r.verdict_id), token });
    return Promise.resolve();
  }
}

class FakeSource {
  readonly commits: TopicPartitionOffset[][] = [];
  readonly deadLetters: Rejection[] = [];
  readonly pauses: ('pause' | 'resume')[] = [];
  deadLetterFailure: Error | undefined;
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    this.commits.push([...offsets]);
    return Promise.resolve();
  }
  pause(): void {
    this.pauses.push('pause');
  }
  resume(): void {
    this.pauses.push('resume');
  }
  deadLetter(items: readonly { msg: IncomingMessage; rejection: Rejection }[]): Promise<void> {
    if (this.deadLetterFailure !== undefined) return Promise.reject(this.deadLetterFailure);
    this.deadLetters.push(...items.map((i) => i.rejection));
    return Promise.resolve();
  }
}

/** Timers fire only when the test says so. */
class ManualTimer {
  private pending: { fn: () => void; ms: number; live: boolean }[] = [];
  readonly set = (fn: () => void, ms: number): (() => void) => {
    const t = { fn, ms, live: true };
    this.pending.push(t);
    return () => {
      t.live = false;
    };
  };
  get armed(): number[] {
    return this.pending.filter((t) => t.live).map((t) => t.ms);
  }
  fireAll(): void {
    const due = this.pending.filter((t) => t.live);
    this.pending = [];
    for (const t of due) t.fn();
  }
}

const flushMicrotasks = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function record(
  i: number,
  partition = 0,
  verdict: Verdict | null = syntheticVerdict(i, { startMs: 1_700_000_000_000 }),
): WriterRecord {
  return {
    verdict,
    msg: {
      topic: 'pathwatch.verdicts',
      partition,
      offset: String(i),
      key: null,
      value: Buffer.from(`v${i}`),
      headers: {},
      timestampMs: 0,
    },
  };
}

function writer(opts: { maxBatchRows?: number; maxRetries?: number; onFatal?: (err: unknown) => void } = {}) {
  const sink = new FakeSink();
  const source = new FakeSource();
  const timer = new ManualTimer();
  const sleeps: number[] = [];
  const w = new PathWriter({
    sink,
    source,
    logger,
    maxBatchRows: opts.maxBatchRows ?? 3,
    flushIntervalMs: 500,
    maxRetries: opts.maxRetries ?? 2,
    retryInitialMs: 100,
    retryMaxMs: 1000,
    setTimer: timer.set,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    ...(opts.onFatal ? { onFatal: opts.onFatal } : {}),
  });
  return { w, sink, source, timer, sleeps };
}

describe('PathWriter (fake sink and source, manual timer)', () => {
  it('writes a full batch at once, then commits the next offset per partition, only after the insert', async () => {
    const { w, sink, source, timer } = writer();
    await w.enqueue([record(0, 0), record(1, 1), record(2, 0)]);
    await flushMicrotasks();
    expect(sink.inserts).toHaveLength(1);
    expect(sink.inserts[0]!.ids).toHaveLength(3);
    expect(sink.inserts[0]!.token).toBe(batchToken([0, 1, 2].map((i) => record(i).verdict!)));
    expect(source.commits).toEqual([
      [
        { topic: 'pathwatch.verdicts', partition: 0, offset: '3' },
        { topic: 'pathwatch.verdicts', partition: 1, offset: '2' },
      ],
    ]);
    expect(timer.armed).toEqual([]);
  });

  it('holds a partial batch until its timer fires, then writes it', async () => {
    const { w, sink, source, timer } = writer();
    await w.enqueue([record(0), record(1)]);
    await flushMicrotasks();
    expect(sink.inserts).toHaveLength(0);
    expect(timer.armed).toEqual([500]);
    timer.fireAll();
    await flushMicrotasks();
    expect(sink.inserts.map((i) => i.ids.length)).toEqual([2]);
    expect(source.commits.at(-1)).toEqual([{ topic: 'pathwatch.verdicts', partition: 0, offset: '2' }]);
  });

  it('retries a failing insert with the same token, pauses the source after maxRetries, resumes once written', async () => {
    const { w, sink, source, sleeps } = writer({ maxRetries: 2 });
    const down = new StoreError('CORE_STORE_UNAVAILABLE', 'connection refused');
    sink.failures = [down, down, down];
    await w.enqueue([record(0), record(1), record(2)]);
    await w.flushAll();
    expect(sink.inserts).toHaveLength(1);
    expect(sleeps).toHaveLength(3);
    expect(source.pauses).toEqual(['pause', 'resume']);
    expect(w.status()).toMatchObject({ consecutiveFailures: 0, rowsWritten: 3, batches: 1, paused: false });
    expect(source.commits).toHaveLength(1);
  });

  it('dead-letters an unstorable row with its reason and still commits past it; positions are committed too', async () => {
    const { w, sink, source } = writer();
    const bad = { ...record(1).verdict!, version: 0 };
    await w.enqueue([record(0), record(1, 0, bad), record(2, 0, null)]);
    await flushMicrotasks();
    expect(source.deadLetters).toEqual([
      { code: 'PATH_WRITER_INVALID_ROW', reason: 'version 0 is not a positive 32-bit integer' },
    ]);
    expect(sink.inserts.map((i) => i.ids)).toEqual([[record(0).verdict!.verdict_id]]);
    expect(source.commits).toEqual([[{ topic: 'pathwatch.verdicts', partition: 0, offset: '3' }]]);
  });

  it('a dead-letter publish that cannot succeed is not retried: onFatal gets it and nothing is committed', async () => {
    const fatal: unknown[] = [];
    const { w, source, sleeps } = writer({ onFatal: (err) => fatal.push(err) });
    source.deadLetterFailure = KafkaError.nonRetriable('CORE_KAFKA_AUTHORIZATION_FAILED', 'denied');
    const bad = { ...record(0).verdict!, version: 0 };
    await w.enqueue([record(0, 0, bad), record(1), record(2)]);
    await flushMicrotasks();
    expect(fatal).toHaveLength(1);
    expect((fatal[0] as KafkaError).code).toBe('CORE_KAFKA_AUTHORIZATION_FAILED');
    expect(sleeps).toEqual([]);
    expect(source.commits).toEqual([]);
    expect(w.status().buffered).toBe(3);
  });

  it('stop() writes what is buffered and refuses more', async () => {
    const { w, sink } = writer();
    await w.enqueue([record(0)]);
    await w.stop();
    expect(sink.inserts.map((i) => i.ids.length)).toEqual([1]);
    await expect(w.enqueue([record(1)])).rejects.toMatchObject({ code: 'PATH_WRITER_STOPPED' });
  });
});
