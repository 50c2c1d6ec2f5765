/**
 * The reconciler's dead letters go out inside its output transaction, together with the offsets of the inputs
 * they stand for: exactly once per input record for read_committed readers, even across crashes (a transaction
 * that did not commit is replayed, dead letters included, after the restart). Each is built to fit the
 * dead-letter topic (cut when it would be larger, see @pathwatch/core buildDeadLetter).
 */
import {
  DEFAULT_DEAD_LETTER_MAX_BYTES,
  buildDeadLetter,
  deadLetterBatchBytes,
  recordDeadLetters,
  type BuiltDeadLetter,
  type CoreMetrics,
  type DeadLetterItem,
  type DeadLetterPublisher,
  type Logger,
  type OutgoingMessage,
} from '@pathwatch/core';
import type { Codec, DeadLetter } from '@pathwatch/schemas';

interface Step {
  stage: string;
  items: readonly DeadLetterItem[];
  built: readonly BuiltDeadLetter[];
}

export interface DrainedDeadLetters {
  /** For the transaction's `messages`; empty `messages` when there are none. */
  entry: { topic: string; messages: OutgoingMessage[]; maxBatchBytes: number };
  /** Call once the transaction committed: metrics and log lines. */
  committed(): void;
  count: number;
}

export class TransactionalDeadLetters {
  /** Dead letters of the decode step of the batch being handled. */
  private staged: Step[] = [];
  /** Dead letters whose inputs' offsets are pending (moved here in the same synchronous step as the offsets). */
  private pending: Step[] = [];
  private maxRecordBytes: number;
  private readonly log: Logger;

  constructor(
    private readonly opts: {
      codec: Codec;
      topic: string;
      metrics: CoreMetrics;
      logger: Logger;
      now: () => number;
      maxRecordBytes?: number | undefined;
    },
  ) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
    this.log = opts.logger.child({ module: 'dead-letter' });
  }

  /** The dead-letter topic's effective limit, once known (see resolveDeadLetterMaxBytes). */
  setMaxRecordBytes(n: number): void {
    this.maxRecordBytes = n;
  }

  /** For the stage runner: stages the decode step's dead letters (they wait for their batch's offsets). */
  readonly publisher: DeadLetterPublisher = {
    publish: (stage, items) => {
      if (items.length > 0) this.staged.push(this.build(stage, items));
      return Promise.resolve();
    },
  };

  /**
   * The batch's offsets become pending now: its staged dead letters and `refused` (inputs the engine refused) go
   * into the next transaction with them. Call in the same synchronous step that records the offsets.
   */
  settle(stage: string, refused: readonly DeadLetterItem[]): void {
    this.pending.push(...this.staged);
    this.staged = [];
    if (refused.length > 0) this.pending.push(this.build(stage, refused));
  }

  /**
   * Takes the decode step's staged dead letters out of the batch flow (the input merger holds records back, so a
   * batch's offsets do not become pending as a whole): `release()` makes them pending, to be called in the
   * synchronous step in which the committed position passes them. undefined when none are staged.
   */
  detachStaged(): (() => void) | undefined {
    if (this.staged.length === 0) return undefined;
    const steps = this.staged;
    this.staged = [];
    return () => {
      this.pending.push(...steps);
    };
  }

  /** Inputs the engine refused as they were applied: pending at once (their offsets are passed already). */
  settleRefused(stage: string, refused: readonly DeadLetterItem[]): void {
    if (refused.length > 0) this.pending.push(this.build(stage, refused));
  }

  /** Takes the pending dead letters for the transaction being drained (with the pending offsets). */
  drain(): DrainedDeadLetters {
    const steps = this.pending;
    this.pending = [];
    const messages = steps.flatMap((d) => d.built.map((b) => b.message));
    return {
      entry: { topic: this.opts.topic, messages, maxBatchBytes: deadLetterBatchBytes(this.maxRecordBytes) },
      committed: () => {
        for (const d of steps) recordDeadLetters(this.log, this.opts.metrics, d.stage, d.items, d.built);
      },
      count: messages.length,
    };
  }

  private build(stage: string, items: readonly DeadLetterItem[]): Step {
    const at = this.opts.now();
    const encode = (d: DeadLetter): Buffer => this.opts.codec.encode('dead_letter', d);
    return {
      stage,
      items,
      built: items.map((it) =>
        buildDeadLetter(stage, it, at, { encode, maxRecordBytes: this.maxRecordBytes }),
      ),
    };
  }
}
