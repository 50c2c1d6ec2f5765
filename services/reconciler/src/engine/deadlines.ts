// Time-bucketed deadline index for millions of pending (deadline, slot) entries.
//
//   near heap   entries whose bucket the clock has reached (small binary heap: exact order within a bucket)
//   ring        the next `ringSize` buckets of `bucketMs` each; O(1) append into chunked lists
//   far heap    anything beyond the ring (give-up horizons of hours); migrates into the ring as time passes
//
// Entries are never removed eagerly: a slot re-arms by pushing a new entry and the owner skips stale ones
// on pop (the slot's current deadline no longer matches). Everything lives in typed arrays.

const CHUNK = 16;
const NONE = -1;

class Heap {
  d = new Float64Array(64);
  s = new Int32Array(64);
  size = 0;

  push(deadline: number, slot: number): void {
    if (this.size === this.d.length) {
      const d = new Float64Array(this.d.length * 2);
      d.set(this.d);
      const s = new Int32Array(this.s.length * 2);
      s.set(this.s);
      this.d = d;
      this.s = s;
    }
    const d = this.d;
    const s = this.s;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pd = d[p] ?? 0;
      if (pd <= deadline) break;
      d[i] = pd;
      s[i] = s[p] ?? 0;
      i = p;
    }
    d[i] = deadline;
    s[i] = slot;
  }

  get minDeadline(): number {
    return this.size > 0 ? (this.d[0] ?? Infinity) : Infinity;
  }

  get minSlot(): number {
    return this.s[0] ?? NONE;
  }

  pop(): void {
    if (this.size === 0) return;
    const d = this.d;
    const s = this.s;
    const n = --this.size;
    if (n === 0) return;
    const ld = d[n] ?? 0;
    const ls = s[n] ?? 0;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (d[r] ?? 0) < (d[l] ?? 0) ? r : l;
      const cd = d[c] ?? 0;
      if (cd >= ld) break;
      d[i] = cd;
      s[i] = s[c] ?? 0;
      i = c;
    }
    d[i] = ld;
    s[i] = ls;
  }

  get bytes(): number {
    return this.d.byteLength + this.s.byteLength;
  }
}

export class DeadlineIndex {
  private readonly near = new Heap();
  private readonly far = new Heap();
  private readonly ringHead: Int32Array;
  private readonly ringTail: Int32Array;
  private chunkD = new Float64Array(CHUNK * 256);
  private chunkS = new Int32Array(CHUNK * 256);
  private chunkNext = new Int32Array(256).fill(NONE);
  private chunkFill = new Uint8Array(256);
  private chunkCount = 0;
  private freeChunk = NONE;
  private ringEntries = 0;
  /** Highest bucket already moved into the near heap (NaN until the clock is first known). */
  private cur = NaN;
  /** Deadline of the entry returned by the last `popDue`. */
  poppedDeadline = 0;

  constructor(
    private readonly bucketMs = 1000,
    private readonly ringSize = 4096,
  ) {
    this.ringHead = new Int32Array(ringSize).fill(NONE);
    this.ringTail = new Int32Array(ringSize).fill(NONE);
  }

  get size(): number {
    return this.near.size + this.far.size + this.ringEntries;
  }

  get bytes(): number {
    return (
      this.near.bytes +
      this.far.bytes +
      this.ringHead.byteLength * 2 +
      this.chunkD.byteLength +
      this.chunkS.byteLength +
      this.chunkNext.byteLength +
      this.chunkFill.byteLength
    );
  }

  /** Entries per tier, for stats. */
  tiers(): { near: number; ring: number; far: number } {
    return { near: this.near.size, ring: this.ringEntries, far: this.far.size };
  }

  push(deadline: number, slot: number): void {
    const b = Math.floor(deadline / this.bucketMs);
    const cur = this.cur;
    if (cur !== cur) this.far.push(deadline, slot);
    else if (b <= cur) this.near.push(deadline, slot);
    else if (b < cur + this.ringSize) this.ringAppend(b % this.ringSize, deadline, slot);
    else this.far.push(deadline, slot);
  }

  /** Earliest pending deadline (Infinity when empty); exact for near/far, bucket-start for the ring. */
  peek(): number {
    let m = Math.min(this.near.minDeadline, this.far.minDeadline);
    if (this.ringEntries > 0 && this.cur === this.cur) {
      for (let k = 1; k <= this.ringSize; k++) {
        const b = this.cur + k;
        if ((this.ringHead[b % this.ringSize] ?? NONE) !== NONE) {
          m = Math.min(m, b * this.bucketMs);
          break;
        }
      }
    }
    return m;
  }

