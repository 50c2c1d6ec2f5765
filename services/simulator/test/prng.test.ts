import { describe, expect, it } from 'vitest';
import { Rng, hash32, sortableId } from '../src/prng.js';

describe('Rng', () => {
  it('is deterministic for a seed and labels, and streams differ by label', () => {
    const a = Rng.from(42, 'unit', 7);
    const b = Rng.from(42, 'unit', 7);
    const c = Rng.from(42, 'unit', 8);
    const seqA = Array.from({ length: 50 }, () => a.u32());
    const seqB = Array.from({ length: 50 }, () => b.u32());
    const seqC = Array.from({ length: 50 }, () => c.u32());
    expect(seqA).toEqual(seqB);
    expect(seqA).not.toEqual(seqC);
    expect(new Set(seqA).size).toBe(50);
  });

  it('distinguishes seeds above 2^32', () => {
    expect(hash32(2 ** 32 + 5)).not.toBe(hash32(5));
    expect(hash32('ab', 'c')).not.toBe(hash32('a', 'bc'));
  });

  it('draws uniform values in range', () => {
    const r = Rng.from(1);
    let sum = 0;
    const n = 20_000;
    const counts = new Array<number>(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      min = Math.min(min, x);
      max = Math.max(max, x);
      sum += x;
      const k = r.int(10);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / n).toBeCloseTo(0.5, 1);
    for (const c of counts) expect(Math.abs(c - n / 10)).toBeLessThan(5 * Math.sqrt(n / 10));
  });

  it('samples lognormal latencies with the requested median and p99', () => {
    const r = Rng.from(3);
    const xs = Array.from({ length: 40_000 }, () => r.latency({ medianMs: 200, p99Ms: 2_000 })).sort(
      (x, y) => x - y,
    );
    const q = (p: number): number => xs[Math.floor(p * xs.length)] as number;
    expect(q(0.5)).toBeGreaterThan(185);
    expect(q(0.5)).toBeLessThan(215);
    expect(q(0.99)).toBeGreaterThan(1_700);
    expect(q(0.99)).toBeLessThan(2_350);
    const clamped = Array.from({ length: 2_000 }, () =>
      r.latency({ medianMs: 200, p99Ms: 2_000, minMs: 150, maxMs: 300 }),
    );
    expect(Math.min(...clamped)).toBe(150);
    expect(Math.max(...clamped)).toBe(300);
  });

  it('picks by weight', () => {
    const r = Rng.from(9);
    const items = [
      { k: 'a', w: 1 },
      { k: 'b', w: 3 },
      { k: 'z', w: 0 },
    ];
    const n = 20_000;
    let b = 0;
    for (let i = 0; i < n; i++) {
      const it = r.weighted(items, (x) => x.w);
      if (it.k === 'z') throw new Error('picked a zero-weight item');
      if (it.k === 'b') b++;
    }
    expect(b / n).toBeGreaterThan(0.73);
    expect(b / n).toBeLessThan(0.77);
  });

  it('makes time-sortable ids', () => {
    const r = Rng.from(5);
    const ids = [1_000, 2_000, 1_767_225_600_000, 1_767_225_600_001].map((t) => sortableId('req', t, r));
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(/^req_[0-9a-z]{26}$/);
  });
});
