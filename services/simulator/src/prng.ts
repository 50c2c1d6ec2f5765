// Seeded, deterministic randomness. The simulator never calls Math.random: every draw comes from an Rng derived
// from the run seed, so a seed reproduces the same traffic byte for byte.

/** Latency distribution: lognormal given its median and 99th percentile, optionally clamped. */
export interface LatencySpec {
  readonly medianMs: number;
  readonly p99Ms: number;
  /** @default 0 */
  readonly minMs?: number;
  /** @default unbounded */
  readonly maxMs?: number;
}

/** z-score of the 99th percentile of the standard normal distribution. */
const Z99 = 2.3263478740408408;

/** splitmix32 step: a well-mixed 32-bit value from any 32-bit input. */
function mix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Stable 32-bit hash of numbers and strings (for seeding sub-streams and fingerprints). */
export function hash32(...parts: readonly (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    if (typeof part === 'number') {
      // Both 32-bit halves, so seeds above 2^32 still differ.
      h = mix32(h ^ (part >>> 0));
      h = mix32(h ^ Math.floor(part / 4294967296));
    } else {
      for (let i = 0; i < part.length; i++) h = Math.imul(h ^ part.charCodeAt(i), 0x01000193);
      h = mix32(h ^ part.length);
    }
  }
  return h >>> 0;
}

const HEX = '0123456789abcdef';

/** xoshiro128** seeded through splitmix32: fast, 2^128-1 period, good enough statistics for simulation. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  private constructor(seed: number) {
    let s = seed >>> 0;
    s = mix32(s);
    this.a = s;
    s = mix32(s);
    this.b = s;
    s = mix32(s);
    this.c = s;
    s = mix32(s);
    this.d = s;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A generator for a seed and any number of stream labels (each label combination is independent). */
  static from(seed: number, ...labels: readonly (number | string)[]): Rng {
    return new Rng(hash32(seed, ...labels));
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Uniform integer in [min, max] (inclusive). */
  intBetween(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }

  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** Picks an item with probability proportional to `weight(item)`. */
  weighted<T>(items: readonly T[], weight: (item: T) => number): T {
    let total = 0;
    for (const it of items) total += Math.max(0, weight(it));
    if (items.length === 0 || total <= 0) throw new RangeError('weighted pick needs a positive total weight');
    let u = this.next() * total;
    for (const it of items) {
      u -= Math.max(0, weight(it));
      if (u < 0) return it;
    }
    return items[items.length - 1] as T;
  }

  /** Standard normal (Box-Muller; one of the pair is discarded to keep the stream position simple). */
  normal(): number {
    const u1 = 1 - this.next();
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A latency in whole milliseconds from a lognormal spec. */
  latency(spec: LatencySpec): number {
    const sigma = spec.p99Ms > spec.medianMs ? Math.log(spec.p99Ms / spec.medianMs) / Z99 : 0;
    let v = spec.medianMs * Math.exp(sigma * this.normal());
    if (spec.minMs !== undefined && v < spec.minMs) v = spec.minMs;
    if (spec.maxMs !== undefined && v > spec.maxMs) v = spec.maxMs;
    return Math.round(v);
  }

  /** `n` lowercase hex characters. */
  hex(n: number): string {
    let out = '';
    while (out.length < n) {
      let x = this.u32();
      for (let i = 0; i < 8 && out.length < n; i++) {
        out += HEX[x & 15];
        x >>>= 4;
      }
    }
    return out;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/** Time-sortable id (ULID layout, lowercase Crockford base32): 10 chars of time, 16 of randomness. */
export function sortableId(prefix: string, timeMs: number, rng: Rng): string {
  let t = Math.max(0, Math.floor(timeMs));
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[rng.int(32)];
  return `${prefix}_${time}${rand}`;
}
