/**
 * The dashboard in a real headless Chromium (Debian's `chromium`, driven by playwright-core; never a downloaded
 * browser) against a real query API over embedded chdb with known rows (test/support/dashboard-fixture.ts).
 * Each page: the numbers shown equal the query API's for the same window and filters, filters and search work,
 * no console errors, and auth is enforced (no token: no data, the 401 is shown, the token form works).
 * With PATHWATCH_SCREENSHOTS_DIR set (npm run screenshots) each page is also saved as a PNG there.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardFixture, type DashboardFixture } from '../support/dashboard-fixture.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env['PATHWATCH_SCREENSHOTS_DIR'];

const num = (s: string | null): number => Number((s ?? '').replace(/,/g, '').trim());
const pct = (r: number | null | undefined): string =>
  r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`;

/** The browser globals the page-side functions use (this file is type-checked without the DOM library). */
interface PageGlobals {
  location: { hash: string };
  document: { getElementById(id: string): { dataset: Record<string, string | undefined> } | null };
  sessionStorage: { getItem(key: string): string | null };
}

interface Opened {
  page: Page;
  ctx: BrowserContext;
  errors: string[];
}

describe('dashboard in headless Chromium', () => {
  let fx: DashboardFixture;
  let browser: Browser;
  let win: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `Debian's chromium is not installed (${CHROMIUM} missing): the dashboard test drives a real browser. ` +
          'Install it with `apt-get install -y --no-install-recommends chromium` (.ci/run does).',
      );
    // The assets the query API serves: built here so `npm test` right after `npm ci` tests current sources.
    const build = spawnSync(process.execPath, ['services/dashboard/build.mjs'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`dashboard build failed:\n${build.stderr}${build.stdout}`);
    fx = await startDashboardFixture();
    win = `from=${encodeURIComponent(fx.from)}&to=${encodeURIComponent(fx.to)}`;
    browser = await chromium.launch({ executablePath: CHROMIUM });
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await fx?.close();
  });

  async function api<T>(path: string, params: Record<string, string | number | undefined> = {}): Promise<T> {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries({ from: fx.from, to: fx.to, ...params }))
      if (v !== undefined) q.set(k, String(v));
    const res = await fetch(`${fx.url}${path}?${q.toString()}`, {
      headers: { authorization: `Bearer ${fx.token}` },
    });
    expect(res.status, `${path}: ${await res.clone().text()}`).toBe(200);
    return (await res.json()) as T;
  }

  async function open(hash: string, opts: { token?: string | null } = {}): Promise<Opened> {
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const token = opts.token === undefined ? fx.token : opts.token;
    if (token !== null)
      await ctx.addInitScript({
        content: `sessionStorage.setItem('pathwatch.token', ${JSON.stringify(token)})`,
      });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await page.goto(`${fx.url}/ui${hash}`);
    await ready(page);
    return { page, ctx, errors };
  }

  /** Waits until the current route finished rendering (data-ready) and the hash contains `hashPart`. */
  async function ready(page: Page, hashPart = ''): Promise<void> {
    // A function, not a string (the page's CSP forbids eval); typed structurally, as this file has Node's types.
    await page.waitForFunction((part: string) => {
      const w = globalThis as unknown as PageGlobals;
      return w.location.hash.includes(part) && w.document.getElementById('page')?.dataset['ready'] === 'true';
    }, hashPart);
  }

  const text = (page: Page, testid: string): Promise<string> =>
    page.locator(`[data-testid="${testid}"]`).first().innerText();

  async function shot(page: Page, name: string): Promise<void> {
    if (!SHOTS) return;
    await page.waitForTimeout(300); // charts draw on the next animation frame
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  it('serves a public shell with no data; without a token every page shows the 401 and no numbers, and a pasted token brings the data', async () => {
    const shell = await fetch(`${fx.url}/ui`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toContain('text/html');
    expect(shell.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await shell.text();
    expect(html).not.toMatch(/tenant-|req-\d/);
    expect((await fetch(`${fx.url}/ui/app.js`)).status).toBe(200);
    expect((await fetch(`${fx.url}/v1/latency`)).status).toBe(401);

    for (const page of ['overview', 'anomalies', 'variance', 'pipeline']) {
      const o = await open(`#/${page}?${win}`, { token: null });
      await o.page.locator('[data-testid="auth-required"]').waitFor();
      expect(await text(o.page, 'error')).toContain('401');
      expect(await o.page.locator('.card-value, table.grid').count()).toBe(0);
      // The only console errors are the refused requests themselves.
      expect(o.errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
      await o.ctx.close();
    }

    const o = await open(`#/overview?${win}`, { token: 'wrong-token-0123456789abcdef' });
    await o.page.locator('[data-testid="auth-required"]').waitFor();
    expect(await o.page.locator('[data-testid="kpi-accepted"]').count()).toBe(0);
    await o.page.fill('[data-testid="token-input"]', fx.token);
    await o.page.click('[data-testid="token-save"]');
    await o.page.locator('[data-testid="kpi-accepted"]').waitFor();
    const { rows } = await api<{ rows: { requests: number; orphans: number }[] }>('/v1/latency', {
      bucket: 'none',
    });
    expect(num(await text(o.page, 'kpi-accepted'))).toBe((rows[0]?.requests ?? 0) - (rows[0]?.orphans ?? 0));
    expect(
      await o.page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.getItem('pathwatch.token')),
    ).toBe(fx.token);
    expect(o.errors.filter((e) => !e.includes('status of 401'))).toEqual([]);
    await o.ctx.close();
  });

  interface Totals {
    requests: number;
    orphans: number;
    settled: number;
    on_time: number;
    late: number;
    failed: number;
    missing: number;
    expired: number;
    overdue: number;
    retried: number;
    failed_over: number;
    execution_ok: number;
    on_time_rate: number | null;
  }

  async function expectOverview(page: Page, filters: Record<string, string>): Promise<Totals> {
    const { rows } = await api<{ rows: Totals[] }>('/v1/latency', { bucket: 'none', ...filters });
    const t = rows[0] as Totals;
    expect(t).toBeDefined();
    const accepted = t.requests - t.orphans;
    expect(num(await text(page, 'kpi-accepted'))).toBe(accepted);
    expect(num(await text(page, 'kpi-executed'))).toBe(t.execution_ok);
    expect(num(await text(page, 'kpi-retried'))).toBe(t.retried);
    expect(num(await text(page, 'kpi-failed-over'))).toBe(t.failed_over);
    expect(num(await text(page, 'kpi-on-time'))).toBe(t.on_time);
    expect(num(await text(page, 'kpi-late'))).toBe(t.late);
    expect(num(await text(page, 'kpi-failed'))).toBe(t.failed);
    expect(num(await text(page, 'kpi-missing'))).toBe(t.missing);
    expect(num(await text(page, 'kpi-expired'))).toBe(t.expired);
    expect(num(await text(page, 'kpi-overdue'))).toBe(t.overdue);
    expect(await text(page, 'gap-api')).toBe(`${accepted.toLocaleString('en-US')} accepted`);
    expect(await text(page, 'gap-outcome')).toBe(`${pct(t.on_time_rate)} on time`);
    expect(await text(page, 'gap-not-on-time')).toBe(
      `${(t.settled - t.on_time).toLocaleString('en-US')} settled but not on time, ${t.overdue} overdue now`,
    );
    return t;
  }

  it('overview: the gap and the three layers equal /v1/latency, the charts draw, and the filters narrow both', async () => {
    const o = await open(`#/overview?${win}`);
    // The gap comes first on the page.
    const first = await o.page.locator('#page > *').first().getAttribute('data-testid');
    expect(first).toBe('gap');
    const all = await expectOverview(o.page, {});
    expect(all.late + all.failed + all.missing).toBeGreaterThan(0);
    for (const chart of ['chart-layers', 'chart-outcomes', 'chart-execution', 'chart-latency'])
      await o.page.locator(`[data-testid="${chart}"] canvas`).first().waitFor();
    await shot(o.page, 'overview');

    // A filter option comes from the data; choosing it re-renders with the API's numbers for that tenant.
    await o.page
      .locator('[data-testid="filter-tenant"] option[value="tenant-1"]')
      .waitFor({ state: 'attached' });
    await o.page.selectOption('[data-testid="filter-tenant"]', 'tenant-1');
    await ready(o.page, 'tenant=tenant-1');
    const t1 = await expectOverview(o.page, { tenant: 'tenant-1' });
    expect(t1.requests).toBeLessThan(all.requests);
    await o.page
      .locator('[data-testid="filter-provider"] option[value="vonage"]')
      .waitFor({ state: 'attached' });
    await o.page.selectOption('[data-testid="filter-provider"]', 'vonage');
    await ready(o.page, 'provider=vonage');
    await expectOverview(o.page, { tenant: 'tenant-1', provider: 'vonage' });
    expect(o.errors).toEqual([]);
    await o.ctx.close();
  });

  interface Anomalies {
    counts: Record<string, number>;
    items: { request_id: string }[];
  }

  it('open anomalies: counts and rows equal /v1/anomalies/open, the kind filter works, a row opens the request', async () => {
    const o = await open(`#/anomalies?${win}`);
    await o.page.locator('[data-testid="count-total"]').waitFor();
    const all = await api<Anomalies>('/v1/anomalies/open', { limit: 200 });
    const total = Object.values(all.counts).reduce((a, b) => a + b, 0);
    expect(all.counts['overdue']).toBeGreaterThanOrEqual(12);
    expect(num(await text(o.page, 'count-total'))).toBe(total);
    for (const k of ['overdue', 'missing_dispatch', 'missing_outcome'])
      expect(num(await text(o.page, `count-${k}`))).toBe(all.counts[k]);
    const ids = await o.page.locator('[data-testid="anomaly-request"]').allInnerTexts();
    expect(ids).toEqual(all.items.map((i) => i.request_id));
    expect(await text(o.page, 'poll-status')).toMatch(/next in 5 s/);
    await shot(o.page, 'anomalies');

    await o.page.selectOption('[data-testid="anomaly-kind"]', 'overdue');
    await ready(o.page, 'kind=overdue');
    await o.page.locator('[data-testid="count-total"]').waitFor();
    const overdue = await api<Anomalies>('/v1/anomalies/open', { limit: 200, kind: 'overdue' });
    expect(num(await text(o.page, 'count-total'))).toBe(overdue.counts['overdue']);
    expect(await o.page.locator('[data-testid="anomaly-request"]').allInnerTexts()).toEqual(
      overdue.items.map((i) => i.request_id),
    );
    const firstId = overdue.items[0]?.request_id as string;
    await o.page.locator('[data-testid="anomaly-request"]').first().click();
    await ready(o.page, 'request');
    expect(await text(o.page, 'timeline-request')).toBe(firstId);
    expect(await text(o.page, 'timeline-verdict')).toContain('overdue');
    expect(o.errors).toEqual([]);
    await o.ctx.close();
  });

  interface TimelineBody {
    request_id: string;
    tenant_id: string;
    input_fingerprint: string;
    attempts: { provider_message_id: string | null; route: string; provider: string }[];
    events: { kind: string }[];
    versions: { verdict: string; provisional: boolean }[];
  }

  it('one request: search by request id shows the waterfall of the timeline; provider message id, tenant and fingerprint searches list what the API finds', async () => {
    const o = await open(`#/request?${win}`);
    const { request_id: id, tenant_id: tenant } = fx.correctedRequest;
    await o.page.fill('[data-testid="search-input"]', id);
    await o.page.selectOption('[data-testid="search-by"]', 'request_id');
    await o.page.click('[data-testid="search-submit"]');
    await ready(o.page, `q=${id}`);
    const tl = await api<TimelineBody>(`/v1/requests/${id}/timeline`, {
      from: undefined,
      to: undefined,
      tenant,
    });
    expect(await text(o.page, 'timeline-request')).toBe(id);
    expect(await text(o.page, 'timeline-verdict')).toContain('delivered late');
    const rows = await o.page.locator('[data-testid="wf-row"]').allInnerTexts();
    const callbacks = tl.events.filter((e) => e.kind === 'callback').length;
    expect(rows.length).toBe(1 + tl.attempts.length + callbacks + tl.versions.length);
    expect(tl.versions.map((v) => v.verdict)).toEqual(['overdue', 'delivered_late']);
    expect(rows.join('\n')).toContain('overdue (provisional)');
    for (const a of tl.attempts) expect(rows.join('\n')).toContain(`${a.route} / ${a.provider}`);
    expect(await o.page.locator('[data-testid="timeline-events"] tbody tr').count()).toBe(tl.events.length);
    await shot(o.page, 'request');

    // Provider message id -> exactly this request.
    const msgId = tl.attempts[0]?.provider_message_id as string;
    await o.page.selectOption('[data-testid="search-by"]', 'provider_message_id');
    await o.page.fill('[data-testid="search-input"]', msgId);
    await o.page.click('[data-testid="search-submit"]');
    await ready(o.page, `by=provider_message_id`);
    expect(await text(o.page, 'search-total')).toBe('1 matching request');
    expect(await o.page.locator('[data-testid="result-request"]').allInnerTexts()).toEqual([id]);

    // Tenant -> the API's total and newest rows.
    await o.page.selectOption('[data-testid="search-by"]', 'tenant');
    await o.page.fill('[data-testid="search-input"]', 'tenant-2');
    await o.page.click('[data-testid="search-submit"]');
    await ready(o.page, `by=tenant`);
    const byTenant = await api<{ total: number; items: { request_id: string }[] }>('/v1/requests/search', {
      tenant: 'tenant-2',
      limit: 100,
    });
    expect(num((await text(o.page, 'search-total')).split(' ')[0] as string)).toBe(byTenant.total);
    expect(await o.page.locator('[data-testid="result-request"]').allInnerTexts()).toEqual(
      byTenant.items.map((i) => i.request_id),
    );

    // Back to the request, then its fingerprint link -> every request with the same input.
    await o.page.locator('[data-testid="result-request"]').first().click();
    await ready(o.page, 'by=request_id');
    const fp = await text(o.page, 'fingerprint-link');
    await o.page.click('[data-testid="fingerprint-link"]');
    await ready(o.page, 'by=input_fingerprint');
    const same = await api<{ total: number }>('/v1/requests/search', { input_fingerprint: fp });
    expect(same.total).toBeGreaterThan(1);
    expect(num((await text(o.page, 'search-total')).split(' ')[0] as string)).toBe(same.total);

    // An unknown id says so.
    await o.page.selectOption('[data-testid="search-by"]', 'request_id');
    await o.page.fill('[data-testid="search-input"]', 'no-such-request');
    await o.page.click('[data-testid="search-submit"]');
    await ready(o.page, 'q=no-such-request');
    expect(await text(o.page, 'not-found')).toContain('no path for request no-such-request');
    // The 404 itself is the only console error (the browser logs refused fetches).
    expect(o.errors.filter((e) => !e.includes('status of 404'))).toEqual([]);
    await o.ctx.close();
  });

  interface Explain {
    population: number;
    cohort_size: number;
    items: { dimension: string; value: string; lift: number; cohort_count: number }[];
  }

  it('variance and explain: consistency and lift equal the API; a lift row drills down to exactly its cohort requests', async () => {
    const o = await open(`#/variance?${win}`);
    const same = await api<{
      consistency_score: number;
      fingerprints: number;
      inconsistent_fingerprints: number;
    }>('/v1/variance/same-input', { limit: 25 });
    expect(await text(o.page, 'same-score')).toBe(pct(same.consistency_score));
    expect(num(await text(o.page, 'same-fingerprints'))).toBe(same.fingerprints);
    expect(num(await text(o.page, 'same-inconsistent'))).toBe(same.inconsistent_fingerprints);
    expect(same.inconsistent_fingerprints).toBeGreaterThan(0);
    const ex = await api<Explain>('/v1/explain', {
      cohort: 'not_on_time',
      min_support: 10,
      min_cohort: 1,
      limit: 25,
    });
    expect(num(await text(o.page, 'explain-population'))).toBe(ex.population);
    expect(num(await text(o.page, 'explain-cohort-size'))).toBe(ex.cohort_size);
    expect(await o.page.locator('[data-testid="explain-lift"]').allInnerTexts()).toEqual(
      ex.items.map((i) => i.lift.toFixed(2)),
    );
    await shot(o.page, 'variance');

    // The top item drills down to the requests of the cohort with that value: as many as its cohort_count.
    const top = ex.items[0] as Explain['items'][number];
    await o.page.locator('[data-testid="explain-value"]').first().click();
    await ready(o.page, 'dimension=');
    await o.page.locator('[data-testid="drilldown"]').waitFor();
    const drill = await api<{ total: number }>('/v1/requests/search', {
      cohort: 'not_on_time',
      dimension: top.dimension,
      value: top.value,
      limit: 100,
    });
    expect(drill.total).toBe(top.cohort_count);
    expect(num((await text(o.page, 'search-total')).split(' ')[0] as string)).toBe(drill.total);

    // Another cohort.
    await o.page.goBack();
    await ready(o.page, 'variance');
    await o.page.selectOption('[data-testid="cohort"]', 'failed');
    await ready(o.page, 'cohort=failed');
    const failed = await api<Explain>('/v1/explain', {
      cohort: 'failed',
      min_support: 10,
      min_cohort: 1,
      limit: 25,
    });
    expect(num(await text(o.page, 'explain-cohort-size'))).toBe(failed.cohort_size);
    expect(o.errors).toEqual([]);
    await o.ctx.close();
  });

  interface Pipeline {
    buckets: { accepted: number; versions: number; corrections: number }[];
    live: {
      reconciler_in_process: boolean;
      dead_letters: { stage: string; reason_code: string; value: number }[];
      events_in: { stage: string; value: number }[];
    };
  }

  it('pipeline health: store buckets and the live registry (inputs, dead letters by reason) equal /v1/pipeline', async () => {
    const o = await open(`#/pipeline?${win}`);
    await o.page.locator('[data-testid="store-accepted"]').waitFor();
    const p = await api<Pipeline>('/v1/pipeline');
    const sum = (f: (b: Pipeline['buckets'][number]) => number) => p.buckets.reduce((a, b) => a + f(b), 0);
    expect(sum((b) => b.accepted)).toBe(fx.rows.length);
    expect(num(await text(o.page, 'store-accepted'))).toBe(sum((b) => b.accepted));
    expect(sum((b) => b.corrections)).toBe(1);
    expect(num(await text(o.page, 'store-corrections'))).toBe(sum((b) => b.corrections));
    expect(num(await text(o.page, 'store-versions'))).toBe(sum((b) => b.versions));
    expect(num(await text(o.page, 'live-dead-letters'))).toBe(5);
    const rows = await o.page.locator('[data-testid="dead-letters"] tbody tr').allInnerTexts();
    expect(rows.map((r) => r.split('\t').map((c) => c.trim()))).toEqual(
      p.live.dead_letters.map((d) => [d.stage, d.reason_code, String(d.value)]),
    );
    expect(num(await text(o.page, 'live-inputs'))).toBe(612);
    // No reconciler in this process: the page says where its live figures are instead of showing zeros.
    expect(p.live.reconciler_in_process).toBe(false);
    await o.page.locator('[data-testid="live-absent"]').waitFor();
    expect(await text(o.page, 'live-consumer-lag')).toBe('n/a');
    for (const chart of ['chart-rate', 'chart-watermark', 'chart-corrections'])
      await o.page.locator(`[data-testid="${chart}"] canvas`).first().waitFor();
    await shot(o.page, 'pipeline');
    expect(o.errors).toEqual([]);
    await o.ctx.close();
  });
});
