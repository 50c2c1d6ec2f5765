// Open anomalies, live: requests still overdue or missing, with their age and what is known, polled from the
// bounded /v1/anomalies/open query (limit, raw window) every 5 s, backing off to 60 s while it fails.
import { apiGet, poll } from '../api.js';
import { card, clear, fmtInt, fmtMs, fmtTime, h, link, section, table } from '../dom.js';
import { filtersOf, pageHref, windowOf, type Route } from '../state.js';
import type { AnomalyResult } from '../types.js';
import { showError, verdictBadge } from '../view.js';

const WEEK = 7 * 86_400_000;
const KINDS = ['overdue', 'missing_dispatch', 'missing_outcome'] as const;

export function renderAnomalies(root: HTMLElement, r: Route): Promise<() => void> {
  const w = windowOf(r, '24h', WEEK);
  const kind = r.params.get('kind') ?? '';
  const cards = h('div', { class: 'cards' });
  const list = h('div', {});
  const status = h('p', { class: 'status', testid: 'poll-status' }, 'loading…');
  const kindSelect = h(
    'select',
    {
      testid: 'anomaly-kind',
      onchange: (e: Event) => {
        const p = new URLSearchParams(r.params);
        const v = (e.target as HTMLSelectElement).value;
        if (v === '') p.delete('kind');
        else p.set('kind', v);
        location.hash = `#/anomalies?${p.toString()}`;
      },
    },
    h('option', { value: '' }, 'every kind'),
    KINDS.map((k) => h('option', { value: k, selected: k === kind }, k.replace(/_/g, ' '))),
  );
  clear(
    root,
    section(
      'Open anomalies',
      h('div', { class: 'toolbar' }, h('label', {}, 'kind', kindSelect), status),
      cards,
      list,
    ),
  );
  let first = true;
  return new Promise((resolve) => {
    const stop = poll(
      async () => {
        try {
          const res = await apiGet<AnomalyResult>('/v1/anomalies/open', {
            from: w.from,
            to: w.to,
            ...filtersOf(r),
            kind: kind || undefined,
            limit: 200,
          });
          const now = Date.now();
          const total = KINDS.reduce((a, k) => a + (res.counts[k] ?? 0), 0);
          clear(
            cards,
            card('open', fmtInt(total), 'count-total', undefined, total > 0 ? 'bad' : 'good'),
            KINDS.map((k) => card(k.replace(/_/g, ' '), fmtInt(res.counts[k] ?? 0), `count-${k}`)),
          );
          clear(
            list,
            res.items.length === 0
              ? h(
                  'p',
                  { class: 'empty', testid: 'empty' },
                  'Nothing open: every request in the window has an outcome or is within its SLA.',
                )
              : table(
                  [
                    'request',
                    'kind',
                    'age',
                    'overdue by',
                    'tenant',
                    'operation',
                    'route / provider',
                    'attempts',
                    'accepted',
                    'decided by',
                  ],
                  res.items.map((a) => [
                    link(
                      a.request_id,
                      pageHref(r, 'request', { q: a.request_id, by: 'request_id', tenant: a.tenant_id }),
                      'anomaly-request',
                    ),
                    verdictBadge(a.verdict),
                    a.accepted_at_ms === null ? '–' : fmtMs(now - a.accepted_at_ms),
                    fmtMs(a.overdue_by_ms),
                    a.tenant_id,
                    `${a.operation} · ${a.channel}`,
                    a.route ? `${a.route} / ${a.provider}` : 'never dispatched',
                    String(a.attempts),
                    fmtTime(a.accepted_at_ms),
                    a.fired_by,
                  ]),
                  'anomaly-table',
                ),
            res.items.length < total
              ? h(
                  'p',
                  { class: 'note' },
                  `showing the oldest ${fmtInt(res.items.length)} of ${fmtInt(total)}`,
                )
              : null,
          );
        } catch (err) {
          showError(list, err);
          throw err;
        } finally {
          if (first) {
            first = false;
            resolve(stop);
          }
        }
      },
      5_000,
      60_000,
      (next, failed) => {
        status.textContent = `${failed ? 'failed; ' : ''}updated ${fmtTime(Date.now())}, next in ${Math.round(next / 1000)} s`;
      },
    );
  });
}
