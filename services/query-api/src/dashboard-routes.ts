/**
 * The /v1 routes added for the dashboard: request search (also the explain drill-down) and pipeline health.
 * Registered by buildApp inside the authenticated scope, with its window and limit helpers.
 */
import type { FastifyInstance } from 'fastify';
import type { Registry } from '@pathwatch/core';
import type { Filters, PathStore, RequestSearchQuery } from '@pathwatch/path-store';
import { QueryApiError } from './errors.js';
import { pipelineRoute, searchRoute } from './dashboard-schemas.js';

const HOUR = 3_600_000;

interface WindowQuery extends Filters {
  from?: string;
  to?: string;
  limit: number;
}

export interface DashboardRouteDeps {
  store: PathStore;
  registry: Registry;
  now: () => number;
  window: (
    q: WindowQuery,
    kind: 'raw' | 'rollup',
  ) => { from_ms: number; to_ms: number; limit: number } & Filters;
  limited: <T extends object>(schema: T) => T;
}

type Labelled = { value: number | null } & Record<string, string | number | null>;

/** Values of one metric of the registry, labels flattened next to the value; [] when it is not registered. */
async function metricValues(registry: Registry, name: string): Promise<Labelled[] | undefined> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.map((v) => ({ ...(v.labels as Record<string, string>), value: v.value }));
}

async function single(registry: Registry, name: string): Promise<number | null> {
  const values = await metricValues(registry, name);
  const v = values?.[0]?.value;
  return v === undefined ? null : v;
}

async function liveMetrics(registry: Registry, now: number) {
  const [eventsIn, deadLetters, lag, wmLag, idle, verdicts] = await Promise.all(
    [
      'pathwatch_events_in_total',
      'pathwatch_dead_letters_total',
      'pathwatch_reconciler_consumer_lag_records',
      'pathwatch_reconciler_input_watermark_lag_ms',
      'pathwatch_reconciler_input_idle',
      'pathwatch_reconciler_verdicts_total',
    ].map((name) => metricValues(registry, name)),
  );
  const [clockLag, wallClock, buffered, paused] = await Promise.all(
    [
      'pathwatch_reconciler_clock_lag_ms',
      'pathwatch_reconciler_clock_wall_clock',
      'pathwatch_path_writer_buffered_rows',
      'pathwatch_path_writer_paused',
    ].map((name) => single(registry, name)),
  );
  return {
    sampled_at_ms: now,
    reconciler_in_process: lag !== undefined,
    writer_in_process: registry.getSingleMetric('pathwatch_path_writer_buffered_rows') !== undefined,
    events_in: eventsIn ?? [],
    dead_letters: deadLetters ?? [],
    consumer_lag: lag ?? [],
    input_watermark_lag_ms: wmLag ?? [],
    input_idle: idle ?? [],
    verdicts: verdicts ?? [],
    clock_lag_ms: clockLag,
    clock_wall_clock: wallClock === null ? null : wallClock === 1,
    writer_buffered_rows: buffered,
    writer_paused: paused === null ? null : paused === 1,
  };
}

export function registerDashboardRoutes(v1: FastifyInstance, deps: DashboardRouteDeps): void {
  const { store, registry, now, window, limited } = deps;

  v1.get('/v1/requests/search', { schema: limited(searchRoute) }, async (req) => {
    const q = req.query as WindowQuery & Omit<RequestSearchQuery, 'from_ms' | 'to_ms' | 'limit'>;
    if ((q.dimension === undefined) !== (q.value === undefined))
      throw new QueryApiError('QUERY_API_BAD_REQUEST', 'dimension and value must be given together');
    const w = window(q, 'raw');
    return store.searchRequests({
      ...w,
      request_id: q.request_id,
      provider_message_id: q.provider_message_id,
      input_fingerprint: q.input_fingerprint,
      cohort: q.cohort,
      dimension: q.dimension,
      value: q.value,
    });
  });

  v1.get('/v1/pipeline', { schema: limited(pipelineRoute) }, async (req) => {
    const q = req.query as WindowQuery & { step: 'auto' | 'minute' | 'hour' };
    const w = window({ ...q, limit: 1 }, 'raw');
    const stepS =
      q.step === 'minute' ? 60 : q.step === 'hour' ? 3600 : w.to_ms - w.from_ms <= 6 * HOUR ? 60 : 3600;
    const { limit: _limit, ...filters } = w;
    const [buckets, live] = await Promise.all([
      store.pipelineBuckets({ ...filters, step_s: stepS, scan_from_ms: Math.max(0, w.from_ms - 48 * HOUR) }),
      liveMetrics(registry, now()),
    ]);
    return { from_ms: w.from_ms, to_ms: w.to_ms, step_s: stepS, buckets, live };
  });
}
