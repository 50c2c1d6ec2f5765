// Pure statistics for benchmark figures: nearest-rank percentiles and summaries.

export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/**
 * Nearest-rank percentile of ascending `sorted` values: the smallest value with at least `p`% of the values at
 * or below it (so p99 of 100 values is the 99th, of 10 values the 10th). Never interpolates, so the figure is
 * always one that was measured. NaN for no values.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1] as number;
}

/** Count, min, mean, p50/p90/p99 (nearest rank) and max; NaN figures for no values. Does not modify `values`. */
export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n === 0 ? NaN : (sorted[0] as number),
    mean: n === 0 ? NaN : sum / n,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n === 0 ? NaN : (sorted[n - 1] as number),
  };
}

/** Items per second, from a count and a duration in milliseconds (0 for a non-positive duration). */
export function perSecond(count: number, durationMs: number): number {
  return durationMs > 0 ? (count * 1000) / durationMs : 0;
}

/**
 * Least-squares line through (x, y) points, for extrapolating a figure measured at a few sizes
 * (e.g. recovery time at 100k and 300k open requests -> 1M). Needs at least two distinct x.
 */
export function linearFit(points: readonly { x: number; y: number }[]): {
  slope: number;
  intercept: number;
  at(x: number): number;
} {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (!(n >= 2 && sxx > 0)) throw new RangeError('linearFit needs at least two points with distinct x');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  return { slope, intercept, at: (x) => intercept + slope * x };
}
