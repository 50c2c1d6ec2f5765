/**
 * The query API (fastify 5), built without side effects: no listen, no environment, no signals. Versioned REST
 * endpoints over the path store; every request and response has a JSON schema (validation, serialization and the
 * OpenAPI document at /openapi.json); parameters are always bound, never spliced into SQL; time ranges and
 * result sizes are capped; bad parameters get a 400 naming the problem; /v1/* takes a bearer token when one is
 * configured; /healthz, /readyz and /metrics (Prometheus) for operations.
 */
import { timingSafeEqual } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  Counter,
  Histogram,
  Registry,
  StoreError,
  type AnomalyKind,
  type BucketName,
  type ExplainCohort,
  type Filters,
  type GroupDimension,
  type LatencyStage,
  type Logger,
  type PathStore,
} from '@pathwatch/core';
import type { QueryApiHttpConfig } from './config.js';
import { QueryApiError } from './errors.js';
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
}

const HOUR = 3_600_000;

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
  if (!Number.isFinite(t)) throw bad(`${name} is not an RFC 3339 date-time: ${raw}`);
  return t;
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

function timingSafeTokenEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
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
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
    bodyLimit: 256 * 1024,
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
            security: [{ bearer: [] }],
          }
        : {}),
    },
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (config.authToken === undefined || !req.url.startsWith('/v1/')) return;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(h);
    if (!m?.[1] || !timingSafeTokenEqual(m[1], config.authToken)) {
      void reply.header('www-authenticate', 'Bearer realm="pathwatch"');
      throw new QueryApiError(
        'QUERY_API_UNAUTHORIZED',
        h ? 'the bearer token is not valid' : 'missing Authorization: Bearer <token>',
      );
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unknown';
    httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
    httpSeconds.observe({ route }, reply.elapsedTime / 1000);
    req.log.debug({ route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request served');
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({
      error: 'QUERY_API_NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0] ?? ''}`,
    });
  });

  app.setErrorHandler((err: FastifyError | QueryApiError | StoreError | Error, req, reply) => {
    if (err instanceof QueryApiError) {
      return reply.code(err.statusCode).send({ error: err.code, message: err.message });
    }
    if ('validation' in err && err.validation) {
      return reply.code(400).send({ error: 'QUERY_API_BAD_REQUEST', message: validationMessage(err) });
    }
    if (err instanceof StoreError) {
      if (err.code === 'CORE_STORE_SQL_REJECTED')
        return reply.code(400).send({ error: 'QUERY_API_BAD_REQUEST', message: err.message });
      if (err.context['ambiguous'] === true)
        return reply.code(409).send({ error: 'QUERY_API_AMBIGUOUS', message: err.message });
      if (err.retriable) {
        req.log.warn({ err }, 'path store unavailable');
        return reply.code(503).send({
          error: 'QUERY_API_STORE_UNAVAILABLE',
          message: 'the path store is not available; retry later',
        });
      }
    }
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: 'QUERY_API_BAD_REQUEST', message: err.message });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'QUERY_API_INTERNAL', message: 'internal error (logged)' });
  });

  /** Time window + filters of a request, with the range cap for raw or rollup queries. */
  function window(
    q: WindowQuery,
    kind: 'raw' | 'rollup',
  ): { from_ms: number; to_ms: number } & Filters & { limit: number } {
    const to = parseTime('to', q.to, now());
    const from = parseTime('from', q.from, to - 24 * HOUR);
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

  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });

  app.get('/openapi.json', { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  app.get('/v1/requests/:request_id/timeline', { schema: timelineRoute }, async (req) => {
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

  app.get('/v1/latency', { schema: latencyRoute }, async (req) => {
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

  app.get('/v1/variance/same-input', { schema: sameInputRoute }, async (req) => {
    const q = req.query as WindowQuery & { min_requests: number };
    return store.sameInput({ ...window(q, 'raw'), min_requests: q.min_requests });
  });

  app.get('/v1/variance/flip-rate', { schema: flipRateRoute }, async (req) => {
    const q = req.query as WindowQuery & { group_by?: string; bucket: BucketName };
    return {
      rows: await store.flipRate({
        ...window(q, 'raw'),
        group_by: splitList<GroupDimension>(q.group_by),
        bucket: q.bucket,
      }),
    };
  });

  app.get('/v1/explain', { schema: explainRoute }, async (req) => {
    const q = req.query as WindowQuery & { cohort: ExplainCohort; min_support: number; min_cohort: number };
    return store.explain({
      ...window(q, 'raw'),
      cohort: q.cohort,
      min_support: q.min_support,
      min_cohort: q.min_cohort,
    });
  });

  app.get('/v1/anomalies/open', { schema: anomaliesRoute }, async (req) => {
    const q = req.query as WindowQuery & { kind?: string };
    const kinds = splitList<AnomalyKind>(q.kind);
    return store.openAnomalies({
      ...window(q, 'raw'),
      kinds: kinds.length > 0 ? kinds : ['overdue', 'missing_dispatch', 'missing_outcome'],
      now_ms: now(),
    });
  });

  app.post('/v1/sql', { schema: sqlRoute }, async (req, reply) => {
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
        });
      }
      if (err instanceof StoreError && !err.retriable) throw bad(err.message);
      throw err;
    }
  });

  return app;
}
