// A paged byte arena for per-request blobs. Off the JS heap (ArrayBuffers), so a million open requests are
// not a million objects for the garbage collector to trace. Blobs are 8-byte aligned, sized in 8-byte
// granules, recycled through one free list per size; pages are never moved, so growth never copies.

export const PAGE_BITS = 20;
export const PAGE_BYTES = 1 << PAGE_BITS;
const OFFSET_MASK = PAGE_BYTES - 1;
/** Largest blob; bigger requests are refused by the engine's per-request caps before they get here. */
export const MAX_BLOB_BYTES = 16384;
const CLASSES = MAX_BLOB_BYTES >>> 3;

export class Arena {
  readonly u8: Uint8Array[] = [];
  readonly u16: Uint16Array[] = [];
  readonly u32: Uint32Array[] = [];
  readonly i32: Int32Array[] = [];
  readonly f64: Float64Array[] = [];
  /** Free-list head per size class (address, 0 = empty); the next pointer lives in the free blob. */
  private readonly freeHead = new Float64Array(CLASSES + 1);
  private bumpPage = -1;
  private bumpOffset = PAGE_BYTES;
  /** Bytes handed out and not yet freed. */
  bytesInUse = 0;
  /** Bytes sitting in free lists. */
  bytesFree = 0;

  /** Reserved bytes (all pages). */
  get bytesReserved(): number {
    return this.u8.length * PAGE_BYTES;
  }

  /** Rounds a size up to the granule the arena hands out. */
  static sizeClass(bytes: number): number {
    return (bytes + 7) & ~7;
  }

  /** Allocates `bytes` (rounded up to 8); returns the address (never 0). */
  alloc(bytes: number): number {
    const size = (bytes + 7) & ~7;
    const cls = size >>> 3;
    const head = this.freeHead[cls] ?? 0;
    if (head !== 0) {
      const p = head >>> PAGE_BITS;
      const o = head & OFFSET_MASK;
      this.freeHead[cls] = (this.u32[p] as Uint32Array)[o >>> 2] ?? 0;
      this.bytesFree -= size;
      this.bytesInUse += size;
      return head;
    }
    if (this.bumpOffset + size > PAGE_BYTES) this.newPage();
    const addr = this.bumpPage * PAGE_BYTES + this.bumpOffset;
    this.bumpOffset += size;
    this.bytesInUse += size;
    return addr;
  }

  free(addr: number, bytes: number): void {
    const size = (bytes + 7) & ~7;
    const cls = size >>> 3;
    const p = addr >>> PAGE_BITS;
    const o = addr & OFFSET_MASK;
    (this.u32[p] as Uint32Array)[o >>> 2] = this.freeHead[cls] ?? 0;
    this.freeHead[cls] = addr;
    this.bytesInUse -= size;
    this.bytesFree += size;
  }

  private newPage(): void {
    // The unused tail of the current page goes to the free lists rather than being lost.
    if (this.bumpPage >= 0) {
      let rest = PAGE_BYTES - this.bumpOffset;
      while (rest >= 8) {
        const size = Math.min(rest, MAX_BLOB_BYTES);
        const addr = this.bumpPage * PAGE_BYTES + this.bumpOffset;
        this.bumpOffset += size;
        rest -= size;
        this.bytesInUse += size;
        this.free(addr, size);
      }
    }
    const buf = new ArrayBuffer(PAGE_BYTES);
    this.u8.push(new Uint8Array(buf));
    this.u16.push(new Uint16Array(buf));
    this.u32.push(new Uint32Array(buf));
    this.i32.push(new Int32Array(buf));
    this.f64.push(new Float64Array(buf));
    this.bumpPage = this.u8.length - 1;
    // Address 0 means "none": never hand out the first granule of page 0.
    this.bumpOffset = this.bumpPage === 0 ? 8 : 0;
    if (this.u8.length > 4095) throw new RangeError('arena exceeds 4 GiB');
  }
}

export function pageOf(addr: number): number {
  return addr >>> PAGE_BITS;
}

export function offsetOf(addr: number): number {
  return addr & OFFSET_MASK;
}
