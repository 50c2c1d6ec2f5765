/**
 * The live summary of `pathwatch start`: input rate, verdicts by class (with corrections and provisional
 * versions), actions, rows landed in ClickHouse, and how to query them.
 */
import type { PathStore } from '@pathwatch/path-store';
import type { PathWriterApp } from '@pathwatch/path-writer';
import type { ReconcilerApp } from '@pathwatch/reconciler';
import type { SimulatorApp } from '@pathwatch/simulator';

export interface SummaryDeps {
  reconciler: ReconcilerApp;
  writer: PathWriterApp;
  sim: SimulatorApp | undefined;
  store: PathStore;
  intervalMs: number;
  logPath: string | undefined;
  apiUrl?: string;
  out?: NodeJS.WriteStream;
  now?: () => number;
}

const ORDER = [
  'delivered_on_time',
  'delivered_late',
  'failed',
  'expired',
  'overdue',
  'missing_dispatch',
  'missing_outcome',
  'orphan_callback',
  'orphan_dispatch',
];

export function formatSummary(s: {
  elapsedS: number;
  inputsPerSec: number;
  inputs: number;
  verdicts: Record<string, number>;
  corrections: number;
  /** Versions of a final verdict that kept its class (flags or evidence only). */
  revisions?: number;
  actions: number;
  rowsWritten: number;
  writerPaused: boolean;
  simUnits: number | undefined;
}): string {
  const classes = ORDER.filter((c) => (s.verdicts[c] ?? 0) > 0)
    .map((c) => `${c} ${s.verdicts[c] ?? 0}`)
    .join(' · ');
  return [
    `[${s.elapsedS.toFixed(0).padStart(4)}s] in ${s.inputsPerSec.toFixed(0)} ev/s (${s.inputs} total)` +
      (s.simUnits === undefined ? '' : ` · simulated requests ${s.simUnits}`) +
      ` · path rows ${s.rowsWritten}${s.writerPaused ? ' (writer paused: ClickHouse unavailable)' : ''}`,
    `        verdict versions: ${classes || 'none yet'} · corrections ${s.corrections}${s.revisions ? ` · revisions ${s.revisions}` : ''} · actions ${s.actions}`,
  ].join('\n');
}

export function howToQuery(apiUrl: string | undefined, logPath: string | undefined): string {
  return [
    '',
    'Query the results (in another terminal):',
    '  npm run pathwatch -- sql "SELECT verdict, count() FROM paths GROUP BY verdict ORDER BY 2 DESC"',
    '  npm run pathwatch -- path <request_id>         # one request as a timeline',
    ...(apiUrl
      ? [
          `  open ${apiUrl}/ui                       # the dashboard (paste QUERY_API_TOKEN if one is set)`,
          `  curl ${apiUrl}/v1/anomalies/open            # HTTP API; OpenAPI at ${apiUrl}/openapi.json`,
        ]
      : []),
    ...(logPath ? [`Logs (JSON, one line per verdict and event): ${logPath}`] : []),
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

export function startSummary(deps: SummaryDeps): { stop(): void } {
  const out = deps.out ?? process.stdout;
  const now = deps.now ?? Date.now;
  const started = now();
  let lastInputs = deps.reconciler.stats().inputs;
  let lastAt = started;
  out.write(howToQuery(deps.apiUrl, deps.logPath));
  const timer = setInterval(() => {
    const r = deps.reconciler.stats();
    const w = deps.writer.status();
    const t = now();
    const rate = ((r.inputs - lastInputs) * 1000) / Math.max(1, t - lastAt);
    lastInputs = r.inputs;
    lastAt = t;
    out.write(
      `${formatSummary({
        elapsedS: (t - started) / 1000,
        inputsPerSec: rate,
        inputs: r.inputs,
        verdicts: r.verdicts,
        corrections: r.corrections,
        revisions: r.revisions,
        actions: r.actions,
        rowsWritten: w.rowsWritten,
        writerPaused: w.paused,
        simUnits: deps.sim?.simulator.stats().unitsGenerated,
      })}\n`,
    );
  }, deps.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
