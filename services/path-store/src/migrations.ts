/**
 * Ordered, recorded, idempotent migrations. Each migration runs once and is recorded in `schema_migrations` with a
 * checksum of its statements; an applied migration whose text changed, or a database that has migrations this code
 * does not know, stops start-up (fail fast, name the migration). Statements are written idempotently
 * (`IF NOT EXISTS`) so a crash between a statement and its record is repaired by running the migration again.
 */
import { createHash } from 'node:crypto';
import { StoreError } from './errors.js';
import type { Logger } from '@pathwatch/core';
import type { ClickHouse } from './client.js';

export interface Migration {
  /** Strictly increasing, never reused. */
  readonly id: number;
  readonly name: string;
  readonly statements: readonly string[];
}

export interface MigrationReport {
  applied: number[];
  alreadyApplied: number[];
}

export function migrationChecksum(m: Migration): string {
  const h = createHash('sha256');
  for (const s of m.statements) h.update(s.trim()).update('\n;\n');
  return h.digest('hex');
}

const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    id          UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY id`;

export async function applyMigrations(
  ch: ClickHouse,
  migrations: readonly Migration[],
  deps: { logger: Logger; now: () => number },
): Promise<MigrationReport> {
  const log = deps.logger.child({ module: 'migrations' });
  for (let i = 1; i < migrations.length; i++) {
    const prev = migrations[i - 1] as Migration;
    const cur = migrations[i] as Migration;
    if (cur.id <= prev.id)
      throw new TypeError(`migration ids must be strictly increasing: ${prev.id} then ${cur.id}`);
  }
  await ch.command(LEDGER_DDL);
  const rows = await ch.query<{ id: number; name: string; checksum: string }>(
    'SELECT id, name, checksum FROM schema_migrations FINAL ORDER BY id',
  );
  const applied = new Map(rows.map((r) => [Number(r.id), r]));
  const known = new Set(migrations.map((m) => m.id));
  const unknown = [...applied.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new StoreError(
      'CORE_STORE_MIGRATION_UNKNOWN',
      `the database has migrations this version does not know (${unknown.join(', ')}): it was migrated by a newer Pathwatch; run that version or use another database`,
      { retriable: false, context: { database: ch.database } },
    );
  }
  const report: MigrationReport = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    const sum = migrationChecksum(m);
    const done = applied.get(m.id);
    if (done) {
      if (done.checksum !== sum) {
        throw new StoreError(
          'CORE_STORE_MIGRATION_CHANGED',
          `migration ${m.id} (${m.name}) was edited after it was applied (checksum ${done.checksum.slice(0, 12)} in the database, ${sum.slice(0, 12)} in code): add a new migration instead of editing an applied one`,
          { retriable: false, context: { migration: m.id } },
        );
      }
      report.alreadyApplied.push(m.id);
      continue;
    }
    const started = deps.now();
    for (const stmt of m.statements) await ch.command(stmt);
    await ch.command(
      `INSERT INTO schema_migrations (id, name, checksum, applied_at)
       SELECT {id:UInt32}, {name:String}, {checksum:String}, fromUnixTimestamp64Milli({at:Int64}, 'UTC')`,
      { id: m.id, name: m.name, checksum: sum, at: deps.now() },
    );
    report.applied.push(m.id);
    log.info({ migration: m.id, name: m.name, durationMs: deps.now() - started }, 'migration applied');
  }
  return report;
}
