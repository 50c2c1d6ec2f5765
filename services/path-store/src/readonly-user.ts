/**
 * DDL for the dedicated read-only ClickHouse user analyst SQL runs as in server mode (CLICKHOUSE_URL with
 * CLICKHOUSE_SQL_USER). Its grants cover only SELECT on the Pathwatch database: no other database, no table
 * functions (they need grants such as FILE, URL, REMOTE, S3), no dictionaries, no SYSTEM, no writes. Its profile
 * pins readonly=2 (settings may be lowered per request, never readonly itself) and caps the limits the query API
 * sends. infra/clickhouse/readonly-user.sql is this output for the defaults (a test keeps them equal).
 */
export interface ReadonlyUserOptions {
  /** @default 'pathwatch' */
  database?: string;
  /** @default 'pathwatch_sql' */
  user?: string;
  /** Password placeholder or value; printed as given. @default '<choose a password>' */
  password?: string;
  /** Upper bound analyst queries may ask for. @default 300 */
  maxExecutionSecondsCap?: number;
  /** @default 4294967296 (4 GiB) */
  maxMemoryBytes?: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function ident(name: string, what: string): string {
  if (!IDENT.test(name)) throw new TypeError(`${what} must be a plain identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** The statements, one per line, each ending in `;`. */
export function readonlyUserDdl(opts: ReadonlyUserOptions = {}): string {
  const db = ident(opts.database ?? 'pathwatch', 'database');
  const user = ident(opts.user ?? 'pathwatch_sql', 'user');
  const profile = ident(`${opts.user ?? 'pathwatch_sql'}_profile`, 'profile');
  const password = (opts.password ?? '<choose a password>').replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  const cap = opts.maxExecutionSecondsCap ?? 300;
  const mem = opts.maxMemoryBytes ?? 4 * 1024 ** 3;
  return [
    `CREATE SETTINGS PROFILE IF NOT EXISTS ${profile} SETTINGS readonly = 2 CONST, allow_ddl = 0 CONST, allow_introspection_functions = 0 CONST, max_execution_time = 30 MAX ${cap}, max_memory_usage = ${mem} MAX ${mem}, max_result_rows = 10001 MAX 1000001, max_result_bytes = 67108864 MAX 67108864;`,
    `CREATE USER IF NOT EXISTS ${user} IDENTIFIED WITH sha256_password BY '${password}' DEFAULT DATABASE ${db} SETTINGS PROFILE ${profile};`,
    `REVOKE ALL ON *.* FROM ${user};`,
    `GRANT SELECT ON ${db}.* TO ${user};`,
  ].join('\n');
}
