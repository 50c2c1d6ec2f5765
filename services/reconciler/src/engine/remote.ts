// Remote bindings: (provider, provider_message_id) -> request_id for requests owned by *another* reconciler
// instance (scale-out, SEMANTICS.md §10). The instance owning the callbacks' partition learns them from binding
// records and forwards callbacks without request_id to the request's owner instead of parking them in a
// pseudo key.
//
// Compact like the tombstones: a FIFO ring of typed arrays ordered by insertion (= expiry order while the
// clock is monotone and the TTL constant), a hash index (pmid hash -> ring position) and, per entry, one small
// arena blob holding the two strings (provider_message_id, request_id) in the engine's packed string codec.
// An entry past its expiry no longer matches (lookups check it), and the FIFO drops it lazily.
import type { Arena } from './arena.js';
import { PAGE_BITS, PAGE_BYTES } from './arena.js';
import { HashIndex } from './hashindex.js';
import { decodeAt, encodeTo, equalsAt, measure, sizeAt } from './strcodec.js';

const MASK = PAGE_BYTES - 1;

export class RemoteBindings {
  private index = new HashIndex(64);
  private h = new Uint32Array(64);
  private pid = new Uint16Array(64);
  private part = new Uint16Array(64);
  private len = new Uint16Array(64);
  private addr = new Uint32Array(64);
  /** NaN = removed (the FIFO skips it). */
  private exp = new Float64Array(64);
  private head = 0;
  private tail = 0; // FIFO positions (monotone); ring index = pos % capacity
  count = 0;

  constructor(private readonly arena: Arena) {}

  /** Off-heap bytes of the ring and the index (the string blobs are counted in the arena). */
  get bytes(): number {
    return (
      this.index.bytes +
      this.h.byteLength +
      this.pid.byteLength +
      this.part.byteLength +
      this.len.byteLength +
      this.addr.byteLength +
      this.exp.byteLength
    );
  }

  /** Ring index of the live binding of (pid, pmid) with hash `hash` at clock `T`, or -1. */
  find(pid: number, pmid: string, hash: number, T: number): number {
    if (this.count === 0) return -1;
    const idx = this.index;
    for (let pos = idx.probe(hash); pos >= 0; pos = idx.next(pos, hash)) {
      const i = idx.slots[pos]!;
      if (this.pid[i] === pid && this.exp[i]! > T) {
        const a = this.addr[i]!;
        if (equalsAt(this.arena.u8[a >>> PAGE_BITS]!, a & MASK, pmid)) return i;
      }
    }
    return -1;
  }

  /** Adds a binding (the caller checked there is none for the pair); returns its ring index. */
  add(pid: number, pmid: string, hash: number, requestId: string, partition: number, expiry: number): number {
    if (this.tail - this.head >= this.h.length) this.grow();
    const i = this.tail % this.h.length;
    this.tail++;
    const total = measure(pmid) + measure(requestId);
    const a = this.arena.alloc(total);
    const u8 = this.arena.u8[a >>> PAGE_BITS]!;
    encodeTo(u8, encodeTo(u8, a & MASK, pmid), requestId);
    this.h[i] = hash;
    this.pid[i] = pid;
    this.part[i] = partition;
    this.len[i] = total;
    this.addr[i] = a;
    this.exp[i] = expiry;
    this.index.insert(hash, i);
    this.count++;
    return i;
  }

  remove(i: number): void {
    this.index.remove(this.h[i]!, i);
    this.arena.free(this.addr[i]!, this.len[i]!);
    this.addr[i] = 0;
    this.exp[i] = NaN;
    this.count--;
  }

  providerId(i: number): number {
    return this.pid[i]!;
  }

  partition(i: number): number {
    return this.part[i]!;
  }

  expiry(i: number): number {
    return this.exp[i]!;
  }

  pmid(i: number): string {
    const a = this.addr[i]!;
    return decodeAt(this.arena.u8[a >>> PAGE_BITS]!, a & MASK);
  }

  requestId(i: number): string {
    const a = this.addr[i]!;
    const u8 = this.arena.u8[a >>> PAGE_BITS]!;
    const o = a & MASK;
    return decodeAt(u8, o + sizeAt(u8, o));
  }

  requestIdEquals(i: number, requestId: string): boolean {
    const a = this.addr[i]!;
    const u8 = this.arena.u8[a >>> PAGE_BITS]!;
    const o = a & MASK;
    return equalsAt(u8, o + sizeAt(u8, o), requestId);
  }

  /** The oldest live entry (FIFO head, skipping removed ones), or -1. */
  oldest(): number {
    while (this.head < this.tail) {
      const i = this.head % this.h.length;
      const e = this.exp[i]!;
      if (e === e) return i;
      this.head++;
    }
    return -1;
  }

  /** The oldest live entry if it expired at T, else -1 (the caller removes it, then asks again). */
  due(T: number): number {
    const i = this.oldest();
    return i >= 0 && this.exp[i]! <= T ? i : -1;
  }

  /** FIFO position of the oldest entry (for a walk over every entry: positions first..end-1). */
  get first(): number {
    return this.head;
  }

  /** FIFO position after the newest entry. */
  get end(): number {
    return this.tail;
  }

  /** Ring index of the entry at FIFO position `pos` (first <= pos < end), or -1 when it was removed. */
  at(pos: number): number {
    const i = pos % this.h.length;
    const e = this.exp[i]!;
    return e === e ? i : -1;
  }

  /** Live entries whose partition is in `drop` (ring indexes; remove them after the walk). */
  inPartitions(drop: ReadonlySet<number>): number[] {
    const out: number[] = [];
    for (let k = this.head; k < this.tail; k++) {
      const i = k % this.h.length;
      const e = this.exp[i]!;
      if (e === e && drop.has(this.part[i]!)) out.push(i);
    }
    return out;
  }

  private grow(): void {
    const cap = this.h.length;
    const n = cap * 2;
    const h = new Uint32Array(n);
    const pid = new Uint16Array(n);
    const part = new Uint16Array(n);
    const len = new Uint16Array(n);
    const addr = new Uint32Array(n);
    const exp = new Float64Array(n).fill(NaN);
    for (let k = this.head; k < this.tail; k++) {
      const oi = k % cap;
      const ni = k % n;
      h[ni] = this.h[oi]!;
      pid[ni] = this.pid[oi]!;
      part[ni] = this.part[oi]!;
      len[ni] = this.len[oi]!;
      addr[ni] = this.addr[oi]!;
      exp[ni] = this.exp[oi]!;
    }
    // Rebuilt rather than patched in place: two live entries may share a 32-bit hash.
    const index = new HashIndex(n);
    for (let k = this.head; k < this.tail; k++) {
      const ni = k % n;
      if (exp[ni] === exp[ni]) index.insert(h[ni]!, ni);
    }
    this.index = index;
    this.h = h;
    this.pid = pid;
    this.part = part;
    this.len = len;
    this.addr = addr;
    this.exp = exp;
  }
}
