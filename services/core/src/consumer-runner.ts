/**
 * Runs a consumer for one pipeline stage: decodes each record, routes undecodable or invalid ones to the
 * dead-letter topic (the consumer carries on), hands the good ones to the stage in batches, and retries
 * retriable failures with backoff instead of crashing or skipping. Offsets are committed by the stage
 * (`commit`) once its output is durable; this runner never commits on its own.
 */
import type { BatchControl, Consumer, ConsumerBatch, IncomingMessage } from './kafka.js';
import type { DeadLetterPublisher, Rejection } from './dead-letter.js';
import type { CoreMetrics } from './metrics.js';
import type { Logger } from './logger.js';
import { isRetriable } from './errors.js';

export interface Decoded<T> {
  msg: IncomingMessage;
  value: T;
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export interface StageRunnerOptions<T> {
  /** Stable stage name used in logs, metrics and dead-letter headers, e.g. `path-writer.decode`. */
  stage: string;
  consumer: Consumer;
  decode: (msg: IncomingMessage) => DecodeResult<T>;
  deadLetters: DeadLetterPublisher;
  /** Processes the decoded records of one partition batch (possibly none), in offset order. Throw a retriable error to retry. */
  handle: (records: Decoded<T>[], batch: ConsumerBatch, control: BatchControl) => Promise<void>;
  metrics: CoreMetrics;
  logger: Logger;
  /** Backoff for retriable failures. @default 200 */
  retryInitialMs?: number;
  /** @default 10000 */
  retryMaxMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runStage<T>(opts: StageRunnerOptions<T>): Promise<void> {
  const log = opts.logger.child({ module: 'stage-runner', stage: opts.stage });
  const sleep = opts.sleep ?? defaultSleep;
  const retryInitial = opts.retryInitialMs ?? 200;
  const retryMax = opts.retryMaxMs ?? 10_000;

  async function withRetry(what: string, control: BatchControl, fn: () => Promise<void>): Promise<boolean> {
    let delay = retryInitial;
    for (;;) {
      try {
        await fn();
        return true;
      } catch (err) {
        if (!isRetriable(err)) throw err;
        if (!control.isRunning()) return false;
        log.warn({ err, delayMs: delay, what }, 'retriable failure: backing off');
        await sleep(delay);
        await control.heartbeat().catch(() => undefined);
        delay = Math.min(delay * 2, retryMax);
      }
    }
  }

  await opts.consumer.run(async (batch, control) => {
    if (batch.messages.length === 0) return;
    const good: Decoded<T>[] = [];
    const bad: { msg: IncomingMessage; rejection: Rejection }[] = [];
    for (const msg of batch.messages) {
      const r = opts.decode(msg);
      if (r.ok) good.push({ msg, value: r.value });
      else bad.push({ msg, rejection: r.rejection });
    }
    opts.metrics.eventsIn.inc({ stage: opts.stage, topic: batch.topic }, batch.messages.length);
    if (
      bad.length > 0 &&
      !(await withRetry('dead-letter', control, () => opts.deadLetters.publish(opts.stage, bad)))
    )
      return;
    // Called even when every record was dead-lettered, so the stage still records the batch's progress.
    if (!(await withRetry('handle', control, () => opts.handle(good, batch, control)))) return;
    const last = batch.messages[batch.messages.length - 1];
    if (last) control.markProcessed(last.offset);
  });
}
