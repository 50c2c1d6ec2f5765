/**
 * What the Kafka wiring needs from the engine. The engine is pure (no I/O); the wiring feeds it decoded inputs
 * with their positions, advances its clock, and commits its outputs together with its state changes.
 */
import type { Action, DispatchAttempted, ProviderCallback, RequestAccepted, Verdict } from '@pathwatch/schemas';

export interface InputPosition {
  partition: number;
  offset: string;
}

/** One changed piece of state, written to the compacted changelog topic (value null = forget). */
export interface ChangelogRecord {
  partition: number;
  key: string;
  value: Buffer | null;
}

export interface EngineOutputs {
  verdicts: Verdict[];
  actions: Action[];
}

export interface EnginePort {
  onRequest(ev: RequestAccepted, at: InputPosition): void;
  onDispatch(ev: DispatchAttempted, at: InputPosition): void;
  onCallback(ev: ProviderCallback, at: InputPosition): void;
  /** Advances the hybrid clock with the injected wall clock and fires due deadlines. */
  tick(): void;
  /** Outputs produced since the last call, in order. */
  drainOutputs(): EngineOutputs;
  /** State changes since the last call (one record per changed key, last write wins). */
  drainChangelog(): ChangelogRecord[];
  /** Loads state from changelog records of one partition (called before that partition's inputs). */
  restore(partition: number, records: Iterable<{ key: string; value: Buffer }>): void;
  /** Forgets the state of partitions this instance no longer owns. */
  dropPartitions(partitions: readonly number[]): void;
}
