// Compact, exact byte encoding of id strings for the arena. Identifiers are mostly hex, UUIDs or
// "prefix + hex" (e.g. Twilio `SM` + 32 hex), and attempt ids often repeat the request id: storing those
// packed halves their size. Encoding is deterministic, so two strings are equal iff their encodings are.
//
// Layout: one format byte, then
//   LATIN1  varint(len) bytes                        (every char < 256)
//   UTF16   varint(len) 2*len bytes (little endian)
//   HEX     u8(prefixLen) prefix varint(nbytes) bytes (tail is even-length hex; bit 0x80 = upper case)
//   UUID    u8(prefixLen) prefix 16 bytes             (tail is a canonical lower-case UUID)
//   SHARED  u8(common) <rest encoded>                 (first `common` chars equal the base string's)

const F_LATIN1 = 0;
const F_UTF16 = 1;
const F_HEX = 2;
const F_UUID = 3;
const F_SHARED = 4;
const UPPER = 0x80;
const MAX_PREFIX = 40;

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return c - 55; // A-F
}

// Analysis of the last `measure` call, consumed by `write` (module state: no allocation per call).
let aFmt = 0;
let aStart = 0; // first char encoded (after a shared prefix)
let aCommon = 0;
let aPrefixEnd = 0; // end of the latin1 prefix for HEX/UUID
let aLen = 0;

function varintSize(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : 3;
}

function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

/** Analyses s[start..] (no shared prefix); returns the encoded size of that part including its format byte. */
function analyse(s: string, start: number): number {
  const len = s.length;
  aStart = start;
  aLen = len;
  let latin1 = true;
  let lastNonLower = start - 1;
  let lastNonUpper = start - 1;
  for (let i = start; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) latin1 = false;
    const digit = c >= 48 && c <= 57;
    if (!(digit || (c >= 97 && c <= 102))) lastNonLower = i;
    if (!(digit || (c >= 65 && c <= 70))) lastNonUpper = i;
  }
  if (!latin1) {
    aFmt = F_UTF16;
    return 1 + varintSize(len - start) + 2 * (len - start);
  }
  // Canonical lower-case UUID tail: dashes at fixed places, hex elsewhere.
  if (len - start >= 36 && len - 36 - start <= MAX_PREFIX) {
    const u = len - 36;
    if (
      s.charCodeAt(u + 8) === 45 &&
      s.charCodeAt(u + 13) === 45 &&
      s.charCodeAt(u + 18) === 45 &&
      s.charCodeAt(u + 23) === 45
    ) {
      let ok = true;
      for (let i = u; i < len && ok; i++) {
        if (i === u + 8 || i === u + 13 || i === u + 18 || i === u + 23) continue;
        ok = isLowerHex(s.charCodeAt(i));
      }
      if (ok) {
        aFmt = F_UUID;
        aPrefixEnd = u;
        return 2 + (u - start) + 16;
      }
    }
  }
  const upper = lastNonUpper < lastNonLower;
  let prefixEnd = (upper ? lastNonUpper : lastNonLower) + 1;
  if ((len - prefixEnd) % 2 === 1) prefixEnd++;
  const tail = len - prefixEnd;
  if (tail >= 8 && prefixEnd - start <= MAX_PREFIX) {
    aFmt = upper ? F_HEX | UPPER : F_HEX;
    aPrefixEnd = prefixEnd;
    return 2 + (prefixEnd - start) + varintSize(tail >>> 1) + (tail >>> 1);
  }
  aFmt = F_LATIN1;
  return 1 + varintSize(len - start) + (len - start);
}

/**
 * Measures the encoding of `s` (optionally relative to `base`, sharing its prefix) and remembers the
 * analysis for the next `write`. Returns the encoded byte length.
 */
