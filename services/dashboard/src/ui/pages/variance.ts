// Variance and explain: same input, different outcome (by input fingerprint, with consistency and the
// providers involved), flip and correction rates, and a cohort's attribute values ranked by lift, each
// clickable through to example requests.
import { apiGet } from '../api.js';
import { card, clear, fmtInt, fmtPct, h, link, section, table } from '../dom.js';
import { filtersOf, pageHref, withParams, windowOf, type Route } from '../state.js';
import type { ExplainResult, FlipRateRow, SameInputResult } from '../types.js';
import { verdictBadge } from '../view.js';

const WEEK = 7 * 86_400_000;
const COHORTS = [
  'not_on_time',
  'delivered_late',
  'failed',
  'missing_dispatch',
  'missing_outcome',
  'expired',
  'overdue',
];

export async function renderVariance(root: HTMLElement, r: Route): Promise<void> {
  const w = windowOf(r, '24h', WEEK);
  const f = filtersOf(r);
  const cohort = r.params.get('cohort') ?? 'not_on_time';
  const minSupport = r.params.get('min_support') ?? '10';
  const base = { from: w.from, to: w.to, ...f };
  const [same, flips, explain] = await Promise.all([
    apiGet<SameInputResult>('/v1/variance/same-input', { ...base, limit: 25 }),
    apiGet<{ rows: FlipRateRow[] }>('/v1/variance/flip-rate', { ...base, bucket: 'none' }),
    apiGet<ExplainResult>('/v1/explain', {
      ...base,
      cohort,
      min_support: minSupport,
      min_cohort: 1,
      limit: 25,
    }),
  ]);
  const flip = flips.rows[0];
  const cohortSelect = h(
    'select',
    {
      testid: 'cohort',
      onchange: (e: Event) => {
        location.hash = withParams(r, { cohort: (e.target as HTMLSelectElement).value });
      },
    },
    COHORTS.map((c) => h('option', { value: c, selected: c === cohort }, c.replace(/_/g, ' '))),
  );
  const maxLift = Math.max(1, ...explain.items.map((i) => i.lift ?? 0));
  clear(
    root,
    section(
      'Same input, different outcome',
      h(
        'div',
        { class: 'cards' },
        card(
          'consistency score',
          fmtPct(same.consistency_score),
          'same-score',
          'requests that got their input’s usual outcome',
        ),
        card('repeated inputs', fmtInt(same.fingerprints), 'same-fingerprints'),
        card(
          'inconsistent inputs',
          fmtInt(same.inconsistent_fingerprints),
          'same-inconsistent',
          undefined,
          same.inconsistent_fingerprints > 0 ? 'warn' : undefined,
        ),
        card('input flip rate', fmtPct(flip?.input_flip_rate), 'flip-rate'),
        card(
          'correction rate',
          fmtPct(flip?.correction_rate),
          'correction-rate',
          `${fmtInt(flip?.corrected_requests)} of ${fmtInt(flip?.settled_requests)} settled`,
        ),
      ),
      same.items.length === 0
        ? h('p', { class: 'empty' }, 'Every repeated input got the same outcome.')
        : table(
            ['input fingerprint', 'requests', 'outcomes', 'usual', 'consistency', 'providers', 'latest'],
            same.items.map((i) => [
              link(
                i.input_fingerprint,
                pageHref(r, 'request', { by: 'input_fingerprint', q: i.input_fingerprint }),
                'same-fingerprint',
              ),
              fmtInt(i.requests),
              h(
                'span',
                {},
                Object.entries(i.outcomes).map(([v, n]) =>
                  h('span', { class: 'outcome' }, verdictBadge(v), ` ${n} `),
                ),
              ),
              i.modal_verdict.replace(/_/g, ' '),
              fmtPct(i.consistency),
              i.providers.filter((p) => p !== '').join(', ') || '–',
              link(i.latest_request_id, pageHref(r, 'request', { by: 'request_id', q: i.latest_request_id })),
            ]),
            'same-table',
          ),
    ),
    section(
      'Explain a cohort',
      h(
        'div',
        { class: 'toolbar' },
        h('label', {}, 'cohort', cohortSelect),
        h(
          'span',
          { class: 'note' },
          `values with at least ${minSupport} requests; lift = P(cohort | value) / P(cohort | other values)`,
        ),
      ),
      h(
        'div',
        { class: 'cards' },
        card('population', fmtInt(explain.population), 'explain-population'),
        card('in cohort', fmtInt(explain.cohort_size), 'explain-cohort-size'),
        card('base rate', fmtPct(explain.base_rate), 'explain-base-rate'),
      ),
      explain.items.length === 0
        ? h(
            'p',
            { class: 'empty', testid: 'explain-empty' },
            'No attribute value stands out for this cohort.',
          )
        : table(
            ['attribute', 'value', 'lift', '', 'in cohort', 'with value', 'cohort rate', 'rest rate'],
            explain.items.map((i) => [
              i.dimension,
              link(
                i.value,
                pageHref(r, 'request', { cohort, dimension: i.dimension, value: i.value }),
                'explain-value',
              ),
              h('span', { testid: 'explain-lift' }, (i.lift ?? 0).toFixed(2)),
              h(
                'div',
                { class: 'liftbar' },
                h('div', { style: { width: `${(((i.lift ?? 0) / maxLift) * 100).toFixed(1)}%` } }),
              ),
              fmtInt(i.cohort_count),
              fmtInt(i.support),
              fmtPct(i.cohort_rate),
              fmtPct(i.rest_rate),
            ]),
            'explain-table',
          ),
    ),
  );
}
