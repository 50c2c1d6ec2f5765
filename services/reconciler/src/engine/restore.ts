// Restore: a partition's state from its changelog (slot images, tombstones, remote bindings, the meta record
// with the clock), and the removal of partitions this instance no longer owns. Deadlines that passed while
// the engine was down go to the recovery queue (released at a bounded rate).
import { PAGE_BITS } from './arena.js';
import type { ChangelogState } from './changelog-state.js';
import * as K from './codes.js';
import { H } from './hash.js';
import type { Lifecycle } from './lifecycle.js';
import type { RecoveryQueue } from './recovery.js';
import type { ScaleOut } from './scale-out.js';
import { MASK, NO_SLOT } from './slot-store.js';
import type { MetaImage, RestoredSlot } from './snapshot.js';
import { parseTombHashKey, PSEUDO_KEY_PREFIX, readSnapshot } from './snapshot.js';
import type { EngineState } from './state.js';
import { Tombstones } from './tombstones.js';
import { decodeAt } from './strcodec.js';

export class StateRestore {
  private restoredClock = false;

  constructor(
    private readonly s: EngineState,
    private readonly life: Lifecycle,
    private readonly recovery: RecoveryQueue,
    private readonly scaleOut: ScaleOut,
    private readonly changelog: ChangelogState,
  ) {}

  restore(partition: number, records: Iterable<{ readonly key: string; readonly value: Uint8Array }>): void {
    const s = this.s;
    const now = (s.wallNow = s.wall.now());
    s.partitions.add(partition);
    let meta: MetaImage | undefined;
    const tombs: { key: string; version: number; lastClass: number; expiry: number }[] = [];
    const bindings: { provider: string; providerMessageId: string; requestId: string; expiry: number }[] = [];
    for (const rec of records) {
      const decoded = readSnapshot(rec.value);
      if (decoded.kind === 'meta') meta = decoded;
      else if (decoded.kind === 'binding') bindings.push(decoded);
      else if (decoded.kind === 'tomb')
        tombs.push({
          key: rec.key,
          version: decoded.version,
          lastClass: decoded.lastClass,
          expiry: decoded.expiry ?? Infinity,
        });
      else {
        // A key already present (a partition restored twice) is replaced.
        const existing = rec.key.startsWith(PSEUDO_KEY_PREFIX)
          ? NO_SLOT
          : s.keys.findRid(rec.key, s.keys.ridHash(rec.key));
        if (existing !== NO_SLOT) this.life.dropSlot(existing);
        this.restoreSlot(rec.key, decoded.image, partition);
        s.c.restoredSlots++;
      }
    }
    const clock = s.clock;
    if (meta) {
      for (const inp of meta.inputs)
        clock.restoreInput(partition * 3 + inp.kind, inp.maxEventTime, inp.seenAt, now);
      // A fresh engine resumes from the restored clock (the earliest, if partitions disagree); a running one
      // keeps its own (monotone) clock.
      if (s.c.events === 0 && meta.clockNow !== -Infinity)
        clock.streamTime = this.restoredClock ? Math.min(clock.streamTime, meta.clockNow) : meta.clockNow;
      this.restoredClock = true;
      // Deadlines that passed while we were down (the event-time equivalent of the downtime) are released at a
      // bounded rate and flagged overdue_due_to_downtime.
      if (meta.clockNow !== -Infinity)
        this.recovery.until = Math.max(this.recovery.until, meta.clockNow + Math.max(0, now - meta.wallAt));
    }
    tombs.sort((x, y) => x.expiry - y.expiry);
    // The same tombstone can come twice: under its request key (when it was forgotten) and under its hash key
    // (from a snapshot); the later expiry (same or later version) wins.
    const seenTombs = new Map<string, number>();
    const hashes: { a: number; b: number }[] = [];
    for (let k = 0; k < tombs.length; k++) {
      const t = tombs[k]!;
      const named = parseTombHashKey(t.key);
      if (named) hashes.push(named);
      else {
        Tombstones.hash(t.key);
        hashes.push({ a: H.a, b: H.b });
      }
      const h = hashes[k]!;
      seenTombs.set(`${h.a}:${h.b}`, k);
    }
    for (let k = 0; k < tombs.length; k++) {
      const t = tombs[k]!;
      const h = hashes[k]!;
      if (t.expiry <= clock.streamTime || seenTombs.get(`${h.a}:${h.b}`) !== k) continue;
      if (s.tombs.findHash(h.a, h.b, clock.streamTime) >= 0) continue; // a partition restored twice
      s.tombs.add(h.a, h.b, t.version, t.lastClass, partition, t.expiry);
    }
    if (bindings.length > 0) this.scaleOut.restoreBindings(partition, bindings);
  }

