// Interning of low-cardinality strings (tenant, operation, channel, provider, route, error code) to small
// ints, and of attribute maps to ids with one shared frozen object per distinct map. Tables only grow, so
// each has a cap: beyond it values map to a single overflow id (counted), never to unbounded memory.

export const OVERFLOW_LABEL = '~overflow';

const utf8 = new TextEncoder();

export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
  private readonly encoded: (Uint8Array | undefined)[] = [];
  overflowed = 0;

  /** Id 0 is reserved for the empty string / "none". */
  constructor(private readonly cap = 65535) {
    this.ids.set('', 0);
    this.values.push('');
  }

  id(s: string): number {
    const id = this.ids.get(s);
    if (id !== undefined) return id;
    if (this.values.length >= this.cap - 1) {
      this.overflowed++;
      return this.overflowId();
    }
    const n = this.values.length;
    this.values.push(s);
    this.ids.set(s, n);
    return n;
  }

  /** Id of a string if interned, else -1 (no insertion). */
  peek(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  value(id: number): string {
    return this.values[id] ?? '';
  }

  /** UTF-8 bytes of an interned string (computed once). */
  bytes(id: number): Uint8Array {
    let b = this.encoded[id];
    if (b === undefined) {
      b = utf8.encode(this.values[id] ?? '');
      this.encoded[id] = b;
    }
    return b;
  }

  get size(): number {
    return this.values.length;
  }

  private overflowId(): number {
    const id = this.ids.get(OVERFLOW_LABEL);
    if (id !== undefined) return id;
    const n = this.values.length;
    this.values.push(OVERFLOW_LABEL);
    this.ids.set(OVERFLOW_LABEL, n);
    return n;
  }
}

const EMPTY_ATTRS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * Attribute maps -> ids, one shared frozen object per distinct map. Lookup interns each key and value and
 * combines their ids (no canonical string built per event); candidates are verified pair by pair.
 */
export class AttributeSets {
  private readonly strings = new Interner(2_000_000);
  private readonly byHash = new Map<number, number[]>();
  /** Per set: sorted [keyId, valueId, ...] pairs. */
  private readonly pairs: Int32Array[] = [new Int32Array(0)];
  readonly objects: Readonly<Record<string, string>>[] = [EMPTY_ATTRS];
  private readonly encoded: (Uint8Array | undefined)[] = [];
  overflowed = 0;
  private scratch = new Int32Array(64);

  constructor(private readonly cap = 1_000_000) {}

  id(attrs: Record<string, string> | null | undefined): number {
    if (!attrs) return 0;
    const keys = Object.keys(attrs);
    const n = keys.length;
    if (n === 0) return 0;
    if (2 * n > this.scratch.length) this.scratch = new Int32Array(4 * n);
    const sc = this.scratch;
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      sc[2 * i] = this.strings.id(k);
      sc[2 * i + 1] = this.strings.id(attrs[k] ?? '');
    }
    // Canonical order: by key string (insertion sort; maps are small).
    for (let i = 1; i < n; i++) {
      const k = sc[2 * i]!;
      const v = sc[2 * i + 1]!;
      const ks = this.strings.value(k);
      let j = i - 1;
      while (j >= 0 && this.strings.value(sc[2 * j]!) > ks) {
        sc[2 * j + 2] = sc[2 * j]!;
        sc[2 * j + 3] = sc[2 * j + 1]!;
        j--;
      }
      sc[2 * j + 2] = k;
      sc[2 * j + 3] = v;
    }
    let h = 0x9e3779b1 ^ n;
    for (let i = 0; i < 2 * n; i++) h = Math.imul(h ^ sc[i]!, 0x01000193);
    h >>>= 0;
    const cands = this.byHash.get(h);
    if (cands !== undefined) {
      for (const c of cands) {
        const p = this.pairs[c]!;
        if (p.length !== 2 * n) continue;
        let same = true;
        for (let i = 0; i < 2 * n && same; i++) same = p[i] === sc[i];
        if (same) return c;
      }
    }
    if (this.objects.length >= this.cap) {
      this.overflowed++;
      return 0;
    }
    const id = this.objects.length;
    const obj: Record<string, string> = {};
    for (let i = 0; i < n; i++) obj[this.strings.value(sc[2 * i]!)] = this.strings.value(sc[2 * i + 1]!);
    this.objects.push(Object.freeze(obj));
    this.pairs.push(sc.slice(0, 2 * n));
    if (cands !== undefined) cands.push(id);
    else this.byHash.set(h, [id]);
    return id;
  }

  object(id: number): Readonly<Record<string, string>> {
    return this.objects[id] ?? EMPTY_ATTRS;
  }

  /** Encoded form for the changelog: varint count, then (key, value) as varint length + UTF-8 (cached). */
  bytes(id: number): Uint8Array {
    let b = this.encoded[id];
    if (b !== undefined) return b;
    const p = this.pairs[id] ?? new Int32Array(0);
    const parts: Uint8Array[] = [];
    let len = 0;
    for (let i = 0; i < p.length; i++) {
      const s = this.strings.bytes(p[i]!);
      parts.push(s);
      len += s.length + (s.length < 128 ? 1 : s.length < 16384 ? 2 : 3);
    }
    b = new Uint8Array(len + 3);
    let o = 0;
    const varint = (x: number) => {
      while (x >= 128) {
        b![o++] = (x & 127) | 128;
        x >>>= 7;
      }
      b![o++] = x;
    };
    varint(p.length >> 1);
    for (const s of parts) {
      varint(s.length);
      b.set(s, o);
      o += s.length;
    }
    b = b.slice(0, o);
    this.encoded[id] = b;
    return b;
  }

  get size(): number {
    return this.objects.length;
  }
}
