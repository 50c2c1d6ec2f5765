// Overview: the three layers (accepted, executed, outcome) over the window, from the rollups via /v1/latency,
// with the SLA; the gap between "API green" and "outcome red" leads the page.
import { apiGet } from '../api.js';
import { COLORS, timeChart } from '../charts.js';
import { card, clear, fmtInt, fmtMs, fmtPct, h, link, section } from '../dom.js';
import { filtersOf, pageHref, windowOf, type Route } from '../state.js';
import type { LatencyRow, SearchResult } from '../types.js';

const DAY = 86_400_000;

function mode(xs: number[]): number | null {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best: number | null = null;
  let bestN = 0;
  for (const [x, c] of counts)
    if (c > bestN || (c === bestN && best !== null && x < best)) [best, bestN] = [x, c];
  return best;
}

export async function renderOverview(root: HTMLElement, r: Route): Promise<void> {
  const w = windowOf(r);
  const f = filtersOf(r);
  const bucket = w.toMs - w.fromMs > 3 * DAY ? 'day' : 'hour';
  const base = { from: w.from, to: w.to, ...f };
  const slaFrom = new Date(Math.max(w.fromMs, w.toMs - DAY)).toISOString();
  const [totals, series, recent] = await Promise.all([
    apiGet<{ rows: LatencyRow[] }>('/v1/latency', { ...base, bucket: 'none' }),
    apiGet<{ rows: LatencyRow[] }>('/v1/latency', { ...base, bucket, limit: 1000 }),
    // The SLA differs per request: show the most common one among the latest requests (raw, last 24 h at most).
    apiGet<SearchResult>('/v1/requests/search', { ...base, from: slaFrom, limit: 200 }).catch(() => null),
  ]);
  const t = totals.rows[0];
  const sla = recent ? mode(recent.items.map((i) => i.sla_ms)) : null;
  if (!t) {
    clear(
      root,
      section(
        'Overview',
        h(
          'p',
          { class: 'empty', testid: 'empty' },
          'No requests in this window (rollups refresh every few seconds).',
        ),
      ),
    );
    return;
  }
  const accepted = t.requests - t.orphans;
  const notOnTime = t.settled - t.on_time;
  const gap = h(
    'section',
    { class: 'gap', testid: 'gap' },
    h(
      'div',
      { class: 'gap-side good' },
      h('div', { class: 'gap-label' }, 'API says'),
      h('div', { class: 'gap-value', testid: 'gap-api' }, `${fmtInt(accepted)} accepted`),
      h('div', { class: 'gap-note' }, 'requests the API accepted (layer 1)'),
    ),
    h(
      'div',
      { class: `gap-side ${notOnTime + t.overdue > 0 ? 'bad' : 'good'}` },
      h('div', { class: 'gap-label' }, 'Outcome says'),
      h('div', { class: 'gap-value', testid: 'gap-outcome' }, `${fmtPct(t.on_time_rate)} on time`),
      h(
        'div',
        { class: 'gap-note', testid: 'gap-not-on-time' },
        `${fmtInt(notOnTime)} settled but not on time, ${fmtInt(t.overdue)} overdue now`,
      ),
    ),
    h(
      'div',
      { class: 'gap-links' },
      link('see open anomalies →', pageHref(r, 'anomalies')),
      link('explain the late ones →', pageHref(r, 'variance', { cohort: 'not_on_time' })),
    ),
  );
  const layers = h(
    'div',
    { class: 'layers' },
    h(
      'div',
      { class: 'layer' },
      h('h3', {}, '1 · Accepted (API)'),
      card('accepted', fmtInt(accepted), 'kpi-accepted', 'requests the API answered'),
      card('orphans', fmtInt(t.orphans), 'kpi-orphans', 'evidence without a request'),
    ),
    h(
      'div',
      { class: 'layer' },
      h('h3', {}, '2 · Executed (dispatch)'),
      card('executed', fmtInt(t.execution_ok), 'kpi-executed', 'a provider accepted an attempt'),
      card('retried', fmtInt(t.retried), 'kpi-retried', undefined, t.retried > 0 ? 'warn' : undefined),
      card(
        'failed over',
        fmtInt(t.failed_over),
        'kpi-failed-over',
        undefined,
        t.failed_over > 0 ? 'warn' : undefined,
      ),
    ),
    h(
      'div',
      { class: 'layer' },
      h('h3', {}, '3 · Outcome (delivery)'),
      card(
        'on time',
        fmtInt(t.on_time),
        'kpi-on-time',
        `${fmtPct(t.on_time_rate)} of ${fmtInt(t.settled)} settled`,
        'good',
      ),
      card('late', fmtInt(t.late), 'kpi-late', undefined, t.late > 0 ? 'warn' : undefined),
      card('failed', fmtInt(t.failed), 'kpi-failed', undefined, t.failed > 0 ? 'bad' : undefined),
      card(
        'missing',
        fmtInt(t.missing),
        'kpi-missing',
        'no dispatch or no outcome',
        t.missing > 0 ? 'bad' : undefined,
      ),
      card('expired', fmtInt(t.expired), 'kpi-expired'),
      card(
        'overdue',
        fmtInt(t.overdue),
        'kpi-overdue',
        'SLA passed, still open',
        t.overdue > 0 ? 'warn' : undefined,
      ),
    ),
    h(
      'div',
      { class: 'layer' },
      h('h3', {}, 'Latency (end to end)'),
      card('p50', fmtMs(t.p50_ms), 'kpi-p50'),
      card(
        'p95',
        fmtMs(t.p95_ms),
        'kpi-p95',
        undefined,
        sla !== null && (t.p95_ms ?? 0) > sla ? 'bad' : undefined,
      ),
      card('SLA', fmtMs(sla), 'kpi-sla', 'most common in the latest requests'),
    ),
  );
  const rows = series.rows;
  const xs = rows.map((x) => x.bucket_start_ms ?? 0);
  const col = (fn: (x: LatencyRow) => number | null) => rows.map(fn);
  clear(
    root,
    gap,
    layers,
    h(
      'div',
      { class: 'charts' },
      timeChart('Three layers per ' + bucket, 'chart-layers', xs, [
        { label: 'accepted', values: col((x) => x.requests - x.orphans), color: COLORS.accepted },
        { label: 'executed', values: col((x) => x.execution_ok), color: COLORS.executed },
        { label: 'on time', values: col((x) => x.on_time), color: COLORS.ok },
      ]),
      timeChart('Not on time per ' + bucket, 'chart-outcomes', xs, [
        { label: 'late', values: col((x) => x.late), color: COLORS.late },
        { label: 'failed', values: col((x) => x.failed), color: COLORS.failed },
        { label: 'missing', values: col((x) => x.missing), color: COLORS.missing },
        { label: 'overdue', values: col((x) => x.overdue), color: COLORS.overdue },
      ]),
      timeChart('Retries and failovers per ' + bucket, 'chart-execution', xs, [
        { label: 'retried', values: col((x) => x.retried), color: COLORS.late },
        { label: 'failed over', values: col((x) => x.failed_over), color: COLORS.executed },
      ]),
      timeChart(
        'End-to-end latency vs SLA',
        'chart-latency',
        xs,
        [
          { label: 'p50', values: col((x) => x.p50_ms), color: COLORS.accepted },
          { label: 'p95', values: col((x) => x.p95_ms), color: COLORS.executed },
          { label: 'p99', values: col((x) => x.p99_ms), color: COLORS.overdue },
          ...(sla === null
            ? []
            : [{ label: 'SLA', values: xs.map(() => sla), color: COLORS.sla, dash: [6, 4] }]),
        ],
        (v) => fmtMs(v),
      ),
    ),
  );
}
