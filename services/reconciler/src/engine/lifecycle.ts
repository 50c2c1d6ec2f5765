// The lifecycle of a slot: created (request, orphan, pseudo key), evaluated into versions, open -> closed ->
// forgotten (a tombstone keeps its version sequence), reopened by new evidence; the deadlines the stream-time
// clock fires, and the state bounds. SEMANTICS.md §§3-7.
import type { ActionBuilder } from './actions.js';
import type { ChangelogState } from './changelog-state.js';
import type { Classifier } from './classify.js';
import { SRC_WALL } from './clock.js';
import * as K from './codes.js';
import type { DeadlineIndex } from './deadlines.js';
import { H } from './hash.js';
import { pseudoKey } from './key-index.js';
import type { RecoveryQueue } from './recovery.js';
import { ATTEMPT_RESERVE, NO_SLOT } from './slot-store.js';
import { tombHashKey } from './snapshot.js';
import type { EngineState } from './state.js';
import { Tombstones } from './tombstones.js';
import type { IngestStatusCode } from './types.js';
import type { VerdictBuilder } from './verdict.js';

export class Lifecycle {
  constructor(
    private readonly s: EngineState,
    private readonly cl: Classifier,
    private readonly verdicts: VerdictBuilder,
    private readonly actions: ActionBuilder,
    private readonly changelog: ChangelogState,
    private readonly recovery: RecoveryQueue,
  ) {}

  // ---- creation ----

  /** A slot for a request id seen first on a dispatch or callback. */
  newOrphanSlot(rid: string, rh: number, tenant: string, t: number, partition: number): number {
    const s = this.s;
    const store = s.store;
    const slot = store.newBlob(rid, null, 0, ATTEMPT_RESERVE, partition);
    s.keys.insertRid(rh, slot);
    s.openCount++;
    store.wr64(slot, K.O_BASE, t);
    store.wr16(slot, K.O_TENANT, s.tenants.id(tenant));
    store.wr16(slot, K.O_API, 0);
    this.continueFromTomb(slot, rid);
    return slot;
  }

  /** A slot for callbacks without request_id waiting for the dispatch that binds (provider, pmid). */
  newPseudoSlot(
    pid: number,
    pmid: string,
    pmidH: number,
    tenant: string,
    t: number,
    partition: number,
  ): number {
    const s = this.s;
    const store = s.store;
    const slot = store.newBlob(pmid, null, K.ST_PSEUDO, K.CB_LEN, partition);
    s.keys.insertPmid(pmidH, slot);
    s.pendingCount++;
    store.wr64(slot, K.O_BASE, t);
    store.wr16(slot, K.O_TENANT, s.tenants.id(tenant));
    store.wr16(slot, K.O_CHANNEL, pid);
    this.continueFromTomb(slot, pseudoKey(s.names.value(pid), pmid));
    return slot;
  }

  /** Late evidence for a forgotten key: continue its version sequence, flagged beyond_correction_horizon. */
  private continueFromTomb(slot: number, key: string): void {
    const s = this.s;
    const tombs = s.tombs;
    const tomb = tombs.find(key, s.clock.streamTime);
    if (tomb < 0) return;
    s.store.wr32(slot, K.O_VERSION, tombs.version(tomb));
    s.store.wr8(slot, K.O_LCLASS, tombs.lastClass(tomb));
    s.store.wr8(slot, K.O_LMISC, K.M_BEYOND);
    // A snapshot may hold this tombstone under its hash key: delete it there too (a no-op otherwise).
    this.changelog.deleteKey(tombs.partition(tomb), tombHashKey(tombs.hashA(tomb), tombs.hashB(tomb)));
    tombs.remove(tomb);
  }

  // ---- evaluation ----

