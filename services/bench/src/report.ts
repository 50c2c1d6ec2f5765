// Pure rendering of benchmark results: targets judged with their gap, tables for the terminal and for
// BENCHMARKS.md, and the rewrite of one suite's section between its markers (other sections stay untouched).
import { BenchError } from './errors.js';

export type SuiteName = 'codec' | 'reconciler' | 'store';

/** A target from the issues, with the figure measured against it (null: could not be measured). */
export interface Target {
  readonly name: string;
  /** atLeast: measured >= goal passes (throughput); atMost: measured <= goal passes (latency, bytes). */
  readonly kind: 'atLeast' | 'atMost';
  readonly goal: number;
  readonly unit: string;
  readonly measured: number | null;
  /** How the figure was obtained when not plainly (e.g. "extrapolated from 100k and 300k"), or why it is missing. */
  readonly note?: string | undefined;
}

export type TargetStatus = 'pass' | 'MISS' | 'not available';

export interface Judgement {
  readonly status: TargetStatus;
  /** Signed distance to the goal in the target's unit and in percent, e.g. "-80,000 events/s (-16.0%)". */
  readonly gap: string;
}

export interface Table {
  readonly title: string;
  readonly headers: readonly string[];
  readonly rows: readonly (readonly (string | number | null)[])[];
  /** Shown under the table. */
  readonly caption?: string | undefined;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly ramGiB: number;
  readonly os: string;
  readonly node: string;
  /** Filled by suites that use a broker, e.g. "4.1.2 (local KRaft, started by the bench)". */
  kafka: string;
  readonly loadAverage1m: number;
}

export interface SuiteReport {
  readonly suite: SuiteName;
  readonly title: string;
  readonly command: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly machine: Machine;
  readonly settings: readonly (readonly [string, string])[];
  readonly targets: readonly Target[];
  readonly tables: readonly Table[];
  readonly notes: readonly string[];
}

