// Classification: reads a slot's whole stored history into per-attempt scratch (scan) and decides its
// verdict class, flags, error, evidence and next deadline at a stream time (classify). SEMANTICS.md is the
// specification. No allocation per evaluation: results are fields, read by the verdict and action builders
// right after.
import * as K from './codes.js';
import type { Interner } from './intern.js';
import type { ResolvedOptions } from './options.js';
import type { SlotStore } from './slot-store.js';
import { MASK } from './slot-store.js';
import { PAGE_BITS } from './arena.js';

/** Most attempts a request can hold, plus the pseudo-attempt of unattached callbacks. */
const MAX_ATT = 65;

// Attempt outcome kinds.
export const O_NONE = 0;
export const O_SUCCESS = 1;
export const O_FAILURE = 2;
export const O_EXPIRED = 3;

function statusRank(status: number, isFinal: boolean): number {
  switch (status) {
    case K.S_UNKNOWN:
      return 5;
    case K.S_QUEUED:
      return 10;
    case K.S_SENT:
      return 40;
    default:
      // A terminal status the provider did not mark final ranks above any intermediate, below a real final.
      return isFinal ? 90 : 50;
  }
}

function finalKind(status: number): number {
  switch (status) {
    case K.S_DELIVERED:
      return O_SUCCESS;
    case K.S_EXPIRED:
      return O_EXPIRED;
    case K.S_UNDELIVERED:
    case K.S_REJECTED:
    case K.S_FAILED:
      return O_FAILURE;
    default:
      return O_NONE;
  }
}

export class Classifier {
  /** Most attempts a request holds plus the pseudo-attempt (sizes the scratch of the verdict builder too). */
  static readonly MAX_ATT = MAX_ATT;

  // ---- per-attempt scratch (index n = the pseudo-attempt of unattached callbacks), filled by scan ----
  readonly aRec = new Int32Array(MAX_ATT);
  readonly aNo = new Int32Array(MAX_ATT);
  readonly aDisp = new Float64Array(MAX_ATT);
  readonly aSub = new Int32Array(MAX_ATT);
  readonly aProv = new Int32Array(MAX_ATT);
  readonly aReason = new Int32Array(MAX_ATT);
  readonly aHasPmid = new Uint8Array(MAX_ATT);
  readonly aAttH = new Uint32Array(MAX_ATT);
  readonly aPmidH = new Uint32Array(MAX_ATT);
  readonly aErr = new Int32Array(MAX_ATT);
  readonly hsN = new Int32Array(MAX_ATT);
  readonly hsT = new Float64Array(MAX_ATT);
  readonly hsEv = new Int32Array(MAX_ATT);
  readonly ssN = new Int32Array(MAX_ATT);
  readonly ssT = new Float64Array(MAX_ATT);
  readonly ssEv = new Int32Array(MAX_ATT);
  readonly hfN = new Int32Array(MAX_ATT);
  readonly hfT = new Float64Array(MAX_ATT);
  readonly hfRec = new Int32Array(MAX_ATT);
  readonly sfN = new Int32Array(MAX_ATT);
  readonly sfT = new Float64Array(MAX_ATT);
  readonly sfRec = new Int32Array(MAX_ATT);
  readonly kinds = new Int32Array(MAX_ATT);
  readonly bRank = new Int32Array(MAX_ATT);
  readonly bSeq = new Float64Array(MAX_ATT);
  readonly bTime = new Float64Array(MAX_ATT);
  readonly bNatA = new Float64Array(MAX_ATT);
  readonly bNatB = new Float64Array(MAX_ATT);
  readonly bStatus = new Int32Array(MAX_ATT);
  readonly oKind = new Int32Array(MAX_ATT);
  readonly oTime = new Float64Array(MAX_ATT);
  readonly oRec = new Int32Array(MAX_ATT);
  readonly oEv = new Int32Array(MAX_ATT);
  readonly lsStatus = new Int32Array(MAX_ATT);
  readonly lsTime = new Float64Array(MAX_ATT);
  readonly cbAtt = new Int32Array(256); // attempt index per callback record (scan order)
  readonly cbRec = new Int32Array(256);
  /** Evidence time per callback record (scan order), within its bounds (semantics/skew). */
  readonly cbTime = new Float64Array(256);
  /** Newest evidence time of the scanned slot: acceptance, dispatches, non-duplicate callbacks. */
  scanEvidenceAt = -Infinity;
  /** Largest amount a provider_event_time preceded what its callback answers (0: none). */
  scanSkew = 0;
  scanN = 0; // real attempts
  scanCbs = 0; // callback records (duplicates included)
  scanDups = 0;
  scanMaxEv = 0;
  scanCbd = false;
  scanNonDupCbs = 0;
  scanPseudoHas = false; // unattached callbacks exist
  scanPage = 0;
  scanBase = 0;