  /**
   * Classifies the slot, emits a version when it changed, moves it between open/closed; true if it emitted.
   * `at`: the deadline that fired it (clock-fired evaluations are decided there), else the clock.
   */
  evaluate(slot: number, firedBy: number, force: boolean, at = NaN): boolean {
    const s = this.s;
    const store = s.store;
    const cl = this.cl;
    const T = at === at ? at : s.clock.streamTime;
    cl.classify(slot, force ? Infinity : T);
    const st = store.rd8(slot, K.O_STATE);
    // semantics/causal: at the deadline or the clock, but never before the newest evidence it rests on (T lags
    // the events by the out-of-orderness bound), so the verdict follows its evidence in every timeline.
    const decidedAt = Math.max(at === at ? at : s.decidedAt(), cl.scanEvidenceAt);
    const cls = cl.rClass;
    let changed = false;
    if (cls !== K.C_PENDING) {
      const lastVersion = store.rd32(slot, K.O_VERSION);
      const misc = store.rd8(slot, K.O_LMISC);
      const lastProv = (misc & K.M_PROVISIONAL) !== 0;
      changed =
        lastVersion === 0 ||
        store.rd8(slot, K.O_LCLASS) !== cls ||
        lastProv !== cl.rProvisional ||
        store.rd16(slot, K.O_LFLAGS) !== cl.rFlags ||
        store.rd8(slot, K.O_LERRCAT) !== cl.rErrCat ||
        store.rd16(slot, K.O_LERRCODE) !== cl.rErrCode ||
        (misc & 3) !== cl.rEvidence;
      if (changed) {
        if (firedBy === K.FB_RECOVERY) {
          store.wr8(slot, K.O_LMISC, misc | K.M_DOWNTIME);
          cl.rFlags |= K.F_DOWNTIME;
        }
        this.emit(slot, firedBy, decidedAt, lastVersion, lastProv);
      }
    }
    // State transitions and deadlines.
    const closedNow = cls !== K.C_PENDING && !cl.rProvisional;
    if (closedNow) {
      const expiry = decidedAt + s.o.correctionHorizonMs;
      if ((st & K.ST_CLOSED) === 0) {
        store.wr8(slot, K.O_STATE, store.rd8(slot, K.O_STATE) | K.ST_CLOSED);
        if ((st & K.ST_PSEUDO) !== 0) s.pendingCount--;
        else s.openCount--;
        s.closedCount++;
      }
      store.wr64(slot, K.O_NEXT, expiry);
      s.closedDl.push(expiry, slot);
    } else {
      const next = cl.rNext;
      if (next !== store.rd64(slot, K.O_NEXT)) {
        store.wr64(slot, K.O_NEXT, next);
        if (next === next) ((st & K.ST_PSEUDO) !== 0 ? s.pendingDl : s.openDl).push(next, slot);
      }
    }
    this.changelog.markDirty(slot);
    return changed;
  }

  private emit(
    slot: number,
    firedBy: number,
    decidedAt: number,
    lastVersion: number,
    lastProv: boolean,
  ): void {
    const s = this.s;
    const store = s.store;
    const cl = this.cl;
    const version = lastVersion + 1;
    const cls = cl.rClass;
    const lastClass = store.rd8(slot, K.O_LCLASS);
    // A correction changes the class of a final version (SEMANTICS.md §4); the same class with other flags,
    // evidence or error details is a revision.
    const isCorrection = lastVersion > 0 && !lastProv && lastClass !== cls;
    store.wr32(slot, K.O_VERSION, version);
    store.wr8(slot, K.O_LCLASS, cls);
    store.wr16(slot, K.O_LFLAGS, cl.rFlags);
    store.wr8(slot, K.O_LERRCAT, cl.rErrCat);
    store.wr16(slot, K.O_LERRCODE, cl.rErrCode);
    const misc = store.rd8(slot, K.O_LMISC) & 0xe0;
    store.wr8(
      slot,
      K.O_LMISC,
      misc | cl.rEvidence | (firedBy << 2) | (cl.rProvisional ? K.M_PROVISIONAL : 0),
    );
    s.c.versions++;
    if (isCorrection) s.c.corrections++;
    const v = this.verdicts.build(
      slot,
      version,
      firedBy,
      decidedAt,
      isCorrection,
      lastVersion > 0 ? lastClass : -1,
      lastVersion === 0 ? 'initial' : lastProv ? 'progress' : isCorrection ? 'correction' : 'revision',
    );
    s.verdicts.push(v);
    this.actions.emit(slot, v);
  }

