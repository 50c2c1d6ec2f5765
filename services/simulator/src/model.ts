// The simulator's data model: scripted events (what to send, when it happened, when to send it) and the ground
// truth each unit of traffic is expected to produce.
import type {
  DispatchAttempted,
  ErrorCategory,
  EvidenceLevel,
  ProviderCallback,
  RequestAccepted,
  VerdictClass,
  WireFormat,
} from '@pathwatch/schemas';

/** The three input topics, by the kind of event they carry (names come from the schemas catalog). */
export type InputKind = 'request' | 'dispatch' | 'callback';

/** What a unit of traffic is. */
export type UnitKind = 'request' | 'orphan_callback' | 'orphan_dispatch' | 'invalid';

/** Faults the generator injected into a unit (the knobs of FaultRates that fired, plus derived ones). */
export type FaultKind =
  | 'drop_dispatch'
  | 'drop_final_callback'
  | 'delay_beyond_sla'
  | 'provider_failure'
  | 'expired'
  | 'late_evidence_after_give_up'
  | 'delayed_receipt'
  | 'retry'
  | 'failover'
  | 'ambiguous_timeout'
  | 'ambiguous_timeout_delivers'
  | 'duplicate_callback'
  | 'out_of_order_callback'
  | 'callback_before_dispatch'
  | 'callback_without_request_id'
  | 'skip_intermediate'
  | 'hot_spot'
  | 'orphan_callback'
  | 'orphan_dispatch'
  | 'invalid_record';

/** Verdict flags the ground truth predicts (names as in verdict.avsc). */
export type VerdictFlag =
  | 'duplicate_callback'
  | 'retried'
  | 'failed_over'
  | 'ambiguous_submit'
  | 'callback_before_dispatch'
  | 'multi_delivered';

/** Undecodable or schema-invalid records and the dead-letter reason code the codec gives them. */
export type InvalidKind =
  | 'empty'
  | 'bad_magic'
  | 'unknown_schema_id'
  | 'truncated_avro'
  | 'malformed_json'
  | 'schema_invalid_json'
  | 'semantically_invalid_avro';

interface EventBase {
  /** Arrival index of the unit this event belongs to. */
  readonly unit: number;
  /** Position within the unit (tie-break for equal publish times). */
  readonly seq: number;
  /** Counter label, e.g. `callback:delivered`, `callback:duplicate`, `dispatch:timeout`. */
  readonly label: string;
  /** Event time (envelope.occurred_at). */
  readonly occurredAt: number;
  /** Processing time at which to send it, on the same virtual clock as event time (>= occurredAt). */
  readonly publishAt: number;
  /** Kafka key: request_id, or `provider:provider_message_id` for callbacks without request_id. */
  readonly key: string;
  /** W3C traceparent header (one trace per request, one span per event). */
  readonly traceparent: string;
  readonly format: WireFormat;
}

export interface ScriptedRequest extends EventBase {
  readonly kind: 'request';
  readonly value: RequestAccepted;
}

export interface ScriptedDispatch extends EventBase {
  readonly kind: 'dispatch';
  readonly value: DispatchAttempted;
}

export interface ScriptedCallback extends EventBase {
  readonly kind: 'callback';
  readonly value: ProviderCallback;
}

export interface ScriptedInvalid extends EventBase {
  readonly kind: 'invalid';
  /** Topic (by kind) the bad record is sent to. */
  readonly topicKind: InputKind;
  readonly invalidKind: InvalidKind;
  /** A valid value of `topicKind` the bad bytes are derived from (truncated, corrupted, ...). */
  readonly template: RequestAccepted | DispatchAttempted | ProviderCallback;
  /** Deterministic bytes for random-garbage kinds. */
  readonly noise: string;
}

export type ScriptedEvent = ScriptedRequest | ScriptedDispatch | ScriptedCallback | ScriptedInvalid;

/** The three layers of a verdict (verdict.avsc api_ok / execution_ok / outcome_ok). */
export interface ExpectedLayers {
  readonly apiOk: boolean;
  readonly executionOk: boolean | null;
  readonly outcomeOk: boolean | null;
}

