// Open-addressing hash index (32-bit hash -> slot) in typed arrays: linear probing, backward-shift
// deletion, no per-entry objects. Keys are not stored: callers verify a candidate slot against their own
// stored key, so collisions of the 32-bit hash are harmless.

const EMPTY = -1;

export class HashIndex {
  hashes: Uint32Array;
  slots: Int32Array;
  mask: number;
  size = 0;

  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.hashes = new Uint32Array(cap);
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
  }

  get capacity(): number {
    return this.mask + 1;
  }

  get bytes(): number {
    return this.hashes.byteLength + this.slots.byteLength;
  }

  /**
   * The probe API: the first position holding `hash`, or -1. Walk the candidates with
   * `for (let pos = idx.probe(h); pos >= 0; pos = idx.next(pos, h))` and check `idx.slots[pos]` against the
   * caller's own stored key (the index keeps no keys).
   */
  probe(hash: number): number {
    return this.scan(hash & this.mask, hash);
  }

  /** The next position after `pos` holding `hash`, or -1 (see probe). */
  next(pos: number, hash: number): number {
    return this.scan((pos + 1) & this.mask, hash);
  }

  private scan(from: number, hash: number): number {
    const mask = this.mask;
    const slots = this.slots;
    const hashes = this.hashes;
    for (let pos = from; ; pos = (pos + 1) & mask) {
      if (slots[pos] === EMPTY) return -1;
      if (hashes[pos] === hash) return pos;
    }
  }

  /** Position of the exact (hash, slot) entry, or -1. */
  find(hash: number, slot: number): number {
    for (let pos = this.probe(hash); pos >= 0; pos = this.next(pos, hash))
      if (this.slots[pos] === slot) return pos;
    return -1;
  }

  insert(hash: number, slot: number): void {
    if ((this.size + 1) * 4 > this.capacity * 3) this.grow();
    const mask = this.mask;
    let pos = hash & mask;
    while ((this.slots[pos] ?? EMPTY) !== EMPTY) pos = (pos + 1) & mask;
    this.hashes[pos] = hash;
    this.slots[pos] = slot;
    this.size++;
  }

  /** Removes the entry at `pos` (from find or a probe loop), shifting later entries back. */
  removeAt(pos: number): void {
    const mask = this.mask;
    const hashes = this.hashes;
    const slots = this.slots;
    let hole = pos;
    let i = pos;
    for (;;) {
      i = (i + 1) & mask;
      const s = slots[i] ?? EMPTY;
      if (s === EMPTY) break;
      const home = (hashes[i] ?? 0) & mask;
      // Move entry i into the hole unless its home lies cyclically in (hole, i].
      const between = hole <= i ? home > hole && home <= i : home > hole || home <= i;
      if (!between) {
        hashes[hole] = hashes[i] ?? 0;
        slots[hole] = s;
        hole = i;
      }
    }
    slots[hole] = EMPTY;
    this.size--;
  }

  remove(hash: number, slot: number): boolean {
    const pos = this.find(hash, slot);
    if (pos < 0) return false;
    this.removeAt(pos);
    return true;
  }

  /** Replaces the slot of an existing (hash, oldSlot) entry. */
  replace(hash: number, oldSlot: number, newSlot: number): boolean {
    const pos = this.find(hash, oldSlot);
    if (pos < 0) return false;
    this.slots[pos] = newSlot;
    return true;
  }

  private grow(): void {
    const oldH = this.hashes;
    const oldS = this.slots;
    const cap = oldH.length * 2;
    this.hashes = new Uint32Array(cap);
    this.slots = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    const mask = this.mask;
    for (let i = 0; i < oldH.length; i++) {
      const s = oldS[i] ?? EMPTY;
      if (s === EMPTY) continue;
      const h = oldH[i] ?? 0;
      let pos = h & mask;
      while ((this.slots[pos] ?? EMPTY) !== EMPTY) pos = (pos + 1) & mask;
      this.hashes[pos] = h;
      this.slots[pos] = s;
    }
  }
}
