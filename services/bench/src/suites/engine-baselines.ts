// Engine-state baselines next to the engine figure (issue 9): the same benchEngine passes, settings and codec over
// an object-per-request engine state with coded strings and with plain JS strings (baseline-engine.ts), and one
// table that sets their throughput and retained memory against the Pathwatch engine's of the same run.
import { createObjectEngine, OBJECT_ENGINE_CAPTION } from '../baseline-engine.js';
import { benchEngine } from '../engine-bench.js';
import type { EngineBenchOptions, EngineBenchResult } from '../engine-bench.js';
import { step } from '../progress.js';
import type { Table } from '../report.js';

export interface BaselineSpec {
  readonly label: string;
  readonly codedStrings: boolean;
}

export const ENGINE_BASELINES: readonly BaselineSpec[] = [
  { label: 'baseline: object per request, coded strings', codedStrings: true },
  { label: 'baseline: object per request, JS strings (no string codec)', codedStrings: false },
];

export interface BaselineRun {
  readonly label: string;
  readonly result: EngineBenchResult | null;
  /** Why the run failed (first line), null when it did not. */
  readonly error: string | null;
}

/**
 * Runs benchEngine over each baseline with `options` (those of the engine figure), headline figures only.
 * Sequential, in this process, after the engine's own run; a failing baseline is reported, not thrown.
 */
export async function runEngineBaselines(options: EngineBenchOptions): Promise<BaselineRun[]> {
  const runs: BaselineRun[] = [];
  for (const b of ENGINE_BASELINES) {
    const s = step(`benchEngine over the ${b.label}`);
    try {
      const result = await benchEngine({
        ...options,
        createEngine: (_engineOptions, wall) => createObjectEngine(b.codedStrings, wall),
        headlineOnly: true,
      });
      runs.push({ label: b.label, result, error: null });
      s.done('done');
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`✗ ${b.label} failed: ${message}\n`);
      runs.push({ label: b.label, result: null, error: message.split('\n')[0] ?? '' });
      s.done('failed');
    }
  }
  return runs;
}

/** `value / reference` as "0.62×"; null when either is missing. */
export function ratio(value: number | null, reference: number | null): string | null {
  if (value === null || reference === null || !Number.isFinite(value) || !Number.isFinite(reference))
    return null;
  if (reference === 0) return null;
  return `${(value / reference).toFixed(2)}×`;
}

export const PATHWATCH_ROW_LABEL = 'Pathwatch engine (createEngine: arena + hash index + string codec)';

/** The comparison table: the engine's row (the engine figure itself, not a re-run), then one row per baseline. */
export function baselineTable(engine: EngineBenchResult | null, runs: readonly BaselineRun[]): Table {
  const row = (label: string, r: EngineBenchResult | null, note: string): (string | number | null)[] => [
    label,
    r?.eventsPerSec ?? null,
    ratio(r?.eventsPerSec ?? null, engine?.eventsPerSec ?? null),
    r?.eventsPerSecWithoutDecoding ?? null,
    ratio(r?.eventsPerSecWithoutDecoding ?? null, engine?.eventsPerSecWithoutDecoding ?? null),
    r?.cpuEventsPerSecWithoutDecoding ?? null,
    ratio(r?.cpuEventsPerSecWithoutDecoding ?? null, engine?.cpuEventsPerSecWithoutDecoding ?? null),
    r?.bytesPerOpenRequest ?? null,
    ratio(r?.bytesPerOpenRequest ?? null, engine?.bytesPerOpenRequest ?? null),
    r?.stream.verdicts ?? null,
    r?.stream.changelogRecords ?? null,
    note,
  ];
  const open = engine?.openRequests ?? runs.find((x) => x.result)?.result?.openRequests ?? null;
  return {
    title: `(a) Engine state vs object-per-request baselines (benchEngine, same run, same settings${open === null ? '' : `; memory at ${open.toLocaleString('en-US')} open requests`})`,
    headers: [
      'engine state',
      'events/s incl. decoding',
      '× Pathwatch',
      'events/s engine only',
      '× Pathwatch',
      'engine only, events per CPU-s',
      '× Pathwatch',
      'bytes per open request',
      '× Pathwatch',
      'verdicts',
      'changelog records',
      'note',
    ],
    rows: [
      row(PATHWATCH_ROW_LABEL, engine, engine ? 'the engine figure above' : 'benchEngine failed'),
      ...runs.map((x) => row(x.label, x.result, x.error === null ? '' : `FAILED: ${x.error}`)),
    ],
    caption:
      '"× Pathwatch" = the row\'s figure / the Pathwatch engine\'s in this run: above 1 is faster (events/s) or bigger (bytes). ' +
      'Each row is one benchEngine call with the same stream (seed, size, passes, medians), the same codec and the same memory fill (each event encoded and decoded before it is fed), one after the other in this process; ' +
      'baselines skip only the figures they are not compared on (decode-only rate, per-event percentiles, fill with a callback). ' +
      'Verdicts count every version emitted (the engine also emits corrections and provisional updates the baselines do not). ' +
      OBJECT_ENGINE_CAPTION,
  };
}
