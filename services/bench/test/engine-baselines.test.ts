import { describe, expect, it } from 'vitest';
import type { EngineBenchResult } from '../src/engine-bench.js';
import { baselineTable, PATHWATCH_ROW_LABEL, ratio } from '../src/suites/engine-baselines.js';

describe('baseline table', () => {
  const result = (eventsPerSec: number, bytes: number): EngineBenchResult =>
    ({
      eventsPerSec,
      eventsPerSecWithoutDecoding: 2 * eventsPerSec,
      cpuEventsPerSec: eventsPerSec,
      cpuEventsPerSecWithoutDecoding: 2 * eventsPerSec,
      decodeOnlyEventsPerSec: null,
      bytesPerOpenRequest: bytes,
      bytesPerOpenRequestWithCallback: null,
      engineBytesPerOpenRequest: 0,
      openRequests: 1000,
      perEventNs: null,
      stream: { requests: 1, events: 4, verdicts: 1, actions: 0, changelogRecords: 3, verdictClasses: {} },
      targets: [],
      environment: { node: 'v20', loadAverage1m: 0, cpus: 2, youngGenerationMiB: 128 },
      notes: [],
    }) satisfies EngineBenchResult;

  it('divides each figure by the engine figure of the same run', () => {
    expect(ratio(50, 200)).toBe('0.25×');
    expect(ratio(null, 200)).toBeNull();
    expect(ratio(50, 0)).toBeNull();
    const t = baselineTable(result(200, 230), [
      { label: 'coded', result: result(100, 460), error: null },
      { label: 'js', result: null, error: 'boom' },
    ]);
    expect(t.rows.map((r) => r[0])).toEqual([PATHWATCH_ROW_LABEL, 'coded', 'js']);
    const col = (h: string, n = 0): number => t.headers.findIndex((x, i) => x === h && i >= n);
    const eps = col('events/s incl. decoding');
    const bytes = col('bytes per open request');
    expect(t.rows[0]?.[eps + 1]).toBe('1.00×');
    expect(t.rows[1]?.[eps]).toBe(100);
    expect(t.rows[1]?.[eps + 1]).toBe('0.50×');
    expect(t.rows[1]?.[bytes + 1]).toBe('2.00×');
    expect(t.rows[2]?.[eps]).toBeNull();
    expect(t.rows[2]?.at(-1)).toBe('FAILED: boom');
  });
});
