/**
 * Analyst SQL from outside the running process. The embedded engine allows one process per data directory, so
 * the process that holds it advertises its HTTP SQL endpoint in a small file inside the data directory; `runSql`
 * uses that endpoint while its owner lives, and opens the data directory itself otherwise. With a ClickHouse
 * server there is no such constraint and the query goes straight to the server.
 */
import { readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import type { Logger } from '@pathwatch/core';
import { openClickHouse, type ClickHouseOptions, type ReadonlySqlLimits, type SqlResult } from './client.js';

const ENDPOINT_FILE = 'pathwatch-endpoint.json';

export interface SqlEndpointAdvert {
  pid: number;
  /** Base URL of the query API, e.g. http://127.0.0.1:8080 (POST /v1/sql). */
  url: string;
  /** Epoch ms. */
  since: number;
}

/** Records that this process serves SQL for `dataDir` at `url`. Call `withdraw` on shutdown. */
export function advertiseSqlEndpoint(dataDir: string, url: string, now: () => number): { withdraw(): void } {
  const file = join(dataDir, ENDPOINT_FILE);
  const advert: SqlEndpointAdvert = { pid: process.pid, url, since: now() };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(advert));
  renameSync(tmp, file);
  return {
    withdraw() {
      const cur = readAdvert(dataDir);
      if (cur?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}

export function readAdvert(dataDir: string): SqlEndpointAdvert | null {
  try {
    const a = JSON.parse(readFileSync(join(dataDir, ENDPOINT_FILE), 'utf8')) as Partial<SqlEndpointAdvert>;
    return typeof a.pid === 'number' && typeof a.url === 'string'
      ? { pid: a.pid, url: a.url, since: Number(a.since ?? 0) }
      : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunSqlOptions extends ReadonlySqlLimits {
  clickhouse: ClickHouseOptions;
  /** Bearer token of the query API (when it requires one). */
  token?: string;
  logger: Logger;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface RunSqlResult extends SqlResult {
  /** How the query ran: through the owner's HTTP endpoint, by opening the data dir, or on a server. */
  via: 'http' | 'embedded' | 'server';
}

/** Body of POST /v1/sql (the query API's JSON is snake_case). */
interface HttpSqlResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
  elapsed_ms: number;
}

interface HttpSqlError {
  error?: string;
  message?: string;
}

/** Runs read-only analyst SQL against the path store, wherever it lives (see the module comment). */
export async function runSql(sql: string, opts: RunSqlOptions): Promise<RunSqlResult> {
  const limits: ReadonlySqlLimits = {
    ...(opts.maxRows === undefined ? {} : { maxRows: opts.maxRows }),
    ...(opts.maxExecutionSeconds === undefined ? {} : { maxExecutionSeconds: opts.maxExecutionSeconds }),
  };
  if (opts.clickhouse.mode === 'embedded') {
    const advert = readAdvert(opts.clickhouse.dataDir);
    if (advert && advert.pid !== process.pid && alive(advert.pid)) {
      const doFetch = opts.fetch ?? globalThis.fetch;
      let res: Response;
      try {
        res = await doFetch(`${advert.url.replace(/\/$/, '')}/v1/sql`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          },
          body: JSON.stringify({ sql, ...(opts.maxRows === undefined ? {} : { max_rows: opts.maxRows }) }),
        });
      } catch (err) {
        throw new StoreError(
          'CORE_STORE_UNAVAILABLE',
          `the data directory ${opts.clickhouse.dataDir} is held by process ${advert.pid}, whose SQL endpoint ${advert.url} does not answer`,
          { retriable: true, cause: err },
        );
      }
      const body = (await res.json()) as HttpSqlResult | HttpSqlError;
      if (!res.ok) {
        const e = body as HttpSqlError;
        const code =
          res.status === 400
            ? 'CORE_STORE_SQL_REJECTED'
            : res.status === 401
              ? 'CORE_STORE_QUERY_FAILED'
              : 'CORE_STORE_UNAVAILABLE';
        throw new StoreError(
          code,
          `SQL endpoint ${advert.url} answered ${res.status}: ${e.message ?? e.error ?? 'error'}`,
          {
            retriable: res.status >= 500,
            context: { status: res.status },
          },
        );
      }
      const r = body as HttpSqlResult;
      return {
        columns: r.columns,
        rows: r.rows,
        truncated: r.truncated,
        elapsedMs: r.elapsed_ms,
        via: 'http',
      };
    }
  }
  const ch = await openClickHouse(opts.clickhouse, { logger: opts.logger });
  try {
    const r = await ch.readonlySql(sql, limits);
    return { ...r, via: opts.clickhouse.mode === 'embedded' ? 'embedded' : 'server' };
  } finally {
    await ch.close();
  }
}
