// One request: find it (request id, provider message id, tenant, input fingerprint, or an explain drill-down),
// then its path as a waterfall — acceptance, each attempt with route and provider, callbacks, and every verdict
// version with the evidence that decided it — from /v1/requests/{id}/timeline.
import { ApiError, apiGet } from '../api.js';
import { clear, fmtInt, fmtMs, fmtTime, h, link, section, table } from '../dom.js';
import { filtersOf, hrefFor, pageHref, windowOf, type Route } from '../state.js';
import type { SearchResult, Timeline } from '../types.js';
import { showError, verdictBadge } from '../view.js';

const WEEK = 7 * 86_400_000;
const BY = {
  request_id: 'request id',
  provider_message_id: 'provider message id',
  tenant: 'tenant',
  input_fingerprint: 'input fingerprint',
} as const;
type By = keyof typeof BY;

function searchForm(r: Route): HTMLElement {
  const by = (r.params.get('by') ?? 'request_id') as By;
  const input = h('input', {
    type: 'search',
    value: r.params.get('q') ?? '',
    placeholder: 'search…',
    testid: 'search-input',
    size: 40,
  });
  const select = h(
    'select',
    { testid: 'search-by' },
    Object.entries(BY).map(([k, label]) => h('option', { value: k, selected: k === by }, label)),
  );
  return h(
    'form',
    {
      class: 'toolbar',
      testid: 'search-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const p = new URLSearchParams();
        for (const k of ['range', 'from', 'to']) {
          const v = r.params.get(k);
          if (v !== null) p.set(k, v);
        }
        p.set('by', select.value);
        p.set('q', input.value.trim());
        location.hash = hrefFor('request', p);
      },
    },
    h('label', {}, 'find by', select),
    input,
    h('button', { type: 'submit', testid: 'search-submit' }, 'Search'),
  );
}

function resultList(r: Route, res: SearchResult): HTMLElement {
  return h(
    'div',
    {},
    h(
      'p',
      { class: 'note', testid: 'search-total' },
      `${fmtInt(res.total)} matching request${res.total === 1 ? '' : 's'}${res.items.length < res.total ? ` (newest ${fmtInt(res.items.length)} shown)` : ''}`,
    ),
    table(
      [
        'request',
        'verdict',
        'tenant',
        'operation',
        'route / provider',
        'attempts',
        'e2e',
        'accepted',
        'fingerprint',
      ],
      res.items.map((i) => [
        link(
          i.request_id,
          pageHref(r, 'request', { by: 'request_id', q: i.request_id, tenant: i.tenant_id }),
          'result-request',
        ),
        verdictBadge(i.verdict, i.provisional),
        i.tenant_id,
        `${i.operation} · ${i.channel}`,
        `${i.route} / ${i.provider}`,
        String(i.attempts),
        fmtMs(i.e2e_ms),
        fmtTime(i.accepted_at_ms),
        h('code', {}, i.input_fingerprint.slice(0, 16)),
      ]),
      'search-results',
    ),
  );
}

interface Mark {
  label: string;
  at: number;
  end?: number;
  kind: string;
  detail?: string;
}

function waterfall(t: Timeline): HTMLElement {
  const marks: Mark[] = [];
  const anchor = t.accepted_at_ms ?? t.events[0]?.at_ms ?? 0;
  if (t.accepted_at_ms !== null)
    marks.push({
      label: 'accepted',
      at: t.accepted_at_ms,
      kind: 'accepted',
      detail: `${t.operation} · ${t.channel}, SLA ${fmtMs(t.sla_ms)}`,
    });
  for (const a of t.attempts) {
    marks.push({
      label: `attempt ${a.attempt_no} (${a.reason})`,
      at: a.dispatched_at_ms,
      end: a.last_status_at_ms ?? undefined,
      kind: 'attempt',
      detail: `${a.route} / ${a.provider} · submit ${a.submit_outcome}${a.provider_message_id ? ` · ${a.provider_message_id}` : ''}${a.last_status ? ` → ${a.last_status}` : ''}`,
    });
  }
  for (const e of t.events.filter((x) => x.kind === 'callback'))
    marks.push({ label: 'callback', at: e.at_ms, kind: 'callback', detail: e.detail });
  for (const v of t.versions)
    marks.push({
      label: `verdict v${v.version}`,
      at: v.decided_at_ms,
      kind: `version ${v.provisional ? 'provisional' : 'final'}`,
      detail: `${v.verdict}${v.provisional ? ' (provisional)' : ''}${v.is_correction ? ` — corrects ${v.previous_verdict ?? '?'}` : ''} · fired by ${v.fired_by} · watermark lag ${fmtMs(v.watermark_lag_ms)}${v.flags.length ? ` · ${v.flags.join(', ')}` : ''}${v.error_code ? ` · ${v.error_code}` : ''}`,
    });
  const ends = marks.map((m) => m.end ?? m.at);
  const lo = Math.min(anchor, ...marks.map((m) => m.at));
  const hi = Math.max(lo + 1, ...ends, t.deadline_at_ms ?? lo);
  const pct = (x: number): string => `${(((x - lo) / (hi - lo)) * 100).toFixed(3)}%`;
  const rows = marks.map((m) =>
    h(
      'div',
      { class: `wf-row ${m.kind}`, testid: 'wf-row' },
      h(
        'div',
        { class: 'wf-label' },
        h('strong', {}, m.label),
        h('span', { class: 'wf-offset' }, `+${fmtMs(m.at - anchor)}`),
      ),
      h(
        'div',
        { class: 'wf-track' },
        h('div', {
          class: m.end !== undefined ? 'wf-bar' : 'wf-dot',
          style:
            m.end !== undefined
              ? { left: pct(m.at), width: `max(3px, calc(${pct(m.end)} - ${pct(m.at)}))` }
              : { left: pct(m.at) },
        }),
        t.deadline_at_ms !== null
          ? h('div', { class: 'wf-sla', style: { left: pct(t.deadline_at_ms) } })
          : null,
      ),
      h('div', { class: 'wf-detail' }, m.detail ?? ''),
    ),
  );
  return h(
    'div',
    { class: 'waterfall', testid: 'waterfall' },
    h(
      'div',
      { class: 'wf-legend' },
      `time from acceptance; the red line is the SLA deadline (${fmtTime(t.deadline_at_ms)})`,
    ),
    rows,
  );
}

