/**
 * The query API (fastify 5), built without side effects: no listen, no environment, no signals. Versioned REST
 * endpoints over the path store; every request and response has a JSON schema (validation, serialization and the
 * OpenAPI document at /openapi.json); parameters are always bound, never spliced into SQL; time ranges and
 * result sizes are capped; bad input of any kind gets a 4xx with the standard error body naming the problem or
 * limit (never a 5xx); /v1/* and /metrics take a bearer token when one is configured, checked inside their plugin
 * scope so it covers exactly the routes the router matched; /healthz, /readyz, /openapi.json and the
 * dashboard's static shell (/ui, which holds no data) are public.
 */
import swagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import { Counter, Histogram, Registry, type Logger } from '@pathwatch/core';
import {
  StoreError,
  type AnomalyKind,
  type BucketName,
  type ExplainCohort,
  type Filters,
  type GroupDimension,
  type LatencyStage,
  type PathStore,
} from '@pathwatch/path-store';
import type { QueryApiHttpConfig } from './config.js';
import { registerDashboardRoutes } from './dashboard-routes.js';
import { QueryApiError } from './errors.js';
import {
  HTTP_LIMITS,
  acceptCheck,
  bearerAuth,
  clientErrorHandler,
  finiteOrNull,
  frameworkErrorBody,
  nonFiniteParameter,
} from './http-guard.js';
import {
  anomaliesRoute,
  errorSchema,
  explainRoute,
  flipRateRoute,
  healthRoute,
  latencyRoute,
  readinessSchema,
  readyRoute,
  sameInputRoute,
  sqlRoute,
  timelineRoute,
} from './schemas.js';
import { UI_ROUTES, registerUiRoutes } from './ui-routes.js';

export interface ReadinessCheck {
  (): Promise<{ ok: boolean; detail?: string }> | { ok: boolean; detail?: string };
}

export interface QueryApiDeps {
  store: PathStore;
  config: Pick<
    QueryApiHttpConfig,
    | 'authToken'
    | 'sqlEnabled'
    | 'sqlMaxRows'
    | 'sqlTimeoutSeconds'
    | 'maxRawRangeHours'
    | 'maxRollupRangeDays'
    | 'maxResultRows'
  >;
  logger: Logger;
  /** Registry served at /metrics (share the process registry so every stage shows). @default a new registry */
  registry?: Registry;
  /** Wall clock (default time ranges, overdue_by_ms). @default Date.now */
  now?: () => number;
  /** Extra readiness checks by name (e.g. the path writer's). */
  readiness?: Readonly<Record<string, ReadinessCheck>>;
  /** Directory of the built dashboard assets. @default @pathwatch/dashboard's dist/ui */
  uiDir?: string;
}

const HOUR = 3_600_000;
// ClickHouse error codes that mean "this query is too expensive" (it would fail the same way again).
const TIMEOUT_EXCEEDED = 159;
const TOO_MANY_ROWS_OR_BYTES = 396;
/** Range of request times the store can hold (ClickHouse DateTime64 ends in 2299; no event predates 1970). */
const TIME_MIN_MS = 0;
const TIME_MAX_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/** Routes served without a token. Every other route must sit in the authenticated scope (checked at ready). */
export const PUBLIC_ROUTES: readonly string[] = ['/healthz', '/readyz', '/openapi.json', ...UI_ROUTES];

