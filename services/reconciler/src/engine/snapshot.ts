// Changelog records: a compact, self-contained binary image per request (the engine's blob with its
// process-local interned ids replaced by strings), a tombstone image for forgotten requests, a remote-binding
// image (scale-out: provider message id bound to a request owned by another instance) and one meta record
// (clock state and batch sequence). Format byte 1; readers reject anything else.
import * as K from './codes.js';
import { EngineError } from './errors.js';
import type { AttributeSets, Interner } from './intern.js';

/** Key of the engine meta record. */
export const META_KEY = '\u0000meta';
/** Prefix of pseudo-request keys (callbacks without request_id waiting for their dispatch). */
export const PSEUDO_KEY_PREFIX = '\u0000cb:';
/** Prefix of remote-binding keys: `<prefix><provider>:<provider_message_id>`. */
export const REMOTE_BINDING_KEY_PREFIX = '\u0000rb:';
/**
 * Prefix of tombstone keys written by a state export (snapshot): the engine keeps only a 64-bit hash of a
 * forgotten request's key, so the export names it by that hash (`<prefix><a hex>:<b hex>`).
 */
export const TOMB_HASH_KEY_PREFIX = '\u0000th:';

export function tombHashKey(a: number, b: number): string {
  return `${TOMB_HASH_KEY_PREFIX}${(a >>> 0).toString(16)}:${(b >>> 0).toString(16)}`;
}

/** The hash pair named by a tombstone export key, or null for any other key. */
export function parseTombHashKey(key: string): { a: number; b: number } | null {
  if (!key.startsWith(TOMB_HASH_KEY_PREFIX)) return null;
  const [a, b] = key.slice(TOMB_HASH_KEY_PREFIX.length).split(':');
  const na = Number.parseInt(a ?? '', 16);
  const nb = Number.parseInt(b ?? '', 16);
  if (!Number.isFinite(na) || !Number.isFinite(nb)) return null;
  return { a: na >>> 0, b: nb >>> 0 };
}

const T_SLOT = 0x53; // 'S'
const T_META = 0x4d; // 'M'
const T_TOMB = 0x54; // 'T'
const T_BINDING = 0x42; // 'B'
const FORMAT = 1;

/** A decoded slot image: the blob (a view into the record bytes) whose interned-id fields are 1-based indexes into `strings`. */
export interface RestoredSlot {
  readonly blob: Uint8Array;
  /** strings[0] = '' ; header fields and record fields index this table. */
  readonly strings: string[];
  readonly attrs: Record<string, string>;
}

export interface MetaImage {
  /** The engine's event-time clock when written. */
  readonly clockNow: number;
  /** Wall time when written. */
  readonly wallAt: number;
  /** The partition's inputs (0 request, 1 dispatch, 2 callback topic). */
  readonly inputs: readonly {
    readonly kind: number;
    readonly maxEventTime: number | null;
    readonly seenAt: number;
  }[];
}

export type Snapshot =
  | { readonly kind: 'slot'; readonly image: RestoredSlot }
  | ({ readonly kind: 'meta' } & MetaImage)
  | {
      readonly kind: 'tomb';
      readonly version: number;
      readonly lastClass: number;
      readonly expiry: number | null;
    }
  | {
      readonly kind: 'binding';
      readonly provider: string;
      readonly providerMessageId: string;
      readonly requestId: string;
      readonly expiry: number;
    };

const dec = new TextDecoder();
const enc = new TextEncoder();

/**
 * Writes the changelog records of one drain into one scratch buffer (interned strings are copied from their
 * cached UTF-8 bytes); `finish()` hands out one exact-size Buffer per record, all views of one allocation.
 */
export class ChangelogWriter {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private o = 0;
  private readonly starts: number[] = [];
  // Per-record string table: (table << 24 | id) entries, deduplicated linearly (a record uses a handful).
  private readonly refs = new Int32Array(512);
  private nRefs = 0;

  constructor(
    private readonly tenants: Interner,
    private readonly names: Interner,
    private readonly errCodes: Interner,
    private readonly attrSets: AttributeSets,
  ) {}

