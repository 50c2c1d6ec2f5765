/**
 * The small HTTP server of a service that runs on its own without the query API (`pathwatch reconciler`,
 * `pathwatch path-writer`, `pathwatch simulator`): `GET /healthz` (liveness: the process serves), `GET /readyz`
 * (readiness: 200 when every check is ok, else 503 naming each failing check), `GET /metrics` (the process's
 * Prometheus registry; bearer token when one is configured). Anything else is a 404; only GET and HEAD are
 * served. The query API has these routes itself and does not use this.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from './logger.js';
import type { Registry } from './metrics.js';

export interface ReadinessResult {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface HealthServerOptions {
  /** Service name, shown in the bodies and the log line. */
  readonly service: string;
  readonly host: string;
  /** 0: any free port (the URL says which). */
  readonly port: number;
  readonly registry: Registry;
  /** Readiness checks by name; a check that throws counts as not ok with its message. */
  readonly readiness: Readonly<Record<string, () => ReadinessResult | Promise<ReadinessResult>>>;
  /** When set, /metrics requires `Authorization: Bearer <token>`. */
  readonly metricsToken?: string | undefined;
  readonly logger: Logger;
}

export interface RunningHealthServer {
  /** Base URL, e.g. http://127.0.0.1:9464. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Bearer check like the query API's: case-insensitive scheme, SHA-256 digests compared in constant time. */
function tokenMatches(header: string | undefined, token: string): boolean {
  const m = header === undefined ? null : /^bearer (.+)$/i.exec(header);
  if (!m) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1] ?? ''), digest(token));
}

/** Builds the server without listening (tests inject requests). */
export function buildHealthServer(opts: HealthServerOptions): FastifyInstance {
  const app = Fastify({
    logger: false,
    // Probes send no bodies; anything large is refused before it is read.
    bodyLimit: 1024,
    routerOptions: { maxParamLength: 100 },
    return503OnClosing: true,
  });
  app.get('/healthz', async () => Promise.resolve({ status: 'ok', service: opts.service }));
  app.get('/readyz', async (_req, reply) => {
    const checks: Record<string, ReadinessResult> = {};
    for (const [name, check] of Object.entries(opts.readiness)) {
      try {
        const r = await check();
        checks[name] = r.detail === undefined ? { ok: r.ok } : { ok: r.ok, detail: r.detail };
      } catch (err) {
        checks[name] = { ok: false, detail: err instanceof Error ? err.message : String(err) };
      }
    }
    const ok = Object.values(checks).every((c) => c.ok);
    return reply
      .code(ok ? 200 : 503)
      .send({ status: ok ? 'ready' : 'not_ready', service: opts.service, checks });
  });
  app.get('/metrics', async (req, reply) => {
    if (opts.metricsToken !== undefined && !tokenMatches(req.headers.authorization, opts.metricsToken)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ error: 'UNAUTHORIZED', message: 'bearer token required', retriable: false });
    }
    return reply.header('content-type', opts.registry.contentType).send(await opts.registry.metrics());
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: 'NOT_FOUND',
      message: `no route ${req.method} ${req.url.split('?')[0] ?? ''}; this service serves /healthz, /readyz, /metrics`,
      retriable: false,
    }),
  );
  return app;
}

/** Builds and listens; logs the URL (`health server listening`). */
export async function startHealthServer(opts: HealthServerOptions): Promise<RunningHealthServer> {
  const app = buildHealthServer(opts);
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.logger.info({ service: opts.service, url }, 'health server listening');
  return { url, port, close: () => app.close() };
}