  /**
   * Pops one entry with deadline <= t, returning its slot (and setting `poppedDeadline`), or -1 when none
   * is due. Call repeatedly until -1.
   */
  popDue(t: number): number {
    if (this.near.size === 0 || this.near.minDeadline > t) {
      if (!this.advance(t)) return NONE;
      if (this.near.size === 0 || this.near.minDeadline > t) return NONE;
    }
    return this.popNear();
  }

  /** Pops the earliest entry whatever its deadline (for evictions under a state bound); -1 when empty. */
  popMin(): number {
    if (this.near.size > 0) return this.popNear();
    if (this.ringEntries > 0 && this.cur === this.cur) {
      for (let k = 1; k <= this.ringSize; k++) {
        const r = (this.cur + k) % this.ringSize;
        if ((this.ringHead[r] ?? NONE) !== NONE) {
          // Near holds buckets <= cur: move this bucket in without advancing the wheel.
          this.drainBucket(r);
          return this.popNear();
        }
      }
    }
    if (this.far.size > 0) {
      this.poppedDeadline = this.far.minDeadline;
      const slot = this.far.minSlot;
      this.far.pop();
      return slot;
    }
    return NONE;
  }

  private popNear(): number {
    this.poppedDeadline = this.near.minDeadline;
    const slot = this.near.minSlot;
    this.near.pop();
    return slot;
  }

  /** Moves buckets up to t's bucket into the near heap; true if anything may now be due. */
  private advance(t: number): boolean {
    if (t !== t || t === -Infinity || t === Infinity) return false;
    const target = Math.floor(t / this.bucketMs);
    if (this.cur !== this.cur) this.cur = target - 1;
    if (target <= this.cur) return false;
    const R = this.ringSize;
    if (this.ringEntries > 0) {
      const steps = Math.min(target - this.cur, R);
      for (let k = 1; k <= steps; k++) this.drainBucket((this.cur + k) % R);
    }
    this.cur = target;
    // Far entries that now fall inside the ring (or are already due) move in.
    const far = this.far;
    const horizon = (target + R) * this.bucketMs;
    while (far.size > 0 && far.minDeadline < horizon) {
      const d = far.minDeadline;
      const s = far.minSlot;
      far.pop();
      this.push(d, s);
    }
    return true;
  }

  private drainBucket(r: number): void {
    let c = this.ringHead[r] ?? NONE;
    if (c === NONE) return;
    while (c !== NONE) {
      const n = this.chunkFill[c] ?? 0;
      const base = c * CHUNK;
      for (let i = 0; i < n; i++) this.near.push(this.chunkD[base + i] ?? 0, this.chunkS[base + i] ?? 0);
      this.ringEntries -= n;
      const next = this.chunkNext[c] ?? NONE;
      this.chunkNext[c] = this.freeChunk;
      this.freeChunk = c;
      c = next;
    }
    this.ringHead[r] = NONE;
    this.ringTail[r] = NONE;
  }

  private ringAppend(r: number, deadline: number, slot: number): void {
    let c = this.ringTail[r] ?? NONE;
    if (c === NONE || (this.chunkFill[c] ?? 0) === CHUNK) {
      const n = this.newChunk();
      if (c === NONE) this.ringHead[r] = n;
      else this.chunkNext[c] = n;
      this.ringTail[r] = n;
      c = n;
    }
    const fill = this.chunkFill[c] ?? 0;
    this.chunkD[c * CHUNK + fill] = deadline;
    this.chunkS[c * CHUNK + fill] = slot;
    this.chunkFill[c] = fill + 1;
    this.ringEntries++;
  }

  private newChunk(): number {
    let c = this.freeChunk;
    if (c !== NONE) {
      this.freeChunk = this.chunkNext[c] ?? NONE;
    } else {
      c = this.chunkCount++;
      if (c >= this.chunkNext.length) {
        const cap = this.chunkNext.length * 2;
        const d = new Float64Array(cap * CHUNK);
        d.set(this.chunkD);
        const s = new Int32Array(cap * CHUNK);
        s.set(this.chunkS);
        const nx = new Int32Array(cap).fill(NONE);
        nx.set(this.chunkNext);
        const f = new Uint8Array(cap);
        f.set(this.chunkFill);
        this.chunkD = d;
        this.chunkS = s;
        this.chunkNext = nx;
        this.chunkFill = f;
      }
    }
    this.chunkNext[c] = NONE;
    this.chunkFill[c] = 0;
    return c;
  }
}
