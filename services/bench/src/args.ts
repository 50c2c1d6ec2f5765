// Command line of `npm run bench -- <suite> [options]`.
import { BenchError } from './errors.js';
import type { Sizes } from './suites/types.js';

export const SUITES = ['codec', 'reconciler', 'store', 'all'] as const;
export type SuiteArg = (typeof SUITES)[number];

export interface BenchArgs {
  readonly suite: SuiteArg;
  readonly quick: boolean;
  /** Write BENCHMARKS.md (default: yes for full runs, no for --quick). */
  readonly write: boolean;
  readonly sizes: Sizes;
}

export const FULL_SIZES: Sizes = {
  codecEvents: 100_000,
  e2eEvents: 200_000,
  recoveryOpenRequests: [100_000, 300_000, 1_000_000],
  engineOpenRequests: 1_000_000,
  delayLoadRatePerSec: 1_000,
  delayLoadSeconds: 30,
};

export const QUICK_SIZES: Sizes = {
  codecEvents: 20_000,
  e2eEvents: 30_000,
  recoveryOpenRequests: [10_000, 30_000],
  engineOpenRequests: 50_000,
  delayLoadRatePerSec: 200,
  delayLoadSeconds: 10,
};

export const USAGE = `usage: npm run bench -- <${SUITES.join('|')}> [--quick] [--write|--no-write] [--events N] [--open N] [--recovery N,N,...]
  codec       schemas codec encode/decode (benchCodec) and decode vs raw avsc / JSON.parse
  reconciler  engine in-process + end to end through Kafka (local broker unless KAFKA_BROKERS is set)
  store       benchStore from the store packages
  all         all three
  --quick     small sizes for a smoke run; does not touch BENCHMARKS.md unless --write
  --events N  events for the engine and end-to-end throughput runs (default ${FULL_SIZES.e2eEvents})
  --open N    open requests for the in-process memory figure (default ${FULL_SIZES.engineOpenRequests})
  --recovery  open-request counts for kill -9 recovery (default ${FULL_SIZES.recoveryOpenRequests.join(',')})`;

function positiveInt(flag: string, raw: string | undefined): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n <= 0)
    throw new BenchError(
      'BENCH_USAGE',
      `${flag} needs a positive integer, got ${raw ?? 'nothing'}\n${USAGE}`,
    );
  return n;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  let suite: SuiteArg | undefined;
  let quick = false;
  let write: boolean | undefined;
  const over: { -readonly [K in keyof Sizes]?: Sizes[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--quick') quick = true;
    else if (a === '--write') write = true;
    else if (a === '--no-write') write = false;
    else if (a === '--events') over.e2eEvents = positiveInt(a, argv[++i]);
    else if (a === '--open') over.engineOpenRequests = positiveInt(a, argv[++i]);
    else if (a === '--recovery') {
      const raw = argv[++i] ?? '';
      const list = raw.split(',').map((x) => positiveInt(a, x));
      over.recoveryOpenRequests = [...list].sort((x, y) => x - y);
    } else if ((SUITES as readonly string[]).includes(a) && suite === undefined) suite = a as SuiteArg;
    else throw new BenchError('BENCH_USAGE', `unknown argument "${a}"\n${USAGE}`);
  }
  if (suite === undefined) throw new BenchError('BENCH_USAGE', `which suite?\n${USAGE}`);
  return { suite, quick, write: write ?? !quick, sizes: { ...(quick ? QUICK_SIZES : FULL_SIZES), ...over } };
}
