// The dashboard shell: navigation, the window and filter bar, the token form, and the hash router that renders
// one page at a time (each page returns a cleanup that stops its polling).
import { apiGet, getToken, onAuth, setToken } from './api.js';
import { destroyCharts } from './charts.js';
import { clear, h } from './dom.js';
import { renderAnomalies } from './pages/anomalies.js';
import { renderOverview } from './pages/overview.js';
import { renderPipeline } from './pages/pipeline.js';
import { renderRequest } from './pages/request.js';
import { renderVariance } from './pages/variance.js';
import { showError } from './view.js';
import { FILTERS, RANGES, currentRoute, hrefFor, withParams, windowOf, type Route } from './state.js';
import type { LatencyRow } from './types.js';

export type Page = (root: HTMLElement, r: Route) => Promise<(() => void) | void>;

const WEEK = 7 * 86_400_000;
/** Pages, with their default range and, for raw-record pages, the longest window they ask for. */
interface PageSpec {
  title: string;
  render: Page;
  range: string;
  maxMs?: number;
}
const OVERVIEW: PageSpec = { title: 'Overview', render: renderOverview, range: '24h' };
const PAGES: Record<string, PageSpec> = {
  overview: OVERVIEW,
  anomalies: { title: 'Open anomalies', render: renderAnomalies, range: '24h', maxMs: WEEK },
  request: { title: 'One request', render: renderRequest, range: '24h', maxMs: WEEK },
  variance: { title: 'Variance & explain', render: renderVariance, range: '24h', maxMs: WEEK },
  pipeline: { title: 'Pipeline health', render: renderPipeline, range: '1h', maxMs: WEEK },
};

const $ = (id: string): HTMLElement => document.getElementById(id) as HTMLElement;
let cleanup: (() => void) | void = undefined;
let renderSeq = 0;

function renderNav(r: Route): void {
  clear(
    $('nav'),
    Object.entries(PAGES).map(([page, { title }]) => {
      const p = new URLSearchParams();
      for (const k of ['range', 'from', 'to', ...FILTERS]) {
        const v = r.params.get(k);
        if (v !== null) p.set(k, v);
      }
      return h(
        'a',
        { href: hrefFor(page, p), class: page === r.page ? 'active' : '', testid: `nav-${page}` },
        title,
      );
    }),
  );
}

const optionCache = new Map<string, Promise<Record<string, string[]>>>();

async function filterOptions(r: Route): Promise<Record<string, string[]>> {
  const w = windowOf(r);
  const key = `${w.from}|${w.to}`;
  let p = optionCache.get(key);
  if (!p) {
    p = apiGet<{ rows: LatencyRow[] }>('/v1/latency', {
      from: w.from,
      to: w.to,
      bucket: 'none',
      group_by: FILTERS.join(','),
      limit: 5000,
    }).then(({ rows }) => {
      const out: Record<string, Set<string>> = {};
      for (const f of FILTERS) out[f] = new Set();
      for (const row of rows) for (const f of FILTERS) if (row.group[f]) out[f]?.add(row.group[f]);
      return Object.fromEntries(FILTERS.map((f) => [f, [...(out[f] ?? [])].sort()]));
    });
    p.catch(() => optionCache.delete(key));
    optionCache.set(key, p);
  }
  return p;
}

function renderFilters(r: Route, defaultRange: string, maxMs: number): void {
  const bar = $('filters');
  const explicit = r.params.get('from') !== null && r.params.get('to') !== null;
  const range = h(
    'select',
    {
      testid: 'filter-range',
      onchange: (e: Event) => {
        location.hash = withParams(r, { range: (e.target as HTMLSelectElement).value, from: '', to: '' });
      },
    },
    explicit ? h('option', { value: '', selected: true }, 'custom window') : null,
    Object.keys(RANGES).map((k) =>
      h(
        'option',
        { value: k, selected: !explicit && (r.params.get('range') ?? defaultRange) === k },
        `last ${k}`,
      ),
    ),
  );
  const selects = FILTERS.map((f) => {
    const current = r.params.get(f) ?? '';
    const sel = h(
      'select',
      {
        testid: `filter-${f}`,
        onchange: (e: Event) => {
          location.hash = withParams(r, { [f]: (e.target as HTMLSelectElement).value });
        },
      },
      h('option', { value: '' }, `all ${f}s`),
      current ? h('option', { value: current, selected: true }, current) : null,
    );
    return h('label', {}, f, sel);
  });
  const w = windowOf(r, defaultRange, maxMs);
  clear(
    bar,
    h('label', {}, 'window', range),
    selects,
    h(
      'span',
      { class: 'window', testid: 'window' },
      `${w.from.slice(0, 16).replace('T', ' ')} → ${w.to.slice(0, 16).replace('T', ' ')} UTC`,
    ),
  );
  filterOptions(r)
    .then((opts) => {
      selects.forEach((label, i) => {
        const f = FILTERS[i] as string;
        const sel = label.querySelector('select') as HTMLSelectElement;
        const current = r.params.get(f) ?? '';
        for (const v of opts[f] ?? []) if (v !== current) sel.append(h('option', { value: v }, v));
      });
    })
    .catch(() => undefined); // the page itself shows the error (or the token form)
}

function showAuth(message: string): void {
  const box = $('auth');
  box.hidden = false;
  const input = h('input', {
    type: 'password',
    placeholder: 'bearer token',
    testid: 'token-input',
    autocomplete: 'off',
  });
  clear(
    box,
    h(
      'form',
      {
        testid: 'auth-required',
        onsubmit: (e: Event) => {
          e.preventDefault();
          setToken(input.value.trim());
          box.hidden = true;
          optionCache.clear();
          updateTokenButton();
          void route();
        },
      },
      h('p', {}, message),
      input,
      h('button', { type: 'submit', testid: 'token-save' }, 'Use token'),
      h('span', { class: 'note' }, 'Kept in this tab only (sessionStorage).'),
    ),
  );
  input.focus();
}

async function route(): Promise<void> {
  const seq = ++renderSeq;
  if (typeof cleanup === 'function') cleanup();
  cleanup = undefined;
  destroyCharts();
  const r = currentRoute();
  const page = PAGES[r.page] ?? OVERVIEW;
  renderNav(r);
  renderFilters(r, page.range, page.maxMs ?? Infinity);
  const root = $('page');
  clear(root, h('p', { class: 'loading' }, 'Loading…'));
  const w = windowOf(r, page.range, page.maxMs ?? Infinity);
  root.dataset['from'] = w.from;
  root.dataset['to'] = w.to;
  root.dataset['page'] = r.page;
  root.dataset['ready'] = 'false';
  try {
    const c = await page.render(root, r);
    if (seq !== renderSeq) {
      if (typeof c === 'function') c();
      return;
    }
    cleanup = c;
  } catch (err) {
    if (seq === renderSeq) showError(root, err);
  } finally {
    if (seq === renderSeq) root.dataset['ready'] = 'true';
  }
}

onAuth(showAuth);
$('token-button').addEventListener('click', () => {
  if (getToken() !== null) {
    setToken(null);
    optionCache.clear();
    updateTokenButton();
    void route();
  } else showAuth('Paste the query API bearer token (QUERY_API_TOKEN).');
});
function updateTokenButton(): void {
  $('token-button').textContent = getToken() !== null ? 'Forget token' : 'Token';
}
window.addEventListener('hashchange', () => {
  updateTokenButton();
  void route();
});
updateTokenButton();
void route();
