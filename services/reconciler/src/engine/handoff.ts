// Handoff records (scale-out, SEMANTICS.md §10): callbacks without request_id that one reconciler instance
// hands to the instance owning their request. Self-contained bytes: interned ids are process-local, so every
// string (provider, provider_message_id, tenant, error code) travels in a per-record string table, as in the
// changelog images; hashes (event id, natural key, attempt id, provider message id) are process-independent.
//
// Format 1:
//   u8 'H' (0x48)  u8 format (1)
//   varint nStrings, then nStrings x (varint byteLength, UTF-8)        -- table indexes 1..n (0 = '')
//   varint nCallbacks (>= 1), then per callback (64 bytes + 4 varints):
//     u8 status  u8 flags  u8 errorCategory (255 = null)
//     varint provider  varint providerMessageId  varint tenant  varint errorCode   (string table indexes)
//     u32 eventIdHashA  u32 eventIdHashB  u32 naturalKeyHashA  u32 naturalKeyHashB
//     u32 attemptIdHash  u32 providerMessageIdHash  i32 providerSequence
//     f64 evidenceTime  f64 occurredAt                                   (little endian)
// flags: bit0 final, bits1-2 evidence level, bit4 waited (recorded at the sender before the binding was
// known: it merges as "unattached on arrival"), bit5 has attempt_id, bit6 has provider_sequence.
import * as K from './codes.js';

const T_HANDOFF = 0x48; // 'H'
export const HANDOFF_FORMAT = 1;
/** Callbacks per handoff value; a larger batch for one request is split into several records. */
export const MAX_HANDOFF_CALLBACKS = 256;
/** Flag bits a handoff may carry (the duplicate bit is recomputed by the receiver). */
const FLAG_BITS = K.KF_FINAL | 6 | K.KF_UNATTACHED | K.KF_HAS_ATT | K.KF_HAS_SEQ;
const MAX_STRING_BYTES = 4096;

