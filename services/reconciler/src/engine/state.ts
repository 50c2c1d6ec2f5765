// What every part of the engine reads and writes: the stores (slots, key indexes, tombstones, remote
// bindings, deadline indexes), the interners, the stream-time clock, occupancy counts, counters, the outputs
// of the current step and the wall time it runs at. The parts (ingest, lifecycle, classifier, ...) hold
// behaviour; this holds data.
import type { Action, Verdict } from '@pathwatch/schemas';
import { HybridClock } from './clock.js';
import { DeadlineIndex } from './deadlines.js';
import { AttributeSets, Interner } from './intern.js';
import { KeyIndexes } from './key-index.js';
import type { ResolvedOptions } from './options.js';
import { SlotRecords } from './records.js';
import { RemoteBindings } from './remote.js';
import { SlotStore } from './slot-store.js';
import { Tombstones } from './tombstones.js';
import type { InputKind, WallClock } from './types.js';

export const KIND_REQUEST = 0;
export const KIND_DISPATCH = 1;
export const KIND_CALLBACK = 2;
export const KIND_NAMES: readonly InputKind[] = ['request', 'dispatch', 'callback'];

export class Counters {
  events = 0;
  requests = 0;
  dispatches = 0;
  callbacks = 0;
  duplicateEvents = 0;
  duplicateRequests = 0;
  duplicateDispatches = 0;
  duplicateCallbacks = 0;
  invalid = 0;
  tooLate = 0;
  refused = 0;
  versions = 0;
  corrections = 0;
  actions = 0;
  retractions = 0;
  pmidConflicts = 0;
  pendingMatched = 0;
  forgotten = 0;
  evictedOpen = 0;
  evictedPending = 0;
  evictedClosed = 0;
  evictedTombstones = 0;
  recoveryReleased = 0;
  restoredSlots = 0;
  blobReallocs = 0;
  // Scale-out (SEMANTICS.md §10).
  remoteBindingsIn = 0;
  remoteBindingConflicts = 0;
  remoteBindingsExpired = 0;
  evictedRemoteBindings = 0;
  remoteMatched = 0;
  forwarded = 0;
  handoffsOut = 0;
  handoffsIn = 0;
  handoffsInvalid = 0;
  handoffCallbacksApplied = 0;
}

export class EngineState {
  readonly store = new SlotStore();
  readonly records = new SlotRecords(this.store);
  readonly tenants = new Interner();
  /** Operation, channel, provider and route names. */
  readonly names = new Interner();
  readonly errCodes = new Interner();
  readonly attrSets = new AttributeSets();
  readonly keys = new KeyIndexes(this.store, this.names);
  readonly tombs = new Tombstones();
  /** Pairs bound to requests of other instances (scale-out); their strings live in the slot arena. */
  readonly rb = new RemoteBindings(this.store.arena);
  readonly clock: HybridClock;
  readonly openDl: DeadlineIndex;
  readonly pendingDl: DeadlineIndex;
  readonly closedDl: DeadlineIndex;
  readonly c = new Counters();

  openCount = 0;
  pendingCount = 0;
  closedCount = 0;

  /** Wall time of the current step. */
  wallNow = 0;
  /** Event time of the triggering event (fallback for decided_at while the clock is unknown). */
  stepEventTime = NaN;
  /** Kafka partitions with inputs or restored state (meta records are written per partition). */
  readonly partitions = new Set<number>();
  /** The clock moved since the last changelog drain. */
  clockDirty = false;

  verdicts: Verdict[] = [];
  actions: Action[] = [];

  constructor(
    readonly o: ResolvedOptions,
    readonly wall: WallClock,
  ) {
    this.clock = new HybridClock(o.maxOutOfOrdernessMs, o.idleTimeoutMs, o.maxFutureSkewMs);
    this.openDl = new DeadlineIndex(o.deadlineBucketMs);
    this.pendingDl = new DeadlineIndex(o.deadlineBucketMs);
    this.closedDl = new DeadlineIndex(o.deadlineBucketMs);
  }

  /** decided_at of a version: stream time, else the triggering event's time, else wall time. */
  decidedAt(): number {
    const T = this.clock.streamTime;
    return T !== -Infinity
      ? T
      : this.stepEventTime === this.stepEventTime
        ? this.stepEventTime
        : this.wallNow;
  }
}