/** Ground truth for a request or an orphan. */
export interface VerdictExpectation {
  readonly kind: 'request' | 'orphan_callback' | 'orphan_dispatch';
  readonly unit: number;
  /** request_id; null for an orphan callback without one. */
  readonly requestId: string | null;
  /** The reconciler's identity for the unit: request_id, or `provider:provider_message_id`. */
  readonly key: string;
  readonly tenantId: string;
  readonly operation: string | null;
  readonly channel: string | null;
  readonly inputFingerprint: string | null;
  readonly attributes: Readonly<Record<string, string>>;
  /** Routes and providers of the attempts, in attempt order. */
  readonly routes: readonly string[];
  readonly providers: readonly string[];
  /** Faults injected (labels); the verdict below is derived from the events, not from these. */
  readonly faults: readonly FaultKind[];
  /** Expected final verdict class (never `overdue`). Exact in any processing order. */
  readonly verdict: VerdictClass;
  readonly errorCategory: ErrorCategory | null;
  readonly errorCode: string | null;
  /** Flags that hold whatever the processing order (sorted). */
  readonly flags: readonly VerdictFlag[];
  /** Flags that depend on the reconciler processing in publish order across topics (sorted). */
  readonly timingFlags: readonly VerdictFlag[];
  /**
   * Distinct verdict classes in the order the reconciler should emit them, e.g. ['overdue', 'delivered_late'] or
   * ['overdue', 'missing_outcome', 'delivered_late']. Exact when the reconciler's clock follows the publish
   * schedule (paced runs); in an as-fast-as-possible batch only the last element is guaranteed.
   */
  readonly lifecycle: readonly VerdictClass[];
  /** A provisional `overdue` version precedes the final one. */
  readonly passesThroughOverdue: boolean;
  /**
   * The verdict CLASS changes after a final version because late evidence arrived (missing_outcome ->
   * delivered_late): a version with is_correction = true and previous_verdict = missing_outcome. Versions that
   * only change flags or evidence after a final version (a duplicate or a second delivery arriving later, a
   * callback attached to its late dispatch) are revisions (is_correction = false) and are not predicted.
   */
  readonly correctionExpected: boolean;
  /** The final class relies on a missing_* verdict having fired (no evidence settles it). */
  readonly decidedByHorizon: boolean;
  readonly layers: ExpectedLayers;
  readonly acceptedAt: number | null;
  readonly slaMs: number | null;
  readonly giveUpMs: number | null;
  /** acceptedAt + slaMs / + giveUpMs (event time). */
  readonly slaDeadlineAt: number | null;
  readonly giveUpAt: number | null;
  /** Event time of the deciding final evidence (earliest delivered receipt, or the failure/expiry receipt). */
  readonly finalAt: number | null;
  /** Highest evidence level among the unit's callbacks (none without any). */
  readonly evidenceLevel: EvidenceLevel;
  readonly attempts: number;
  /** Callbacks sent for the unit, duplicates included. */
  readonly callbacks: number;
  readonly duplicateCallbacks: number;
  /** Virtual processing time of the unit's first and last event. */
  readonly firstPublishAt: number;
  readonly lastPublishAt: number;
  /**
   * Event time by which the final class is decided: the give-up horizon for missing_*, else the deciding evidence's
   * publish time. A test may assert the final class once the reconciler's clock passed this (plus its bound).
   */
  readonly decidedAt: number;
}

/** Ground truth for an invalid record: it must land in the dead-letter topic. */
export interface DeadLetterExpectation {
  readonly kind: 'invalid';
  readonly unit: number;
  readonly key: string;
  readonly topicKind: InputKind;
  readonly invalidKind: InvalidKind;
  /** DecodeError code the schemas codec reports for it (the dead-letter reason_code). */
  readonly reasonCode: string;
  readonly publishAt: number;
}

export type Expectation = VerdictExpectation | DeadLetterExpectation;

/** One unit of traffic: a request with its execution path, an orphan, or an invalid record. */
export interface ScriptedUnit {
  readonly index: number;
  readonly kind: UnitKind;
  /** Event time at which the unit starts (arrival). Every event's publishAt is >= anchorAt. */
  readonly anchorAt: number;
  /** Sorted by (publishAt, seq). */
  readonly events: readonly ScriptedEvent[];
  readonly expectation: Expectation;
  /** How many drafts were discarded because a deciding time fell inside a safety margin. */
  readonly redrafts: number;
}
