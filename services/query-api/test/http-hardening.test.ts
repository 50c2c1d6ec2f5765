/**
 * The query API's own HTTP logic over a fake store (the real store is in test/integration): auth after routing
 * for every route the app has, odd URL spellings, the standard error body for every kind of bad input, limits
 * naming themselves, Accept negotiation, and no 5xx from non-finite numbers the store returns.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger } from '@pathwatch/core';
import { StoreError, type PathStore } from '@pathwatch/path-store';
import { PUBLIC_ROUTES, buildApp, routesOf, type QueryApiDeps } from '../src/app.js';
import { HTTP_LIMITS, accepts, bearerToken, parseAccept } from '../src/http-guard.js';

const TOKEN = 'unit-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const logger = createRootLogger({ level: 'silent', name: 'test' });
const config: QueryApiDeps['config'] = {
  authToken: TOKEN,
  sqlEnabled: true,
  sqlMaxRows: 1000,
  sqlTimeoutSeconds: 10,
  maxRawRangeHours: 48,
  maxRollupRangeDays: 30,
  maxResultRows: 5000,
};

/** What the fake store does next for sql(): a result, or an error to throw. */
let sqlOutcome: (() => Promise<unknown>) | undefined;

const fakeStore = {
  ch: { ping: () => Promise.resolve(true) },
  timeline: () => Promise.resolve(null),
  // Non-finite numbers where the store computes ratios: the API must not fail to serialise them.
  latency: () =>
    Promise.resolve([{ bucket_start_ms: null, group: {}, requests: 1, on_time_rate: NaN, p99_ms: Infinity }]),
  sameInput: () =>
    Promise.resolve({
      fingerprints: 1,
      inconsistent_fingerprints: 0,
      consistency_score: -Infinity,
      items: [],
    }),
  flipRate: () => Promise.resolve([]),
  explain: () =>
    Promise.resolve({
      cohort: 'failed',
      population: 1,
      cohort_size: 1,
      base_rate: 1,
      items: [
        {
          dimension: 'route',
          value: 'r',
          support: 1,
          cohort_count: 1,
          cohort_rate: 1,
          rest_rate: 0,
          lift: Infinity,
        },
      ],
    }),
  openAnomalies: () => Promise.resolve({ counts: {}, items: [] }),
  sql: () =>
    sqlOutcome ? sqlOutcome() : Promise.resolve({ columns: [], rows: [], truncated: false, elapsedMs: 1 }),
} as unknown as PathStore;

const UNAUTHORIZED = {
  error: 'QUERY_API_UNAUTHORIZED',
  message: 'missing or invalid bearer token (Authorization: Bearer <token>)',
  retriable: false,
};

/** Percent-encodes the first letter of each segment (the router decodes it; a raw-URL check would not). */
function encodeLetters(path: string, twice = false): string {
  return path.replace(/\/([a-z])/g, (_m, c: string) => {
    const e = `%${c.charCodeAt(0).toString(16)}`;
    return `/${twice ? e.replace('%', '%25') : e}`;
  });
}