/** Number with thousands separators and at most `digits` decimals. */
export function formatNumber(v: number, digits = 0): string {
  if (!Number.isFinite(v)) return String(v);
  return v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** Decimals that keep about three significant figures for small values. */
function digitsFor(v: number): number {
  const a = Math.abs(v);
  if (a === 0 || a >= 100) return 0;
  if (a >= 10) return 1;
  return 2;
}

export function formatValue(v: number, unit: string): string {
  return `${formatNumber(v, digitsFor(v))} ${unit}`.trimEnd();
}

export function judge(t: Target): Judgement {
  if (t.measured === null || !Number.isFinite(t.measured)) return { status: 'not available', gap: '—' };
  const diff = t.measured - t.goal;
  const pct = t.goal === 0 ? NaN : (diff / t.goal) * 100;
  const pass = t.kind === 'atLeast' ? t.measured >= t.goal : t.measured <= t.goal;
  const sign = diff > 0 ? '+' : diff < 0 ? '-' : '±';
  const pctText = Number.isFinite(pct) ? ` (${sign}${formatNumber(Math.abs(pct), 1)}%)` : '';
  return { status: pass ? 'pass' : 'MISS', gap: `${sign}${formatValue(Math.abs(diff), t.unit)}${pctText}` };
}

function cell(v: string | number | null): string {
  if (v === null) return '—';
  if (typeof v === 'number') return formatNumber(v, digitsFor(v));
  return v;
}

function targetTable(targets: readonly Target[]): Table {
  return {
    title: 'Targets',
    headers: ['target', 'goal', 'measured', 'status', 'gap to goal', 'note'],
    rows: targets.map((t) => {
      const j = judge(t);
      return [
        t.name,
        `${t.kind === 'atLeast' ? '>=' : '<='} ${formatValue(t.goal, t.unit)}`,
        t.measured === null ? 'not available' : formatValue(t.measured, t.unit),
        j.status,
        j.gap,
        t.note ?? '',
      ];
    }),
  };
}

function escapeMd(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(t: Table): string {
  const head = `| ${t.headers.map(escapeMd).join(' | ')} |`;
  const sep = `| ${t.headers.map(() => '---').join(' | ')} |`;
  const body = t.rows.map((r) => `| ${t.headers.map((_, i) => escapeMd(cell(r[i] ?? null))).join(' | ')} |`);
  return [head, sep, ...body].join('\n');
}

/** Fixed-width table for the terminal. */
export function textTable(t: Table): string {
  const rows = t.rows.map((r) => t.headers.map((_, i) => cell(r[i] ?? null)));
  const widths = t.headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const numeric = t.headers.map(
    (_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]+( |$)/.test(r[i] as string) || r[i] === '—'),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(t.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function machineLine(m: Machine): string {
  return (
    `${m.cpu}, ${m.cores} cores, ${formatNumber(m.ramGiB, 1)} GiB RAM, ${m.os}, Node ${m.node}, Kafka ${m.kafka}; ` +
    `load average ${formatNumber(m.loadAverage1m, 2)} at start (shared machine)`
  );
}

function durationText(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

/** The section body written between the suite's markers. */
export function renderMarkdown(r: SuiteReport): string {
  const out: string[] = [];
  out.push(`## ${r.title}`, '');
  out.push(`\`${r.command}\` — run ${r.startedAt.toISOString()}, took ${durationText(r.durationMs)}.`, '');
  out.push(`**Machine:** ${machineLine(r.machine)}.`, '');
  if (r.settings.length > 0)
    out.push(`**Settings:** ${r.settings.map(([k, v]) => `${k} = ${v}`).join('; ')}.`, '');
  for (const t of [...(r.targets.length > 0 ? [targetTable(r.targets)] : []), ...r.tables]) {
    out.push(`### ${t.title}`, '', markdownTable(t), '');
    if (t.caption) out.push(t.caption, '');
  }
  if (r.notes.length > 0) {
    out.push('### Notes', '');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}

export function renderText(r: SuiteReport): string {
  const out: string[] = [];
  out.push(`=== ${r.title} (${durationText(r.durationMs)}) ===`);
  out.push(`machine: ${machineLine(r.machine)}`);
  for (const [k, v] of r.settings) out.push(`  ${k} = ${v}`);
  for (const t of [...(r.targets.length > 0 ? [targetTable(r.targets)] : []), ...r.tables]) {
    out.push('', `-- ${t.title}`, textTable(t));
    if (t.caption) out.push(t.caption);
  }
  if (r.notes.length > 0) out.push('', 'notes:', ...r.notes.map((n) => `  - ${n}`));
  return out.join('\n');
}

export function sectionMarkers(suite: string): { start: string; end: string } {
  return { start: `<!-- bench:${suite}:start -->`, end: `<!-- bench:${suite}:end -->` };
}

export const BENCHMARKS_HEADER = `# Benchmarks

Measured by \`npm run bench\` (\`-- codec | reconciler | store | all\`; shortcuts \`npm run bench:reconciler\`,
\`npm run bench:store\`). Each suite rewrites only its own section below, between its markers, with the machine,
the settings, the figures, the targets from the issues (pass or miss, with the gap) and a baseline measured in
the same run. Speed is measured here, never by timed assertions in tests. Percentiles are nearest-rank.
`;

function count(doc: string, s: string): number {
  let n = 0;
  for (let i = doc.indexOf(s); i !== -1; i = doc.indexOf(s, i + s.length)) n++;
  return n;
}

/**
 * Replaces the suite's section (markers included) with `body` between fresh markers, or appends it when the
 * document has no section for the suite yet (an empty document gets the standard header first). Everything
 * outside the section is kept byte for byte. Throws BENCH_REPORT_MARKERS when the markers are broken (only one
 * of them, repeated, or end before start), rather than guess what to overwrite.
 */
export function rewriteSection(doc: string, suite: string, body: string): string {
  const { start, end } = sectionMarkers(suite);
  const block = `${start}\n${body.trim()}\n${end}`;
  const starts = count(doc, start);
  const ends = count(doc, end);
  if (starts === 0 && ends === 0) {
    const base = doc.trim() === '' ? BENCHMARKS_HEADER : doc;
    return `${base.replace(/\n*$/, '')}\n\n${block}\n`;
  }
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (starts !== 1 || ends !== 1 || j < i) {
    throw new BenchError(
      'BENCH_REPORT_MARKERS',
      `BENCHMARKS.md has broken markers for "${suite}" (${starts} × ${start}, ${ends} × ${end}${j < i && starts === 1 && ends === 1 ? ', end before start' : ''}); ` +
        'fix or delete that section by hand and run the suite again',
    );
  }
  return doc.slice(0, i) + block + doc.slice(j + end.length);
}
