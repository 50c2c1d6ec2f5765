// The records of a slot's blob: appending attempt and callback records, and the walks that deduplicate
// incoming events against them. Layouts are in codes.ts (A_* attempt fields, K_* callback fields).
import * as K from './codes.js';
import { STR_SCRATCH, attemptHasPair, nextRecord, type SlotStore } from './slot-store.js';
import { encodeTo, equalsAt } from './strcodec.js';

/** findCallback results. */
export const CB_NEW = 0;
/** Same natural key seen: a duplicate report of the same status. */
export const CB_SAME_REPORT = 1;
/** Same event id: an exact duplicate. */
export const CB_SAME_EVENT = 2;

export class SlotRecords {
  /** Set by findCallback: callback records in the slot. */
  callbacks = 0;
  /** Set by findCallback: a known attempt takes a callback with the ids passed. */
  attachable = false;
  /** Set by findAttempt (when it returns false): attempt records in the slot. */
  attempts = 0;

  constructor(private readonly store: SlotStore) {}

  /**
   * Appends an attempt record; false (nothing written) when the blob cannot grow enough. Ids are interned by
   * the caller.
   */
  appendAttempt(
    slot: number,
    attemptId: string,
    rid: string,
    pmid: string | null,
    reason: number,
    submit: number,
    attemptNo: number,
    route: number,
    pid: number,
    errCode: number,
    attH: number,
    pmidH: number,
    eidA: number,
    eidB: number,
    dispatchedAt: number,
  ): boolean {
    // Strings are encoded once into scratch, then copied into the record.
    const sc = STR_SCRATCH;
    let strEnd = encodeTo(sc, 0, attemptId, rid);
    if (pmid) strEnd = encodeTo(sc, strEnd, pmid);
    const recLen = (K.A_STR + strEnd + 7) & ~7;
    const store = this.store;
    if (!store.ensure(slot, recLen)) return false;
    const { u8, u16, u32, p, b, end: r } = store.view(slot);
    u8.fill(0, r, r + recLen);
    u8[r] = K.REC_ATTEMPT;
    u8[r + K.A_REASON] = reason;
    u8[r + K.A_SUBMIT] = submit;
    u8[r + K.A_FLAGS] = pmid ? 1 : 0;
    u16[(r + K.A_NO) >> 1] = Math.max(0, Math.min(65535, attemptNo | 0));
    u16[(r + K.A_ROUTE) >> 1] = route;
    u16[(r + K.A_PROVIDER) >> 1] = pid;
    u16[(r + K.A_ERRCODE) >> 1] = errCode;
    u32[(r + K.A_ATTH) >> 2] = attH;
    u32[(r + K.A_PMIDH) >> 2] = pmidH;
    u32[(r + K.A_EIDA) >> 2] = eidA;
    u32[(r + K.A_EIDB) >> 2] = eidB;
    store.arena.f64[p]![(r + K.A_DISP) >> 3] = dispatchedAt;
    u16[(r + K.A_LEN) >> 1] = recLen;
    for (let i = 0; i < strEnd; i++) u8[r + K.A_STR + i] = sc[i]!;
    u16[(b + K.O_USED) >> 1] = r - b + recLen;
    return true;
  }

  /** Appends a callback record (the caller made room with `store.ensure(slot, K.CB_LEN)`). */
  appendCallback(
    slot: number,
    status: number,
    flags: number,
    errCat: number,
    pid: number,
    errCode: number,
    eidA: number,
    eidB: number,
    natA: number,
    natB: number,
    time: number,
    seq: number,
    attH: number,
    pmidH: number,
    /** occurred_at − time (ms, ≥ 0; rounded up and capped here). */
    occurredAfterMs: number,
  ): void {
    const arena = this.store.arena;
    const { u8, u16, u32, p, b, end: r } = this.store.view(slot);
    u8[r] = K.REC_CALLBACK;
    u8[r + K.K_STATUS] = status;
    u8[r + K.K_FLAGS] = flags;
    u8[r + K.K_ERRCAT] = errCat;
    u16[(r + K.K_PROVIDER) >> 1] = pid;
    u16[(r + K.K_ERRCODE) >> 1] = errCode;
    u32[(r + K.K_EIDA) >> 2] = eidA;
    u32[(r + K.K_EIDB) >> 2] = eidB;
    u32[(r + K.K_NATA) >> 2] = natA;
    u32[(r + K.K_NATB) >> 2] = natB;
    arena.f64[p]![(r + K.K_TIME) >> 3] = time;
    arena.i32[p]![(r + K.K_SEQ) >> 2] = seq;
    u32[(r + K.K_ATTH) >> 2] = attH;
    u32[(r + K.K_PMIDH) >> 2] = pmidH;
    // semantics/skew: kept so the evidence time can fall back to occurred_at when the provider clock proves slow.
    u32[(r + K.K_OCCD) >> 2] = occurredAfterMs > 0 ? Math.min(4294967295, Math.ceil(occurredAfterMs)) : 0;
    u16[(b + K.O_USED) >> 1] = r - b + K.CB_LEN;
  }

  /**
   * CB_NEW, CB_SAME_REPORT (same natural key seen) or CB_SAME_EVENT (same event). Also sets `callbacks` and
   * `attachable` (a known attempt takes a callback with these ids).
   */
  findCallback(
    slot: number,
    eidA: number,
    eidB: number,
    natA: number,
    natB: number,
    hasAtt = false,
    attH = 0,
    pid = -1,
    pmidH = 0,
  ): number {
    const { u8, u16, u32, recs, end } = this.store.view(slot);
    let result = CB_NEW;
    let callbacks = 0;
    let attachable = false;
    for (let r = recs; r < end; r = nextRecord(u8, u16, r)) {
      if (u8[r] === K.REC_CALLBACK) {
        if (u32[(r + K.K_EIDA) >> 2] === eidA && u32[(r + K.K_EIDB) >> 2] === eidB) return CB_SAME_EVENT;
        if (u32[(r + K.K_NATA) >> 2] === natA && u32[(r + K.K_NATB) >> 2] === natB) result = CB_SAME_REPORT;
        callbacks++;
      } else if ((hasAtt && u32[(r + K.A_ATTH) >> 2] === attH) || attemptHasPair(u8, u16, u32, r, pid, pmidH))
        attachable = true;
    }
    this.callbacks = callbacks;
    this.attachable = attachable;
    return result;
  }

  /** True when the same dispatch event or the same attempt id is already recorded; else sets `attempts`. */
  findAttempt(
    slot: number,
    eidA: number,
    eidB: number,
    attH: number,
    attemptId: string,
    rid: string,
  ): boolean {
    const { u8, u16, u32, recs, end } = this.store.view(slot);
    let attempts = 0;
    for (let r = recs; r < end; r = nextRecord(u8, u16, r)) {
      if (u8[r] !== K.REC_ATTEMPT) continue;
      if (u32[(r + K.A_EIDA) >> 2] === eidA && u32[(r + K.A_EIDB) >> 2] === eidB) return true;
      if (u32[(r + K.A_ATTH) >> 2] === attH && equalsAt(u8, r + K.A_STR, attemptId, rid)) return true;
      attempts++;
    }
    this.attempts = attempts;
    return false;
  }
}
