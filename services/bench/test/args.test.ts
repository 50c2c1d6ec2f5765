import { describe, expect, it } from 'vitest';
import { FULL_SIZES, QUICK_SIZES, parseArgs } from '../src/args.js';
import { BenchError } from '../src/errors.js';

describe('parseArgs', () => {
  it('full runs write BENCHMARKS.md, quick runs do not unless asked', () => {
    expect(parseArgs(['reconciler'])).toMatchObject({
      suite: 'reconciler',
      quick: false,
      write: true,
      sizes: FULL_SIZES,
    });
    expect(parseArgs(['store', '--quick'])).toMatchObject({ quick: true, write: false, sizes: QUICK_SIZES });
    expect(parseArgs(['--quick', 'codec', '--write']).write).toBe(true);
  });

  it('size overrides, recovery sizes sorted', () => {
    const a = parseArgs(['reconciler', '--events', '5000', '--recovery', '300000,100000', '--open', '7']);
    expect(a.sizes.e2eEvents).toBe(5000);
    expect(a.sizes.engineOpenRequests).toBe(7);
    expect(a.sizes.recoveryOpenRequests).toEqual([100_000, 300_000]);
  });

  it.each([[[]], [['nope']], [['codec', '--events']], [['codec', '--events', '-1']], [['codec', 'store']]])(
    'rejects %j with usage',
    (argv) => {
      expect(() => parseArgs(argv)).toThrow(BenchError);
    },
  );
});
