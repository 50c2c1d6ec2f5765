// Ingest: validates an input event, moves the stream-time clock, deduplicates it against the slot's records,
// appends it, binds (provider, provider_message_id) pairs, and has the lifecycle evaluate the slot.
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import { PAGE_BITS } from './arena.js';
import * as K from './codes.js';
import { DeadlineRules } from './deadline-rules.js';
import { H, h2AddNumber, h2AddString, h2Finish, h2Start, hash32 } from './hash.js';
import type { Lifecycle } from './lifecycle.js';
import { CB_SAME_EVENT, CB_SAME_REPORT } from './records.js';
import type { ScaleOut } from './scale-out.js';
import { ATTEMPT_RESERVE, MASK, NO_SLOT } from './slot-store.js';
import { KIND_CALLBACK, KIND_DISPATCH, KIND_REQUEST, type EngineState } from './state.js';
import type { IngestStatusCode, InputPosition } from './types.js';
import { IngestStatus } from './types.js';

const SEED_EID = 0x51ed;
const SEED_NAT = 0x7a3c;

export class Ingest {
  private readonly deadlines: DeadlineRules;

  constructor(
    private readonly s: EngineState,
    private readonly life: Lifecycle,
    private readonly scaleOut: ScaleOut,
  ) {
    this.deadlines = new DeadlineRules(s.o, s.names);
  }

  onRequest(ev: RequestAccepted, src: InputPosition): IngestStatusCode {
    const s = this.s;
    const store = s.store;
    const life = this.life;
    const now = (s.wallNow = s.wall.now());
    s.c.events++;
    s.c.requests++;
    const env = ev.envelope;
    const rid = env.request_id;
    const t = env.occurred_at;
    const part = src.partition;
    const pIdx = this.input(part, KIND_REQUEST, now);
    if (!rid || !(t === t && Math.abs(t) < 1e15) || !env.tenant_id) return this.invalid(pIdx, src, now);
    const advanced = s.clock.observe(pIdx, t, src.offset, Math.min(now, src.receivedAt ?? now));
    s.stepEventTime = t;

    const rh = s.keys.ridHash(rid);
    let slot = s.keys.findRid(rid, rh);
    this.deadlines.resolve(ev.operation, ev.channel, ev.sla_ms, ev.give_up_ms);
    const slaMs = this.deadlines.slaMs;
    const giveUpMs = this.deadlines.giveUpMs;
    // A request we already reconciled and forgot, or one too old to be judged: dead letter, not a new chain.
    const tooOld = t + giveUpMs + s.o.correctionHorizonMs < s.clock.streamTime;
    if (slot === NO_SLOT) {
      if (tooOld || s.tombs.find(rid, s.clock.streamTime) >= 0) {
        s.c.tooLate++;
        return life.finishStep(IngestStatus.TOO_LATE, advanced);
      }
      slot = store.newBlob(rid, ev.input_fingerprint, K.ST_HAS_REQ, ATTEMPT_RESERVE, part);
      s.keys.insertRid(rh, slot);
      s.openCount++;
    } else {
      const st = store.rd8(slot, K.O_STATE);
      if ((st & K.ST_HAS_REQ) !== 0) {
        s.c.duplicateRequests++;
        s.c.duplicateEvents++;
        return life.finishStep(IngestStatus.DUPLICATE, advanced);
      }
      if (tooOld || (store.rd8(slot, K.O_LMISC) & K.M_BEYOND) !== 0) {
        s.c.tooLate++;
        return life.finishStep(IngestStatus.TOO_LATE, advanced);
      }
      // An orphan (dispatch/callback first) gets its request: add the fingerprint, keep the records.
      store.attachRequest(slot, rid, ev.input_fingerprint);
      life.reopen(slot);
    }
    store.wr64(slot, K.O_BASE, t);
    store.wr32(slot, K.O_ATTRS, s.attrSets.id(ev.attributes));
    store.wri32(slot, K.O_SLA, slaMs);
    store.wri32(slot, K.O_GIVEUP, giveUpMs);
    store.wr16(slot, K.O_TENANT, s.tenants.id(env.tenant_id));
    store.wr16(slot, K.O_OP, s.names.id(ev.operation));
    store.wr16(slot, K.O_CHANNEL, s.names.id(ev.channel));
    store.wr16(slot, K.O_API, ev.api_status >= 0 && ev.api_status < 65536 ? ev.api_status : 0);
    life.evaluate(slot, K.FB_EVENT, false);
    return life.finishStep(IngestStatus.APPLIED, advanced);
  }