export function measure(s: string, base?: string): number {
  aCommon = 0;
  if (base !== undefined) {
    const max = Math.min(s.length, base.length, 255);
    let c = 0;
    while (c < max && s.charCodeAt(c) === base.charCodeAt(c)) c++;
    if (c >= 4) {
      aCommon = c;
      return 2 + analyse(s, c);
    }
  }
  return analyse(s, 0);
}

function writeVarint(u8: Uint8Array, o: number, n: number): number {
  while (n >= 128) {
    u8[o++] = (n & 127) | 128;
    n >>>= 7;
  }
  u8[o++] = n;
  return o;
}

/** Writes the string last measured at u8[o]; returns the offset after it. */
export function write(u8: Uint8Array, o: number, s: string): number {
  if (aCommon > 0) {
    u8[o++] = F_SHARED;
    u8[o++] = aCommon;
  }
  const fmt = aFmt;
  u8[o++] = fmt;
  const start = aStart;
  const len = aLen;
  switch (fmt & 0x7f) {
    case F_LATIN1:
      o = writeVarint(u8, o, len - start);
      for (let i = start; i < len; i++) u8[o++] = s.charCodeAt(i);
      return o;
    case F_UTF16:
      o = writeVarint(u8, o, len - start);
      for (let i = start; i < len; i++) {
        const c = s.charCodeAt(i);
        u8[o++] = c & 255;
        u8[o++] = c >>> 8;
      }
      return o;
    case F_UUID: {
      const u = aPrefixEnd;
      u8[o++] = u - start;
      for (let i = start; i < u; i++) u8[o++] = s.charCodeAt(i);
      let i = u;
      for (let k = 0; k < 16; k++) {
        if (s.charCodeAt(i) === 45) i++;
        u8[o++] = (hexVal(s.charCodeAt(i)) << 4) | hexVal(s.charCodeAt(i + 1));
        i += 2;
      }
      return o;
    }
    default: {
      const p = aPrefixEnd;
      u8[o++] = p - start;
      for (let i = start; i < p; i++) u8[o++] = s.charCodeAt(i);
      o = writeVarint(u8, o, (len - p) >>> 1);
      for (let i = p; i < len; i += 2) u8[o++] = (hexVal(s.charCodeAt(i)) << 4) | hexVal(s.charCodeAt(i + 1));
      return o;
    }
  }
}

let vEnd = 0;
const SCRATCH = new Uint8Array(4 * 65536 + 16);
function readVarint(u8: Uint8Array, o: number): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = u8[o++] ?? 0;
    n += (b & 127) * 2 ** shift;
    if (b < 128) break;
    shift += 7;
  }
  vEnd = o;
  return n;
}

/** Encodes `s` (optionally relative to `base`) at u8[o] in one analysis; returns the offset after it. */
export function encodeTo(u8: Uint8Array, o: number, s: string, base?: string): number {
  measure(s, base);
  return write(u8, o, s);
}

/** Byte length of the encoded string at u8[o]. */
export function sizeAt(u8: Uint8Array, o: number): number {
  const start = o;
  let fmt = u8[o++] ?? 0;
  if (fmt === F_SHARED) {
    o++;
    fmt = u8[o++] ?? 0;
  }
  switch (fmt & 0x7f) {
    case F_LATIN1: {
      const n = readVarint(u8, o);
      return vEnd + n - start;
    }
    case F_UTF16: {
      const n = readVarint(u8, o);
      return vEnd + 2 * n - start;
    }
    case F_UUID:
      return o + 1 + (u8[o] ?? 0) + 16 - start;
    default: {
      const p = u8[o] ?? 0;
      const n = readVarint(u8, o + 1 + p);
      return vEnd + n - start;
    }
  }
}

// Native slices (Buffer's C++ latin1/hex decoders accept any Uint8Array receiver).
// (Not in @types/node: undocumented but stable since Node 0.x; Buffer#toString('latin1'|'hex') dispatch to them.)
type Slice = (this: Uint8Array, start: number, end: number) => string;
const nativeSlices = Buffer.prototype as unknown as { latin1Slice: Slice; hexSlice: Slice };
const latin1Slice = nativeSlices.latin1Slice;
const hexSlice = nativeSlices.hexSlice;

