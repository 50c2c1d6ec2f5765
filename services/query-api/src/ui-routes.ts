/**
 * The dashboard's static shell under /ui: index.html, app.js and app.css from @pathwatch/dashboard's build,
 * read once when the app is built. Public (PUBLIC_ROUTES): the shell holds no data; every number it shows
 * comes from the authenticated /v1 API with the token the user gives it (see SECURITY.md). Served with a
 * strict Content-Security-Policy (same origin only, no inline script or style), nosniff and no framing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DASHBOARD_ASSETS_DIR, DASHBOARD_FILES } from '@pathwatch/dashboard';

export const UI_ROUTES: readonly string[] = Object.keys(DASHBOARD_FILES);

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

const NOT_BUILT =
  'the dashboard assets are not built: run `npm run build` (or `npm run build -w @pathwatch/dashboard`)';

export function registerUiRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DASHBOARD_ASSETS_DIR;
  for (const [url, { file, contentType }] of Object.entries(DASHBOARD_FILES)) {
    let body: Buffer | undefined;
    try {
      body = readFileSync(join(dir, file));
    } catch {
      body = undefined;
    }
    const produces = contentType.split(';')[0] as string;
    app.get(url, { schema: { hide: true }, config: { produces } }, (_req, reply) => {
      if (body === undefined)
        return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send(NOT_BUILT);
      return reply.headers(SECURITY_HEADERS).header('content-type', contentType).send(body);
    });
  }
}