  onDispatch(ev: DispatchAttempted, src: InputPosition): IngestStatusCode {
    const s = this.s;
    const life = this.life;
    const now = (s.wallNow = s.wall.now());
    s.c.events++;
    s.c.dispatches++;
    const env = ev.envelope;
    const rid = env.request_id;
    const t = env.occurred_at;
    const part = src.partition;
    const pIdx = this.input(part, KIND_DISPATCH, now);
    if (!rid || !(t === t && Math.abs(t) < 1e15) || !env.tenant_id || !ev.attempt_id || !ev.provider)
      return this.invalid(pIdx, src, now);
    const advanced = s.clock.observe(pIdx, t, src.offset, Math.min(now, src.receivedAt ?? now));
    s.stepEventTime = t;

    h2Start(SEED_EID);
    h2AddString(env.source);
    h2AddString(env.event_id);
    h2Finish();
    const eidA = H.a;
    const eidB = H.b;
    const attH = hash32(ev.attempt_id, 0x3b9);
    const rh = s.keys.ridHash(rid);
    let slot = s.keys.findRid(rid, rh);
    let created = false;
    if (slot === NO_SLOT) {
      slot = life.newOrphanSlot(rid, rh, env.tenant_id, t, part);
      created = true;
    } else {
      // Dedupe: same event, or an attempt id already recorded (first dispatch of an attempt wins).
      if (s.records.findAttempt(slot, eidA, eidB, attH, ev.attempt_id, rid)) {
        s.c.duplicateDispatches++;
        s.c.duplicateEvents++;
        return life.finishStep(IngestStatus.DUPLICATE, advanced);
      }
      if (s.records.attempts >= s.o.maxAttemptsPerRequest) {
        s.c.refused++;
        return life.finishStep(IngestStatus.REFUSED, advanced);
      }
    }
    const pmid = ev.provider_message_id;
    const pid = s.names.id(ev.provider);
    const pmidH = pmid ? s.keys.pmidHash(pid, pmid) : 0;
    // Bind (provider, pmid) first: callbacks that were waiting for this dispatch move into the request.
    if (pmid) this.bindPmid(slot, pid, pmid, pmidH, rid, ev.provider);
    const appended = s.records.appendAttempt(
      slot,
      ev.attempt_id,
      rid,
      pmid,
      K.REASON_CODE[ev.attempt_reason] ?? 5,
      K.SUBMIT_CODE[ev.submit_outcome] ?? K.SUB_ERROR,
      ev.attempt_no,
      s.names.id(ev.route),
      pid,
      ev.error_code ? s.errCodes.id(ev.error_code) : 0,
      attH,
      pmidH,
      eidA,
      eidB,
      t,
    );
    if (!appended) {
      s.c.refused++;
      if (created) life.freeSlotEntirely(slot);
      return life.finishStep(IngestStatus.REFUSED, advanced);
    }
    if (!created) life.onNewEvidence(slot, t);
    life.evaluate(slot, K.FB_EVENT, false);
    return life.finishStep(IngestStatus.APPLIED, advanced);
  }

