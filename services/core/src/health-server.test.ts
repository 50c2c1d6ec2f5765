import { describe, expect, it } from 'vitest';
import { buildHealthServer } from './health-server.js';
import { createRootLogger } from './logger.js';
import { createMetrics } from './metrics.js';

const logger = createRootLogger({ level: 'silent', name: 'test' });

function server(
  readiness: Parameters<typeof buildHealthServer>[0]['readiness'],
  metricsToken?: string,
): ReturnType<typeof buildHealthServer> {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.deadLetters.inc({ stage: 'reconciler.decode', reason_code: 'SCHEMA_DECODE_BAD_MAGIC' });
  metrics.consumerLag.set({ stage: 'reconciler.decode', topic: 'pathwatch.requests', partition: '0' }, 7);
  return buildHealthServer({
    service: 'reconciler',
    host: '127.0.0.1',
    port: 0,
    registry: metrics.registry,
    readiness,
    metricsToken,
    logger,
  });
}

describe('health server', () => {
  it('serves liveness, readiness by check, and the registry', async () => {
    const app = server({ reconciler: () => ({ ok: true, detail: 'ok (0 pending)' }) });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok', service: 'reconciler' });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { reconciler: { ok: true } } });
    const m = await app.inject({ url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.body).toContain(
      'pathwatch_dead_letters_total{stage="reconciler.decode",reason_code="SCHEMA_DECODE_BAD_MAGIC"} 1',
    );
    expect(m.body).toContain(
      'pathwatch_consumer_lag_records{stage="reconciler.decode",topic="pathwatch.requests",partition="0"} 7',
    );
  });

  it('is not ready while any check fails or throws, naming each', async () => {
    const app = server({
      a: () => ({ ok: false, detail: 'a: stalled' }),
      b: () => {
        throw new Error('b exploded');
      },
      c: () => Promise.resolve({ ok: true }),
    });
    const r = await app.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toEqual({
      status: 'not_ready',
      service: 'reconciler',
      checks: {
        a: { ok: false, detail: 'a: stalled' },
        b: { ok: false, detail: 'b exploded' },
        c: { ok: true },
      },
    });
  });

  it('puts /metrics behind the token when one is set, probes stay open', async () => {
    const app = server({ x: () => ({ ok: true }) }, 'a-token-of-sixteen+');
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-sixteen' } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: 'Bearer a-token-of-sixteen+' } }))
        .statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ url: '/metrics', headers: { authorization: 'bearer a-token-of-sixteen+' } }))
        .statusCode,
    ).toBe(200);
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });

  it('answers unknown routes and methods with a 404 body, never a 5xx', async () => {
    const app = server({});
    const r = await app.inject({ url: '/v1/sql', method: 'POST', payload: 'x'.repeat(5000) });
    expect(r.statusCode).toBe(404);
    const big = await app.inject({
      url: '/readyz',
      method: 'GET',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ x: 'y'.repeat(5000) }),
    });
    // A body on a probe is never read: the probe answers as usual.
    expect(big.statusCode).toBe(200);
    const nf = await app.inject({ url: '/nope?a=1' });
    expect(nf.statusCode).toBe(404);
    expect(nf.json()).toMatchObject({ error: 'NOT_FOUND', retriable: false });
  });
});
