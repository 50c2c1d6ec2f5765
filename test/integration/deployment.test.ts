/**
 * The README's deployment guide, end to end: one service per process (`pathwatch reconciler`, `path-writer`,
 * `simulator`, then `query-api`), each a separate OS process started from the CLI, on the real broker and the
 * embedded ClickHouse. Checks each service's /healthz, /readyz and /metrics (consumer lag, watermark lag, open
 * state, dead letters by reason), that verdicts arrive (read with `pathwatch tail`), that the query API answers
 * over what the path writer stored, and that the embedded data directory is refused to a second process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaBrokers, produce, uniqueName, waitFor } from '../support/kafka.js';
import { httpGet, startCli, type CliProcess } from '../support/service-process.js';

const VERDICT_CLASSES = [
  'delivered_on_time',
  'delivered_late',
  'failed',
  'expired',
  'missing_dispatch',
  'missing_outcome',
  'orphan_callback',
  'orphan_dispatch',
  'overdue',
];

const running: CliProcess[] = [];
const home = mkdtempSync(path.join(tmpdir(), 'pathwatch-deploy-'));

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  rmSync(home, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string>): CliProcess {
  const p = startCli(args, env);
  running.push(p);
  return p;
}

async function ready(url: string, what: string): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const r = await httpGet(`${url}/readyz`);
      return r.status === 200 ? (JSON.parse(r.body) as Record<string, unknown>) : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, description: `${what} /readyz 200` },
  );
}

async function metrics(url: string): Promise<string> {
  const r = await httpGet(`${url}/metrics`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Sum of a metric's samples whose label set contains `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    sum = (sum ?? 0) + v;
  }
  return sum;
}

describe('deployment guide: one service per process', () => {
  it(
    'runs reconciler, path writer, simulator and query API as separate processes',
    { timeout: 300_000 },
    async () => {
      const env = {
        KAFKA_BROKERS: kafkaBrokers().join(','),
        PATHWATCH_HOME: home,
        CLICKHOUSE_DATA_DIR: path.join(home, 'clickhouse'),
        LOG_LEVEL: 'info',
        RECONCILER_GROUP_ID: uniqueName('deploy-rc'),
        RECONCILER_CHANGELOG_TOPIC: uniqueName('deploy-rc-state'),
        RECONCILER_HTTP_PORT: '0',
        PATH_WRITER_GROUP_ID: uniqueName('deploy-pw'),
        PATH_WRITER_HTTP_PORT: '0',
        SIM_HTTP_PORT: '0',
        SIM_RATE_PER_SEC: '40',
        QUERY_API_PORT: '0',
      };

      // 1. The reconciler and the path writer, each alone in its process, each with its own server.
      const reconciler = start(['reconciler'], env);
      const writer = start(['path-writer'], env);
      const rcUrl = await reconciler.url('health server listening');
      const pwUrl = await writer.url('health server listening');
      expect(rcUrl).not.toBe(pwUrl);
      expect(JSON.parse((await httpGet(`${rcUrl}/healthz`)).body)).toEqual({
        status: 'ok',
        service: 'reconciler',
      });
      const rcReady = await ready(rcUrl, 'reconciler');
      expect(rcReady).toMatchObject({ status: 'ready', checks: { reconciler: { ok: true } } });
      await ready(pwUrl, 'path writer');

      // 2. A reader of the verdicts, as a reconciler team would run it, before any traffic.
      const tail = start(['tail', 'verdicts', '--json'], env);
      await waitFor(() => tail.stderr().includes('caught up with pathwatch.verdicts'), {
        timeoutMs: 60_000,
        description: 'pathwatch tail to follow the verdicts',
      });

      // 3. Traffic.
      const sim = start(['simulator'], env);
      const simUrl = await sim.url('health server listening');
      await ready(simUrl, 'simulator');

      // Verdicts arrive, decoded, one JSON object per line on stdout (nothing else there).
      await waitFor(() => tail.stdout.length >= 10, {
        timeoutMs: 90_000,
        description: '10 verdicts on pathwatch tail',
      });
      const verdicts = tail.stdout.slice(0, 10).map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const v of verdicts) {
        expect(typeof v['request_id']).toBe('string');
        expect(VERDICT_CLASSES).toContain(v['verdict']);
        expect(v['version']).toBeGreaterThanOrEqual(1);
      }

      // A record that is not Avro or JSON: dead-lettered, counted by reason in the reconciler's own /metrics.
      await produce('pathwatch.requests', [
        { key: uniqueName('garbage'), value: Buffer.from('\x07not a record') },
      ]);
      const rcMetrics = await waitFor(
        async () => {
          const m = await metrics(rcUrl);
          return (sample(m, 'pathwatch_dead_letters_total', { reason_code: 'SCHEMA_DECODE_BAD_MAGIC' }) ??
            0) >= 1
            ? m
            : undefined;
        },
        { timeoutMs: 60_000, description: 'a dead letter by reason in the reconciler metrics' },
      );
      expect(
        sample(rcMetrics, 'pathwatch_consumer_lag_records', {
          stage: 'reconciler.decode',
          topic: 'pathwatch.requests',
        }),
      ).toBeGreaterThanOrEqual(0);
      expect(sample(rcMetrics, 'pathwatch_reconciler_watermark_lag_ms')).toBeGreaterThanOrEqual(0);
      expect(
        sample(rcMetrics, 'pathwatch_reconciler_state', { kind: 'open_requests' }),
      ).toBeGreaterThanOrEqual(0);
      expect(sample(rcMetrics, 'pathwatch_reconciler_verdicts_total')).toBeGreaterThanOrEqual(10);
      const simMetrics = await metrics(simUrl);
      expect(
        sample(simMetrics, 'pathwatch_simulator_events_sent', { topic: 'pathwatch.requests' }),
      ).toBeGreaterThan(0);

      // 4. While the path writer holds the embedded data directory, a query API on it is refused, clearly.
      const refused = start(['query-api'], env);
      expect(await refused.exited).toBe(1);
      expect(refused.stderr()).toContain('CORE_STORE_DATA_DIR_LOCKED');

      // 5. Stop the traffic; the writer catches up (pending: at most the commit marker per partition), and stops.
      expect(await sim.stop()).toBe(0);
      const pwMetrics = await waitFor(
        async () => {
          const m = await metrics(pwUrl);
          const rows = sample(m, 'pathwatch_path_writer_rows_total') ?? 0;
          const lag = sample(m, 'pathwatch_consumer_lag_records', { stage: 'path-writer.decode' });
          const buffered = sample(m, 'pathwatch_path_writer_buffered_rows') ?? 0;
          return rows > 0 && lag !== undefined && lag <= 4 && buffered === 0 ? m : undefined;
        },
        { timeoutMs: 90_000, description: 'the path writer to catch up' },
      );
      expect(sample(pwMetrics, 'pathwatch_path_writer_rows_total')).toBeGreaterThan(0);
      expect(await writer.stop()).toBe(0);

      // 6. The query API alone on the data the writer stored: its own probes, metrics and answers.
      const api = start(['query-api'], env);
      const apiUrl = await api.url('query API listening');
      await ready(apiUrl, 'query API');
      expect((await httpGet(`${apiUrl}/metrics`)).status).toBe(200);
      const first = verdicts[0]?.['request_id'] as string;
      const timeline = await httpGet(`${apiUrl}/v1/requests/${encodeURIComponent(first)}/timeline`);
      expect(timeline.status).toBe(200);
      expect(JSON.parse(timeline.body)).toMatchObject({ request_id: first });

      // 7. Every service stops cleanly on SIGTERM.
      expect(await api.stop()).toBe(0);
      expect(await tail.stop('SIGINT')).toBe(0);
      expect(await reconciler.stop()).toBe(0);
    },
  );
});
