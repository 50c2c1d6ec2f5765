// Scale-out (SEMANTICS.md §10): remote bindings ((provider, provider_message_id) bound to a request owned by
// another instance), callbacks without request_id forwarded to that owner as handoffs, and handoffs received
// for requests of this instance.
import type { ProviderCallback } from '@pathwatch/schemas';
import { PAGE_BITS } from './arena.js';
import type { ChangelogState } from './changelog-state.js';
import * as K from './codes.js';
import type { HandoffCallback } from './handoff.js';
import { decodeHandoff, encodeHandoff, MAX_HANDOFF_CALLBACKS } from './handoff.js';
import { hash32 } from './hash.js';
import type { Lifecycle } from './lifecycle.js';
import { CB_SAME_EVENT, CB_SAME_REPORT } from './records.js';
import { MASK, NO_SLOT } from './slot-store.js';
import type { EngineState } from './state.js';
import type { HandoffRecord, IngestStatusCode, InputPosition } from './types.js';
import { IngestStatus } from './types.js';

/** Longest provider_message_id + request_id of a remote binding (chars; keeps its blob small). */
const MAX_BINDING_CHARS = 4096;

export class ScaleOut {
  private pendingHandoffs = new Map<string, HandoffCallback[]>();
  /** Callbacks waiting in drainHandoffs(). */
  pendingHandoffCount = 0;

  constructor(
    private readonly s: EngineState,
    private readonly life: Lifecycle,
    private readonly changelog: ChangelogState,
  ) {}

  onRemoteBinding(
    provider: string,
    providerMessageId: string,
    requestId: string,
    src: InputPosition,
  ): IngestStatusCode {
    const s = this.s;
    const rb = s.rb;
    s.wallNow = s.wall.now();
    s.c.remoteBindingsIn++;
    const pmid = providerMessageId;
    if (
      typeof provider !== 'string' ||
      typeof pmid !== 'string' ||
      typeof requestId !== 'string' ||
      !provider ||
      !pmid ||
      !requestId ||
      pmid.length + requestId.length > MAX_BINDING_CHARS
    ) {
      s.c.invalid++;
      return IngestStatus.INVALID;
    }
    const pid = s.names.id(provider);
    const h = s.keys.pmidHash(pid, pmid);
    const slot = s.keys.findPmid(pid, pmid, h);
    if (slot !== NO_SLOT && (s.store.rd8(slot, K.O_STATE) & K.ST_PSEUDO) === 0) {
      // The pair is bound to a request of this instance: the local binding did everything already.
      if (s.keys.keyString(slot) !== requestId) s.c.remoteBindingConflicts++;
      return IngestStatus.IGNORED;
    }
    const T = s.clock.streamTime;
    const known = rb.find(pid, pmid, h, T);
    if (known >= 0) {
      if (rb.requestIdEquals(known, requestId)) return IngestStatus.DUPLICATE;
      // First binding wins, as for local dispatches.
      s.c.remoteBindingConflicts++;
      return IngestStatus.IGNORED;
    }
    // Callbacks waiting for this pair go to the request's owner; the pseudo key retires as in bindPmid.
    if (slot !== NO_SLOT) this.handOffPseudo(slot, pid, pmid, h, requestId);
    const expiry = (T === -Infinity ? s.wallNow : T) + s.o.remoteBindingTtlMs;
    rb.add(pid, pmid, h, requestId, src.partition, expiry);
    this.changelog.binding(src.partition, s.names.value(pid), pmid, requestId, expiry);
    this.evictOverBound();
    return this.life.finishStep(IngestStatus.APPLIED, false);
  }

