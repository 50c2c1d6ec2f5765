// Tiny DOM helpers: elements are built with properties and children, never from HTML strings (no injection,
// and no inline style attributes, which the Content-Security-Policy forbids; styles go through el.style).

type Child = Node | string | number | null | undefined | false;
type Props = Record<string, unknown> & {
  class?: string;
  testid?: string;
  style?: Partial<CSSStyleDeclaration>;
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v as string;
    else if (k === 'testid') el.dataset['testid'] = v as string;
    else if (k === 'style') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
    else if (k.startsWith('data-')) el.setAttribute(k, v as string);
    else (el as unknown as Record<string, unknown>)[k] = v;
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
  return el;
}

export function clear(el: Element, ...children: (Child | Child[])[]): void {
  el.replaceChildren();
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

const intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** An integer with thousands separators ("1,234"); a dash for null. */
export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '–' : intFmt.format(n);
}

/** A ratio as a percentage with one decimal ("97.5%"); a dash for null. */
export function fmtPct(r: number | null | undefined): string {
  return r === null || r === undefined || !Number.isFinite(r) ? '–' : `${(r * 100).toFixed(1)}%`;
}

/** A duration in ms as "850 ms", "12.3 s", "4.0 min", "2.5 h". */
export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (a < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (a < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** An epoch-ms time as "2026-12-04 01:02:03Z". */
export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** A KPI card: label, big value, optional note; `testid` marks the value for tests. */
export function card(
  label: string,
  value: string,
  testid: string,
  note?: string,
  tone?: 'good' | 'bad' | 'warn',
): HTMLElement {
  return h(
    'div',
    { class: `card${tone ? ` ${tone}` : ''}` },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value', testid }, value),
    note ? h('div', { class: 'card-note' }, note) : null,
  );
}

export function table(headers: string[], rows: (Child | Child[])[][], testid: string): HTMLTableElement {
  return h(
    'table',
    { class: 'grid', testid },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((x) => h('th', {}, x)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((r) =>
        h(
          'tr',
          {},
          r.map((c) => h('td', {}, c)),
        ),
      ),
    ),
  );
}

export function link(text: string, hash: string, testid?: string): HTMLAnchorElement {
  return h('a', { href: hash, testid }, text);
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}
