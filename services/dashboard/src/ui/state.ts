// The dashboard's state lives in the URL hash (#/page?range=24h&tenant=...): links are shareable, the back
// button works, and a test or the screenshot script can open a page with an exact window (from/to).

export const FILTERS = ['tenant', 'operation', 'channel', 'route', 'provider'] as const;
export type FilterName = (typeof FILTERS)[number];

export const RANGES: Record<string, number> = {
  '1h': 3_600_000,
  '6h': 6 * 3_600_000,
  '24h': 24 * 3_600_000,
  '7d': 7 * 24 * 3_600_000,
  '30d': 30 * 24 * 3_600_000,
};

export interface Route {
  page: string;
  params: URLSearchParams;
}

export function currentRoute(): Route {
  const raw = location.hash.replace(/^#\/?/, '');
  const q = raw.indexOf('?');
  const page = (q < 0 ? raw : raw.slice(0, q)) || 'overview';
  return { page, params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

export function hrefFor(page: string, params: URLSearchParams | Record<string, string>): string {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams(params);
  const s = p.toString();
  return `#/${page}${s === '' ? '' : `?${s}`}`;
}

/** Same page, with some parameters set (or removed when ''), keeping the others (window, filters). */
export function withParams(r: Route, changes: Record<string, string>, page = r.page): string {
  const p = new URLSearchParams(r.params);
  for (const [k, v] of Object.entries(changes))
    if (v === '') p.delete(k);
    else p.set(k, v);
  return hrefFor(page, p);
}

/** Link to another page keeping the window and filters only. */
export function pageHref(r: Route, page: string, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams();
  for (const k of ['range', 'from', 'to', ...FILTERS]) {
    const v = r.params.get(k);
    if (v !== null) p.set(k, v);
  }
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return hrefFor(page, p);
}

export interface Window {
  from: string;
  to: string;
  fromMs: number;
  toMs: number;
}

/** The time window: explicit from/to, else the range (default `dflt`) ending now (rounded to the minute). */
export function windowOf(r: Route, dflt = '24h', maxMs = Infinity): Window {
  const from = Date.parse(r.params.get('from') ?? '');
  const to = Date.parse(r.params.get('to') ?? '');
  if (Number.isFinite(from) && Number.isFinite(to) && from < to)
    return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), fromMs: from, toMs: to };
  const toMs = Math.ceil(Date.now() / 60_000) * 60_000;
  const span = Math.min(RANGES[r.params.get('range') ?? dflt] ?? RANGES[dflt] ?? 86_400_000, maxMs);
  const fromMs = toMs - span;
  return { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), fromMs, toMs };
}

/** The filter parameters set in the route, for an API call. */
export function filtersOf(r: Route): Partial<Record<FilterName, string>> {
  const f: Partial<Record<FilterName, string>> = {};
  for (const k of FILTERS) {
    const v = r.params.get(k);
    if (v !== null && v !== '') f[k] = v;
  }
  return f;
}