  private restoreSlot(key: string, image: RestoredSlot, partition: number): number {
    const s = this.s;
    const store = s.store;
    const slot = store.newFromImage(image.blob, partition);
    const addr = store.addr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = store.arena.u8[p]!;
    const u16 = store.arena.u16[p]!;
    // Interned ids are process-local: the image holds indexes into its string table; re-intern them.
    const str = (i: number): string => image.strings[i] ?? '';
    store.wr16(slot, K.O_TENANT, s.tenants.id(str(u16[(b + K.O_TENANT) >> 1]!)));
    const st = store.rd8(slot, K.O_STATE) & ~(K.ST_DIRTY | K.ST_RECOVERY_Q);
    store.wr8(slot, K.O_STATE, st);
    const pseudo = (st & K.ST_PSEUDO) !== 0;
    store.wr16(slot, K.O_OP, s.names.id(str(u16[(b + K.O_OP) >> 1]!)));
    store.wr16(slot, K.O_CHANNEL, s.names.id(str(u16[(b + K.O_CHANNEL) >> 1]!)));
    const le = u16[(b + K.O_LERRCODE) >> 1]!;
    store.wr16(slot, K.O_LERRCODE, le ? s.errCodes.id(str(le)) : 0);
    store.wr32(slot, K.O_ATTRS, s.attrSets.id(image.attrs));
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        u16[(r + K.A_ROUTE) >> 1] = s.names.id(str(u16[(r + K.A_ROUTE) >> 1]!));
        u16[(r + K.A_PROVIDER) >> 1] = s.names.id(str(u16[(r + K.A_PROVIDER) >> 1]!));
        const e = u16[(r + K.A_ERRCODE) >> 1]!;
        u16[(r + K.A_ERRCODE) >> 1] = e ? s.errCodes.id(str(e)) : 0;
        r += u16[(r + K.A_LEN) >> 1]!;
      } else {
        u16[(r + K.K_PROVIDER) >> 1] = s.names.id(str(u16[(r + K.K_PROVIDER) >> 1]!));
        const e = u16[(r + K.K_ERRCODE) >> 1]!;
        u16[(r + K.K_ERRCODE) >> 1] = e ? s.errCodes.id(str(e)) : 0;
        r += K.CB_LEN;
      }
    }
    s.keys.indexPmids(slot);
    if (pseudo)
      s.keys.insertPmid(s.keys.pmidHash(store.rd16(slot, K.O_CHANNEL), decodeAt(u8, b + K.HDR)), slot);
    else s.keys.insertRid(s.keys.ridHash(key), slot);
    const next = store.rd64(slot, K.O_NEXT);
    if ((st & K.ST_CLOSED) !== 0) {
      s.closedCount++;
      if (next === next) s.closedDl.push(next, slot);
    } else {
      if (pseudo) s.pendingCount++;
      else s.openCount++;
      if (next === next) (pseudo ? s.pendingDl : s.openDl).push(next, slot);
    }
    return slot;
  }

  dropPartitions(partitions: readonly number[]): void {
    if (partitions.length === 0) return;
    const s = this.s;
    const store = s.store;
    const drop = new Set(partitions);
    for (let slot = 0; slot < store.high; slot++) {
      if (store.addr[slot] === 0) continue;
      if (drop.has(store.rd16(slot, K.O_PART))) this.life.dropSlot(slot);
    }
    s.tombs.dropPartitions(drop);
    for (const part of partitions) {
      s.partitions.delete(part);
      for (let kind = 0; kind < 3; kind++) {
        const i = s.clock.peek(part * 3 + kind);
        if (i >= 0) s.clock.drop(i);
      }
    }
    this.changelog.dropPartitions(drop);
    if (s.rb.count > 0) for (const i of s.rb.inPartitions(drop)) s.rb.remove(i);
  }
}
