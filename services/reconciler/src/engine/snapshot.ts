// Changelog records: a compact, self-contained binary image per request (the engine's blob with its
// process-local interned ids replaced by strings), a tombstone image for forgotten requests, and one meta
// record (clock state and batch sequence). Format byte 1; readers reject anything else.
import * as K from './codes.js';
import { EngineError } from './errors.js';
import type { Interner } from './intern.js';

/** Key of the engine meta record. */
export const META_KEY = '\u0000meta';
/** Prefix of pseudo-request keys (callbacks without request_id waiting for their dispatch). */
export const PSEUDO_KEY_PREFIX = '\u0000cb:';

const T_SLOT = 0x53; // 'S'
const T_META = 0x4d; // 'M'
const T_TOMB = 0x54; // 'T'
const FORMAT = 1;

export interface SlotImage {
  readonly blob: Uint8Array;
  readonly tenant: string;
  readonly operation: string;
  readonly channel: string;
  readonly errCode: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly names: Interner;
  readonly errCodes: Interner;
}

export interface RestoredSlot {
  /** Blob copy (8-byte aligned) whose record-level ids are indexes into `strings`. */
  readonly blob: Uint8Array;
  readonly tenant: string;
  readonly operation: string;
  readonly channel: string;
  readonly errCode: string;
  readonly attrs: Record<string, string>;
  readonly strings: string[];
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
    };

const enc = new TextEncoder();
const dec = new TextDecoder();

export class SnapshotWriter {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  private o = 0;

  private reserve(n: number): void {
    if (this.o + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.o + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.o));
    this.buf = b;
    this.view = new DataView(b.buffer);
  }

  private u8(v: number): void {
    this.reserve(1);
    this.buf[this.o++] = v;
  }

  private varint(n: number): void {
    this.reserve(10);
    while (n >= 128) {
      this.buf[this.o++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.o++] = n;
  }

  private f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.o, v, true);
    this.o += 8;
  }

  private str(s: string): void {
    const b = enc.encode(s);
    this.varint(b.length);
    this.bytes(b);
  }

  private bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.o);
    this.o += b.length;
  }

  private take(): Uint8Array {
    const out = this.buf.slice(0, this.o);
    this.o = 0;
    return out;
  }

  slot(image: SlotImage): Uint8Array {
    const blob = new Uint8Array(image.blob); // aligned copy
    const u16 = new Uint16Array(blob.buffer, 0, blob.length >> 1);
    const table = new Map<string, number>([['', 0]]);
    const strings: string[] = [''];
    const ref = (s: string): number => {
      let i = table.get(s);
      if (i === undefined) {
        i = strings.length;
        strings.push(s);
        table.set(s, i);
      }
      return i;
    };
    const end = u16[K.O_USED >> 1] ?? 0;
    for (let r = u16[K.O_RECS >> 1] ?? 0; r < end;) {
      if (blob[r] === K.REC_ATTEMPT) {
        u16[(r + K.A_ROUTE) >> 1] = ref(image.names.value(u16[(r + K.A_ROUTE) >> 1] ?? 0));
        u16[(r + K.A_PROVIDER) >> 1] = ref(image.names.value(u16[(r + K.A_PROVIDER) >> 1] ?? 0));
        u16[(r + K.A_ERRCODE) >> 1] = ref(image.errCodes.value(u16[(r + K.A_ERRCODE) >> 1] ?? 0));
        r += u16[(r + K.A_LEN) >> 1] ?? K.CB_LEN;
      } else {
        u16[(r + K.K_PROVIDER) >> 1] = ref(image.names.value(u16[(r + K.K_PROVIDER) >> 1] ?? 0));
        u16[(r + K.K_ERRCODE) >> 1] = ref(image.errCodes.value(u16[(r + K.K_ERRCODE) >> 1] ?? 0));
        r += K.CB_LEN;
      }
    }
    this.u8(T_SLOT);
    this.u8(FORMAT);
    this.str(image.tenant);
    this.str(image.operation);
    this.str(image.channel);
    this.str(image.errCode);
    const keys = Object.keys(image.attrs);
    this.varint(keys.length);
    for (const k of keys) {
      this.str(k);
      this.str(image.attrs[k] ?? '');
    }
    this.varint(strings.length);
    for (const s of strings) this.str(s);
    this.varint(blob.length);
    this.bytes(blob);
    return this.take();
  }

  meta(m: MetaImage): Uint8Array {
    this.u8(T_META);
    this.u8(FORMAT);
    this.f64(m.clockNow);
    this.f64(m.wallAt);
    this.varint(m.inputs.length);
    for (const i of m.inputs) {
      this.u8(i.kind);
      this.f64(i.maxEventTime ?? NaN);
      this.f64(i.seenAt);
    }
    return this.take();
  }

  tomb(version: number, lastClass: number, expiry: number | null): Uint8Array {
    this.u8(T_TOMB);
    this.u8(FORMAT);
    this.varint(version);
    this.u8(lastClass);
    this.f64(expiry ?? NaN);
    return this.take();
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
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = new Uint8Array(n);
    out.set(this.b.subarray(this.o, this.o + n));
    this.o += n;
    return out;
  }
  str(): string {
    return dec.decode(this.bytes(this.varint()));
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
  if (type !== T_SLOT)
    throw new EngineError('RECONCILER_SNAPSHOT_INVALID', `unknown changelog record type ${type}`);
  const tenant = r.str();
  const operation = r.str();
  const channel = r.str();
  const errCode = r.str();
  const attrs: Record<string, string> = {};
  const na = r.varint();
  for (let i = 0; i < na; i++) {
    const k = r.str();
    attrs[k] = r.str();
  }
  const strings: string[] = [];
  const ns = r.varint();
  for (let i = 0; i < ns; i++) strings.push(r.str());
  const blob = r.bytes(r.varint());
  if (blob.length < K.HDR)
    throw new EngineError('RECONCILER_SNAPSHOT_INVALID', 'changelog blob shorter than its header');
  return { kind: 'slot', image: { blob, tenant, operation, channel, errCode, attrs, strings } };
}
