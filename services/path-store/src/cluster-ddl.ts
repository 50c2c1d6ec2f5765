/**
 * DDL for running the path store on a ClickHouse cluster (one shard, several replicas), generated from the
 * migrations so it cannot drift from them: every table `ON CLUSTER` with the Replicated variant of its engine
 * (ReplicatedReplacingMergeTree, one ZooKeeper/Keeper path per table), the views, and the migration ledger filled
 * with the checksums of the migrations this DDL stands for — so Pathwatch, started against the cluster, finds
 * every migration applied and creates nothing itself. Printed by `pathwatch clickhouse cluster-ddl`; see the
 * README's deployment guide. Not executed in tests against a server (none here): parsed by the engine instead.
 */
import { LEDGER_DDL, migrationChecksum } from './migrations.js';
import { FSYNC_TABLES, PATH_STORE_FINAL_OBJECTS, PATH_STORE_MIGRATIONS } from './schema.js';

export interface ClusterDdlOptions {
  /** Cluster name from the server's remote_servers (a macro such as `{cluster}` works too). */
  readonly cluster: string;
  /** @default 'pathwatch' */
  readonly database?: string;
  /** Keeper path prefix of the replicated tables; `{shard}` and the table name are appended. @default '/clickhouse/tables' */
  readonly keeperPrefix?: string;
  /** @default Date.now (the ledger's applied_at) */
  readonly now?: () => number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const CLUSTER = /^(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_.-]*)$/;

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** `ENGINE = ReplacingMergeTree(args)` → its Replicated form with a per-table Keeper path. */
function replicate(ddl: string, table: string, keeperPath: (t: string) => string): string {
  return ddl.replace(/ENGINE = ReplacingMergeTree(?:\(([^)]*)\))?/, (_m, args: string | undefined) => {
    const params = [quote(keeperPath(table)), quote('{replica}'), ...(args ? [args] : [])];
    return `ENGINE = ReplicatedReplacingMergeTree(${params.join(', ')})`;
  });
}

/** The statements, in order, each without a trailing semicolon. */
export function clusterDdl(opts: ClusterDdlOptions): string[] {
  const database = opts.database ?? 'pathwatch';
  if (!IDENT.test(database)) throw new TypeError(`database must be a plain identifier: ${database}`);
  if (!CLUSTER.test(opts.cluster))
    throw new TypeError(`cluster must be a name or a {macro}: ${opts.cluster}`);
  const prefix = (opts.keeperPrefix ?? '/clickhouse/tables').replace(/\/+$/, '');
  if (!/^\/[A-Za-z0-9_./{}-]*$/.test(prefix)) throw new TypeError(`keeperPrefix must be a path: ${prefix}`);
  const cluster = opts.cluster.startsWith('{') ? quote(opts.cluster) : opts.cluster;
  const on = `ON CLUSTER ${cluster}`;
  const keeperPath = (t: string): string => `${prefix}/{shard}/${database}/${t}`;
  const now = opts.now ?? Date.now;

  const withTarget = (ddl: string): string =>
    ddl
      // Qualify the object and put it on the cluster.
      .replace(
        /^CREATE (TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS (\w+)/,
        (_m, kind: string, name: string) => `CREATE ${kind} IF NOT EXISTS ${database}.${name} ${on}`,
      )
      .replace(/\bTO (path_\w+)/, `TO ${database}.$1`)
      .replace(/\bFROM (path_\w+)/g, `FROM ${database}.$1`)
      // Replicated tables deduplicate inserts (the writer's insert_deduplication_token) by themselves.
      .replace(/non_replicated_deduplication_window = 1000/, 'replicated_deduplication_window = 1000');

  const out: string[] = [`CREATE DATABASE IF NOT EXISTS ${database} ${on}`];
  out.push(replicate(withTarget(LEDGER_DDL), 'schema_migrations', keeperPath));
  for (const o of PATH_STORE_FINAL_OBJECTS) {
    let ddl = replicate(withTarget(o.ddl), o.name, keeperPath);
    if (FSYNC_TABLES.includes(o.name))
      ddl = ddl.replace(
        /SETTINGS (.*)$/,
        (_m, s: string) => `SETTINGS ${s}, fsync_after_insert = 1, fsync_part_directory = 1`,
      );
    out.push(ddl);
  }
  const at = now();
  const rows = PATH_STORE_MIGRATIONS.map(
    (m) =>
      `(${m.id}, ${quote(m.name)}, ${quote(migrationChecksum(m))}, fromUnixTimestamp64Milli(${at}, 'UTC'))`,
  );
  // Replicated: inserted once, on any replica, it reaches all of them.
  out.push(
    `INSERT INTO ${database}.schema_migrations (id, name, checksum, applied_at) VALUES\n    ${rows.join(',\n    ')}`,
  );
  return out;
}
