import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linearFit, percentile, perSecond, summarize } from '../src/stats.js';

/** Reference: nearest rank by definition — the smallest value v with count(x <= v) >= p% of n. */
function referencePercentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  for (const v of sorted) {
    if (sorted.filter((x) => x <= v).length >= (p / 100) * values.length) return v;
  }
  return NaN;
}

describe('percentile (nearest rank)', () => {
  it('picks measured values, never interpolates', () => {
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(xs, 50)).toBe(5);
    expect(percentile(xs, 90)).toBe(9);
    expect(percentile(xs, 99)).toBe(10);
    expect(percentile(xs, 100)).toBe(10);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([42], 99)).toBe(42);
  });

  it('p99 of 100 values is the 99th, of 1000 the 990th', () => {
    const h = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(h, 99)).toBe(99);
    const k = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(k, 99)).toBe(990);
  });

  it('is NaN for no values and rejects p outside [0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('agrees with the definition on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 100 }),
        (xs, p) => {
          const sorted = [...xs].sort((a, b) => a - b);
          expect(percentile(sorted, p)).toBe(referencePercentile(xs, p));
        },
      ),
    );
  });
});

describe('summarize', () => {
  it('sorts a copy (input untouched) and reports every figure', () => {
    const xs = [5, 1, 4, 2, 3];
    const s = summarize(xs);
    expect(xs).toEqual([5, 1, 4, 2, 3]);
    expect(s).toEqual({ count: 5, min: 1, mean: 3, p50: 3, p90: 5, p99: 5, max: 5 });
  });

  it('sorts numerically, not as strings', () => {
    expect(summarize([10, 9, 100]).p50).toBe(10);
  });

  it('gives NaN figures for no values', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.mean).toBeNaN();
  });

  it('orders min <= p50 <= p90 <= p99 <= max on random data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1, maxLength: 300 }),
        (xs) => {
          const s = summarize(xs);
          expect(s.min).toBeLessThanOrEqual(s.p50);
          expect(s.p50).toBeLessThanOrEqual(s.p90);
          expect(s.p90).toBeLessThanOrEqual(s.p99);
          expect(s.p99).toBeLessThanOrEqual(s.max);
        },
      ),
    );
  });
});

describe('rates and fits', () => {
  it('perSecond', () => {
    expect(perSecond(500, 250)).toBe(2000);
    expect(perSecond(5, 0)).toBe(0);
  });

  it('linearFit recovers a line and extrapolates', () => {
    const fit = linearFit([
      { x: 100_000, y: 1200 },
      { x: 300_000, y: 3200 },
    ]);
    expect(fit.slope).toBeCloseTo(0.01);
    expect(fit.intercept).toBeCloseTo(200);
    expect(fit.at(1_000_000)).toBeCloseTo(10_200);
  });

  it('linearFit needs two distinct x', () => {
    expect(() => linearFit([{ x: 1, y: 1 }])).toThrow(RangeError);
    expect(() =>
      linearFit([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
    ).toThrow(RangeError);
  });
});