function latin1(u8: Uint8Array, from: number, to: number): string {
  return from === to ? '' : latin1Slice.call(u8, from, to);
}

/** Decodes the string at u8[o] (`base` must be the string it was measured against, if any). */
export function decodeAt(u8: Uint8Array, o: number, base?: string): string {
  let fmt = u8[o++] ?? 0;
  let head = '';
  if (fmt === F_SHARED) {
    head = (base ?? '').slice(0, u8[o++] ?? 0);
    fmt = u8[o++] ?? 0;
  }
  switch (fmt & 0x7f) {
    case F_LATIN1: {
      const n = readVarint(u8, o);
      return head + latin1(u8, vEnd, vEnd + n);
    }
    case F_UTF16: {
      const n = readVarint(u8, o);
      let s = head;
      for (let i = 0; i < n; i++)
        s += String.fromCharCode((u8[vEnd + 2 * i] ?? 0) | ((u8[vEnd + 2 * i + 1] ?? 0) << 8));
      return s;
    }
    case F_UUID: {
      const p = u8[o] ?? 0;
      const b = o + 1 + p;
      const h = hexSlice.call(u8, b, b + 16);
      return `${head}${latin1(u8, o + 1, o + 1 + p)}${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    default: {
      const p = u8[o] ?? 0;
      const prefix = latin1(u8, o + 1, o + 1 + p);
      const n = readVarint(u8, o + 1 + p);
      const h = hexSlice.call(u8, vEnd, vEnd + n);
      return head + prefix + ((fmt & UPPER) !== 0 ? h.toUpperCase() : h);
    }
  }
}

/** Hex digit value of a char code for lower-case (or upper-case) hex; -1 if not such a digit. */
const HEX_L = new Int8Array(128).fill(-1);
const HEX_U = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX_L[48 + i] = HEX_U[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX_L[97 + i] = 10 + i;
  HEX_U[65 + i] = 10 + i;
}

/** True iff the encoded string at u8[o] equals `s` (encoded with the same `base`). */
export function equalsAt(u8: Uint8Array, o: number, s: string, base?: string): boolean {
  const fmt = u8[o]!;
  // Fast paths compare without re-encoding: latin1 and prefix+hex (the shapes of request and message ids).
  if (base === undefined && fmt === F_LATIN1) {
    const n = readVarint(u8, o + 1);
    if (n !== s.length) return false;
    const d = vEnd;
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) !== u8[d + i]) return false;
    return true;
  }
  if (base === undefined && (fmt & 0x7f) === F_HEX) {
    const p = u8[o + 1]!;
    const n = readVarint(u8, o + 2 + p);
    if (s.length !== p + 2 * n) return false;
    for (let i = 0; i < p; i++) if (s.charCodeAt(i) !== u8[o + 2 + i]) return false;
    const table = (fmt & UPPER) !== 0 ? HEX_U : HEX_L;
    const d = vEnd;
    for (let i = 0; i < n; i++) {
      const c1 = s.charCodeAt(p + 2 * i);
      const c2 = s.charCodeAt(p + 2 * i + 1);
      const hi = c1 < 128 ? table[c1]! : -1;
      const lo = c2 < 128 ? table[c2]! : -1;
      if (hi < 0 || lo < 0 || ((hi << 4) | lo) !== u8[d + i]) return false;
    }
    // Char-for-char equal to the stored string's decoding (prefix, then hex digits of the stored case).
    return true;
  }
  const n = measure(s, base);
  if (n > SCRATCH.length) return decodeAt(u8, o, base) === s;
  write(SCRATCH, 0, s);
  for (let i = 0; i < n; i++) if (u8[o + i] !== SCRATCH[i]) return false;
  return true;
}