export interface RouteEntry {
  method: string;
  url: string;
  authenticated: boolean;
}
const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route of an app built by buildApp (HEAD included), with whether it takes the bearer token. */
export function routesOf(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

interface WindowQuery {
  from?: string;
  to?: string;
  tenant?: string;
  operation?: string;
  channel?: string;
  route?: string;
  provider?: string;
  limit: number;
}

function bad(message: string): QueryApiError {
  return new QueryApiError('QUERY_API_BAD_REQUEST', message);
}

function parseTime(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw bad(`${name} is not an RFC 3339 date-time`);
  if (t < TIME_MIN_MS || t > TIME_MAX_MS)
    throw bad(`${name} must be between 1970-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z`);
  return t;
}

/** The charset parameter of a Content-Type header, lower-cased, or undefined. */
function contentTypeCharset(header: string | undefined): string | undefined {
  for (const param of (header ?? '').split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq >= 0 && param.slice(0, eq).trim().toLowerCase() === 'charset')
      return param
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return undefined;
}

function splitList<T extends string>(raw: string | undefined): T[] {
  if (raw === undefined || raw === '') return [];
  const xs = raw.split(',') as T[];
  const seen = new Set<T>();
  for (const x of xs) {
    if (seen.has(x)) throw bad(`"${x}" is listed twice`);
    seen.add(x);
  }
  return xs;
}

function validationMessage(err: FastifyError): string {
  const first = err.validation?.[0];
  const where = err.validationContext ?? 'request';
  if (first?.keyword === 'additionalProperties') {
    const p = (first.params as { additionalProperty?: string }).additionalProperty;
    return `${where}: unknown parameter "${p ?? '?'}"`;
  }
  if (first?.keyword === 'required') {
    const p = (first.params as { missingProperty?: string }).missingProperty;
    return `${where}: missing required parameter "${p ?? '?'}"`;
  }
  if (first?.keyword === 'enum') {
    const allowed = (first.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `${where}${first.instancePath.replace(/\//g, '.')} must be one of: ${allowed.join(', ')}`;
  }
  return err.message;
}

export async function buildApp(deps: QueryApiDeps): Promise<FastifyInstance> {
  const { store, config } = deps;
  const now = deps.now ?? Date.now;
  const registry = deps.registry ?? new Registry();
  const log = deps.logger.child({ module: 'query-api' });

  // Typed as fastify's logger interface so the instance keeps fastify's default generics.
  const loggerInstance: FastifyBaseLogger = log;
  const app = Fastify({
    loggerInstance,
    // One debug line per request from onResponse below, instead of fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown parameters are an error (a typo must not silently widen a query), not stripped.
    ajv: {
      // strictNumbers: NaN and Infinity (e.g. `1e400` coerced) are not numbers, so they fail type and range checks.
      customOptions: {
        removeAdditional: false,
        coerceTypes: 'array',
        useDefaults: true,
        allErrors: false,
      },
    },
    bodyLimit: HTTP_LIMITS.bodyBytes,
    http: { maxHeaderSize: HTTP_LIMITS.headerBytes },
    requestTimeout: HTTP_LIMITS.requestTimeoutMs,
    routerOptions: { maxParamLength: HTTP_LIMITS.pathParamUnits },
    clientErrorHandler,
    // Router errors (over-long path parameter, bad percent-encoding) get the standard body too.
    frameworkErrors: (err, _req, reply) => {
      const mapped = frameworkErrorBody(err) ?? {
        status: 400,
        body: new QueryApiError('QUERY_API_BAD_REQUEST', 'the request URL cannot be routed').body(),
      };
      void (reply as FastifyReply).code(mapped.status).send(mapped.body);
    },
  });

  // JSON is the only body any route takes: no text/plain parser, and a declared charset must be UTF-8 (the
  // bytes are decoded as UTF-8 whatever it says). Fastify's own JSON parser does the parsing (proto keys refused).
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    const charset = contentTypeCharset(req.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')
      return done(new QueryApiError('QUERY_API_UNSUPPORTED_MEDIA_TYPE', 'the body charset must be utf-8'));
    void parseJson(req, typeof body === 'string' ? body : body.toString('utf8'), done);
  });

  const routes: RouteEntry[] = [];
  routeTables.set(app, routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) routes.push({ method, url: r.url, authenticated: false });
  });

  const httpRequests = new Counter({
    name: 'pathwatch_http_requests_total',
    help: 'HTTP requests served by the query API, by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const httpSeconds = new Histogram({
    name: 'pathwatch_http_request_duration_seconds',
    help: 'HTTP request duration of the query API, by route.',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  app.addSchema(errorSchema);
  app.addSchema(readinessSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pathwatch query API',
        version: '1.0.0',
        description:
          'Execution paths, latency and on-time rates, variance and explanations over the Pathwatch path store.',
      },
      ...(config.authToken
        ? {
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
            // Every route but the public ones (which say `security: []`).
            security: [{ bearer: [] }],
          }
        : {}),
    },
  });

  app.addHook('preValidation', acceptCheck);
  // After validation and coercion: no parameter may be NaN or Infinity (`1e400` coerces to Infinity, and ajv
  // skips range keywords for non-finite numbers in some modes), whatever its schema says.
  app.addHook('preHandler', (req) => {
    const where = nonFiniteParameter(req);
    return where === undefined ? Promise.resolve() : Promise.reject(bad(`${where} must be a finite number`));
  });
  // Non-finite numbers from the store would make the serialiser throw (a 5xx): send them as null.
  app.addHook('preSerialization', (_req, _reply, payload) => Promise.resolve(finiteOrNull(payload)));

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
    httpSeconds.observe({ route }, reply.elapsedTime / 1000);
    req.log.debug({ route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request served');
  });

  app.addHook('onReady', () => {
    const open = routes.filter((r) => !r.authenticated && !PUBLIC_ROUTES.includes(r.url));
    if (config.authToken !== undefined && open.length > 0)
      return Promise.reject(
        new Error(
          `routes outside the authenticated scope and not in PUBLIC_ROUTES: ${open.map((r) => `${r.method} ${r.url}`).join(', ')}`,
        ),
      );
    return Promise.resolve();
  });

  // Never echoes the path: a 404 tells nothing beyond "no such route" (and runs no auth: nothing is served).
  app.setNotFoundHandler((req, reply) => {
    void reply
      .code(404)
      .send(
        new QueryApiError(
          'QUERY_API_NOT_FOUND',
          `no such route for ${req.method} (see /openapi.json)`,
        ).body(),
      );
  });

  app.setErrorHandler((err: FastifyError | QueryApiError | StoreError | Error, req, reply) => {
    const send = (e: QueryApiError) => {
      if (e.code === 'QUERY_API_STORE_UNAVAILABLE') void reply.header('retry-after', '5');
      return reply.code(e.statusCode).send(e.body());
    };
    if (err instanceof QueryApiError) return send(err);
    if ('validation' in err && err.validation) return send(bad(validationMessage(err)));
    if (err instanceof StoreError) {
      if (err.code === 'CORE_STORE_SQL_REJECTED') return send(bad(err.message));
      if (err.context['ambiguous'] === true)
        return send(new QueryApiError('QUERY_API_AMBIGUOUS', err.message));
      const chCode = err.context['clickhouseCode'];
      // The query itself is too expensive: the same request would fail again, so a 4xx naming the limit.
      if (chCode === TIMEOUT_EXCEEDED)
        return send(
          new QueryApiError(
            'QUERY_API_LIMIT_EXCEEDED',
            `the query exceeded the time limit of ${config.sqlTimeoutSeconds} s (QUERY_API_SQL_TIMEOUT_S)`,
          ),
        );
      if (chCode === TOO_MANY_ROWS_OR_BYTES)
        return send(
          new QueryApiError('QUERY_API_LIMIT_EXCEEDED', 'the query reads more rows or bytes than allowed'),
        );
      if (err.retriable) {
        req.log.warn({ err }, 'path store unavailable');
        return send(
          new QueryApiError('QUERY_API_STORE_UNAVAILABLE', 'the path store is not available; retry later'),
        );
      }
    }
    const framework = frameworkErrorBody(err as FastifyError);
    if (framework) return reply.code(framework.status).send(framework.body);
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      req.log.debug({ err }, 'request refused');
      return reply.code(400).send(bad('the request is malformed').body());
    }
    req.log.error({ err }, 'request failed');
    return send(new QueryApiError('QUERY_API_INTERNAL', 'internal error (logged)'));
  });

  /** A route schema with the server's configured caps as its maxima, so the document says what is enforced. */
  function limited<T extends object>(schema: T): T {
    const s = structuredClone(schema) as T & {
      querystring?: { properties?: Record<string, { maximum?: number; default?: number }> };
    };
    const lim = s.querystring?.properties?.['limit'];
    if (lim) {
      lim.maximum = config.maxResultRows;
      if (lim.default !== undefined) lim.default = Math.min(lim.default, config.maxResultRows);
    }
    return s;
  }

  /** Time window + filters of a request, with the range cap for raw or rollup queries. */
  function window(
    q: WindowQuery,
    kind: 'raw' | 'rollup',
  ): { from_ms: number; to_ms: number } & Filters & { limit: number } {
    const to = parseTime('to', q.to, Math.min(now(), TIME_MAX_MS));
    const from = parseTime('from', q.from, Math.max(to - 24 * HOUR, TIME_MIN_MS));
    if (from >= to)
      throw bad(`from (${new Date(from).toISOString()}) must be before to (${new Date(to).toISOString()})`);
    const maxMs = kind === 'raw' ? config.maxRawRangeHours * HOUR : config.maxRollupRangeDays * 24 * HOUR;
    if (to - from > maxMs) {
      const unit = kind === 'raw' ? `${config.maxRawRangeHours} hours` : `${config.maxRollupRangeDays} days`;
      throw bad(
        `the time range (${((to - from) / HOUR).toFixed(1)} hours) exceeds the maximum of ${unit} for ${kind === 'raw' ? 'raw-record' : 'dashboard'} queries`,
      );
    }
    if (q.limit > config.maxResultRows)
      throw bad(`limit ${q.limit} exceeds the maximum of ${config.maxResultRows}`);
    return {
      from_ms: from,
      to_ms: to,
      limit: q.limit,
      ...(q.tenant === undefined ? {} : { tenant: q.tenant }),
      ...(q.operation === undefined ? {} : { operation: q.operation }),
      ...(q.channel === undefined ? {} : { channel: q.channel }),
      ...(q.route === undefined ? {} : { route: q.route }),
      ...(q.provider === undefined ? {} : { provider: q.provider }),
    };
  }

  app.get('/healthz', { schema: healthRoute }, () => Promise.resolve({ status: 'ok' }));

  app.get('/readyz', { schema: readyRoute }, async (_req, reply) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    checks['clickhouse'] = (await store.ch.ping())
      ? { ok: true }
      : { ok: false, detail: 'ClickHouse does not answer' };
    for (const [name, check] of Object.entries(deps.readiness ?? {})) {
      try {
        checks[name] = await check();
      } catch (err) {
        checks[name] = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    }
    const ok = Object.values(checks).every((c) => c.ok);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
  });

  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  // The dashboard's static shell (no data in it; its data comes from /v1 with the user's token).
  registerUiRoutes(app, deps.uiDir === undefined ? {} : { dir: deps.uiDir });

  // The authenticated scope: the bearer hook below runs for every route registered in here, after routing, so
  // no spelling of a URL that reaches one of these handlers skips it.
  await app.register((v1, _opts, done) => {
    v1.addHook('onRoute', (r) => {
      const url = r.url;
      for (const e of routes) if (e.url === url) e.authenticated = config.authToken !== undefined;
    });
    if (config.authToken !== undefined) v1.addHook('onRequest', bearerAuth(config.authToken));

    // Prometheus metrics name topics, groups and verdict volumes: behind the token like the data routes.
    v1.get(
      '/metrics',
      { schema: { hide: true }, config: { produces: 'text/plain' } },
      async (_req, reply) => {
        return reply.header('content-type', registry.contentType).send(await registry.metrics());
      },
    );

    v1.get('/v1/requests/:request_id/timeline', { schema: limited(timelineRoute) }, async (req) => {
      const { request_id: requestId } = req.params as { request_id: string };
      const { tenant } = req.query as { tenant?: string };
      const tl = await store.timeline(requestId, tenant);
      if (!tl)
        throw new QueryApiError(
          'QUERY_API_NOT_FOUND',
          `no path for request ${requestId}${tenant === undefined ? '' : ` in tenant ${tenant}`}`,
        );
      return tl;
    });

    v1.get('/v1/latency', { schema: limited(latencyRoute) }, async (req) => {
      const q = req.query as WindowQuery & { group_by?: string; bucket: BucketName; stage: LatencyStage };
      const w = window(q, 'rollup');
      return {
        rows: await store.latency({
          ...w,
          group_by: splitList<GroupDimension>(q.group_by),
          bucket: q.bucket,
          stage: q.stage,
        }),
      };
    });

    v1.get('/v1/variance/same-input', { schema: limited(sameInputRoute) }, async (req) => {
      const q = req.query as WindowQuery & { min_requests: number };
      return store.sameInput({ ...window(q, 'raw'), min_requests: q.min_requests });
    });

    v1.get('/v1/variance/flip-rate', { schema: limited(flipRateRoute) }, async (req) => {
      const q = req.query as WindowQuery & { group_by?: string; bucket: BucketName };
      return {
        rows: await store.flipRate({
          ...window(q, 'raw'),
          group_by: splitList<GroupDimension>(q.group_by),
          bucket: q.bucket,
        }),
      };
    });

    v1.get('/v1/explain', { schema: limited(explainRoute) }, async (req) => {
      const q = req.query as WindowQuery & { cohort: ExplainCohort; min_support: number; min_cohort: number };
      return store.explain({
        ...window(q, 'raw'),
        cohort: q.cohort,
        min_support: q.min_support,
        min_cohort: q.min_cohort,
      });
    });

    v1.get('/v1/anomalies/open', { schema: limited(anomaliesRoute) }, async (req) => {
      const q = req.query as WindowQuery & { kind?: string };
      const kinds = splitList<AnomalyKind>(q.kind);
      return store.openAnomalies({
        ...window(q, 'raw'),
        kinds: kinds.length > 0 ? kinds : ['overdue', 'missing_dispatch', 'missing_outcome'],
        now_ms: now(),
      });
    });

    registerDashboardRoutes(v1, { store, registry, now, window, limited });

    v1.post('/v1/sql', { schema: limited(sqlRoute) }, async (req, reply) => {
      if (!config.sqlEnabled)
        throw new QueryApiError(
          'QUERY_API_SQL_DISABLED',
          'the SQL endpoint is disabled (QUERY_API_SQL_ENABLED=false)',
        );
      const body = req.body as { sql: string; max_rows?: number };
      const maxRows = Math.min(body.max_rows ?? config.sqlMaxRows, config.sqlMaxRows);
      try {
        const r = await store.sql(body.sql, {
          maxRows,
          maxExecutionSeconds: config.sqlTimeoutSeconds,
          timeLimitVariable: 'QUERY_API_SQL_TIMEOUT_S',
        });
        return { columns: r.columns, rows: r.rows, truncated: r.truncated, elapsed_ms: r.elapsedMs };
      } catch (err) {
        // Refused by the SQL guard, or failed because of the SQL itself (syntax, unknown column, time limit):
        // 400 with the stable reason as the code (QUERY_API_SQL_TABLE_FUNCTION, QUERY_API_SQL_TIME_LIMIT, ...).
        if (err instanceof StoreError && err.code === 'CORE_STORE_SQL_REJECTED') {
          const reason = err.context['reason'];
          return reply.code(400).send({
            error: `QUERY_API_${typeof reason === 'string' ? reason : 'SQL_INVALID'}`,
            message: err.message,
            retriable: false,
          });
        }
        if (err instanceof StoreError && !err.retriable) throw bad(err.message);
        throw err;
      }
    });
    done();
  });

  return app;
}