  private reserve(n: number): void {
    if (this.o + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.o + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.o));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  private varint(n: number): void {
    const b = this.buf;
    while (n >= 128) {
      b[this.o++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    b[this.o++] = n;
  }

  private f64(v: number): void {
    this.view.setFloat64(this.o, v, true);
    this.o += 8;
  }

  private bytes(src: Uint8Array): void {
    const n = src.length;
    this.reserve(n + 3);
    this.varint(n);
    const b = this.buf;
    let o = this.o;
    for (let i = 0; i < n; i++) b[o++] = src[i]!;
    this.o = o;
  }

  /** 1-based index of (table, id) in the record's string table (0 for id 0 = empty). */
  private ref(table: number, id: number): number {
    if (id === 0) return 0;
    const key = (table << 24) | id;
    for (let i = 0; i < this.nRefs; i++) if (this.refs[i] === key) return i + 1;
    this.refs[this.nRefs++] = key;
    return this.nRefs;
  }

  private interner(table: number): Interner {
    return table === 0 ? this.tenants : table === 1 ? this.names : this.errCodes;
  }

  /** Appends the image of the blob u8[b, b+used) (arena views p16 over the same page). */
  slot(u8: Uint8Array, u16: Uint16Array, b: number, used: number): void {
    this.starts.push(this.o);
    this.nRefs = 0;
    const tenant = this.ref(0, u16[(b + K.O_TENANT) >> 1]!);
    const op = this.ref(1, u16[(b + K.O_OP) >> 1]!);
    const channel = this.ref(1, u16[(b + K.O_CHANNEL) >> 1]!);
    const errCode = this.ref(2, u16[(b + K.O_LERRCODE) >> 1]!);
    const recStart = b + u16[(b + K.O_RECS) >> 1]!;
    const end = b + used;
    for (let r = recStart; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        this.ref(1, u16[(r + K.A_ROUTE) >> 1]!);
        this.ref(1, u16[(r + K.A_PROVIDER) >> 1]!);
        this.ref(2, u16[(r + K.A_ERRCODE) >> 1]!);
        r += u16[(r + K.A_LEN) >> 1]!;
      } else {
        this.ref(1, u16[(r + K.K_PROVIDER) >> 1]!);
        this.ref(2, u16[(r + K.K_ERRCODE) >> 1]!);
        r += K.CB_LEN;
      }
    }
    this.reserve(16 + used);
    const out = this.buf;
    out[this.o++] = T_SLOT;
    out[this.o++] = FORMAT;
    this.varint(this.nRefs);
    for (let i = 0; i < this.nRefs; i++) {
      const key = this.refs[i]!;
      this.bytes(this.interner(key >>> 24).bytes(key & 0xffffff));
    }
    const ao = b + K.O_ATTRS;
    const attrsId = (u8[ao]! | (u8[ao + 1]! << 8) | (u8[ao + 2]! << 16) | (u8[ao + 3]! << 24)) >>> 0;
    const attrs = this.attrSets.bytes(attrsId);
    this.reserve(attrs.length + 8 + used);
    const out2 = this.buf;
    let o = this.o;
    for (let i = 0; i < attrs.length; i++) out2[o++] = attrs[i]!;
    this.o = o;
    this.varint(used);
    const at = this.o;
    for (let i = 0; i < used; i++) out2[at + i] = u8[b + i]!;
    this.o += used;
    // Interned ids -> table indexes in the copy (little-endian u16 at even offsets of the blob copy).
    this.put16(at + K.O_TENANT, tenant);
    this.put16(at + K.O_OP, op);
    this.put16(at + K.O_CHANNEL, channel);
    this.put16(at + K.O_LERRCODE, errCode);
    for (let r = recStart; r < end;) {
      const o = at + (r - b);
      if (u8[r] === K.REC_ATTEMPT) {
        this.put16(o + K.A_ROUTE, this.ref(1, u16[(r + K.A_ROUTE) >> 1]!));
        this.put16(o + K.A_PROVIDER, this.ref(1, u16[(r + K.A_PROVIDER) >> 1]!));
        this.put16(o + K.A_ERRCODE, this.ref(2, u16[(r + K.A_ERRCODE) >> 1]!));
        r += u16[(r + K.A_LEN) >> 1]!;
      } else {
        this.put16(o + K.K_PROVIDER, this.ref(1, u16[(r + K.K_PROVIDER) >> 1]!));
        this.put16(o + K.K_ERRCODE, this.ref(2, u16[(r + K.K_ERRCODE) >> 1]!));
        r += K.CB_LEN;
      }
    }
  }

  private put16(off: number, v: number): void {
    this.buf[off] = v & 255;
    this.buf[off + 1] = v >>> 8;
  }

  meta(m: MetaImage): void {
    this.starts.push(this.o);
    this.reserve(32 + 17 * m.inputs.length);
    this.buf[this.o++] = T_META;
    this.buf[this.o++] = FORMAT;
    this.f64(m.clockNow);
    this.f64(m.wallAt);
    this.varint(m.inputs.length);
    for (const i of m.inputs) {
      this.buf[this.o++] = i.kind;
      this.f64(i.maxEventTime ?? NaN);
      this.f64(i.seenAt);
    }
  }

  tomb(version: number, lastClass: number, expiry: number | null): void {
    this.starts.push(this.o);
    this.reserve(24);
    this.buf[this.o++] = T_TOMB;
    this.buf[this.o++] = FORMAT;
    this.varint(version);
    this.buf[this.o++] = lastClass;
    this.f64(expiry ?? NaN);
  }

  /** A remote binding: 'B', format, provider, provider_message_id, request_id (varint length + UTF-8), f64 expiry. */
  binding(provider: string, providerMessageId: string, requestId: string, expiry: number): void {
    this.starts.push(this.o);
    this.reserve(10);
    this.buf[this.o++] = T_BINDING;
    this.buf[this.o++] = FORMAT;
    this.bytes(enc.encode(provider));
    this.bytes(enc.encode(providerMessageId));
    this.bytes(enc.encode(requestId));
    this.reserve(8);
    this.f64(expiry);
  }

  /** The records written since the last finish(), as Buffers over one exact-size copy. */
  finish(): Buffer[] {
    const total = this.o;
    const all = Buffer.allocUnsafe(total);
    all.set(this.buf.subarray(0, total));
    const out: Buffer[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!;
      const e = i + 1 < this.starts.length ? this.starts[i + 1]! : total;
      out.push(all.subarray(s, e));
    }
    this.starts.length = 0;
    this.o = 0;
    return out;
  }
}

class Reader {
  private o = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number): void {
    if (this.o + n > this.b.length)
      throw new EngineError('RECONCILER_SNAPSHOT_INVALID', 'truncated changelog record');
  }
  u8(): number {
    this.need(1);
    return this.b[this.o++] ?? 0;
  }
  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const x = this.u8();
      n += (x & 127) * mul;
      if (x < 128) return n;
      mul *= 128;
    }
    throw new EngineError('RECONCILER_SNAPSHOT_INVALID', 'bad varint in changelog record');
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.o, true);
    this.o += 8;
    return v;
  }
  /** A view of the next n bytes (no copy: the caller copies what it keeps). */
  slice(n: number): Uint8Array {
    this.need(n);
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  str(): string {
    const n = this.varint();
    this.need(n);
    const b = this.b;
    const o = this.o;
    this.o += n;
    // Interned names are short ASCII: decoding them by hand skips TextDecoder's per-call cost (a restore
    // decodes several per request).
    if (n <= 64) {
      let ascii = true;
      for (let i = o; i < o + n; i++)
        if (b[i]! >= 0x80) {
          ascii = false;
          break;
        }
      if (ascii) return String.fromCharCode.apply(null, b.subarray(o, o + n) as unknown as number[]);
    }
    return dec.decode(b.subarray(o, o + n));
  }
}