  /**
   * An existing slot got evidence that occurred at `t`: an orphan's base time is the earliest occurred_at of its
   * events, and a closed slot reopens.
   */
  onNewEvidence(slot: number, t: number): void {
    const store = this.s.store;
    if ((store.rd8(slot, K.O_STATE) & K.ST_HAS_REQ) === 0 && t < store.rd64(slot, K.O_BASE))
      store.wr64(slot, K.O_BASE, t);
    this.reopen(slot);
  }

  /** Re-opens a closed slot that received new evidence (it is re-closed by evaluate if still final). */
  reopen(slot: number): void {
    const s = this.s;
    const st = s.store.rd8(slot, K.O_STATE);
    if ((st & K.ST_CLOSED) === 0) return;
    s.store.wr8(slot, K.O_STATE, st & ~K.ST_CLOSED);
    s.store.wr64(slot, K.O_NEXT, NaN);
    s.closedCount--;
    if ((st & K.ST_PSEUDO) !== 0) s.pendingCount++;
    else s.openCount++;
  }

  // ---- the clock and the bounds ----

  /** After an event: fire deadlines the clock passed, enforce bounds. */
  finishStep(status: IngestStatusCode, advanced: boolean): IngestStatusCode {
    if (advanced) this.fireDue(this.s.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK);
    this.enforceBounds();
    this.s.stepEventTime = NaN;
    return status;
  }

  fireDue(firedBy: number): void {
    const s = this.s;
    const T = s.clock.streamTime;
    const recoveryUntil = this.recovery.until;
    for (;;) {
      const slot = s.openDl.popDue(T);
      if (slot === NO_SLOT) break;
      if (!this.isLiveWithDeadline(slot, s.openDl.poppedDeadline, false)) continue;
      // A deadline that passed while we were down is released at a bounded rate (RecoveryQueue). Only when
      // wall time passes it (quiet inputs): a deadline the watermark passes while a backlog is read is decided
      // as an uninterrupted run decides it (semantics/determinism: a restart changes no version).
      if (firedBy === K.FB_WALL && s.openDl.poppedDeadline < recoveryUntil) this.recovery.enqueue(slot);
      // semantics/determinism: decided at its deadline, not at wherever the clock jumped to, so the versions do
      // not depend on how far one step moved T (a later deadline the key now has re-enters this loop).
      else this.evaluate(slot, firedBy, false, s.openDl.poppedDeadline);
    }
    for (;;) {
      const slot = s.pendingDl.popDue(T);
      if (slot === NO_SLOT) break;
      if (!this.isLiveWithDeadline(slot, s.pendingDl.poppedDeadline, false)) continue;
      this.evaluate(slot, firedBy, false, s.pendingDl.poppedDeadline);
    }
    for (;;) {
      const slot = s.closedDl.popDue(T);
      if (slot === NO_SLOT) break;
      if (!this.isLiveWithDeadline(slot, s.closedDl.poppedDeadline, true)) continue;
      this.forget(slot);
    }
  }

  private isLiveWithDeadline(slot: number, deadline: number, closed: boolean): boolean {
    const store = this.s.store;
    if (!store.isLive(slot)) return false;
    const st = store.rd8(slot, K.O_STATE);
    if (((st & K.ST_CLOSED) !== 0) !== closed) return false;
    return store.rd64(slot, K.O_NEXT) === deadline;
  }

  enforceBounds(): void {
    const s = this.s;
    const store = s.store;
    const o = s.o;
    while (s.openCount > o.maxOpenRequests) {
      const slot = this.popEarliest(s.openDl, false);
      if (slot === NO_SLOT) break;
      s.c.evictedOpen++;
      store.wr8(slot, K.O_LMISC, store.rd8(slot, K.O_LMISC) | K.M_EVICTED);
      this.evaluate(slot, s.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK, true);
    }
    while (s.pendingCount > o.maxPendingCallbacks) {
      const slot = this.popEarliest(s.pendingDl, false);
      if (slot === NO_SLOT) break;
      s.c.evictedPending++;
      store.wr8(slot, K.O_LMISC, store.rd8(slot, K.O_LMISC) | K.M_EVICTED);
      this.evaluate(slot, s.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK, true);
    }
    while (s.closedCount > o.maxClosedTraces) {
      const slot = this.popEarliest(s.closedDl, true);
      if (slot === NO_SLOT) break;
      s.c.evictedClosed++;
      this.forget(slot);
    }
  }

