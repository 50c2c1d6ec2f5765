import { describe, expect, it } from 'vitest';
import { estimateRecovery } from '../src/recovery-estimate.js';

describe('estimateRecovery', () => {
  it('uses the measurement at the target size when there is one', () => {
    const e = estimateRecovery(
      [
        { openRequests: 100_000, restoredMs: 3000, consumingMs: 6000 },
        { openRequests: 1_000_000, restoredMs: 15_000, consumingMs: 15_400 },
      ],
      1_000_000,
    );
    expect(e.ms).toBe(15_400);
    expect(e.how).toContain('measured');
  });

  it('follows the restore line when a fixed group rejoin hides it at small sizes', () => {
    // Restore grows 1.35 s per 100k; "consuming again" barely moves because of the ~6 s session timeout.
    const e = estimateRecovery(
      [
        { openRequests: 100_000, restoredMs: 3400, consumingMs: 6000 },
        { openRequests: 300_000, restoredMs: 6100, consumingMs: 6400 },
      ],
      1_000_000,
    );
    // restore line: 3400 + (6100 - 3400) * 9 / 2 = 15,550; + smallest gap 300.
    expect(e.ms).toBeCloseTo(15_850, 0);
    expect(e.how).toContain('EXTRAPOLATED');
  });

  it('never extrapolates a falling line downwards', () => {
    const e = estimateRecovery(
      [
        { openRequests: 10_000, restoredMs: 2000, consumingMs: 6000 },
        { openRequests: 30_000, restoredMs: 1900, consumingMs: 4900 },
      ],
      1_000_000,
    );
    expect(e.ms).toBe(6000);
  });

  it('says so when it cannot estimate', () => {
    expect(
      estimateRecovery([{ openRequests: 100_000, restoredMs: 1, consumingMs: 2 }], 1_000_000).ms,
    ).toBeNull();
    expect(
      estimateRecovery([{ openRequests: 100_000, restoredMs: null, consumingMs: null }], 1_000_000).ms,
    ).toBeNull();
  });
});
