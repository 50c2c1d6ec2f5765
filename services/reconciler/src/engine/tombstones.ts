// Tombstones of forgotten keys: (64-bit key hash, last version, last class, home partition, expiry) in a FIFO
// ring ordered by forget time (= expiry order: the clock is monotone and the horizon constant), with a hash
// index on the first half of the hash. A late event for a forgotten key continues its version sequence.
import { H, hash2 } from './hash.js';
import { HashIndex } from './hashindex.js';

const SEED_TOMB = 0x44b1;

export class Tombstones {
  private index = new HashIndex(1024);
  private a = new Uint32Array(1024);
  private b = new Uint32Array(1024);
  private ver = new Uint32Array(1024);
  private cls = new Uint8Array(1024);
  /** NaN = removed (the FIFO skips it). */
  private exp = new Float64Array(1024);
  private part = new Uint16Array(1024);
  private head = 0;
  private tail = 0; // FIFO positions (monotone); index = pos % capacity
  count = 0;

  get bytes(): number {
    return (
      this.index.bytes +
      this.a.byteLength +
      this.b.byteLength +
      this.ver.byteLength +
      this.cls.byteLength +
      this.exp.byteLength
    );
  }

  /** Sets H to the tombstone hash of a key. */
  static hash(key: string): void {
    hash2(key, SEED_TOMB);
  }

  /** Ring index of the live tombstone of `key` at stream time T, or -1. */
  find(key: string, T: number): number {
    if (this.count === 0) return -1;
    hash2(key, SEED_TOMB);
    return this.findHash(H.a, H.b, T);
  }

  findHash(a: number, b: number, T: number): number {
    if (this.count === 0) return -1;
    const idx = this.index;
    for (let pos = idx.probe(a); pos >= 0; pos = idx.next(pos, a)) {
      const s = idx.slots[pos]!;
      // A tombstone counts while the clock is before its expiry (the FIFO drops it lazily).
      if (this.b[s] === b && this.exp[s]! > T) return s;
    }
    return -1;
  }

  add(a: number, b: number, version: number, lastClass: number, partition: number, expiry: number): void {
    if (this.tail - this.head >= this.b.length) this.grow();
    const i = this.tail % this.b.length;
    this.tail++;
    this.a[i] = a;
    this.b[i] = b;
    this.ver[i] = version;
    this.cls[i] = lastClass;
    this.part[i] = partition;
    this.exp[i] = expiry;
    this.index.insert(a, i);
    this.count++;
  }

  remove(i: number): void {
    this.index.remove(this.a[i]!, i);
    this.exp[i] = NaN; // the FIFO skips it
    this.count--;
  }

  /** Drops the oldest live tombstone (bounds). */
  popOldest(): void {
    while (this.head < this.tail) {
      const i = this.head % this.b.length;
      this.head++;
      if (this.exp[i] !== this.exp[i]) continue;
      this.index.remove(this.a[i]!, i);
      this.count--;
      return;
    }
  }

  /**
   * Drops tombstones past their horizon at stream time T. Their changelog records are not deleted (only the
   * hash is kept); the changelog topic's retention (>= tombstoneHorizonMs) ages them out and restore skips
   * expired ones.
   */
  expire(T: number): void {
    while (this.head < this.tail) {
      const i = this.head % this.b.length;
      const e = this.exp[i]!;
      if (e === e && e > T) break;
      this.head++;
      if (e !== e) continue;
      this.index.remove(this.a[i]!, i);
      this.count--;
    }
  }

  /** Removes every live tombstone whose home partition is in `drop`. */
  dropPartitions(drop: ReadonlySet<number>): void {
    for (let k = this.head; k < this.tail; k++) {
      const i = k % this.b.length;
      if (this.exp[i] === this.exp[i] && drop.has(this.part[i]!)) this.remove(i);
    }
  }

  // ---- reading (a walk over FIFO positions first..end-1, as for remote bindings) ----

  get first(): number {
    return this.head;
  }
  get end(): number {
    return this.tail;
  }
  /** Ring index of the entry at FIFO position `pos`, or -1 when it was removed. */
  at(pos: number): number {
    const i = pos % this.b.length;
    const e = this.exp[i]!;
    return e === e ? i : -1;
  }
  version(i: number): number {
    return this.ver[i]!;
  }
  lastClass(i: number): number {
    return this.cls[i]!;
  }
  partition(i: number): number {
    return this.part[i]!;
  }
  expiry(i: number): number {
    return this.exp[i]!;
  }
  hashA(i: number): number {
    return this.a[i]!;
  }
  hashB(i: number): number {
    return this.b[i]!;
  }

  private grow(): void {
    const cap = this.b.length;
    const n = cap * 2;
    const tA = new Uint32Array(n);
    const tB = new Uint32Array(n);
    const tV = new Uint32Array(n);
    const tC = new Uint8Array(n);
    const tP = new Uint16Array(n);
    const tE = new Float64Array(n);
    for (let k = this.head; k < this.tail; k++) {
      const oi = k % cap;
      const ni = k % n;
      tA[ni] = this.a[oi]!;
      tB[ni] = this.b[oi]!;
      tV[ni] = this.ver[oi]!;
      tC[ni] = this.cls[oi]!;
      tP[ni] = this.part[oi]!;
      tE[ni] = this.exp[oi]!;
    }
    // Rebuilt rather than patched in place: two live entries may share the first half of their hash, and a
    // patch could repoint the wrong one.
    const index = new HashIndex(Math.max(n, this.index.capacity));
    for (let k = this.head; k < this.tail; k++) {
      const ni = k % n;
      if (tE[ni] === tE[ni]) index.insert(tA[ni]!, ni);
    }
    this.index = index;
    this.a = tA;
    this.b = tB;
    this.ver = tV;
    this.cls = tC;
    this.part = tP;
    this.exp = tE;
  }
}
