// The two lookups into slot storage: request_id -> slot, and (provider, provider_message_id) -> slot (the
// request whose dispatch recorded the pair, or the pseudo slot of callbacks waiting for it). Both are hash
// indexes without keys: a candidate from the probe is checked against the key stored in its blob.
import { PAGE_BITS } from './arena.js';
import * as K from './codes.js';
import { hash32 } from './hash.js';
import { HashIndex } from './hashindex.js';
import type { Interner } from './intern.js';
import { MASK, NO_SLOT, attemptHasPair, nextRecord, type SlotStore } from './slot-store.js';
import { PSEUDO_KEY_PREFIX } from './snapshot.js';
import { decodeAt, equalsAt, sizeAt } from './strcodec.js';

const SEED_RID = 0x2f1a;

export function pseudoKey(provider: string, pmid: string): string {
  return `${PSEUDO_KEY_PREFIX}${provider}:${pmid}`;
}

export class KeyIndexes {
  private readonly rid = new HashIndex(1024);
  private readonly pmid = new HashIndex(1024);
  private readonly provSeed: number[] = [];

  constructor(
    private readonly store: SlotStore,
    /** Operation, channel, provider and route names (a pseudo slot keeps its provider id in O_CHANNEL). */
    private readonly names: Interner,
  ) {}

  get bytes(): number {
    return this.rid.bytes + this.pmid.bytes;
  }

  ridHash(rid: string): number {
    return hash32(rid, SEED_RID);
  }

  /**
   * Hash of (provider, provider_message_id). Seeded by the provider *string* (cached per interned id), so the
   * hashes stored in records mean the same after a restore in another process.
   */
  pmidHash(pid: number, pmid: string): number {
    let seed = this.provSeed[pid];
    if (seed === undefined) {
      seed = hash32(this.names.value(pid), 0x6d1d);
      this.provSeed[pid] = seed;
    }
    return hash32(pmid, seed);
  }

  // ---- request ids ----

  findRid(rid: string, rh: number): number {
    const idx = this.rid;
    const arena = this.store.arena;
    for (let pos = idx.probe(rh); pos >= 0; pos = idx.next(pos, rh)) {
      const s = idx.slots[pos]!;
      const addr = this.store.addr[s]!;
      if (equalsAt(arena.u8[addr >>> PAGE_BITS]!, (addr & MASK) + K.HDR, rid)) return s;
    }
    return NO_SLOT;
  }

  insertRid(rh: number, slot: number): void {
    this.rid.insert(rh, slot);
  }

  removeRid(rh: number, slot: number): void {
    this.rid.remove(rh, slot);
  }

  // ---- provider message ids ----

  /** Slot bound to (provider, pmid): the request whose dispatch recorded it, or a pseudo slot of waiting callbacks. */
  findPmid(pid: number, pmid: string, h: number): number {
    const idx = this.pmid;
    for (let pos = idx.probe(h); pos >= 0; pos = idx.next(pos, h)) {
      const s = idx.slots[pos]!;
      if (this.slotHasPmid(s, pid, pmid, h)) return s;
    }
    return NO_SLOT;
  }

  insertPmid(h: number, slot: number): void {
    this.pmid.insert(h, slot);
  }

  removePmid(h: number, slot: number): void {
    this.pmid.remove(h, slot);
  }

  /** Repoints the pair's entry from a retiring pseudo slot to the request that absorbed its callbacks. */
  replacePmid(h: number, from: number, to: number): void {
    this.pmid.replace(h, from, to);
  }

  private slotHasPmid(slot: number, pid: number, pmid: string, h: number): boolean {
    const { u8, u16, u32, b, recs, end } = this.store.view(slot);
    if ((u8[b + K.O_STATE]! & K.ST_PSEUDO) !== 0)
      return u16[(b + K.O_CHANNEL) >> 1] === pid && equalsAt(u8, b + K.HDR, pmid);
    for (let r = recs; r < end; r = nextRecord(u8, u16, r)) {
      if (u8[r] !== K.REC_ATTEMPT || !attemptHasPair(u8, u16, u32, r, pid, h)) continue;
      const s = r + K.A_STR;
      if (equalsAt(u8, s + sizeAt(u8, s), pmid)) return true;
    }
    return false;
  }

  /** Removes the pair entries a request's attempts hold. */
  unbindPmids(slot: number): void {
    const { u8, u16, u32, recs, end } = this.store.view(slot);
    for (let r = recs; r < end; r = nextRecord(u8, u16, r))
      if (u8[r] === K.REC_ATTEMPT && (u8[r + K.A_FLAGS]! & 1) === 1)
        this.pmid.remove(u32[(r + K.A_PMIDH) >> 2]!, slot);
  }

  /** Re-creates the pair entries of a restored request slot (hashes are process-independent). */
  indexPmids(slot: number): void {
    const { u8, u16, u32, recs, end } = this.store.view(slot);
    for (let r = recs; r < end; r = nextRecord(u8, u16, r)) {
      if (u8[r] !== K.REC_ATTEMPT || (u8[r + K.A_FLAGS]! & 1) !== 1) continue;
      const h = u32[(r + K.A_PMIDH) >> 2]!;
      const s = r + K.A_STR;
      const pmid = decodeAt(u8, s + sizeAt(u8, s));
      // First binding wins, as at runtime: only bind when nobody holds the pair yet. (findPmid refills the
      // store's view; this loop reads only its locals.)
      if (this.findPmid(u16[(r + K.A_PROVIDER) >> 1]!, pmid, h) === NO_SLOT) this.pmid.insert(h, slot);
    }
  }

  // ---- a slot's own keys ----

  /** The key string stored in the blob: a request id, or a pseudo slot's provider message id. */
  rawKey(slot: number): string {
    const addr = this.store.addr[slot]!;
    return decodeAt(this.store.arena.u8[addr >>> PAGE_BITS]!, (addr & MASK) + K.HDR);
  }

  /** The request id, or `<provider>:<provider_message_id>` of a pseudo slot (its verdicts' request_id). */
  keyString(slot: number): string {
    const s = this.rawKey(slot);
    if ((this.store.rd8(slot, K.O_STATE) & K.ST_PSEUDO) !== 0)
      return `${this.names.value(this.store.rd16(slot, K.O_CHANNEL))}:${s}`;
    return s;
  }

  /** The slot's changelog key (pseudo slots under PSEUDO_KEY_PREFIX). */
  changelogKey(slot: number): string {
    const s = this.rawKey(slot);
    if ((this.store.rd8(slot, K.O_STATE) & K.ST_PSEUDO) !== 0)
      return pseudoKey(this.names.value(this.store.rd16(slot, K.O_CHANNEL)), s);
    return s;
  }

  /** Removes every index entry of a slot (before it is released). */
  unindex(slot: number): void {
    const key = this.rawKey(slot);
    if ((this.store.rd8(slot, K.O_STATE) & K.ST_PSEUDO) !== 0)
      this.pmid.remove(this.pmidHash(this.store.rd16(slot, K.O_CHANNEL), key), slot);
    else {
      this.rid.remove(this.ridHash(key), slot);
      this.unbindPmids(slot);
    }
  }
}
