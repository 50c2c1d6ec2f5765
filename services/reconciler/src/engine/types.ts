// Public types of the engine API.
import type {
  Action,
  DispatchAttempted,
  ProviderCallback,
  RequestAccepted,
  Verdict,
} from '@pathwatch/schemas';
import type { InputWatermark } from './clock.js';

/**
 * Where an input event came from: the Kafka partition (the same number on every co-partitioned input topic)
 * and the offset. The engine keeps one watermark per (topic, partition): the method called tells the topic.
 */
export interface InputPosition {
  readonly partition: number;
  readonly offset: string;
  /**
   * Wall time the wiring received the record (its fetch), when it held it before applying it (the input
   * merger): the clock's wall-time extrapolation counts from when the input spoke, not from when we applied it.
   * @default now
   */
  readonly receivedAt?: number;
}

export type InputKind = 'request' | 'dispatch' | 'callback';

/** Injected processing-time clock. */
export interface WallClock {
  now(): number;
}

/**
 * Result of feeding one event (or one binding/handoff record). INVALID, TOO_LATE and REFUSED go to the
 * dead-letter topic; APPLIED, DUPLICATE, FORWARDED and IGNORED are handled.
 */
export const IngestStatus = {
  /** Incorporated into the request's state (a version may or may not have been emitted). */
  APPLIED: 0,
  /** Exact duplicate (same event, or the request/attempt was already known): no state change. */
  DUPLICATE: 1,
  /** Missing or absurd required fields (request_id on requests/dispatches, non-finite times). */
  INVALID: 2,
  /** A request event for a request already forgotten, or older than give-up + correction horizon. */
  TOO_LATE: 3,
  /** Per-request caps (attempts, callbacks, blob size) exceeded. */
  REFUSED: 4,
  /**
   * A callback without request_id whose (provider, provider_message_id) is bound to a request owned by another
   * instance (a remote binding): no local state; it leaves through drainHandoffs().
   */
  FORWARDED: 5,
  /**
   * A binding record with nothing to do here: the pair is bound to a request of this instance, or already
   * bound remotely to another request (first binding wins; counted as a conflict).
   */
  IGNORED: 6,
} as const;
export type IngestStatusCode = (typeof IngestStatus)[keyof typeof IngestStatus];
export const INGEST_STATUS_NAMES = [
  'applied',
  'duplicate',
  'invalid',
  'too_late',
  'refused',
  'forwarded',
  'ignored',
] as const;

export interface EngineOutputs {
  readonly verdicts: Verdict[];
  readonly actions: Action[];
}

/**
 * One changed piece of state for the compacted changelog topic, co-partitioned with the inputs (`partition`
 * is the request's home partition). A null value deletes the key.
 */
export interface ChangelogRecord {
  readonly partition: number;
  readonly key: string;
  readonly value: Buffer | null;
}

/** Position of a state export (`Engine.exportState`); start with `EXPORT_START`. */
export interface ExportCursor {
  readonly phase: 'slots' | 'tombs' | 'bindings' | 'meta' | 'done';
  readonly at: number;
}

export const EXPORT_START: ExportCursor = Object.freeze({ phase: 'slots', at: 0 });

/**
 * Callbacks without request_id handed to the instance owning their request (scale-out). Publish `value` keyed
 * by `requestId` (so it lands on the request's partition) in the same transaction as the outputs, the changelog
 * and the input offsets; the owner feeds it to onHandoff().
 */
export interface HandoffRecord {
  readonly requestId: string;
  readonly value: Buffer;
}

export interface ClockView {
  /** Event-time clock (null until any event was seen). */
  readonly eventTime: number | null;
  readonly source: 'watermark' | 'wall_clock';
  /** Processing time minus the clock. */
  readonly lagMs: number | null;
  readonly inputs: (InputWatermark & { readonly kind: InputKind; readonly partition: number })[];
  /** After a restore: deadlines before this event time are released at a bounded rate. */
  readonly recoveryUntil: number | null;
}

