// The reconciler engine: one compact state per request_id, the hybrid stream-time clock, the deadline indexes
// and the verdict/action lifecycle. Pure: no I/O, no timers; wall time comes from the injected wall clock,
// stream (event) time from the events. SEMANTICS.md is the specification; test/reference-model.ts is its
// executable twin.
//
// This class is the facade of the Engine interface; the parts own one concern each:
//   state.ts            the stores, interners, clock, counters and outputs every part shares
//   slot-store.ts       slot table, arena blobs, header accessors       records.ts     attempt/callback records
//   key-index.ts        request_id and (provider, pmid) indexes         tombstones.ts  forgotten keys
//   ingest.ts           event validation, dedupe, binding               lifecycle.ts   evaluate, deadlines, bounds, forget
//   classify.ts         history -> verdict class                        verdict.ts     the Verdict record
//   actions.ts          compensating actions and retractions            changelog-state.ts  changelog and export
//   recovery.ts         bounded release after a restart                 restore.ts     restore and partition drop
//   scale-out.ts        remote bindings and handoffs                    deadline-rules.ts   SLA / give-up lookup
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import { ActionBuilder } from './actions.js';
import { ChangelogState } from './changelog-state.js';
import { Classifier } from './classify.js';
import { SRC_WALL } from './clock.js';
import * as K from './codes.js';
import { Ingest } from './ingest.js';
import { Lifecycle } from './lifecycle.js';
import type { EngineOptions } from './options.js';
import { resolveOptions } from './options.js';
import { RecoveryQueue } from './recovery.js';
import { StateRestore } from './restore.js';
import { ScaleOut } from './scale-out.js';
import { NO_SLOT } from './slot-store.js';
import { EngineState, KIND_NAMES } from './state.js';
import { VerdictBuilder } from './verdict.js';
import type {
  ChangelogRecord,
  ClockView,
  Engine,
  EngineOutputs,
  EngineStats,
  ExportCursor,
  HandoffRecord,
  IngestStatusCode,
  InputKind,
  InputPosition,
  WallClock,
} from './types.js';

export function createEngine(
  options: EngineOptions = {},
  wall: WallClock = { now: () => Date.now() },
): Engine {
  return new ReconcilerEngine(options, wall);
}

class ReconcilerEngine implements Engine {
  private readonly s: EngineState;
  private readonly recovery: RecoveryQueue;
  private readonly changelog: ChangelogState;
  private readonly life: Lifecycle;
  private readonly scaleOut: ScaleOut;
  private readonly ingest: Ingest;
  private readonly restorer: StateRestore;

  constructor(options: EngineOptions, wall: WallClock) {
    const s = (this.s = new EngineState(resolveOptions(options), wall));
    const cl = new Classifier(s.store, s.o, s.errCodes);
    this.recovery = new RecoveryQueue(s.store, s.o.recoveryReleasePerSec);
    this.changelog = new ChangelogState(s);
    this.life = new Lifecycle(
      s,
      cl,
      new VerdictBuilder(s, cl),
      new ActionBuilder(s, cl),
      this.changelog,
      this.recovery,
    );
    this.scaleOut = new ScaleOut(s, this.life, this.changelog);
    this.ingest = new Ingest(s, this.life, this.scaleOut);
    this.restorer = new StateRestore(s, this.life, this.recovery, this.scaleOut, this.changelog);
  }

  // ---- input ----

  onRequest(ev: RequestAccepted, src: InputPosition): IngestStatusCode {
    return this.ingest.onRequest(ev, src);
  }

  onDispatch(ev: DispatchAttempted, src: InputPosition): IngestStatusCode {
    return this.ingest.onDispatch(ev, src);
  }

  onCallback(ev: ProviderCallback, src: InputPosition): IngestStatusCode {
    return this.ingest.onCallback(ev, src);
  }

  onRemoteBinding(
    provider: string,
    providerMessageId: string,
    requestId: string,
    src: InputPosition,
  ): IngestStatusCode {
    return this.scaleOut.onRemoteBinding(provider, providerMessageId, requestId, src);
  }

  onHandoff(requestId: string, value: Uint8Array, src: InputPosition): IngestStatusCode {
    return this.scaleOut.onHandoff(requestId, value, src);
  }

  inputsCaughtUp(): void {
    const s = this.s;
    s.clock.caughtUp((s.wallNow = s.wall.now()));
  }