function timelineView(r: Route, t: Timeline): HTMLElement {
  return h(
    'div',
    { testid: 'timeline' },
    h(
      'div',
      { class: 'req-head' },
      h('h2', { testid: 'timeline-request' }, t.request_id),
      h('span', { testid: 'timeline-verdict' }, verdictBadge(t.verdict, t.provisional)),
      t.is_correction
        ? h('span', { class: 'badge warn' }, `corrected from ${t.previous_verdict ?? '?'}`)
        : null,
    ),
    facts(t),
    h(
      'p',
      {},
      'input fingerprint ',
      link(
        t.input_fingerprint,
        pageHref(r, 'request', { by: 'input_fingerprint', q: t.input_fingerprint }),
        'fingerprint-link',
      ),
      ' (other requests with the same input)',
    ),
    waterfall(t),
    table(
      ['offset', 'kind', 'detail'],
      t.events.map((e) => [`+${fmtMs(e.offset_ms)}`, e.kind, e.detail]),
      'timeline-events',
    ),
  );
}

export async function renderRequest(root: HTMLElement, r: Route): Promise<void> {
  const w = windowOf(r, '24h', WEEK);
  const by = (r.params.get('by') ?? 'request_id') as By;
  const q = r.params.get('q') ?? '';
  const out = h('div', {});
  clear(root, section('One request', searchForm(r), out));
  const cohort = r.params.get('cohort');
  const dimension = r.params.get('dimension');
  if (q === '' && cohort === null && dimension === null) {
    clear(
      out,
      h(
        'p',
        { class: 'note' },
        'Find a request by id, provider message id, tenant or input fingerprint (within the window for all but the request id).',
      ),
    );
    return;
  }
  try {
    if (by === 'request_id' && q !== '') {
      try {
        const t = await apiGet<Timeline>(`/v1/requests/${encodeURIComponent(q)}/timeline`, {
          tenant: r.params.get('tenant') ?? undefined,
        });
        clear(out, timelineView(r, t));
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409) throw err;
        // The id exists in several tenants: list them.
      }
    }
    const f = filtersOf(r);
    const res = await apiGet<SearchResult>('/v1/requests/search', {
      from: w.from,
      to: w.to,
      ...f,
      ...(q !== '' ? { [by === 'tenant' ? 'tenant' : by]: q } : {}),
      cohort: cohort ?? undefined,
      dimension: dimension ?? undefined,
      value: dimension !== null ? (r.params.get('value') ?? '') : undefined,
      limit: 100,
    });
    clear(
      out,
      cohort !== null || dimension !== null
        ? h(
            'p',
            { class: 'note', testid: 'drilldown' },
            `Requests${cohort ? ` in cohort ${cohort}` : ''}${dimension ? ` with ${dimension} = ${r.params.get('value') ?? ''}` : ''}`,
          )
        : null,
      resultList(r, res),
    );
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      clear(out, h('p', { class: 'empty', testid: 'not-found' }, err.message));
      return;
    }
    showError(out, err);
  }
}

function facts(t: Timeline): HTMLElement {
  const yes = (b: boolean | null) => (b === null ? 'not known yet' : b ? 'ok' : 'not ok');
  const pairs: [string, string][] = [
    ['tenant', t.tenant_id],
    ['operation', `${t.operation} · ${t.channel}`],
    ['API (layer 1)', yes(t.layers.api_ok)],
    ['execution (layer 2)', yes(t.layers.execution_ok)],
    ['outcome (layer 3)', yes(t.layers.outcome_ok)],
    ['route / provider', `${t.route} / ${t.provider}`],
    ['evidence', t.evidence_level],
    ['callbacks', `${t.callbacks} (${t.duplicate_callbacks} duplicate)`],
    ['end to end', fmtMs(t.latency_ms.end_to_end)],
    ['SLA / give-up', `${fmtMs(t.sla_ms)} / ${fmtMs(t.give_up_ms)}`],
    ['error', t.error_code ? `${t.error_category ?? ''} ${t.error_code}`.trim() : '–'],
    ['flags', t.flags.join(', ') || '–'],
    [
      'attributes',
      Object.entries(t.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '–',
    ],
  ];
  return h(
    'dl',
    { class: 'facts', testid: 'facts' },
    pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}