/** One callback as handed off: everything the receiving engine's appendCallback needs, with strings. */
export interface HandoffCallback {
  readonly status: number;
  readonly flags: number;
  readonly errorCategory: number;
  readonly provider: string;
  readonly providerMessageId: string;
  readonly tenant: string;
  /** '' = none. */
  readonly errorCode: string;
  readonly eidA: number;
  readonly eidB: number;
  readonly natA: number;
  readonly natB: number;
  readonly attemptHash: number;
  readonly pmidHash: number;
  readonly sequence: number;
  /** Evidence time (min(provider_event_time, occurred_at)). */
  readonly time: number;
  /** occurred_at (an orphan's base time if the request is unknown at the receiver). */
  readonly occurredAt: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

/** Encodes one batch (1..MAX_HANDOFF_CALLBACKS callbacks) into an exact-size Buffer. */
export function encodeHandoff(cbs: readonly HandoffCallback[], from = 0, to = cbs.length): Buffer {
  const table: string[] = [];
  const refs = new Map<string, number>();
  const ref = (s: string): number => {
    if (s === '') return 0;
    let r = refs.get(s);
    if (r === undefined) {
      table.push(s);
      r = table.length;
      refs.set(s, r);
    }
    return r;
  };
  const rows: number[] = [];
  for (let k = from; k < to; k++) {
    const c = cbs[k]!;
    rows.push(ref(c.provider), ref(c.providerMessageId), ref(c.tenant), ref(c.errorCode));
  }
  const strings = table.map((s) => enc.encode(s));
  let size = 2 + 5 + 5 + (to - from) * (64 + 4 * 5);
  for (const b of strings) size += 5 + b.length;
  const buf = Buffer.allocUnsafe(size);
  let o = 0;
  const varint = (n: number): void => {
    while (n >= 128) {
      buf[o++] = (n & 127) | 128;
      n >>>= 7;
    }
    buf[o++] = n;
  };
  buf[o++] = T_HANDOFF;
  buf[o++] = HANDOFF_FORMAT;
  varint(strings.length);
  for (const b of strings) {
    varint(b.length);
    buf.set(b, o);
    o += b.length;
  }
  varint(to - from);
  for (let k = from; k < to; k++) {
    const c = cbs[k]!;
    const r = (k - from) * 4;
    buf[o++] = c.status;
    buf[o++] = c.flags & FLAG_BITS;
    buf[o++] = c.errorCategory;
    varint(rows[r]!);
    varint(rows[r + 1]!);
    varint(rows[r + 2]!);
    varint(rows[r + 3]!);
    o = buf.writeUInt32LE(c.eidA >>> 0, o);
    o = buf.writeUInt32LE(c.eidB >>> 0, o);
    o = buf.writeUInt32LE(c.natA >>> 0, o);
    o = buf.writeUInt32LE(c.natB >>> 0, o);
    o = buf.writeUInt32LE(c.attemptHash >>> 0, o);
    o = buf.writeUInt32LE(c.pmidHash >>> 0, o);
    o = buf.writeInt32LE(c.sequence | 0, o);
    o = buf.writeDoubleLE(c.time, o);
    o = buf.writeDoubleLE(c.occurredAt, o);
  }
  return buf.subarray(0, o);
}

class Malformed extends Error {}

/**
 * Decodes a handoff value; null when it is malformed in any way (unknown type or format, truncated, trailing
 * bytes, bad string references or UTF-8, out-of-range codes, missing provider/message id/tenant, absurd times).
 * Never throws. The provider message id hash is checked by the engine (it needs the provider's seed).
 */
export function decodeHandoff(value: Uint8Array): HandoffCallback[] | null {
  try {
    return decode(value);
  } catch {
    return null;
  }
}

function decode(b: Uint8Array): HandoffCallback[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 0;
  const need = (n: number): void => {
    if (o + n > b.length) throw new Malformed('truncated');
  };
  const u8 = (): number => {
    need(1);
    return b[o++]!;
  };
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 5; i++) {
      const x = u8();
      n += (x & 127) * mul;
      if (x < 128) return n;
      mul *= 128;
    }
    throw new Malformed('varint');
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(o, true);
    o += 4;
    return v;
  };
  const f64 = (): number => {
    need(8);
    const v = view.getFloat64(o, true);
    o += 8;
    if (!(Math.abs(v) < 1e15)) throw new Malformed('time');
    return v;
  };
  if (u8() !== T_HANDOFF || u8() !== HANDOFF_FORMAT) throw new Malformed('type or format');
  const ns = varint();
  if (ns > 4 * MAX_HANDOFF_CALLBACKS) throw new Malformed('string table');
  const table: string[] = [''];
  for (let i = 0; i < ns; i++) {
    const len = varint();
    if (len === 0 || len > MAX_STRING_BYTES) throw new Malformed('string length');
    need(len);
    table.push(dec.decode(b.subarray(o, o + len)));
    o += len;
  }
  const str = (): string => {
    const r = varint();
    if (r >= table.length) throw new Malformed('string reference');
    return table[r]!;
  };
  const n = varint();
  if (n < 1 || n > MAX_HANDOFF_CALLBACKS) throw new Malformed('callback count');
  const out: HandoffCallback[] = [];
  for (let k = 0; k < n; k++) {
    const status = u8();
    const flags = u8();
    const errorCategory = u8();
    if (status >= K.STATUS_NAMES.length) throw new Malformed('status');
    if ((flags & ~FLAG_BITS) !== 0) throw new Malformed('flags');
    if (errorCategory !== K.EC_NONE && errorCategory >= K.ERROR_CATEGORY_NAMES.length)
      throw new Malformed('error category');
    const provider = str();
    const providerMessageId = str();
    const tenant = str();
    const errorCode = str();
    if (provider === '' || providerMessageId === '' || tenant === '') throw new Malformed('ids');
    const eidA = u32();
    const eidB = u32();
    const natA = u32();
    const natB = u32();
    const attemptHash = u32();
    const pmidHash = u32();
    const sequence = u32() | 0;
    const time = f64();
    const occurredAt = f64();
    out.push({
      status,
      flags,
      errorCategory,
      provider,
      providerMessageId,
      tenant,
      errorCode,
      eidA,
      eidB,
      natA,
      natB,
      attemptHash,
      pmidHash,
      sequence,
      time,
      occurredAt,
    });
  }
  if (o !== b.length) throw new Malformed('trailing bytes');
  return out;
}