  setBacklog(kind: InputKind, partition: number, records: number): void {
    const s = this.s;
    const clock = s.clock;
    const now = (s.wallNow = s.wall.now());
    // semantics/determinism: a reported backlog decides the input's idleness at once (clock.ts); an input going
    // idle here may release the clock, so the deadlines it passes fire at this point of the input sequence.
    const before = clock.count;
    const i = clock.index(partition * 3 + KIND_NAMES.indexOf(kind), now);
    if (clock.count !== before) s.partitions.add(partition);
    // Unread records right after a restore: the downtime's event time is in that backlog and is read as an
    // uninterrupted run reads it, so nothing is released as downtime (SEMANTICS.md §6).
    if (records > 0 && s.c.events === 0) this.recovery.until = -Infinity;
    if (clock.setBacklog(i, records)) {
      this.life.fireDue(clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK);
      this.life.enforceBounds();
    }
  }

  // ---- time ----

  tick(): void {
    const s = this.s;
    const now = (s.wallNow = s.wall.now());
    const advanced = s.clock.tick(now);
    if (advanced) this.life.fireDue(s.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK);
    s.c.recoveryReleased += this.recovery.release(now, s.clock.streamTime, this.life);
    s.tombs.expire(s.clock.streamTime);
    this.scaleOut.expireRemoteBindings();
    this.life.enforceBounds();
  }

  // ---- output ----

  drainOutputs(): EngineOutputs {
    const s = this.s;
    const out: EngineOutputs = { verdicts: s.verdicts, actions: s.actions };
    s.verdicts = [];
    s.actions = [];
    return out;
  }

  drainHandoffs(): HandoffRecord[] {
    return this.scaleOut.drainHandoffs();
  }

  lookupRequestId(provider: string, providerMessageId: string): string | null {
    const s = this.s;
    const pid = s.names.peek(provider);
    if (pid < 0) return null;
    const h = s.keys.pmidHash(pid, providerMessageId);
    const slot = s.keys.findPmid(pid, providerMessageId, h);
    if (slot !== NO_SLOT && (s.store.rd8(slot, K.O_STATE) & K.ST_PSEUDO) === 0) return s.keys.keyString(slot);
    const i = s.rb.find(pid, providerMessageId, h, s.clock.streamTime);
    return i >= 0 ? s.rb.requestId(i) : null;
  }

  // ---- state ----

  drainChangelog(): ChangelogRecord[] {
    return this.changelog.drain();
  }

  exportState(cursor: ExportCursor, maxRecords: number): { records: ChangelogRecord[]; next: ExportCursor } {
    return this.changelog.exportState(cursor, maxRecords);
  }

  restore(partition: number, records: Iterable<{ readonly key: string; readonly value: Uint8Array }>): void {
    this.restorer.restore(partition, records);
  }

  dropPartitions(partitions: readonly number[]): void {
    this.restorer.dropPartitions(partitions);
  }

  // ---- introspection ----

  stats(): EngineStats {
    const s = this.s;
    const bytes = {
      arenaReserved: s.store.arena.bytesReserved,
      arenaInUse: s.store.arena.bytesInUse,
      arenaFree: s.store.arena.bytesFree,
      slots: s.store.bytes,
      indexes: s.keys.bytes,
      deadlines: s.openDl.bytes + s.pendingDl.bytes + s.closedDl.bytes,
      tombstones: s.tombs.bytes,
      remoteBindings: s.rb.bytes,
      total: 0,
    };
    bytes.total =
      bytes.arenaReserved +
      bytes.slots +
      bytes.indexes +
      bytes.deadlines +
      bytes.tombstones +
      bytes.remoteBindings;
    const counters: Record<string, number> = { ...s.c };
    counters['blobReallocs'] = s.store.reallocs;
    counters['lateEvents'] = s.clock.lateEvents;
    counters['futureCapped'] = s.clock.futureCapped;
    return {
      openRequests: s.openCount,
      pendingCallbacks: s.pendingCount,
      closedTraces: s.closedCount,
      tombstones: s.tombs.count,
      remoteBindings: s.rb.count,
      pendingHandoffs: this.scaleOut.pendingHandoffCount,
      deadlines: { open: s.openDl.size, pending: s.pendingDl.size, closed: s.closedDl.size },
      recoveryQueue: this.recovery.size,
      bytes,
      interned: {
        strings: s.tenants.size + s.names.size + s.errCodes.size,
        attributeSets: s.attrSets.size,
        overflowed: s.tenants.overflowed + s.names.overflowed + s.errCodes.overflowed + s.attrSets.overflowed,
      },
      counters,
    };
  }

  watermarks(): ClockView {
    const s = this.s;
    const T = s.clock.streamTime;
    return {
      eventTime: T === -Infinity ? null : T,
      source: s.clock.source === SRC_WALL ? 'wall_clock' : 'watermark',
      lagMs: T === -Infinity ? null : s.wall.now() - T,
      inputs: s.clock
        .snapshot()
        .map((w) => ({ ...w, kind: KIND_NAMES[w.input % 3]!, partition: Math.floor(w.input / 3) })),
      recoveryUntil: this.recovery.until === -Infinity ? null : this.recovery.until,
    };
  }
}
