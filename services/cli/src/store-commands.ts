/**
 * `pathwatch sql` and `pathwatch path`: analyst access to the path store. With the embedded engine only one
 * process may hold the data directory, so while `pathwatch start` runs these go through its query API (it
 * advertises its URL in the data directory); otherwise they open the store themselves.
 */
import { createRootLogger } from '@pathwatch/core';
import { clickhouseOptionsFromConfig, runSql as runStoreSql, type RunSqlResult } from '@pathwatch/path-store';
import { loadPathWriterConfig } from '@pathwatch/path-writer';
import { loadQueryApiConfig } from '@pathwatch/query-api';
import { loadCliConfig, processEnv } from './config.js';

function storeOptions() {
  const env = processEnv();
  const cli = loadCliConfig(env);
  const withDefaults = {
    ...env,
    KAFKA_BROKERS: env['KAFKA_BROKERS'] ?? '127.0.0.1:9092',
    CLICKHOUSE_DATA_DIR: env['CLICKHOUSE_DATA_DIR'] ?? `${cli.home}/clickhouse`,
  };
  const pw = loadPathWriterConfig(withDefaults);
  const qa = loadQueryApiConfig(withDefaults);
  return { clickhouse: clickhouseOptionsFromConfig(pw), token: qa.authToken };
}

/** Renders a result as an aligned text table. */
export function formatTable(r: Pick<RunSqlResult, 'columns' | 'rows'>): string {
  const cell = (v: unknown): string =>
    v === null || v === undefined
      ? 'NULL'
      : typeof v === 'string'
        ? v
        : typeof v === 'object'
          ? JSON.stringify(v)
          : JSON.stringify(v);
  const header = r.columns.map((c) => c.name);
  const body = r.rows.map((row) => row.map(cell));
  const widths = header.map((h, i) =>
    Math.min(80, Math.max(h.length, ...body.map((row) => (row[i] ?? '').length))),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.slice(0, 80).padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export async function runSql(sql: string): Promise<number> {
  if (sql.trim() === '') {
    process.stderr.write('usage: pathwatch sql "<SELECT ...>"\n');
    return 2;
  }
  const { clickhouse, token } = storeOptions();
  const logger = createRootLogger({ level: 'warn', name: 'pathwatch-sql', destination: process.stderr });
  const r = await runStoreSql(sql, { clickhouse, logger, ...(token === undefined ? {} : { token }) });
  process.stdout.write(`${formatTable(r)}\n`);
  process.stderr.write(
    `${r.rows.length} rows${r.truncated ? ' (truncated)' : ''} in ${r.elapsedMs.toFixed(0)} ms via ${r.via}\n`,
  );
  return 0;
}

export async function runPath(requestId: string | undefined): Promise<number> {
  if (!requestId) {
    process.stderr.write('usage: pathwatch path <request_id>\n');
    return 2;
  }
  // Bound, never spliced: the id is validated to a plain token before it goes into the statement.
  if (!/^[\w.:@/-]{1,200}$/.test(requestId)) {
    process.stderr.write(`not a request id: ${JSON.stringify(requestId)}\n`);
    return 2;
  }
  const { clickhouse, token } = storeOptions();
  const logger = createRootLogger({ level: 'warn', name: 'pathwatch-path', destination: process.stderr });
  const opts = { clickhouse, logger, ...(token === undefined ? {} : { token }) };
  const head = await runStoreSql(
    `SELECT request_id, tenant_id, operation, channel, verdict, provisional, version, flags, sla_ms, e2e_ms, fired_by, watermark_lag_ms FROM paths WHERE request_id = '${requestId}'`,
    opts,
  );
  if (head.rows.length === 0) {
    process.stderr.write(`no path recorded for ${requestId}\n`);
    return 3;
  }
  process.stdout.write(`${formatTable(head)}\n\n`);
  const hops = await runStoreSql(
    `SELECT h.2 AS at, h.1 AS kind, h.3 AS detail FROM paths ARRAY JOIN arrayZip(hops.kind, hops.at, hops.detail) AS h WHERE request_id = '${requestId}' ORDER BY at`,
    opts,
  );
  process.stdout.write(`${formatTable(hops)}\n\n`);
  const versions = await runStoreSql(
    `SELECT version, verdict, provisional, is_correction, previous_verdict, fired_by, decided_at, emitted_at FROM path_versions FINAL WHERE request_id = '${requestId}' ORDER BY version`,
    opts,
  );
  process.stdout.write(`${formatTable(versions)}\n`);
  return 0;
}