  /** Exports a pseudo slot's callbacks as a handoff to `requestId`, then retires the pseudo slot. */
  private handOffPseudo(slot: number, pid: number, pmid: string, h: number, requestId: string): void {
    const s = this.s;
    const arena = s.store.arena;
    const addr = s.store.addr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = arena.u8[p]!;
    const u16 = arena.u16[p]!;
    const u32 = arena.u32[p]!;
    const i32 = arena.i32[p]!;
    const f64 = arena.f64[p]!;
    const tenant = s.tenants.value(u16[(b + K.O_TENANT) >> 1]!);
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end; r += K.CB_LEN) {
      this.queueHandoff(requestId, {
        status: u8[r + K.K_STATUS]!,
        // Recorded before the binding was known: merges as unattached on arrival (callback_before_dispatch).
        flags: (u8[r + K.K_FLAGS]! & ~K.KF_DUP) | K.KF_UNATTACHED,
        errorCategory: u8[r + K.K_ERRCAT]!,
        provider: s.names.value(u16[(r + K.K_PROVIDER) >> 1]!),
        providerMessageId: pmid,
        tenant,
        errorCode: s.errCodes.value(u16[(r + K.K_ERRCODE) >> 1]!),
        eidA: u32[(r + K.K_EIDA) >> 2]!,
        eidB: u32[(r + K.K_EIDB) >> 2]!,
        natA: u32[(r + K.K_NATA) >> 2]!,
        natB: u32[(r + K.K_NATB) >> 2]!,
        attemptHash: u32[(r + K.K_ATTH) >> 2]!,
        pmidHash: u32[(r + K.K_PMIDH) >> 2]!,
        sequence: i32[(r + K.K_SEQ) >> 2]!,
        time: f64[(r + K.K_TIME) >> 3]!,
        // Its own occurred_at (semantics/skew: K_OCCD); the earliest of them is the pseudo key's base.
        occurredAt: f64[(r + K.K_TIME) >> 3]! + u32[(r + K.K_OCCD) >> 2]!,
      });
    }
    s.c.remoteMatched++;
    s.keys.removePmid(h, slot);
    this.life.retirePseudo(slot, s.names.value(pid), pmid);
  }

  /** Queues a callback without request_id for the instance owning its request (remote binding `i`). */
  forward(
    ev: ProviderCallback,
    i: number,
    pid: number,
    pmidH: number,
    eidA: number,
    eidB: number,
    natA: number,
    natB: number,
    advanced: boolean,
  ): IngestStatusCode {
    const s = this.s;
    const t = ev.envelope.occurred_at;
    const pet = ev.provider_event_time;
    const seq = ev.provider_sequence;
    const hasAtt = ev.attempt_id !== null && ev.attempt_id !== '';
    let flags = (ev.is_final ? K.KF_FINAL : 0) | ((K.EVIDENCE_CODE[ev.evidence_level] ?? 0) << 1);
    if (hasAtt) flags |= K.KF_HAS_ATT;
    if (seq !== null && seq === seq) flags |= K.KF_HAS_SEQ;
    const cat = ev.error_category;
    this.queueHandoff(s.rb.requestId(i), {
      status: K.STATUS_CODE[ev.status] ?? K.S_UNKNOWN,
      flags,
      errorCategory: cat === null ? K.EC_NONE : (K.ERROR_CATEGORY_CODE[cat] ?? K.EC_UNKNOWN),
      provider: s.names.value(pid),
      providerMessageId: ev.provider_message_id,
      tenant: ev.envelope.tenant_id,
      errorCode: ev.error_code ? s.errCodes.value(s.errCodes.id(ev.error_code)) : '',
      eidA,
      eidB,
      natA,
      natB,
      attemptHash: hasAtt ? hash32(ev.attempt_id ?? '', 0x3b9) : 0,
      pmidHash: pmidH,
      sequence: seq === null ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(seq))) | 0,
      time: pet !== null && pet < t ? pet : t,
      occurredAt: t,
    });
    s.c.forwarded++;
    return this.life.finishStep(IngestStatus.FORWARDED, advanced);
  }

  private queueHandoff(requestId: string, cb: HandoffCallback): void {
    const list = this.pendingHandoffs.get(requestId);
    if (list === undefined) this.pendingHandoffs.set(requestId, [cb]);
    else list.push(cb);
    this.pendingHandoffCount++;
  }

  onHandoff(requestId: string, value: Uint8Array, src: InputPosition): IngestStatusCode {
    const s = this.s;
    const records = s.records;
    s.wallNow = s.wall.now();
    s.c.handoffsIn++;
    const cbs =
      typeof requestId === 'string' && requestId !== '' && value instanceof Uint8Array
        ? decodeHandoff(value)
        : null;
    let valid = cbs !== null;
    let minAt = Infinity;
    let maxAt = -Infinity;
    // Integrity: the provider message id hash must be the one its strings give (process-independent).
    if (cbs !== null)
      for (const cb of cbs) {
        if (cb.pmidHash !== hash32(cb.providerMessageId, hash32(cb.provider, 0x6d1d))) valid = false;
        if (cb.occurredAt < minAt) minAt = cb.occurredAt;
        if (cb.occurredAt > maxAt) maxAt = cb.occurredAt;
      }
    if (cbs === null || !valid) {
      s.c.invalid++;
      s.c.handoffsInvalid++;
      return IngestStatus.INVALID;
    }
    const rh = s.keys.ridHash(requestId);
    let slot = s.keys.findRid(requestId, rh);
    const created = slot === NO_SLOT;
    // Unknown request: an orphan waiting for it, as a callback carrying request_id would be (a forgotten
    // request's tombstone continues its versions, flagged beyond_correction_horizon).
    if (created) slot = this.life.newOrphanSlot(requestId, rh, cbs[0]!.tenant, minAt, src.partition);
    s.stepEventTime = maxAt;
    let applied = 0;
    let refused = 0;
    for (const cb of cbs) {
      const pid = s.names.id(cb.provider);
      const pmidH = s.keys.pmidHash(pid, cb.providerMessageId);
      const hasAtt = (cb.flags & K.KF_HAS_ATT) !== 0;
      const known = records.findCallback(
        slot,
        cb.eidA,
        cb.eidB,
        cb.natA,
        cb.natB,
        hasAtt,
        cb.attemptHash,
        pid,
        pmidH,
      );
      if (known === CB_SAME_EVENT) {
        s.c.duplicateEvents++;
        continue;
      }
      if (records.callbacks >= s.o.maxCallbacksPerRequest || !s.store.ensure(slot, K.CB_LEN)) {
        s.c.refused++;
        refused++;
        continue;
      }
      let fl = cb.flags & ~K.KF_DUP;
      if (known === CB_SAME_REPORT) fl |= K.KF_DUP;
      if (!records.attachable) fl |= K.KF_UNATTACHED;
      records.appendCallback(
        slot,
        cb.status,
        fl,
        cb.errorCategory,
        pid,
        cb.errorCode ? s.errCodes.id(cb.errorCode) : 0,
        cb.eidA,
        cb.eidB,
        cb.natA,
        cb.natB,
        cb.time,
        cb.sequence,
        cb.attemptHash,
        pmidH,
        cb.occurredAt - cb.time,
      );
      if (known === CB_SAME_REPORT) s.c.duplicateCallbacks++;
      applied++;
    }
    if (applied === 0) {
      if (created) this.life.freeSlotEntirely(slot);
      return this.life.finishStep(refused > 0 ? IngestStatus.REFUSED : IngestStatus.DUPLICATE, false);
    }
    s.c.handoffCallbacksApplied += applied;
    if (!created) this.life.onNewEvidence(slot, minAt);
    this.life.evaluate(slot, K.FB_EVENT, false);
    return this.life.finishStep(IngestStatus.APPLIED, false);
  }

  drainHandoffs(): HandoffRecord[] {
    if (this.pendingHandoffCount === 0) return [];
    const out: HandoffRecord[] = [];
    for (const [requestId, cbs] of this.pendingHandoffs)
      for (let k = 0; k < cbs.length; k += MAX_HANDOFF_CALLBACKS)
        out.push({
          requestId,
          value: encodeHandoff(cbs, k, Math.min(cbs.length, k + MAX_HANDOFF_CALLBACKS)),
        });
    this.pendingHandoffs = new Map();
    this.pendingHandoffCount = 0;
    this.s.c.handoffsOut += out.length;
    return out;
  }

  /** Removes remote binding `i` and deletes its changelog key. */
  private dropRemoteBinding(i: number): void {
    const rb = this.s.rb;
    this.changelog.binding(rb.partition(i), this.s.names.value(rb.providerId(i)), rb.pmid(i), null, NaN);
    rb.remove(i);
  }

  private evictOverBound(): void {
    const s = this.s;
    while (s.rb.count > s.o.maxRemoteBindings) {
      const oldest = s.rb.oldest();
      if (oldest < 0) break;
      this.dropRemoteBinding(oldest);
      s.c.evictedRemoteBindings++;
    }
  }

  /** Drops remote bindings past their TTL (lookups already ignore them). */
  expireRemoteBindings(): void {
    const s = this.s;
    if (s.rb.count === 0) return;
    const T = s.clock.streamTime;
    for (;;) {
      const i = s.rb.due(T);
      if (i < 0) return;
      this.dropRemoteBinding(i);
      s.c.remoteBindingsExpired++;
    }
  }

  /** Remote bindings of a restored partition, oldest first; expired ones are skipped. */
  restoreBindings(
    partition: number,
    bindings: { provider: string; providerMessageId: string; requestId: string; expiry: number }[],
  ): void {
    const s = this.s;
    const rb = s.rb;
    bindings.sort((x, y) => x.expiry - y.expiry);
    const T = s.clock.streamTime;
    for (const b of bindings) {
      if (b.expiry <= T) continue;
      const pid = s.names.id(b.provider);
      const h = s.keys.pmidHash(pid, b.providerMessageId);
      const existing = rb.find(pid, b.providerMessageId, h, T);
      if (existing >= 0) rb.remove(existing); // a partition restored twice: the image wins
      rb.add(pid, b.providerMessageId, h, b.requestId, partition, b.expiry);
    }
    this.evictOverBound();
  }
}