export interface EngineStats {
  readonly openRequests: number;
  readonly pendingCallbacks: number;
  readonly closedTraces: number;
  readonly tombstones: number;
  /** Remote bindings (provider message ids bound to requests of other instances). */
  readonly remoteBindings: number;
  /** Callbacks waiting in drainHandoffs(). */
  readonly pendingHandoffs: number;
  readonly deadlines: { readonly open: number; readonly pending: number; readonly closed: number };
  readonly recoveryQueue: number;
  /** Off-heap bytes: arena pages, slot table, hash indexes, deadline indexes, tombstones, remote bindings. */
  readonly bytes: {
    readonly arenaReserved: number;
    readonly arenaInUse: number;
    readonly arenaFree: number;
    readonly slots: number;
    readonly indexes: number;
    readonly deadlines: number;
    readonly tombstones: number;
    /** Ring and index of the remote bindings (their strings live in the arena). */
    readonly remoteBindings: number;
    readonly total: number;
  };
  readonly interned: {
    readonly strings: number;
    readonly attributeSets: number;
    readonly overflowed: number;
  };
  readonly counters: Readonly<Record<string, number>>;
}

/** The engine. Structurally satisfies the wiring's EnginePort (src/engine-port.ts) and adds introspection. */
export interface Engine {
  onRequest(ev: RequestAccepted, at: InputPosition): IngestStatusCode;
  onDispatch(ev: DispatchAttempted, at: InputPosition): IngestStatusCode;
  onCallback(ev: ProviderCallback, at: InputPosition): IngestStatusCode;
  /** Processing-time step (call every ~100-250 ms even without input): idle detection, wall-clock advance, recovery release. */
  tick(): void;
  /** Verdict versions and actions emitted since the last call, in emission order. */
  drainOutputs(): EngineOutputs;
  /** State changes since the last call (commit them atomically with the drained outputs and the input offsets). */
  drainChangelog(): ChangelogRecord[];
  /**
   * The whole state as changelog records, at most `maxRecords` per call, for a snapshot: call with
   * `EXPORT_START`, then with each returned cursor until its phase is 'done'.
   */
  exportState(cursor: ExportCursor, maxRecords: number): { records: ChangelogRecord[]; next: ExportCursor };
  /** Loads one partition's state from its changelog records (before that partition's inputs). */
  restore(partition: number, records: Iterable<{ readonly key: string; readonly value: Uint8Array }>): void;
  /** Forgets, silently, the state of partitions this instance no longer owns. */
  dropPartitions(partitions: readonly number[]): void;
  /**
   * The wiring saw a fetch return no records for any input: every input is caught up and its source quiet. The
   * clock treats inputs with no event since as idle at the next tick (instead of after `idleTimeoutMs`), so
   * deadlines keep firing on wall time as soon as traffic stops.
   */
  inputsCaughtUp(): void;
  /**
   * Tells the clock how many records of an input topic-partition are still unread: fetched but not applied yet,
   * plus those behind its high watermark (0 = caught up to its end). From the first report on, the input is idle
   * exactly while this is 0 — decided here, at this point of the input sequence, not by wall-time timeouts — so
   * a partition with unread records holds the clock back (even before its first event, or after a restart) and
   * one at its end never does. Report every assigned input at assignment (SEMANTICS.md §5).
   */
  setBacklog(kind: InputKind, partition: number, records: number): void;
  /**
   * (provider, provider_message_id) -> request_id through the dispatch index (requests of this instance), else
   * through the remote bindings (requests of other instances), or null.
   */
  lookupRequestId(provider: string, providerMessageId: string): string | null;
  /**
   * Scale-out: a binding record consumed from the internal bindings topic (published by the instance whose
   * dispatch fired `onBinding`, keyed `provider:provider_message_id`). `at.partition` is that record's partition
   * (= the partition of those callbacks). Not a clock input. Callbacks waiting for the pair are handed off
   * (drainHandoffs) and later ones are forwarded. APPLIED, DUPLICATE (known), IGNORED (local or conflicting),
   * INVALID (empty or oversized ids).
   */
  onRemoteBinding(
    provider: string,
    providerMessageId: string,
    requestId: string,
    at: InputPosition,
  ): IngestStatusCode;
  /**
   * Scale-out: a handoff record consumed from the internal handoffs topic (keyed by request_id; `at.partition`
   * is its partition = the request's). Merges the callbacks into the request as a local binding would. Not a
   * clock input. APPLIED, DUPLICATE (every callback already recorded), REFUSED (caps), INVALID (malformed:
   * dead-letter it). Never throws.
   */
  onHandoff(requestId: string, value: Uint8Array, at: InputPosition): IngestStatusCode;
  /** Handoff records produced since the last call (commit them with drainOutputs/drainChangelog). */
  drainHandoffs(): HandoffRecord[];
  stats(): EngineStats;
  watermarks(): ClockView;
}
