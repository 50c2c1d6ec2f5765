// Slot storage: one arena blob per request (or pseudo key), addressed by a dense slot number. Owns the slot
// table, its free list, blob allocation, growth and re-layout, and the typed header accessors. The blob layout
// (header offsets, record layouts) is in codes.ts; what the records mean is the classifier's business.
import { Arena, MAX_BLOB_BYTES, PAGE_BITS, PAGE_BYTES } from './arena.js';
import * as K from './codes.js';
import { encodeTo, measure, write } from './strcodec.js';

export const MASK = PAGE_BYTES - 1;
export const NO_SLOT = -1;
/** Reserved blob space at request creation for the typical first attempt record (avoids one copy). */
export const ATTEMPT_RESERVE = 64;
/** Scratch for encoding a record's strings before copying them in. */
export const STR_SCRATCH = new Uint8Array(4 * 65536 + 64); // 64 attempts + the pseudo-attempt of unattached callbacks

/**
 * A slot's blob as the typed views of its arena page and offsets into them: `b` the blob's start, `recs` its
 * first record, `end` the end of its records. One instance per store, refilled by `SlotStore.view`: read the
 * fields into locals before anything may call `view` again.
 */
export class BlobView {
  u8: Uint8Array = new Uint8Array(0);
  u16: Uint16Array = new Uint16Array(0);
  u32: Uint32Array = new Uint32Array(0);
  /** Arena page (for its f64/i32 views). */
  p = 0;
  b = 0;
  recs = 0;
  end = 0;
}

/** Offset of the record after the one at `r` (attempt records have their length, callbacks a fixed one). */
export function nextRecord(u8: Uint8Array, u16: Uint16Array, r: number): number {
  return u8[r] === K.REC_ATTEMPT ? r + u16[(r + K.A_LEN) >> 1]! : r + K.CB_LEN;
}

/** True when the attempt record at `r` recorded a provider message id hashing to `pmidH` at provider `pid`. */
export function attemptHasPair(
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  r: number,
  pid: number,
  pmidH: number,
): boolean {
  return (
    (u8[r + K.A_FLAGS]! & 1) === 1 &&
    u32[(r + K.A_PMIDH) >> 2] === pmidH &&
    u16[(r + K.A_PROVIDER) >> 1] === pid
  );
}

export class SlotStore {
  readonly arena = new Arena();
  private readonly cursor = new BlobView();
  /** Arena address per slot (0 = free slot). */
  addr = new Uint32Array(1024);
  /** Slots ever handed out (the live ones are below). */
  high = 0;
  private free = new Int32Array(256);
  private freeTop = 0;
  /** Blobs moved to a bigger size class. */
  reallocs = 0;

  get bytes(): number {
    return this.addr.byteLength + this.free.byteLength;
  }

  /** True when `slot` holds a blob. */
  isLive(slot: number): boolean {
    return slot < this.high && this.addr[slot] !== 0;
  }

  private allocSlot(): number {
    if (this.freeTop > 0) return this.free[--this.freeTop]!;
    const s = this.high++;
    if (s >= this.addr.length) {
      const a = new Uint32Array(Math.ceil(this.addr.length * 1.5));
      a.set(this.addr);
      this.addr = a;
    }
    return s;
  }

  release(slot: number): void {
    const addr = this.addr[slot]!;
    this.arena.free(addr, this.rd16(slot, K.O_CAP));
    this.addr[slot] = 0;
    if (this.freeTop === this.free.length) {
      const a = new Int32Array(this.free.length * 2);
      a.set(this.free);
      this.free = a;
    }
    this.free[this.freeTop++] = slot;
  }