  onCallback(ev: ProviderCallback, src: InputPosition): IngestStatusCode {
    const s = this.s;
    const store = s.store;
    const records = s.records;
    const life = this.life;
    const now = (s.wallNow = s.wall.now());
    s.c.events++;
    s.c.callbacks++;
    const env = ev.envelope;
    const rid = env.request_id;
    const t = env.occurred_at;
    const part = src.partition;
    const pIdx = this.input(part, KIND_CALLBACK, now);
    if (!(t === t && Math.abs(t) < 1e15) || !env.tenant_id || !ev.provider || !ev.provider_message_id)
      return this.invalid(pIdx, src, now);
    const pet = ev.provider_event_time;
    if (pet !== null && !(pet === pet && Math.abs(pet) < 1e15)) return this.invalid(pIdx, src, now);
    const advanced = s.clock.observe(pIdx, t, src.offset, Math.min(now, src.receivedAt ?? now));
    s.stepEventTime = t;

    const pmid = ev.provider_message_id;
    const pid = s.names.id(ev.provider);
    const pmidH = s.keys.pmidHash(pid, pmid);
    let slot = NO_SLOT;
    let remote = -1;
    if (rid) {
      const rh = s.keys.ridHash(rid);
      slot = s.keys.findRid(rid, rh);
      if (slot === NO_SLOT) slot = life.newOrphanSlot(rid, rh, env.tenant_id, t, part);
    } else {
      slot = s.keys.findPmid(pid, pmid, pmidH);
      // Bound to a request of another instance (scale-out): forwarded below instead of parked in a pseudo key.
      if (slot === NO_SLOT && s.rb.count > 0) remote = s.rb.find(pid, pmid, pmidH, s.clock.streamTime);
      if (slot === NO_SLOT && remote < 0) slot = life.newPseudoSlot(pid, pmid, pmidH, env.tenant_id, t, part);
    }
    // Identity and natural key.
    h2Start(SEED_EID);
    h2AddString(env.source);
    h2AddString(env.event_id);
    h2Finish();
    const eidA = H.a;
    const eidB = H.b;
    h2Start(SEED_NAT);
    h2AddString(ev.provider);
    if (ev.provider_event_id !== null) {
      h2AddNumber(1);
      h2AddString(ev.provider_event_id);
    } else {
      h2AddString(pmid);
      h2AddString(ev.status_raw);
      h2AddNumber(pet ?? t);
    }
    h2Finish();
    const natA = H.a;
    const natB = H.b;
    if (remote >= 0) return this.scaleOut.forward(ev, remote, pid, pmidH, eidA, eidB, natA, natB, advanced);
    const st = store.rd8(slot, K.O_STATE);
    const fresh = store.rd16(slot, K.O_USED) === store.rd16(slot, K.O_RECS);
    const isNewPseudo = (st & K.ST_PSEUDO) !== 0 && fresh;
    const isNewOrphan = (st & (K.ST_PSEUDO | K.ST_HAS_REQ)) === 0 && fresh;
    const hasAtt = ev.attempt_id !== null && ev.attempt_id !== '';
    const attH = hasAtt ? hash32(ev.attempt_id ?? '', 0x3b9) : 0;
    // One walk: dedupe, callback count, and whether a known attempt takes it.
    const known = records.findCallback(slot, eidA, eidB, natA, natB, hasAtt, attH, pid, pmidH);
    if (known === CB_SAME_EVENT) {
      s.c.duplicateEvents++;
      return life.finishStep(IngestStatus.DUPLICATE, advanced);
    }
    const attachable = records.attachable;
    if (records.callbacks >= s.o.maxCallbacksPerRequest || !store.ensure(slot, K.CB_LEN)) {
      s.c.refused++;
      if (isNewPseudo || isNewOrphan) life.freeSlotEntirely(slot);
      return life.finishStep(IngestStatus.REFUSED, advanced);
    }
    const evidence = K.EVIDENCE_CODE[ev.evidence_level] ?? 0;
    const evTime = pet !== null && pet < t ? pet : t;
    const seq = ev.provider_sequence;
    let flags = (ev.is_final ? K.KF_FINAL : 0) | (evidence << 1);
    if (known === CB_SAME_REPORT) flags |= K.KF_DUP;
    if (!attachable) flags |= K.KF_UNATTACHED;
    if (hasAtt) flags |= K.KF_HAS_ATT;
    if (seq !== null && seq === seq) flags |= K.KF_HAS_SEQ;
    const cat = ev.error_category;
    records.appendCallback(
      slot,
      K.STATUS_CODE[ev.status] ?? K.S_UNKNOWN,
      flags,
      cat === null ? K.EC_NONE : (K.ERROR_CATEGORY_CODE[cat] ?? K.EC_UNKNOWN),
      pid,
      ev.error_code ? s.errCodes.id(ev.error_code) : 0,
      eidA,
      eidB,
      natA,
      natB,
      evTime,
      seq === null ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(seq))),
      attH,
      pmidH,
      t - evTime,
    );
    if (known === CB_SAME_REPORT) s.c.duplicateCallbacks++;
    if (!isNewPseudo && !isNewOrphan) life.onNewEvidence(slot, t);
    life.evaluate(slot, K.FB_EVENT, false);
    return life.finishStep(IngestStatus.APPLIED, advanced);
  }

  /** Binds (provider, pmid) to the slot; absorbs callbacks that were waiting for it. */
  private bindPmid(slot: number, pid: number, pmid: string, h: number, rid: string, provider: string): void {
    const s = this.s;
    const store = s.store;
    const records = s.records;
    const other = s.keys.findPmid(pid, pmid, h);
    if (other === slot) return;
    if (other === NO_SLOT) {
      // Bound first to a request of another instance (scale-out): first binding wins here too.
      if (s.rb.count > 0) {
        const remote = s.rb.find(pid, pmid, h, s.clock.streamTime);
        if (remote >= 0 && !s.rb.requestIdEquals(remote, rid)) {
          s.c.pmidConflicts++;
          return;
        }
      }
      s.keys.insertPmid(h, slot);
      s.o.onBinding?.(provider, pmid, rid);
      return;
    }
    if ((store.rd8(other, K.O_STATE) & K.ST_PSEUDO) === 0) {
      // Another request's dispatch recorded the same provider message id: first binding wins.
      s.c.pmidConflicts++;
      return;
    }
    // Move the waiting callbacks into the request, deduplicating on the way.
    const arena = store.arena;
    const oAddr = store.addr[other]!;
    const op = oAddr >>> PAGE_BITS;
    const ob = oAddr & MASK;
    const ou16 = arena.u16[op]!;
    const start = ob + ou16[(ob + K.O_RECS) >> 1]!;
    const end = ob + ou16[(ob + K.O_USED) >> 1]!;
    for (let r = start; r < end; r += K.CB_LEN) {
      const ou8 = arena.u8[op]!;
      const ou32 = arena.u32[op]!;
      const eidA = ou32[(r + K.K_EIDA) >> 2]!;
      const eidB = ou32[(r + K.K_EIDB) >> 2]!;
      const natA = ou32[(r + K.K_NATA) >> 2]!;
      const natB = ou32[(r + K.K_NATB) >> 2]!;
      const known = records.findCallback(slot, eidA, eidB, natA, natB);
      if (known === CB_SAME_EVENT) continue;
      if (records.callbacks >= s.o.maxCallbacksPerRequest || !store.ensure(slot, K.CB_LEN)) {
        s.c.refused++;
        continue;
      }
      let fl = ou8[r + K.K_FLAGS]! | K.KF_UNATTACHED;
      fl = known === CB_SAME_REPORT ? fl | K.KF_DUP : fl & ~K.KF_DUP;
      records.appendCallback(
        slot,
        ou8[r + K.K_STATUS]!,
        fl,
        ou8[r + K.K_ERRCAT]!,
        arena.u16[op]![(r + K.K_PROVIDER) >> 1]!,
        arena.u16[op]![(r + K.K_ERRCODE) >> 1]!,
        eidA,
        eidB,
        natA,
        natB,
        arena.f64[op]![(r + K.K_TIME) >> 3]!,
        arena.i32[op]![(r + K.K_SEQ) >> 2]!,
        ou32[(r + K.K_ATTH) >> 2]!,
        ou32[(r + K.K_PMIDH) >> 2]!,
        ou32[(r + K.K_OCCD) >> 2]!,
      );
      if (known === CB_SAME_REPORT) s.c.duplicateCallbacks++;
    }
    s.c.pendingMatched++;
    // The pseudo slot disappears; the index now points at the request.
    s.keys.replacePmid(h, other, slot);
    this.life.retirePseudo(other, provider, pmid);
    s.o.onBinding?.(provider, pmid, rid);
  }

  private input(part: number, kind: number, now: number): number {
    const s = this.s;
    const before = s.clock.count;
    const i = s.clock.index(part * 3 + kind, now);
    if (s.clock.count !== before) s.partitions.add(part);
    s.clockDirty = true;
    return i;
  }

  private invalid(pIdx: number, src: InputPosition, now: number): IngestStatusCode {
    // Invalid input still proves the input is alive; it does not move event time.
    this.s.clock.touch(pIdx, src.offset, now);
    this.s.c.invalid++;
    return IngestStatus.INVALID;
  }
}
