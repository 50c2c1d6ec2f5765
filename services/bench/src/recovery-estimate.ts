// Recovery time at a size that was not measured, from smaller sizes. Two parts grow differently: reading the
// changelog back grows with the state; the rest (rejoining the group, first commit) is roughly fixed, and at
// small sizes the group rejoin (the dead member's session timeout) hides the restore entirely. So a straight
// line through "consuming again" underestimates; the restore line plus the smallest post-restore gap does not.
import { formatNumber } from './report.js';
import { linearFit } from './stats.js';

export interface RecoveryPoint {
  readonly openRequests: number;
  /** Process spawn -> state restored. */
  readonly restoredMs: number | null;
  /** Process spawn -> consuming again. */
  readonly consumingMs: number | null;
}

export interface RecoveryEstimate {
  readonly ms: number | null;
  readonly how: string;
}

function lineAt(points: readonly { x: number; y: number }[], at: number): { y: number; text: string } {
  const fit = linearFit(points);
  if (fit.slope <= 0) {
    // No growth visible: do not extrapolate noise downwards.
    return { y: Math.max(...points.map((p) => p.y)), text: 'no growth visible, largest measured' };
  }
  return {
    y: fit.at(at),
    text: `${formatNumber(fit.slope * 100_000)} ms per 100k + ${formatNumber(fit.intercept)} ms`,
  };
}

export function estimateRecovery(rows: readonly RecoveryPoint[], at: number): RecoveryEstimate {
  const exact = rows.find((r) => r.openRequests === at && r.consumingMs !== null);
  if (exact) return { ms: exact.consumingMs, how: `measured at ${formatNumber(at)}` };
  const both = rows.filter((r) => r.restoredMs !== null && r.consumingMs !== null);
  if (new Set(both.map((r) => r.openRequests)).size < 2)
    return { ms: null, how: 'fewer than two sizes measured' };
  const sizes = both.map((r) => formatNumber(r.openRequests)).join(', ');
  const consuming = lineAt(
    both.map((r) => ({ x: r.openRequests, y: r.consumingMs as number })),
    at,
  );
  const restored = lineAt(
    both.map((r) => ({ x: r.openRequests, y: r.restoredMs as number })),
    at,
  );
  const gap = Math.max(0, Math.min(...both.map((r) => (r.consumingMs as number) - (r.restoredMs as number))));
  const viaRestore = restored.y + gap;
  const ms = Math.max(consuming.y, viaRestore);
  return {
    ms,
    how:
      `EXTRAPOLATED from ${sizes} open requests: max of "consuming again" on a line (${consuming.text}) = ${formatNumber(consuming.y)} ms ` +
      `and "state restored" on a line (${restored.text}) + the smallest post-restore gap (${formatNumber(gap)} ms) = ${formatNumber(viaRestore)} ms`,
  };
}
