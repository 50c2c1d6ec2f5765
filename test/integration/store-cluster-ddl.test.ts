/**
 * The cluster DDL of the deployment guide (`pathwatch clickhouse cluster-ddl`): no ClickHouse server or Keeper runs
 * here, so it is not executed; each statement is parsed by the real engine (chdb's parser, `EXPLAIN AST`) and its
 * shape checked: every table replicated with its own Keeper path, every object on the cluster, the ledger filled
 * with the checksums Pathwatch compares at start (so it finds every migration applied and creates nothing).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger } from '@pathwatch/core';
import {
  PATH_STORE_MIGRATIONS,
  clusterDdl,
  migrationChecksum,
  openClickHouse,
  type ClickHouse,
} from '@pathwatch/path-store';

const dataDir = mkdtempSync(join(tmpdir(), 'pw-cluster-ddl-'));
let ch: ClickHouse;

beforeAll(async () => {
  ch = await openClickHouse(
    { mode: 'embedded', dataDir, database: 'cluster_ddl' },
    { logger: createRootLogger({ level: 'silent', name: 'it' }) },
  );
});
afterAll(async () => {
  await ch.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('cluster DDL', () => {
  const ddl = clusterDdl({ cluster: 'prod', database: 'pw', now: () => 1_760_000_000_000 });

  it('parses as ClickHouse SQL, statement by statement', async () => {
    for (const stmt of ddl) {
      const rows = await ch.query<{ explain: string }>(`EXPLAIN AST ${stmt}`);
      expect(rows.length, stmt.slice(0, 80)).toBeGreaterThan(0);
    }
    // The check can fail: a broken statement does not parse.
    await expect(ch.query('EXPLAIN AST CREATE TABLE t ON CLUSTER prod (a UInt8) ENGINE =')).rejects.toThrow();
  });

  it('replicates every table on its own Keeper path, all on the cluster', () => {
    const tables = ddl.filter((s) => s.startsWith('CREATE TABLE'));
    expect(tables.map((s) => /CREATE TABLE IF NOT EXISTS pw\.(\w+) ON CLUSTER prod/.exec(s)?.[1])).toEqual([
      'schema_migrations',
      'path_records',
      'path_versions',
      'path_rollup_hourly',
      'path_rollup_daily',
      'path_rollup_generations',
      'path_rollup_daily_generations',
    ]);
    const paths = tables.map((s) => /ReplicatedReplacingMergeTree\('([^']+)', '\{replica\}'/.exec(s)?.[1]);
    expect(new Set(paths).size).toBe(tables.length);
    for (const s of tables) expect(s).not.toMatch(/ENGINE = ReplacingMergeTree|non_replicated/);
    for (const s of ddl) expect(s).toMatch(/ON CLUSTER prod|^INSERT INTO pw\.schema_migrations/);
    expect(ddl.find((s) => s.includes('pw.path_records ON CLUSTER'))).toContain(
      "ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/pw/path_records', '{replica}', version, is_deleted)",
    );
  });

  it('records every migration with the checksum Pathwatch checks at start', () => {
    const insert = ddl[ddl.length - 1] ?? '';
    for (const m of PATH_STORE_MIGRATIONS)
      expect(insert).toContain(
        `(${m.id}, '${m.name}', '${migrationChecksum(m)}', fromUnixTimestamp64Milli(1760000000000, 'UTC'))`,
      );
  });

  it('refuses names that would be spliced into SQL', () => {
    expect(() => clusterDdl({ cluster: "prod'; DROP TABLE x; --" })).toThrow(TypeError);
    expect(() => clusterDdl({ cluster: 'prod', database: 'pw; DROP' })).toThrow(TypeError);
    expect(clusterDdl({ cluster: '{cluster}' })[0]).toBe(
      "CREATE DATABASE IF NOT EXISTS pathwatch ON CLUSTER '{cluster}'",
    );
  });
});
