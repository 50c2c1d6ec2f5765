// Interning of low-cardinality strings (tenant, operation, channel, provider, route, error code) to small
// ints, and of attribute maps to ids with one shared frozen object per distinct map. Tables only grow, so
// each has a cap: beyond it values map to a single overflow id (counted), never to unbounded memory.

export const OVERFLOW_LABEL = '~overflow';

export class Interner {
  private readonly ids = new Map<string, number>();
  readonly values: string[] = [];
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

/** Attribute maps: canonical (sorted) key -> id; id -> frozen shared object used in every verdict. */
export class AttributeSets {
  private readonly ids = new Map<string, number>();
  readonly objects: Readonly<Record<string, string>>[] = [EMPTY_ATTRS];
  overflowed = 0;

  constructor(private readonly cap = 1_000_000) {
    this.ids.set('', 0);
  }

  id(attrs: Record<string, string> | null | undefined): number {
    if (!attrs) return 0;
    const keys = Object.keys(attrs);
    if (keys.length === 0) return 0;
    let sorted = true;
    for (let i = 1; i < keys.length; i++) if ((keys[i - 1] ?? '') > (keys[i] ?? '')) sorted = false;
    if (!sorted) keys.sort();
    let canon = '';
    for (const k of keys) canon += `${k}\u0000${attrs[k] ?? ''}\u0001`;
    const id = this.ids.get(canon);
    if (id !== undefined) return id;
    if (this.objects.length >= this.cap) {
      this.overflowed++;
      return 0;
    }
    const obj: Record<string, string> = {};
    for (const k of keys) obj[k] = attrs[k] ?? '';
    const n = this.objects.length;
    this.objects.push(Object.freeze(obj));
    this.ids.set(canon, n);
    return n;
  }

  object(id: number): Readonly<Record<string, string>> {
    return this.objects[id] ?? EMPTY_ATTRS;
  }

  get size(): number {
    return this.objects.length;
  }
}
