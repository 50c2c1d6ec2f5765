/**
 * Runs a consumer for one pipeline stage: decodes each record, routes undecodable or invalid ones to the
 * dead-letter topic (the consumer carries on), hands the good ones to the stage in batches, and retries
 * retriable failures under the core retry policy (backoff with full jitter) instead of crashing or skipping. A
 * non-retriable failure is never retried: the batch is left unprocessed and `onFatal` decides (stop the stage,
 * exit). Offsets are committed by the stage (`commit`) once its output is durable; this runner never commits on
 * its own.
 */
import type { BatchControl, Consumer, ConsumerBatch, IncomingMessage } from './kafka.js';
import { incomingRecordBytes, type DeadLetterPublisher, type Rejection } from './dead-letter.js';
import type { CoreMetrics } from './metrics.js';
import type { Logger } from './logger.js';
import { isRetriable as isRetriableDefault } from './errors.js';
import { retry, isRetryStopped, STAGE_RETRY_POLICY, type RetryPolicy } from './retry.js';

export interface Decoded<T> {
  msg: IncomingMessage;
  value: T;
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; rejection: Rejection };

export interface StageRunnerOptions<T> {
  /** Stable stage name used in logs, metrics and dead-letter headers, e.g. `path-writer.decode`. */
  stage: string;
  consumer: Consumer;
  /**
   * A rejection is dead-lettered. A throw is not: a retriable one (e.g. a schema the registry could not serve)
   * retries the batch's prepare and decode under the retry policy, any other stops the stage (`onFatal`).
   */
  decode: (msg: IncomingMessage) => DecodeResult<T>;
  /**
   * Records larger than this (key, value and headers) are dead-lettered (CORE_INPUT_RECORD_TOO_LARGE) without being
   * decoded. @default no limit beyond the codec's own
   */
  maxRecordBytes?: number;
  /** Names the setting behind maxRecordBytes in the rejection reason, e.g. RECONCILER_MAX_INPUT_RECORD_BYTES. */
  maxRecordBytesSetting?: string;
  /**
   * Runs before a batch is decoded, under the same retry as `handle`: e.g. fetch the writer schemas the batch
   * names from the Schema Registry, so an outage holds the batch (retriable) instead of dead-lettering it.
   */
  prepare?: (batch: ConsumerBatch) => Promise<void>;
  deadLetters: DeadLetterPublisher;
  /** Processes the decoded records of one partition batch (possibly none), in offset order. Throw a retriable error to retry. */
  handle: (records: Decoded<T>[], batch: ConsumerBatch, control: BatchControl) => Promise<void>;
  metrics: CoreMetrics;
  logger: Logger;
  /** For retriable failures of the dead-letter publish and of `handle`. @default STAGE_RETRY_POLICY (until it succeeds) */
  retryPolicy?: RetryPolicy;
  /**
   * A non-retriable failure (or retries used up): the batch stays unprocessed and consumption of it stops here.
   * @default rethrow (kafkajs then crashes the consumer)
   */
  onFatal?: (err: unknown, what: 'decode' | 'dead-letter' | 'handle') => void;
  /** Retriable failures while retrying (health, metrics); `recovered` once a retried call succeeded. */
  onRetrying?: (err: unknown) => void;
  onRecovered?: () => void;
  /** Aborting stops any retry in progress (shutdown). */
  signal?: AbortSignal;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Reason code of an input record over the stage's size limit. */
export const INPUT_RECORD_TOO_LARGE = 'CORE_INPUT_RECORD_TOO_LARGE';

export async function runStage<T>(opts: StageRunnerOptions<T>): Promise<void> {
  const log = opts.logger.child({ module: 'stage-runner', stage: opts.stage });
  const tooLarge = (size: number, max: number): Rejection => ({
    code: INPUT_RECORD_TOO_LARGE,
    reason: `record of ${size} bytes (key, value and headers) exceeds the input limit of ${max} bytes${opts.maxRecordBytesSetting === undefined ? '' : ` (${opts.maxRecordBytesSetting})`}; not decoded`,
  });

  async function withRetry(
    what: 'decode' | 'dead-letter' | 'handle',
    control: BatchControl,
    fn: () => Promise<void>,
  ): Promise<boolean> {
    let failed = false;
    try {
      await retry(fn, {
        policy: opts.retryPolicy ?? STAGE_RETRY_POLICY,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.sleep ? { sleep: opts.sleep } : {}),
        // A revoked partition or a stopping consumer: stop retrying, the batch is fetched again by its owner.
        isRetriable: (err) => control.isRunning() && isRetriableDefault(err),
        onRetry: async ({ err, delayMs, attempt }) => {
          failed = true;
          opts.onRetrying?.(err);
          log.warn({ err, delayMs, attempt, what }, 'retriable failure: backing off');
          await control.heartbeat();
        },
      });
      if (failed) opts.onRecovered?.();
      return true;
    } catch (err) {
      if (isRetryStopped(err) || !control.isRunning()) return false;
      if (!opts.onFatal) throw err;
      opts.onFatal(err, what);
      return false;
    }
  }

  await opts.consumer.run(async (batch, control) => {
    if (batch.messages.length === 0) return;
    let good: Decoded<T>[] = [];
    let bad: { msg: IncomingMessage; rejection: Rejection }[] = [];
    const decodeBatch = async (): Promise<void> => {
      if (opts.prepare) await opts.prepare(batch);
      good = [];
      bad = [];
      for (const msg of batch.messages) {
        const size = opts.maxRecordBytes === undefined ? 0 : incomingRecordBytes(msg);
        if (opts.maxRecordBytes !== undefined && size > opts.maxRecordBytes) {
          bad.push({ msg, rejection: tooLarge(size, opts.maxRecordBytes) });
          continue;
        }
        const r = opts.decode(msg);
        if (r.ok) good.push({ msg, value: r.value });
        else bad.push({ msg, rejection: r.rejection });
      }
    };
    if (!(await withRetry('decode', control, decodeBatch))) return;
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