  // classification result
  rClass = K.C_PENDING;
  rProvisional = false;
  rFlags = 0;
  rErrCat = K.EC_NONE;
  rErrCode = 0;
  rEvidence = 0;
  rNext = NaN;
  rFinalAt = NaN;
  rLast = -1; // index of the deciding attempt

  constructor(
    private readonly store: SlotStore,
    private readonly o: ResolvedOptions,
    private readonly errCodes: Interner,
  ) {}

  /** Fills the per-attempt scratch from the slot's records. */
  scan(slot: number): void {
    const addr = this.store.addr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    this.scanPage = p;
    this.scanBase = b;
    const u8 = this.store.arena.u8[p]!;
    const u16 = this.store.arena.u16[p]!;
    const u32 = this.store.arena.u32[p]!;
    const i32 = this.store.arena.i32[p]!;
    const f64 = this.store.arena.f64[p]!;
    const start = b + u16[(b + K.O_RECS) >> 1]!;
    const end = b + u16[(b + K.O_USED) >> 1]!;
    // Pass 1: attempts.
    let n = 0;
    let firstDisp = Infinity;
    let lastDisp = -Infinity;
    for (let r = start; r < end;) {
      const type = u8[r]!;
      if (type === K.REC_ATTEMPT) {
        this.aRec[n] = r;
        this.aNo[n] = u16[(r + K.A_NO) >> 1]!;
        this.aDisp[n] = f64[(r + K.A_DISP) >> 3]!;
        if (this.aDisp[n]! < firstDisp) firstDisp = this.aDisp[n]!;
        if (this.aDisp[n]! > lastDisp) lastDisp = this.aDisp[n]!;
        this.aSub[n] = u8[r + K.A_SUBMIT]!;
        this.aProv[n] = u16[(r + K.A_PROVIDER) >> 1]!;
        this.aReason[n] = u8[r + K.A_REASON]!;
        this.aHasPmid[n] = u8[r + K.A_FLAGS]! & 1;
        this.aAttH[n] = u32[(r + K.A_ATTH) >> 2]!;
        this.aPmidH[n] = u32[(r + K.A_PMIDH) >> 2]!;
        this.aErr[n] = u16[(r + K.A_ERRCODE) >> 1]!;
        n++;
        r += u16[(r + K.A_LEN) >> 1]!;
      } else r += K.CB_LEN;
    }
    this.scanN = n;
    for (let i = 0; i <= n; i++) {
      this.hsN[i] = 0;
      this.hsT[i] = Infinity;
      this.hsEv[i] = 0;
      this.ssN[i] = 0;
      this.ssT[i] = Infinity;
      this.ssEv[i] = 0;
      this.hfN[i] = 0;
      this.hfT[i] = Infinity;
      this.hfRec[i] = -1;
      this.sfN[i] = 0;
      this.sfT[i] = Infinity;
      this.sfRec[i] = -1;
      this.kinds[i] = 0;
      this.bRank[i] = -1;
      this.bStatus[i] = -1;
    }
    // semantics/skew: a callback's evidence time lies in [what it answers, when we heard of it]. Lower bound: its
    // attempt's dispatch (and the acceptance); unattached ones: the acceptance and the first dispatch.
    const hasReq = (u8[b + K.O_STATE]! & K.ST_HAS_REQ) !== 0;
    const acceptedAt = hasReq ? f64[(b + K.O_BASE) >> 3]! : -Infinity;
    const uLower = Math.max(acceptedAt, firstDisp === Infinity ? -Infinity : firstDisp);
    let evidenceAt = Math.max(acceptedAt, lastDisp);
    let skew = 0;
    // Pass 2: callbacks, attached to attempts by attempt_id, else (provider, provider_message_id).
    let cbs = 0;
    let dups = 0;
    let maxEv = 0;
    let cbd = false;
    let pseudoHas = false;
    for (let r = start; r < end;) {
      const type = u8[r]!;
      if (type !== K.REC_CALLBACK) {
        r += u16[(r + K.A_LEN) >> 1]!;
        continue;
      }
      const fl = u8[r + K.K_FLAGS]!;
      this.cbRec[cbs] = r;
      if ((fl & K.KF_DUP) !== 0) {
        this.cbAtt[cbs++] = -1;
        dups++;
        r += K.CB_LEN;
        continue;
      }
      let a = -1;
      if ((fl & K.KF_HAS_ATT) !== 0) {
        const h = u32[(r + K.K_ATTH) >> 2]!;
        for (let i = 0; i < n; i++)
          if (this.aAttH[i] === h) {
            a = i;
            break;
          }
      }
      if (a < 0) {
        const prov = u16[(r + K.K_PROVIDER) >> 1]!;
        const h = u32[(r + K.K_PMIDH) >> 2]!;
        for (let i = 0; i < n; i++)
          if (this.aHasPmid[i] === 1 && this.aPmidH[i] === h && this.aProv[i] === prov) {
            a = i;
            break;
          }
      }
      if (a < 0) {
        a = n;
        pseudoHas = true;
      } else if ((fl & K.KF_UNATTACHED) !== 0) cbd = true;
      let time = f64[(r + K.K_TIME) >> 3]!;
      const lower = a < n ? Math.max(acceptedAt, this.aDisp[a]!) : uLower;
      if (time < lower) {
        // Before what it answers: a provider_event_time that early proves the provider's clock slow, so the
        // delivery counts when we heard of it (occurred_at), never earlier than the dispatch.
        const occd = u32[(r + K.K_OCCD) >> 2]!;
        if (occd > 0) {
          if (lower - time > skew) skew = lower - time;
          time += occd;
        }
        if (time < lower) time = lower;
      }
      if (time > evidenceAt) evidenceAt = time;
      this.cbTime[cbs] = time;
      this.cbAtt[cbs++] = a;
      const ev = (fl >> 1) & 3;
      if (ev > maxEv) maxEv = ev;
      const status = u8[r + K.K_STATUS]!;
      const isFinal = (fl & K.KF_FINAL) !== 0;
      const fk = isFinal ? finalKind(status) : O_NONE;
      if (fk !== O_NONE) {
        this.kinds[a] = this.kinds[a]! | (1 << fk);
        const hard = ev !== K.EV_SYNTHETIC;
        if (fk === O_SUCCESS) {
          if (hard) {
            this.hsN[a]!++;
            if (time < this.hsT[a]!) this.hsT[a] = time;
            if (ev > this.hsEv[a]!) this.hsEv[a] = ev;
          } else {
            this.ssN[a]!++;
            if (time < this.ssT[a]!) this.ssT[a] = time;
            if (ev > this.ssEv[a]!) this.ssEv[a] = ev;
          }
        } else if (hard) {
          this.hfN[a]!++;
          if (this.failBefore(u8, u32, r, time, fk, this.hfRec[a]!, this.hfT[a]!)) {
            this.hfT[a] = time;
            this.hfRec[a] = r;
          }
        } else {
          this.sfN[a]!++;
          if (this.failBefore(u8, u32, r, time, fk, this.sfRec[a]!, this.sfT[a]!)) {
            this.sfT[a] = time;
            this.sfRec[a] = r;
          }
        }
      } else {
        // Intermediate (or an inconclusive final): rank-based merge, never regress on a late one.
        const rank = statusRank(status, isFinal);
        const seqKey = (fl & K.KF_HAS_SEQ) !== 0 ? i32[(r + K.K_SEQ) >> 2]! : -Infinity;
        const na = u32[(r + K.K_NATA) >> 2]!;
        const nb = u32[(r + K.K_NATB) >> 2]!;
        const br = this.bRank[a]!;
        let better = rank > br;
        if (rank === br) {
          const bs = this.bSeq[a]!;
          if (seqKey !== bs) better = seqKey > bs;
          else if (time !== this.bTime[a]!) better = time > this.bTime[a]!;
          else if (na !== this.bNatA[a]!) better = na > this.bNatA[a]!;
          else better = nb > this.bNatB[a]!;
        }
        if (better) {
          this.bRank[a] = rank;
          this.bSeq[a] = seqKey;
          this.bTime[a] = time;
          this.bNatA[a] = na;
          this.bNatB[a] = nb;
          this.bStatus[a] = status;
        }
      }
      r += K.CB_LEN;
    }
    this.scanCbs = cbs;
    this.scanDups = dups;
    this.scanMaxEv = maxEv;
    this.scanEvidenceAt = evidenceAt;
    this.scanSkew = skew;
    this.scanCbd = cbd;
    this.scanNonDupCbs = cbs - dups;
    this.scanPseudoHas = pseudoHas;
    // Per-attempt outcome and last status.
    for (let i = 0; i <= n; i++) {
      const hard = this.hsN[i]! + this.hfN[i]! > 0;
      const sN = hard ? this.hsN[i]! : this.ssN[i]!;
      const fN = hard ? this.hfN[i]! : this.sfN[i]!;
      this.lsStatus[i] = -1;
      this.lsTime[i] = NaN;
      if (sN > 0) {
        this.oKind[i] = O_SUCCESS;
        this.oTime[i] = hard ? this.hsT[i]! : this.ssT[i]!;
        this.oEv[i] = hard ? this.hsEv[i]! : this.ssEv[i]!;
        this.oRec[i] = -1;
        this.lsStatus[i] = K.S_DELIVERED;
        this.lsTime[i] = this.oTime[i]!;
      } else if (fN > 0) {
        const rec = hard ? this.hfRec[i]! : this.sfRec[i]!;
        const status = u8[rec + K.K_STATUS]!;
        this.oKind[i] = finalKind(status);
        this.oTime[i] = hard ? this.hfT[i]! : this.sfT[i]!; // within its bounds (semantics/skew)
        this.oEv[i] = (u8[rec + K.K_FLAGS]! >> 1) & 3;
        this.oRec[i] = rec;
        this.lsStatus[i] = status;
        this.lsTime[i] = this.oTime[i]!;
      } else if (i < n && (this.aSub[i] === K.SUB_REJECTED || this.aSub[i] === K.SUB_ERROR)) {
        this.oKind[i] = O_FAILURE;
        this.oTime[i] = this.aDisp[i]!;
        this.oEv[i] = 0;
        this.oRec[i] = -1;
      } else {
        this.oKind[i] = O_NONE;
        this.oTime[i] = NaN;
        this.oEv[i] = 0;
        this.oRec[i] = -1;
      }
      if (this.lsStatus[i] === -1 && this.bRank[i]! >= 0) {
        this.lsStatus[i] = this.bStatus[i]!;
        this.lsTime[i] = this.bTime[i]!;
      }
    }
  }