  /** New blob with header and key string (+ fingerprint when `fp` given); returns the slot. */
  newBlob(key: string, fp: string | null, state: number, reserve: number, partition: number): number {
    const sc = STR_SCRATCH;
    let strEnd = encodeTo(sc, 0, key);
    if (fp !== null) strEnd = encodeTo(sc, strEnd, fp);
    const recs = (K.HDR + strEnd + 7) & ~7;
    const cap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(recs + reserve));
    const addr = this.arena.alloc(cap);
    const slot = this.allocSlot();
    this.addr[slot] = addr;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    u8.fill(0, b, b + K.HDR);
    for (let i = 0; i < strEnd; i++) u8[b + K.HDR + i] = sc[i]!;
    for (let i = K.HDR + strEnd; i < recs; i++) u8[b + i] = 0;
    this.arena.f64[p]![(b + K.O_NEXT) >> 3] = NaN;
    u8[b + K.O_STATE] = state;
    u8[b + K.O_LCLASS] = 255;
    u8[b + K.O_LERRCAT] = K.EC_NONE;
    u16[(b + K.O_USED) >> 1] = recs;
    u16[(b + K.O_CAP) >> 1] = cap;
    u16[(b + K.O_RECS) >> 1] = recs;
    u16[(b + K.O_PART) >> 1] = partition;
    return slot;
  }

  /** A slot holding a copy of a changelog image's blob (interned ids still to be re-mapped by the caller). */
  newFromImage(blob: Uint8Array, partition: number): number {
    const cap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(blob.length + 16));
    const addr = this.arena.alloc(cap);
    const slot = this.allocSlot();
    this.addr[slot] = addr;
    this.arena.u8[addr >>> PAGE_BITS]!.set(blob, addr & MASK);
    this.wr16(slot, K.O_CAP, cap);
    this.wr16(slot, K.O_PART, partition);
    return slot;
  }

  /** Makes room for `extra` bytes of records; false when the blob would exceed its maximum. */
  ensure(slot: number, extra: number): boolean {
    const used = this.rd16(slot, K.O_USED);
    const cap = this.rd16(slot, K.O_CAP);
    if (used + extra <= cap) return true;
    if (used + extra > MAX_BLOB_BYTES) return false;
    const newCap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(Math.max(used + extra, Math.floor(cap * 1.5))));
    const oldAddr = this.addr[slot]!;
    const addr = this.arena.alloc(newCap);
    const src = this.arena.u8[oldAddr >>> PAGE_BITS]!;
    const so = oldAddr & MASK;
    this.arena.u8[addr >>> PAGE_BITS]!.set(src.subarray(so, so + used), addr & MASK);
    this.arena.free(oldAddr, cap);
    this.addr[slot] = addr;
    this.wr16(slot, K.O_CAP, newCap);
    this.reallocs++;
    return true;
  }

  /** Inserts the fingerprint after the key of an orphan slot that now has its request. */
  attachRequest(slot: number, rid: string, fp: string): void {
    const oldAddr = this.addr[slot]!;
    const op = oldAddr >>> PAGE_BITS;
    const ob = oldAddr & MASK;
    const ou8 = this.arena.u8[op]!;
    const oldRecs = this.rd16(slot, K.O_RECS);
    const used = this.rd16(slot, K.O_USED);
    const cap = this.rd16(slot, K.O_CAP);
    const keyLen = measure(rid);
    const fpLen = measure(fp);
    const recs = (K.HDR + keyLen + fpLen + 7) & ~7;
    const newUsed = recs + (used - oldRecs);
    const newCap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(Math.max(newUsed + ATTEMPT_RESERVE / 2, cap)));
    const addr = this.arena.alloc(newCap);
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    u8.fill(0, b, b + recs);
    u8.set(ou8.subarray(ob, ob + K.HDR), b);
    measure(rid);
    const w = write(u8, b + K.HDR, rid);
    measure(fp);
    write(u8, w, fp);
    u8.set(ou8.subarray(ob + oldRecs, ob + used), b + recs);
    this.arena.free(oldAddr, cap);
    this.addr[slot] = addr;
    this.wr16(slot, K.O_USED, newUsed);
    this.wr16(slot, K.O_CAP, newCap);
    this.wr16(slot, K.O_RECS, recs);
    this.wr8(slot, K.O_STATE, this.rd8(slot, K.O_STATE) | K.ST_HAS_REQ);
  }

  /** The slot's blob as page views and offsets (the store's one BlobView, refilled). */
  view(slot: number): BlobView {
    const v = this.cursor;
    const addr = this.addr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u16 = this.arena.u16[p]!;
    v.u8 = this.arena.u8[p]!;
    v.u16 = u16;
    v.u32 = this.arena.u32[p]!;
    v.p = p;
    v.b = b;
    v.recs = b + u16[(b + K.O_RECS) >> 1]!;
    v.end = b + u16[(b + K.O_USED) >> 1]!;
    return v;
  }

  // ---- header accessors (offsets from codes.ts) ----

  rd8(slot: number, o: number): number {
    const a = this.addr[slot]!;
    return this.arena.u8[a >>> PAGE_BITS]![(a & MASK) + o]!;
  }
  wr8(slot: number, o: number, v: number): void {
    const a = this.addr[slot]!;
    this.arena.u8[a >>> PAGE_BITS]![(a & MASK) + o] = v;
  }
  rd16(slot: number, o: number): number {
    const a = this.addr[slot]!;
    return this.arena.u16[a >>> PAGE_BITS]![((a & MASK) + o) >> 1]!;
  }
  wr16(slot: number, o: number, v: number): void {
    const a = this.addr[slot]!;
    this.arena.u16[a >>> PAGE_BITS]![((a & MASK) + o) >> 1] = v;
  }
  rd32(slot: number, o: number): number {
    const a = this.addr[slot]!;
    return this.arena.u32[a >>> PAGE_BITS]![((a & MASK) + o) >> 2]!;
  }
  wr32(slot: number, o: number, v: number): void {
    const a = this.addr[slot]!;
    this.arena.u32[a >>> PAGE_BITS]![((a & MASK) + o) >> 2] = v;
  }
  wri32(slot: number, o: number, v: number): void {
    const a = this.addr[slot]!;
    this.arena.i32[a >>> PAGE_BITS]![((a & MASK) + o) >> 2] = v;
  }
  rd64(slot: number, o: number): number {
    const a = this.addr[slot]!;
    return this.arena.f64[a >>> PAGE_BITS]![((a & MASK) + o) >> 3]!;
  }
  wr64(slot: number, o: number, v: number): void {
    const a = this.addr[slot]!;
    this.arena.f64[a >>> PAGE_BITS]![((a & MASK) + o) >> 3] = v;
  }
}