export function readSnapshot(bytes: Uint8Array): Snapshot {
  const r = new Reader(bytes);
  const type = r.u8();
  const format = r.u8();
  if (format !== FORMAT)
    throw new EngineError('RECONCILER_SNAPSHOT_INVALID', `unknown changelog format ${format}`);
  if (type === T_META) {
    const clockNow = r.f64();
    const wallAt = r.f64();
    const n = r.varint();
    const inputs: { kind: number; maxEventTime: number | null; seenAt: number }[] = [];
    for (let i = 0; i < n; i++) {
      const kind = r.u8();
      const me = r.f64();
      inputs.push({ kind, maxEventTime: me === me ? me : null, seenAt: r.f64() });
    }
    return { kind: 'meta', clockNow, wallAt, inputs };
  }
  if (type === T_TOMB) {
    const version = r.varint();
    const lastClass = r.u8();
    const e = r.f64();
    return { kind: 'tomb', version, lastClass, expiry: e === e ? e : null };
  }
  if (type === T_BINDING) {
    const provider = r.str();
    const providerMessageId = r.str();
    const requestId = r.str();
    return { kind: 'binding', provider, providerMessageId, requestId, expiry: r.f64() };
  }
  if (type !== T_SLOT)
    throw new EngineError('RECONCILER_SNAPSHOT_INVALID', `unknown changelog record type ${type}`);
  const strings: string[] = [''];
  const ns = r.varint();
  for (let i = 0; i < ns; i++) strings.push(r.str());
  const attrs: Record<string, string> = {};
  const na = r.varint();
  for (let i = 0; i < na; i++) {
    const k = r.str();
    attrs[k] = r.str();
  }
  // A view into the record: restore copies it into the arena.
  const blob = r.slice(r.varint());
  if (blob.length < K.HDR)
    throw new EngineError('RECONCILER_SNAPSHOT_INVALID', 'changelog blob shorter than its header');
  return { kind: 'slot', image: { blob, strings, attrs } };
}