  /** Failure choice order: earliest evidence time, then failure before expired, then natural key. */
  private failBefore(
    u8: Uint8Array,
    u32: Uint32Array,
    r: number,
    time: number,
    fk: number,
    curRec: number,
    curT: number,
  ): boolean {
    if (curRec < 0) return true;
    if (time !== curT) return time < curT;
    const ck = finalKind(u8[curRec + K.K_STATUS]!);
    if (fk !== ck) return fk === O_FAILURE;
    const na = u32[(r + K.K_NATA) >> 2]!;
    const ca = u32[(curRec + K.K_NATA) >> 2]!;
    if (na !== ca) return na < ca;
    return u32[(r + K.K_NATB) >> 2]! < u32[(curRec + K.K_NATB) >> 2]!;
  }

  /** Classifies the slot at event time T into rClass/rProvisional/rFlags/... and rNext. */
  classify(slot: number, T: number): void {
    this.scan(slot);
    const p = this.scanPage;
    const b = this.scanBase;
    const u8 = this.store.arena.u8[p]!;
    const u16 = this.store.arena.u16[p]!;
    const i32 = this.store.arena.i32[p]!;
    const f64 = this.store.arena.f64[p]!;
    const st = u8[b + K.O_STATE]!;
    const misc = u8[b + K.O_LMISC]!;
    const n = this.scanN;

    // Flags (facts about the history).
    let flags = 0;
    if (this.scanDups > 0) flags |= K.F_DUP;
    if (n >= 2) flags |= K.F_RETRIED;
    let failover = false;
    let ambiguous = false;
    let successReal = 0;
    let conflict = false;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const reason = this.aReason[i]!;
      if (reason === K.R_FAILOVER || reason === K.R_CHANNEL_FALLBACK) failover = true;
      if (this.aProv[i] !== this.aProv[0]) failover = true;
      if (this.aSub[i] === K.SUB_TIMEOUT) ambiguous = true;
      if (this.oKind[i] === O_SUCCESS) successReal++;
      if (last < 0 || this.attemptAfter(i, last)) last = i;
    }
    for (let i = 0; i <= n; i++) {
      const k = this.kinds[i]!;
      if ((k & (k - 1)) !== 0) conflict = true;
    }
    if (failover) flags |= K.F_FAILED_OVER;
    if (conflict) flags |= K.F_CONFLICT;
    if (ambiguous) flags |= K.F_AMBIGUOUS;
    if (this.scanCbd) flags |= K.F_CBD;
    if (successReal >= 2) flags |= K.F_MULTI;
    if ((misc & K.M_DOWNTIME) !== 0) flags |= K.F_DOWNTIME;
    if ((misc & K.M_BEYOND) !== 0) flags |= K.F_BEYOND;
    if ((misc & K.M_EVICTED) !== 0) flags |= K.F_EVICTED;
    if (this.scanSkew > 0) flags |= K.F_SKEW;
    this.rFlags = flags;
    this.rErrCat = K.EC_NONE;
    this.rErrCode = 0;
    this.rEvidence = this.scanMaxEv;
    this.rNext = NaN;
    this.rFinalAt = NaN;
    this.rProvisional = false;

