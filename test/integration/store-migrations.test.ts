/**
 * Migrations on the embedded engine: applied once, recorded with checksums, idempotent on re-run, and start-up
 * stops on an edited applied migration or a database migrated by a newer version.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger } from '@pathwatch/core';
import {
  PATH_STORE_MIGRATIONS,
  StoreError,
  applyMigrations,
  migrationChecksum,
  openClickHouse,
  openPathStore,
  type ClickHouse,
  type Migration,
} from '@pathwatch/path-store';

const logger = createRootLogger({ level: 'silent', name: 'test' });
const deps = { logger, now: () => Date.now() };
const dataDir = mkdtempSync(join(tmpdir(), 'pw-store-mig-'));
let db = 0;
const nextDb = (): string => `mig_${++db}`;

describe('path-store migrations (embedded)', () => {
  let ch: ClickHouse;
  beforeAll(async () => {
    ch = await openClickHouse({ mode: 'embedded', dataDir, database: 'mig_main' }, deps);
  });
  afterAll(async () => {
    await ch.close();
  });

  it('applies every migration once, records it, and is idempotent on the next start', async () => {
    const database = nextDb();
    const first = await openPathStore({ mode: 'embedded', dataDir, database }, deps);
    expect(first.migrations.applied).toEqual(PATH_STORE_MIGRATIONS.map((m) => m.id));
    expect(first.migrations.alreadyApplied).toEqual([]);
    const recorded = await first.ch.query<{ id: number; checksum: string }>(
      'SELECT id, checksum FROM schema_migrations FINAL ORDER BY id',
    );
    expect(recorded.map((r) => Number(r.id))).toEqual(PATH_STORE_MIGRATIONS.map((m) => m.id));
    expect(recorded.map((r) => r.checksum)).toEqual(PATH_STORE_MIGRATIONS.map(migrationChecksum));
    const tables = await first.ch.query<{ name: string }>(
      'SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name',
    );
    expect(tables.map((t) => t.name)).toEqual(
      expect.arrayContaining([
        'path_records',
        'path_versions',
        'path_versions_mv',
        'path_rollup_hourly',
        'path_rollup_generations',
        'paths',
        'schema_migrations',
      ]),
    );
    // Migration 8: the view is recreated, so it has the verdict schema v2 columns.
    const viewCols = await first.ch.query<{ name: string }>(
      "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = 'paths'",
    );
    expect(viewCols.map((c) => c.name)).toEqual(
      expect.arrayContaining(['revision_kind', 'evidence_at', 'clock_skew_ms', 'e2e_ms', 'provider']),
    );
    await first.close();

    const second = await openPathStore({ mode: 'embedded', dataDir, database }, deps);
    expect(second.migrations.applied).toEqual([]);
    expect(second.migrations.alreadyApplied).toEqual(PATH_STORE_MIGRATIONS.map((m) => m.id));
    const count = await second.ch.query<{ n: string }>('SELECT count() AS n FROM schema_migrations');
    expect(Number(count[0]?.n)).toBe(PATH_STORE_MIGRATIONS.length);
    await second.close();
  });

  it('stops on an applied migration whose text changed', async () => {
    await ch.command(`CREATE DATABASE IF NOT EXISTS ${nextDb()}`);
    await ch.command(`USE mig_${db}`);
    const v1: Migration[] = [
      {
        id: 1,
        name: 't',
        statements: ['CREATE TABLE IF NOT EXISTS t (x UInt8) ENGINE = MergeTree ORDER BY x'],
      },
    ];
    expect((await applyMigrations(ch, v1, deps)).applied).toEqual([1]);
    const edited: Migration[] = [
      {
        id: 1,
        name: 't',
        statements: ['CREATE TABLE IF NOT EXISTS t (x UInt16) ENGINE = MergeTree ORDER BY x'],
      },
    ];
    const err = await applyMigrations(ch, edited, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('CORE_STORE_MIGRATION_CHANGED');
    expect((err as StoreError).message).toContain('migration 1 (t)');
  });

  it('stops when the database knows migrations this code does not', async () => {
    await ch.command(`CREATE DATABASE IF NOT EXISTS ${nextDb()}`);
    await ch.command(`USE mig_${db}`);
    const newer: Migration[] = [
      {
        id: 1,
        name: 'a',
        statements: ['CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = MergeTree ORDER BY x'],
      },
      {
        id: 2,
        name: 'b',
        statements: ['CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = MergeTree ORDER BY x'],
      },
    ];
    await applyMigrations(ch, newer, deps);
    const err = await applyMigrations(ch, newer.slice(0, 1), deps).catch((e: unknown) => e);
    expect((err as StoreError).code).toBe('CORE_STORE_MIGRATION_UNKNOWN');
  });

  it('does not record a migration that failed, and completes it on the next run', async () => {
    await ch.command(`CREATE DATABASE IF NOT EXISTS ${nextDb()}`);
    await ch.command(`USE mig_${db}`);
    const broken: Migration[] = [
      {
        id: 1,
        name: 'two-step',
        statements: [
          'CREATE TABLE IF NOT EXISTS s1 (x UInt8) ENGINE = MergeTree ORDER BY x',
          'CREATE TABLE s2 (x NoSuchType) ENGINE = MergeTree ORDER BY x',
        ],
      },
    ];
    await expect(applyMigrations(ch, broken, deps)).rejects.toBeInstanceOf(StoreError);
    expect(await ch.query('SELECT id FROM schema_migrations')).toEqual([]);
    // The fixed migration (never applied, so it may still change) re-runs its idempotent first statement.
    const fixed: Migration[] = [
      {
        id: 1,
        name: 'two-step',
        statements: [
          'CREATE TABLE IF NOT EXISTS s1 (x UInt8) ENGINE = MergeTree ORDER BY x',
          'CREATE TABLE IF NOT EXISTS s2 (x UInt8) ENGINE = MergeTree ORDER BY x',
        ],
      },
    ];
    expect((await applyMigrations(ch, fixed, deps)).applied).toEqual([1]);
    expect((await applyMigrations(ch, fixed, deps)).applied).toEqual([]);
  });

  it('rejects migrations listed out of order', async () => {
    const bad: Migration[] = [
      { id: 2, name: 'b', statements: ['SELECT 1'] },
      { id: 1, name: 'a', statements: ['SELECT 1'] },
    ];
    await expect(applyMigrations(ch, bad, deps)).rejects.toThrow(/strictly increasing/);
  });
});