/** Spellings of a route's path that either reach it (so must be authenticated) or reach nothing (404). */
function variants(path: string): string[] {
  const rest = path.slice(1);
  return [
    path,
    encodeLetters(path),
    encodeLetters(path)
      .toUpperCase()
      .replace(/%([0-9A-F]{2})/g, (m) => m.toLowerCase()),
    path.replace(/[a-z]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    encodeLetters(path, true),
    path.replace(/\//g, '%2F'),
    path.replace(/\//g, '%2f'),
    `/${rest.replace('/', '%2F')}`,
    path.replace(/\//g, '%252F'),
    `/${path}`,
    path.replace(/\//g, '//'),
    `${path}/`,
    `${path}//`,
    `/v1/..${path}`,
    `/./${rest}`,
    `${path}/.`,
    `${path}/..`,
    path.toUpperCase(),
    path.replace('v1', 'V1'),
    `${path};x=1`,
    `${path};`,
    path.replace('/v1', '/v1;'),
    `${path}%3Fx=1`,
    `${path}%23x`,
    `${path}#frag`,
    `${path}?`,
    `${path}?&&`,
    `${path}?authorization=Bearer%20${TOKEN}`,
    `${path}?access_token=${TOKEN}`,
    `${path}%00`,
    `${path}%20`,
    `${path}\\`,
    path.replace(/\//g, '\\'),
    `/v1%2F..%2F${rest}`,
    `/%2e/${rest}`,
    `/%2e%2e/${rest}`,
  ];
}

describe('query API HTTP hardening (fake store)', () => {
  let app: FastifyInstance;
  // Stand-ins for the built dashboard assets (the real build is exercised by test/integration/dashboard.test.ts).
  const uiDir = mkdtempSync(join(tmpdir(), 'pw-ui-'));
  for (const f of ['index.html', 'app.js', 'app.css']) writeFileSync(join(uiDir, f), `/* ${f} */`);
  beforeAll(async () => {
    app = await buildApp({ store: fakeStore, config, logger, now: () => Date.UTC(2026, 0, 10), uiDir });
    await app.ready();
  });
  afterAll(() => app.close());

  const protectedRoutes = () =>
    routesOf(app).filter((r) => !PUBLIC_ROUTES.includes(r.url) && r.method !== 'OPTIONS');

  it('knows every route, and each one is public by decision or authenticated', () => {
    const routes = routesOf(app);
    expect(routes.length).toBeGreaterThan(10);
    for (const r of routes)
      expect(PUBLIC_ROUTES.includes(r.url) || r.authenticated, `${r.method} ${r.url}`).toBe(true);
    // The decision itself: data, SQL and metrics behind the token; liveness, readiness and the document open.
    expect(protectedRoutes().map((r) => r.url)).toEqual(
      expect.arrayContaining(['/metrics', '/v1/sql', '/v1/latency']),
    );
  });

  it('refuses to start with a route outside the authenticated scope that is not declared public', async () => {
    const leaky = await buildApp({ store: fakeStore, config, logger });
    leaky.get('/v1/forgotten', () => Promise.resolve({ secret: true }));
    await expect(leaky.ready()).rejects.toThrow(/GET \/v1\/forgotten/);
    await leaky.close().catch(() => undefined);
  });

  it('every protected route, however its URL is spelled, answers 401 without a valid token or 404', async () => {
    let routed = 0;
    let total = 0;
    for (const r of protectedRoutes()) {
      const path = r.url.replace(/:(\w+)/g, 'x');
      for (const url of variants(path)) {
        for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }]) {
          total++;
          const res = await app.inject({
            method: r.method as 'GET',
            url,
            headers: { ...headers, 'content-type': 'application/json' },
            payload: r.method === 'POST' ? '{"sql":"SELECT 1"}' : undefined,
          });
          const where = `${r.method} ${url} ${JSON.stringify(headers)}`;
          expect([400, 401, 404], where).toContain(res.statusCode);
          if (r.method !== 'HEAD') {
            const body = res.json<{ error: string; message: string }>();
            expect(typeof body.error, where).toBe('string');
            // Nothing served: no data fields, no echo of the token.
            expect(Object.keys(body).sort(), where).toEqual(['error', 'message', 'retriable']);
            expect(res.body, where).not.toContain(TOKEN);
          }
          if (res.statusCode === 401) {
            routed++;
            expect(res.headers['www-authenticate'], where).toBe('Bearer realm="pathwatch"');
            if (r.method !== 'HEAD') expect(res.json(), where).toEqual(UNAUTHORIZED);
          }
        }
      }
      // Spellings the router decodes to the route must be authenticated, not 404 (they prove the check ran).
      for (const url of [
        path,
        encodeLetters(path),
        path.replace(/[a-z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
      ]) {
        const res = await app.inject({ method: r.method as 'GET', url });
        expect(res.statusCode, `${r.method} ${url}`).toBe(401);
      }
    }
    expect(routed).toBeGreaterThan(protectedRoutes().length * 2);
    expect(total).toBeGreaterThan(200);
  });

  it('accepts the token with any case of the scheme, and only the exact token', async () => {
    const url = '/v1/variance/flip-rate';
    for (const h of [
      `Bearer ${TOKEN}`,
      `bearer ${TOKEN}`,
      `BEARER ${TOKEN}`,
      `bEaReR   ${TOKEN}`,
      `Bearer ${TOKEN} `,
    ]) {
      expect((await app.inject({ url, headers: { authorization: h } })).statusCode, h).toBe(200);
    }
    for (const h of [
      '',
      'Bearer',
      'Bearer ',
      `Bearer${TOKEN}`,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
      `Token ${TOKEN}`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Bearer x${TOKEN}`,
      `Bearer ${TOKEN.toUpperCase()}`,
      `Bearer ${TOKEN} ${TOKEN}`,
      `Bearer ${TOKEN},Bearer ${TOKEN}`,
      `Bearer\t${TOKEN}`,
      `Bearer "${TOKEN}"`,
    ]) {
      const res = await app.inject({ url, headers: { authorization: h } });
      expect(res.statusCode, h).toBe(401);
      expect(res.json(), h).toEqual(UNAUTHORIZED);
    }
    // The token in the query string or another header is not a credential.
    expect((await app.inject({ url: `${url}?access_token=${TOKEN}` })).statusCode).toBe(401);
    expect((await app.inject({ url, headers: { 'x-authorization': `Bearer ${TOKEN}` } })).statusCode).toBe(
      401,
    );
  });

  it('parses the Authorization header strictly', () => {
    expect(bearerToken(`Bearer abc`)).toBe('abc');
    expect(bearerToken(`bearer   abc  `)).toBe('abc');
    expect(bearerToken(`Bearer a b`)).toBeUndefined();
    expect(bearerToken(`Bearerabc`)).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('serves the dashboard shell under /ui with a strict CSP, and says so when the assets are not built', async () => {
    const res = await app.inject({ url: '/ui', headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'; script-src 'self'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect((await app.inject({ url: '/ui/app.js' })).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await app.inject({ url: '/ui/other.js' })).statusCode).toBe(404);
    const bare = await buildApp({ store: fakeStore, config, logger, uiDir: join(uiDir, 'missing') });
    const nb = await bare.inject({ url: '/ui' });
    expect(nb.statusCode).toBe(404);
    expect(nb.body).toContain('npm run build');
    await bare.close();
  });

  it('public routes answer without a token; OPTIONS and unknown paths are 404 with the standard body', async () => {
    for (const url of PUBLIC_ROUTES) expect((await app.inject({ url })).statusCode, url).toBe(200);
    for (const [method, url] of [
      ['OPTIONS', '/v1/latency'],
      ['DELETE', '/v1/latency'],
      ['PUT', '/v1/sql'],
      ['GET', '/v1/sql'],
      ['GET', '/v2/latency'],
      ['GET', '/v1/nothing-here'],
      ['GET', '/%2e%2e/%2e%2e/etc/passwd'],
    ] as const) {
      const res = await app.inject({ method, url, headers: auth });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json(), url).toEqual({
        error: 'QUERY_API_NOT_FOUND',
        message: `no such route for ${method} (see /openapi.json)`,
        retriable: false,
      });
    }
  });

  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { ...auth, ...headers } });
  const expect4xx = async (
    p: Promise<{ statusCode: number; json: <T>() => T }>,
    status: number,
    msg: RegExp,
  ) => {
    const res = await p;
    expect(res.statusCode).toBe(status);
    const body = res.json<{ error: string; message: string; retriable: boolean }>();
    expect(Object.keys(body).sort()).toEqual(['error', 'message', 'retriable']);
    expect(body.message).toMatch(msg);
    expect(body.retriable).toBe(false);
  };

  it('rejects non-finite and out-of-range numbers, strings and dates with a 400 naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/v1/latency?limit=1e400', /limit must be a finite number/],
      ['/v1/latency?limit=-1e400', /limit must be a finite number|limit must be >= 1/],
      ['/v1/latency?limit=Infinity', /limit must be a finite number|limit must be integer/],
      ['/v1/latency?limit=NaN', /limit must be integer/],
      ['/v1/latency?limit=1.5', /limit must be integer/],
      ['/v1/latency?limit=5001', /limit must be <= 5000/],
      ['/v1/latency?limit=', /limit must be/],
      ['/v1/explain?cohort=failed&min_support=1e400', /min_support must be a finite number/],
      ['/v1/variance/same-input?min_requests=9007199254740993', /min_requests must be <= /],
      ['/v1/latency?from=0001-01-01T00:00:00Z&to=2026-01-01T01:00:00Z', /from must be between 1970/],
      ['/v1/latency?to=9999-12-31T23:59:59Z', /to must be between/],
      ['/v1/latency?from=2026-01-01T23:59:60Z', /from is not an RFC 3339|must match format/],
      ['/v1/latency?from=2026-02-30T00:00:00Z', /must match format "date-time"/],
      ['/v1/latency?tenant=', /tenant must NOT have fewer than 1/],
      [`/v1/latency?tenant=${'x'.repeat(257)}`, /tenant must NOT have more than 256/],
      ['/v1/latency?bucket=week', /bucket must be one of/],
      ['/v1/latency?tenat=x', /unknown parameter "tenat"/],
      ['/v1/latency?__proto__=x', /unknown parameter "__proto__"/],
      ['/v1/latency?constructor=x', /unknown parameter "constructor"/],
      ['/v1/latency?tenant=a&tenant=b', /tenant must be string/],
      ['/v1/latency?limit=1&limit=2', /limit must be integer/],
      ['/v1/requests//timeline', /request_id must NOT have fewer than 1/],
    ];
    for (const [url, msg] of cases) {
      await expect4xx(get(url), 400, msg).catch((err: Error) => {
        throw new Error(`${url}: ${err.message}`);
      });
    }
  });

  it('request ids: up to the document maximum of 512 characters (astral ones too), a 400 beyond, never 414', async () => {
    const at = (id: string) => get(`/v1/requests/${encodeURIComponent(id)}/timeline`);
    for (const id of ['r'.repeat(512), '😀'.repeat(512), 'é'.repeat(512), 'a/b%c;d?e']) {
      expect((await at(id)).statusCode, id.slice(0, 8)).toBe(404); // passed validation; the fake knows none
    }
    for (const id of [
      'r'.repeat(513),
      '😀'.repeat(513),
      'r'.repeat(HTTP_LIMITS.pathParamUnits + 1),
      'x'.repeat(20_000),
    ])
      await expect4xx(at(id), 400, /more than 512 characters|longer than the maximum of 512 characters/);
    await expect4xx(get('/v1/requests/%E0%A4%A/timeline'), 400, /invalid percent-encoded/);
  });

  it('bodies: wrong media type 415, malformed or empty JSON 400, oversized 413, poisoned keys 400', async () => {
    const post = (payload: string | Buffer, contentType?: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/sql',
        headers: { ...auth, ...(contentType === undefined ? {} : { 'content-type': contentType }) },
        payload,
      });
    await expect4xx(post('SELECT 1', 'text/plain'), 415, /Content-Type must be application\/json/);
    await expect4xx(post('sql=SELECT+1', 'application/x-www-form-urlencoded'), 415, /application\/json/);
    await expect4xx(post('{"sql":"SELECT 1"}', 'application/jsonx'), 415, /application\/json/);
    await expect4xx(post('{"sql":"SELECT 1"}', 'application/json; charset=latin1'), 415, /utf-8/);
    await expect4xx(post('{"sql":', 'application/json'), 400, /not valid JSON/);
    await expect4xx(post('', 'application/json'), 400, /empty/);
    await expect4xx(post('[1,2]', 'application/json'), 400, /body must be object/);
    await expect4xx(post('"SELECT 1"', 'application/json'), 400, /body must be object/);
    await expect4xx(
      post('{"sql":"SELECT 1","__proto__":{"x":1}}', 'application/json'),
      400,
      /not valid JSON/,
    );
    await expect4xx(
      post('{"sql":"SELECT 1","constructor":{"prototype":{}}}', 'application/json'),
      400,
      /not valid JSON/,
    );
    await expect4xx(post('{"sql":"SELECT 1","max_rows":1e400}', 'application/json'), 400, /max_rows must be/);
    await expect4xx(post('{"sql":"SELECT 1","max_rows":-0.5}', 'application/json'), 400, /max_rows must be/);
    await expect4xx(post('{"sql":"SELECT 1","sqll":1}', 'application/json'), 400, /unknown parameter "sqll"/);
    await expect4xx(post(`{"sql":"${'x'.repeat(100_001)}"}`, 'application/json'), 400, /more than 100000/);
    await expect4xx(
      post(`{"sql":"${' '.repeat(HTTP_LIMITS.bodyBytes)}"}`, 'application/json'),
      413,
      /limit of 2097152 bytes/,
    );
    await expect4xx(
      app.inject({ method: 'POST', url: '/v1/sql?x=1', headers: auth, payload: { sql: 'SELECT 1' } }),
      400,
      /unknown parameter "x"/,
    );
    // The longest SQL the document allows, every character escaped, fits the body limit.
    const longest = JSON.stringify({ sql: '\u0001'.repeat(100_000) });
    expect((await post(longest, 'application/json')).statusCode).toBe(200);
  });

  it('Accept: JSON routes answer 406 when it excludes JSON and 400 when it is malformed', async () => {
    for (const a of [
      'application/json',
      '*/*',
      'application/*',
      'text/html, application/json;q=0.1',
      'APPLICATION/JSON',
      '',
    ])
      expect((await get('/v1/variance/flip-rate', { accept: a })).statusCode, a).toBe(200);
    for (const a of ['text/html', 'application/json;q=0', 'application/xml, text/*', 'image/png;q=1'])
      await expect4xx(get('/v1/variance/flip-rate', { accept: a }), 406, /produces application\/json/);
    for (const a of [
      'application',
      ';;',
      'application/json;q=2',
      'application/json;q',
      '*/json',
      'a/b/c',
      '"x',
    ])
      await expect4xx(get('/v1/variance/flip-rate', { accept: a }), 400, /Accept header is malformed/);
    // Prometheus' own Accept header reaches the metrics.
    const prom = 'application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1';
    expect((await get('/metrics', { accept: prom })).statusCode).toBe(200);
    expect(parseAccept('text/plain;format="a,b";q=0.5, */*;q=0')).toEqual([
      { type: 'text', subtype: 'plain', q: 0.5 },
      { type: '*', subtype: '*', q: 0 },
    ]);
    expect(accepts(parseAccept('text/*;q=0, text/plain') ?? [], 'text/plain')).toBe(true);
    expect(accepts(parseAccept('text/plain;q=0, */*') ?? [], 'text/plain')).toBe(false);
  });

  it('serialises non-finite numbers from the store as null instead of failing', async () => {
    const lat = await get('/v1/latency');
    expect(lat.statusCode).toBe(200);
    expect(lat.json<{ rows: { on_time_rate: unknown; p99_ms: unknown }[] }>().rows[0]).toMatchObject({
      on_time_rate: null,
      p99_ms: null,
    });
    expect((await get('/v1/variance/same-input')).json()).toMatchObject({ consistency_score: null });
    const ex = await get('/v1/explain?cohort=failed');
    expect(ex.statusCode).toBe(200);
    expect(ex.json<{ items: { lift: unknown }[] }>().items[0]?.lift).toBeNull();
  });

  it('maps store failures: a query over its time limit is a 422 naming the limit, an outage a retriable 503', async () => {
    const post = () =>
      app.inject({ method: 'POST', url: '/v1/sql', headers: auth, payload: { sql: 'SELECT 1' } });
    sqlOutcome = () =>
      Promise.reject(
        new StoreError('CORE_STORE_UNAVAILABLE', 'SQL failed: timeout', {
          retriable: true,
          context: { clickhouseCode: 159 },
        }),
      );
    await expect4xx(post(), 422, /time limit of 10 s \(QUERY_API_SQL_TIMEOUT_S\)/);
    sqlOutcome = () =>
      Promise.reject(
        new StoreError('CORE_STORE_UNAVAILABLE', 'socket hang up', { retriable: true, context: {} }),
      );
    const down = await post();
    expect(down.statusCode).toBe(503);
    expect(down.headers['retry-after']).toBe('5');
    expect(down.json()).toEqual({
      error: 'QUERY_API_STORE_UNAVAILABLE',
      message: 'the path store is not available; retry later',
      retriable: true,
    });
    sqlOutcome = undefined;
  });

  it('over a real socket: headers over the limit get 431, garbage 400, both with the standard body', async () => {
    const live = await buildApp({ store: fakeStore, config, logger });
    await live.listen({ host: '127.0.0.1', port: 0 });
    const addr = live.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
    try {
      const big = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: '127.0.0.1',
            port,
            path: '/healthz',
            headers: { 'x-big': 'a'.repeat(HTTP_LIMITS.headerBytes + 1) },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(big.status).toBe(431);
      expect(JSON.parse(big.body)).toEqual({
        error: 'QUERY_API_HEADERS_TOO_LARGE',
        message: `the request line and headers exceed the limit of ${HTTP_LIMITS.headerBytes} bytes`,
        retriable: false,
      });
      const garbage = await new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/9.9\r\n\x00\x01\r\n\r\n'));
        let out = '';
        s.on('data', (c: Buffer) => (out += c.toString()));
        s.on('close', () => resolve(out));
        s.on('error', reject);
      });
      expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request/);
      expect(garbage).toContain('"error":"QUERY_API_BAD_REQUEST"');
    } finally {
      await live.close();
    }
  });
});
