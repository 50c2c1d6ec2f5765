/**
 * Histogram percentiles against exact order statistics (fast-check): within one bucket width of the truth.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUCKETS_PER_DOUBLING, LAST_BUCKET, bucketIndex, histogramQuantiles } from './latency-histogram.js';

function histogram(xs: readonly number[]): Record<string, number> {
  const h: Record<string, number> = {};
  for (const x of xs) {
    const k = String(bucketIndex(x));
    h[k] = (h[k] ?? 0) + 1;
  }
  return h;
}

describe('latency histogram', () => {
  it('puts every value in the bucket whose bounds contain it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 21 }), (x) => {
        const k = bucketIndex(x);
        expect(2 ** ((k - 1) / BUCKETS_PER_DOUBLING)).toBeLessThanOrEqual(x * (1 + 1e-12));
        expect(x).toBeLessThan(2 ** (k / BUCKETS_PER_DOUBLING) * (1 + 1e-12));
      }),
    );
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(-5)).toBe(0);
    expect(bucketIndex(10 * 3_600_000)).toBe(LAST_BUCKET);
  });

  it('reads quantiles within one bucket width (9%) of the exact order statistic', () => {
    const width = 2 ** (1 / BUCKETS_PER_DOUBLING);
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3_000_000 }), { minLength: 1, maxLength: 400 }),
        (xs) => {
          const sorted = [...xs].sort((a, b) => a - b);
          const qs = [0.5, 0.9, 0.95, 0.99];
          const got = histogramQuantiles(histogram(xs), qs);
          qs.forEach((q, i) => {
            const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
            const g = got[i] as number;
            expect(g / exact).toBeLessThanOrEqual(width * (1 + 1e-9));
            expect(exact / g).toBeLessThanOrEqual(width * (1 + 1e-9));
          });
        },
      ),
    );
  });

  it('returns nulls for an empty histogram and accepts ClickHouse JSON (string counts)', () => {
    expect(histogramQuantiles({}, [0.5])).toEqual([null]);
    expect(histogramQuantiles(null, [0.5, 0.9])).toEqual([null, null]);
    expect(histogramQuantiles({ '0': '3' }, [0.5])).toEqual([0]);
    const [p50] = histogramQuantiles({ [String(bucketIndex(1000))]: '10' }, [0.5]);
    expect(Math.abs((p50 as number) - 1000) / 1000).toBeLessThan(0.09);
  });
});