  private popEarliest(dl: DeadlineIndex, closed: boolean): number {
    for (;;) {
      const slot = dl.popMin();
      if (slot === NO_SLOT) return NO_SLOT;
      if (this.isLiveWithDeadline(slot, dl.poppedDeadline, closed)) return slot;
    }
  }

  // ---- removal ----

  /** Forgets a closed slot after its correction horizon (or under the closed-trace bound). */
  forget(slot: number): void {
    const s = this.s;
    const store = s.store;
    const key = s.keys.changelogKey(slot);
    const version = store.rd32(slot, K.O_VERSION);
    const lastClass = store.rd8(slot, K.O_LCLASS);
    const partition = store.rd16(slot, K.O_PART);
    s.closedCount--;
    s.c.forgotten++;
    s.keys.unindex(slot);
    store.release(slot);
    // Pseudo keys version like requests: a later episode under the same key continues the sequence.
    this.forgetKey(key, version, lastClass, partition);
  }

  /**
   * Removes a pseudo slot whose callbacks moved to a request (here or, scale-out, at another instance). Its
   * index entry is already gone or repointed. A pseudo key that published versions keeps its sequence in a
   * tombstone for a later episode; else its changelog key is deleted.
   */
  retirePseudo(slot: number, provider: string, pmid: string): void {
    const s = this.s;
    const store = s.store;
    const st = store.rd8(slot, K.O_STATE);
    if ((st & K.ST_CLOSED) !== 0) s.closedCount--;
    else s.pendingCount--;
    const version = store.rd32(slot, K.O_VERSION);
    const part = store.rd16(slot, K.O_PART);
    const lastClass = store.rd8(slot, K.O_LCLASS);
    store.release(slot);
    this.forgetKey(pseudoKey(provider, pmid), version, lastClass, part);
  }

  /** A removed key that published versions leaves a tombstone; else its changelog key is deleted. */
  private forgetKey(key: string, version: number, lastClass: number, partition: number): void {
    if (version === 0) {
      this.changelog.deleteKey(partition, key);
      return;
    }
    const s = this.s;
    Tombstones.hash(key);
    const T = s.clock.streamTime;
    const expiry = (T === -Infinity ? s.wallNow : T) + s.o.tombstoneHorizonMs;
    s.tombs.add(H.a, H.b, version, lastClass, partition, expiry);
    this.changelog.tomb(partition, key, version, lastClass, expiry);
    while (s.tombs.count > s.o.maxTombstones) {
      s.tombs.popOldest();
      s.c.evictedTombstones++;
    }
  }

  /** Drops a slot created for an event that was then refused (no other state refers to it). */
  freeSlotEntirely(slot: number): void {
    const s = this.s;
    const store = s.store;
    const st = store.rd8(slot, K.O_STATE);
    if ((st & K.ST_PSEUDO) !== 0) {
      s.keys.removePmid(s.keys.pmidHash(store.rd16(slot, K.O_CHANNEL), s.keys.rawKey(slot)), slot);
      s.pendingCount--;
    } else {
      s.keys.removeRid(s.keys.ridHash(s.keys.rawKey(slot)), slot);
      s.openCount--;
    }
    store.release(slot);
  }

  /** Removes a slot and its index entries without output (ownership moved, or replaced by a restore). */
  dropSlot(slot: number): void {
    const s = this.s;
    const st = s.store.rd8(slot, K.O_STATE);
    s.keys.unindex(slot);
    if ((st & K.ST_CLOSED) !== 0) s.closedCount--;
    else if ((st & K.ST_PSEUDO) !== 0) s.pendingCount--;
    else s.openCount--;
    s.store.release(slot);
  }
}
