/**
 * Starts a built query API: listens, and in embedded mode advertises its SQL endpoint in the data directory so
 * `runSql` (the CLI's `pathwatch sql`) reaches this process instead of trying to open the locked directory.
 * Used by main.ts and by the all-in-one runner.
 */
import type { FastifyInstance } from 'fastify';
import { type Logger } from '@pathwatch/core';
import { advertiseSqlEndpoint, type ClickHouseOptions } from '@pathwatch/path-store';

export interface RunningQueryApi {
  /** Base URL, e.g. http://127.0.0.1:8080. */
  url: string;
  close(): Promise<void>;
}

export async function startQueryApi(
  app: FastifyInstance,
  opts: {
    host: string;
    port: number;
    clickhouse: ClickHouseOptions;
    sqlEnabled: boolean;
    logger: Logger;
    now: () => number;
  },
): Promise<RunningQueryApi> {
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  const host = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const advert =
    opts.clickhouse.mode === 'embedded' && opts.sqlEnabled
      ? advertiseSqlEndpoint(opts.clickhouse.dataDir, url, opts.now)
      : undefined;
  opts.logger.info({ url, sqlEndpoint: advert !== undefined }, 'query API listening');
  return {
    url,
    async close() {
      advert?.withdraw();
      await app.close();
    },
  };
}