    if ((st & K.ST_HAS_REQ) === 0) {
      // Orphan: no request (yet). Waits orphanGraceMs from its earliest event.
      const due = f64[(b + K.O_BASE) >> 3]! + this.o.orphanGraceMs;
      this.rLast = last;
      if (T >= due) this.rClass = n > 0 ? K.C_ORPHAN_DISPATCH : K.C_ORPHAN_CALLBACK;
      else {
        this.rClass = K.C_PENDING;
        this.rNext = due;
      }
      return;
    }

    const acceptedAt = f64[(b + K.O_BASE) >> 3]!;
    const sla = acceptedAt + i32[(b + K.O_SLA) >> 2]!;
    const giveUp = acceptedAt + i32[(b + K.O_GIVEUP) >> 2]!;
    const apiStatus = u16[(b + K.O_API) >> 1]!;

    // Delivered by any attempt (or by unattached evidence): final.
    let sT = Infinity;
    let sEv = -1;
    for (let i = 0; i <= n; i++) {
      if (i === n && !this.scanPseudoHas) break;
      if (this.oKind[i] === O_SUCCESS) {
        if (this.oTime[i]! < sT) sT = this.oTime[i]!;
        if (this.oEv[i]! > sEv) sEv = this.oEv[i]!;
      }
    }
    this.rLast = last;
    if (sEv >= 0) {
      this.rClass = sT <= sla ? K.C_ON_TIME : K.C_LATE;
      this.rFinalAt = sT;
      this.rEvidence = sEv;
      return;
    }
    if (apiStatus < 200 || apiStatus > 299) {
      this.rClass = K.C_FAILED;
      this.rErrCat = K.EC_REJECTED;
      this.rErrCode = this.errCodes.id(`api_status_${apiStatus}`);
      this.rEvidence = 0;
      return;
    }
    // The deciding attempt: the last real attempt, else the unattached evidence.
    const d = last >= 0 ? last : this.scanPseudoHas ? n : -1;
    let settle = Infinity;
    if (d >= 0) {
      const ok = this.oKind[d]!;
      if (ok === O_FAILURE || ok === O_EXPIRED) {
        const ft = this.oTime[d]!;
        settle = Math.min(ft + this.o.retryGraceMs, giveUp);
        if (T >= settle) {
          this.rClass = ok === O_EXPIRED ? K.C_EXPIRED : K.C_FAILED;
          this.rFinalAt = ft;
          this.rEvidence = this.oEv[d]!;
          const rec = this.oRec[d]!;
          if (rec >= 0) {
            const cat = u8[rec + K.K_ERRCAT]!;
            this.rErrCat = cat !== K.EC_NONE ? cat : ok === O_EXPIRED ? K.EC_EXPIRED : K.EC_UNKNOWN;
            this.rErrCode = u16[(rec + K.K_ERRCODE) >> 1]!;
          } else {
            // Synchronous submit failure of the attempt.
            this.rErrCat = this.aSub[d] === K.SUB_REJECTED ? K.EC_REJECTED : K.EC_INTERNAL;
            this.rErrCode = this.aErr[d]!;
          }
          return;
        }
      }
    }
    if (T >= giveUp) {
      this.rClass = n === 0 && this.scanNonDupCbs === 0 ? K.C_MISSING_DISPATCH : K.C_MISSING_OUTCOME;
      return;
    }
    if (T >= sla) {
      this.rClass = K.C_OVERDUE;
      this.rProvisional = true;
      this.rNext = Math.min(settle, giveUp);
      return;
    }
    this.rClass = K.C_PENDING;
    this.rNext = Math.min(sla, settle);
  }

  /** Attempt order: attempt_no, then dispatch time, then attempt id hash. */
  attemptAfter(i: number, j: number): boolean {
    if (this.aNo[i] !== this.aNo[j]) return this.aNo[i]! > this.aNo[j]!;
    if (this.aDisp[i] !== this.aDisp[j]) return this.aDisp[i]! > this.aDisp[j]!;
    return this.aAttH[i]! > this.aAttH[j]!;
  }
}
