// String hashing without allocation. Two independent 32-bit lanes give a 64-bit fingerprint where a false
// match would drop a real event (event ids, natural keys); one lane is enough for hash-table buckets, which
// are always verified against the stored key.

/** Results of the last `hash2*` call (module state: avoids allocating a pair per call). */
export const H = { a: 0, b: 0 };

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of a string's UTF-16 code units. */
export function hash32(s: string, seed = 0x9747b28c): number {
  let h = seed ^ s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix(h);
}

// Incremental two-lane hashing for composite keys: start, add parts, finish into H.
let la = 0;
let lb = 0;

export function h2Start(seed: number): void {
  la = 0x811c9dc5 ^ seed;
  lb = 0x3c6ef372 ^ Math.imul(seed, 0x9e3779b1);
}

export function h2AddString(s: string): void {
  let a = la;
  let b = lb;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  // Length separator so ("ab","c") and ("a","bc") differ.
  la = Math.imul(a ^ (s.length + 0x100), 0x01000193);
  lb = Math.imul(b ^ (s.length + 0x100), 0x5bd1e995);
}

export function h2AddInt(n: number): void {
  la = Math.imul(la ^ (n | 0), 0x01000193);
  lb = Math.imul(lb ^ (n | 0), 0x5bd1e995);
  lb ^= lb >>> 15;
}

/** Adds a finite number exactly (epoch ms, sequences): low 32 bits and the high part. */
export function h2AddNumber(n: number): void {
  const hi = Math.floor(n / 4294967296);
  h2AddInt(n - hi * 4294967296);
  h2AddInt(hi);
}

export function h2Finish(): void {
  H.a = fmix(la);
  H.b = fmix(lb ^ 0x27d4eb2f);
}

/** Two-lane hash of one string into H. */
export function hash2(s: string, seed: number): void {
  h2Start(seed);
  h2AddString(s);
  h2Finish();
}
