/**
 * The one place that creates a ClickHouse client. Embedded (chdb through @clickhouse/client's `connection`
 * option) by default, an HTTP server when a URL is configured; callers see the same small `ClickHouse` interface.
 *
 * Two embedded-engine pitfalls shape this module (reference/clickhouse-anchors.md §6):
 * - Per-query `clickhouse_settings` are applied with `SET` on the chdb session and leak into every later query.
 *   So this interface accepts no per-call settings at all: settings live at client level (identical on every
 *   call), and the few per-statement settings we need (dedup token, async_insert) are written inline in SQL.
 * - 64-bit integers come back as lossy JS numbers unless `output_format_json_quote_64bit_integers = 1`, which we
 *   set for both backends so results have one shape.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client';
import { Session } from 'chdb';
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import { StoreError } from './errors.js';
import type { Logger } from '@pathwatch/core';
import { checkedSql, loadFunctionCatalog, type SqlSteps } from './sql-run.js';
import type { FunctionCatalog } from './sql-guard.js';

export interface EmbeddedClickHouseOptions {
  readonly mode: 'embedded';
  /** Data directory of the in-process engine. Only one process may hold it. */
  readonly dataDir: string;
  /** @default 'pathwatch' */
  readonly database?: string;
  /** Engine memory cap per query; without one an OOM can take the host process down. @default 4294967296 (4 GiB) */
  readonly maxMemoryUsageBytes?: number;
  /** Where insert blocks are staged for the engine to read. @default `<dataDir>/pathwatch-spool` */
  readonly spoolDir?: string;
}

export interface ServerClickHouseOptions {
  readonly mode: 'server';
  /** e.g. http://localhost:8123 */
  readonly url: string;
  /** @default 'default' */
  readonly username?: string;
  /** @default '' */
  readonly password?: string;
  /** Created at start if missing. @default 'pathwatch' */
  readonly database?: string;
  /** @default 30000 */
  readonly requestTimeoutMs?: number;
  /** Engine memory cap per query. @default unset (the server's profile decides) */
  readonly maxMemoryUsageBytes?: number;
  /**
   * Read-only user for analyst SQL (`readonlySql`), e.g. the one infra/clickhouse/readonly-user.sql creates.
   * @default unset (analyst SQL runs as `username`, still behind the SQL guard and readonly=2)
   */
  readonly sqlUsername?: string;
  /** @default '' */
  readonly sqlPassword?: string;
}

export type ClickHouseOptions = EmbeddedClickHouseOptions | ServerClickHouseOptions;

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>;

export type QueryParams = Readonly<
  Record<string, string | number | boolean | readonly string[] | readonly number[]>
>;

/** Result of read-only analyst SQL: column names and types, rows as arrays (64-bit integers as strings). */
export interface SqlResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** True when the result hit the row limit and was cut. */
  truncated: boolean;
  elapsedMs: number;
}

export interface ReadonlySqlLimits {
  /** @default 10000 */
  maxRows?: number;
  /** @default 30 */
  maxExecutionSeconds?: number;
  /** Result size cap before the JSON is built. @default 67108864 (64 MiB) */
  maxResultBytes?: number;
  /** Config variable behind `maxExecutionSeconds`, named when a query runs over it. */
  timeLimitVariable?: string;
}

export interface ClickHouse {
  readonly backend: 'embedded' | 'server';
  readonly database: string;
  /** A SELECT with bound parameters (`{name:Type}`), rows as objects. Never splice values into `sql`. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** A statement without a result (DDL, INSERT ... SELECT). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /**
   * Inserts one pre-encoded Native block into `table(columns)`. `dedupToken` is written inline
   * (`SETTINGS insert_deduplication_token = ...`) so a retry of the same block is dropped by the engine and the
   * token never leaks into later statements.
   */
  insertNative(
    table: string,
    columns: readonly string[],
    block: Buffer | readonly Buffer[],
    dedupToken: string,
  ): Promise<void>;
  /** Inserts rows as JSONEachRow (the generic client path; the benchmark's baseline). Same inline dedup token. */
  insertJsonEachRow(
    table: string,
    columns: readonly string[],
    rows: readonly object[],
    dedupToken: string,
  ): Promise<void>;
  /**
   * Analyst SQL: one read-only SELECT over the store's own tables, decided by the engine's parser (sql-guard.ts);
   * every refusal or failure caused by the SQL is a non-retriable CORE_STORE_SQL_REJECTED with `context.reason`.
   * Each call runs isolated: nothing it does (database switch, settings, leftover output) reaches the next.
   */
  readonlySql(sql: string, limits?: ReadonlySqlLimits): Promise<SqlResult>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Settings identical on every call (see the module comment for why nothing is set per call). */
function clientSettings(maxMemoryUsageBytes: number | undefined): ClickHouseSettings {
  const s: ClickHouseSettings = {
    output_format_json_quote_64bit_integers: 1,
    // The partition key (month of the immutable path anchor) never changes, so FINAL may work per partition.
    do_not_merge_across_partitions_select_final: 1,
  };
  if (maxMemoryUsageBytes !== undefined) s.max_memory_usage = String(maxMemoryUsageBytes);
  return s;
}

// Codes where trying again later can help (server busy, network, memory, disk, replicas, cancelled).
const RETRIABLE_CODES = new Set([
  3, 159, 202, 203, 209, 210, 236, 241, 242, 243, 252, 285, 319, 394, 425, 439, 999, 1000,
]);

/** Maps any client/engine failure to a StoreError; retriable when the server, network, memory or disk may recover. */
export function toStoreError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as { code?: unknown; type?: unknown; message?: unknown; clickhouseCode?: unknown };
  const msg = typeof e.message === 'string' ? e.message : String(err);
  // @clickhouse/client errors carry the numeric code as a string; chdb's native errors as `clickhouseCode`.
  const code =
    typeof e.code === 'string' && /^\d+$/.test(e.code)
      ? Number(e.code)
      : typeof e.clickhouseCode === 'number'
        ? e.clickhouseCode
        : undefined;
  const clickhouseType = typeof e.type === 'string' ? e.type : undefined;
  // No ClickHouse code: a network/socket/timeout failure (or chdb transport), which may recover.
  const retriable = err instanceof TypeError ? false : code === undefined ? true : RETRIABLE_CODES.has(code);
  return new StoreError(retriable ? 'CORE_STORE_UNAVAILABLE' : 'CORE_STORE_QUERY_FAILED', `${what}: ${msg}`, {
    retriable,
    cause: err,
    context: { clickhouseCode: code, clickhouseType },
  });
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;
const TOKEN = /^[A-Za-z0-9:_.-]{1,200}$/;

function quoteIdent(name: string): string {
  if (!IDENT.test(name)) throw new TypeError(`not a plain identifier: ${JSON.stringify(name)}`);
  return name
    .split('.')
    .map((p) => `\`${p}\``)
    .join('.');
}

/** Vectored write of a block's parts (no concatenation copy). */
async function writeParts(file: string, parts: readonly Buffer[]): Promise<void> {
  const fh = await open(file, 'w');
  try {
    // writev takes at most IOV_MAX (1024) buffers per call on Linux.
    for (let i = 0; i < parts.length; i += 512) await fh.writev(parts.slice(i, i + 512));
  } finally {
    await fh.close();
  }
}

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

interface JsonCompact {
  meta: { name: string; type: string }[];
  data: unknown[][];
}

function parseCompact(text: string, maxRows: number, elapsedMs: number): SqlResult {
  const parsed = JSON.parse(text) as JsonCompact;
  const truncated = parsed.data.length >= maxRows;
  return { columns: parsed.meta, rows: parsed.data.slice(0, maxRows), truncated, elapsedMs };
}

abstract class BaseClickHouse implements ClickHouse {
  abstract readonly backend: 'embedded' | 'server';
  private catalog: Promise<FunctionCatalog> | undefined;
  constructor(
    protected readonly client: ClickHouseClient,
    readonly database: string,
    protected readonly log: Logger,
  ) {}

  /** The engine's function registry, read once through the store's own session (never the analyst's). */
  protected functionCatalog(): Promise<FunctionCatalog> {
    this.catalog ??= loadFunctionCatalog((sql) => this.query(sql)).catch((err: unknown) => {
      this.catalog = undefined;
      throw err;
    });
    return this.catalog;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]> {
    try {
      const rs = await this.client.query({
        query: sql,
        format: 'JSONEachRow',
        ...(params ? { query_params: params } : {}),
      });
      return await rs.json<T>();
    } catch (err) {
      throw toStoreError(err, 'query failed');
    }
  }

  async command(sql: string, params?: QueryParams): Promise<void> {
    try {
      await this.client.command({ query: sql, ...(params ? { query_params: params } : {}) });
    } catch (err) {
      throw toStoreError(err, 'statement failed');
    }
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.client.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  protected insertPrefix(table: string, columns: readonly string[], dedupToken: string): string {
    if (!TOKEN.test(dedupToken)) throw new TypeError(`dedup token must match ${TOKEN.source}`);
    // async_insert=0: the statement returns only when the part is written (commit-after-durable relies on it).
    // optimize_on_insert=0: ReplacingMergeTree would otherwise collapse every block on insert (5x slower, measured).
    return (
      `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) ` +
      `SETTINGS insert_deduplication_token = ${sqlString(dedupToken)}, async_insert = 0, optimize_on_insert = 0`
    );
  }

  abstract insertNative(
    table: string,
    columns: readonly string[],
    block: Buffer,
    dedupToken: string,
  ): Promise<void>;

  async insertJsonEachRow(
    table: string,
    columns: readonly string[],
    rows: readonly object[],
    dedupToken: string,
  ): Promise<void> {
    const prefix = this.insertPrefix(table, columns, dedupToken);
    let body = '';
    for (const r of rows) body += `${JSON.stringify(r)}\n`;
    try {
      const res = await this.client.exec({
        query: `${prefix} FORMAT JSONEachRow`,
        values: Readable.from([body]),
      });
      res.stream.resume();
    } catch (err) {
      throw toStoreError(err, `insert into ${table} failed`);
    }
  }
  abstract readonlySql(sql: string, limits?: ReadonlySqlLimits): Promise<SqlResult>;
  abstract close(): Promise<void>;
}

class EmbeddedClickHouse extends BaseClickHouse {
  readonly backend = 'embedded' as const;
  private seq = 0;

  constructor(
    client: ClickHouseClient,
    database: string,
    log: Logger,
    private readonly dataDir: string,
    private readonly spoolDir: string,
    /** The session that started the engine with the sandboxed paths; held open for the engine's lifetime. */
    private readonly anchor: Session,
    private readonly maxMemoryUsageBytes: number,
  ) {
    super(client, database, log);
  }

  async insertNative(
    table: string,
    columns: readonly string[],
    block: Buffer,
    dedupToken: string,
  ): Promise<void> {
    const prefix = this.insertPrefix(table, columns, dedupToken);
    // The chdb connection turns insert bodies into JS strings (binary-unsafe), so the engine reads the block
    // from a spool file instead; INSERT ... SELECT honours insert_deduplication_token like a plain INSERT.
    const file = join(this.spoolDir, `${process.pid}-${++this.seq}-${randomUUID()}.native`);
    try {
      await writeParts(file, Buffer.isBuffer(block) ? [block] : block);
      await this.client.command({ query: `${prefix} SELECT * FROM file(${sqlString(file)}, 'Native')` });
    } catch (err) {
      throw toStoreError(err, `insert into ${table} failed`);
    } finally {
      try {
        unlinkSync(file);
      } catch {
        // Already gone; the spool is also swept at start.
      }
    }
  }

  async readonlySql(sql: string, limits: ReadonlySqlLimits = {}): Promise<SqlResult> {
    const maxRows = limits.maxRows ?? 10_000;
    const maxSeconds = limits.maxExecutionSeconds ?? 30;
    const catalog = await this.functionCatalog();
    // A fresh chdb session per call (same data dir, ~2 ms): settings, USE and the leftover output of a failed
    // statement live in a session, so none of them can reach the next caller, and concurrent calls never share one.
    let session: Session;
    try {
      session = new Session(this.dataDir);
    } catch (err) {
      throw toStoreError(err, 'cannot open a SQL session');
    }
    try {
      try {
        for (const s of [
          `USE ${quoteIdent(this.database)}`,
          'SET output_format_json_quote_64bit_integers = 1',
          `SET max_result_rows = ${maxRows + 1}`,
          `SET max_result_bytes = ${limits.maxResultBytes ?? 64 * 1024 * 1024}`,
          `SET result_overflow_mode = 'break'`,
          `SET max_execution_time = ${maxSeconds}`,
          `SET timeout_overflow_mode = 'throw'`,
          `SET max_memory_usage = ${this.maxMemoryUsageBytes}`,
          // Last: readonly=1 forbids every later SET and every SETTINGS clause, and refuses writes and DDL.
          'SET readonly = 1',
        ])
          await session.queryAsync(s);
      } catch (err) {
        throw toStoreError(err, 'cannot prepare the SQL session');
      }
      const steps: SqlSteps = {
        formatQuery: async (text) =>
          (
            await session.queryBindAsync(
              'SELECT formatQuery({q:String})',
              { q: text },
              { format: 'JSONCompact' },
            )
          ).text(),
        explainAst: async (canonical) =>
          (await session.queryAsync(`EXPLAIN AST ${canonical}`, { format: 'JSONCompact' })).text(),
        run: async (canonical) => (await session.queryAsync(canonical, { format: 'JSONCompact' })).text(),
      };
      const started = performance.now();
      const text = await checkedSql(steps, sql, {
        database: this.database,
        catalog,
        maxExecutionSeconds: maxSeconds,
        timeLimitVariable: limits.timeLimitVariable,
      });
      return parseCompact(text, maxRows, performance.now() - started);
    } finally {
      session.close();
    }
  }

  async close(): Promise<void> {
    await this.client.close();
    this.anchor.close();
  }
}

class ServerClickHouse extends BaseClickHouse {
  readonly backend = 'server' as const;

  async insertNative(
    table: string,
    columns: readonly string[],
    block: Buffer,
    dedupToken: string,
  ): Promise<void> {
    const prefix = this.insertPrefix(table, columns, dedupToken);
    try {
      const res = await this.client.exec({
        query: `${prefix} FORMAT Native`,
        values: Readable.from([block]),
      });
      res.stream.resume();
    } catch (err) {
      throw toStoreError(err, `insert into ${table} failed`);
    }
  }

  constructor(
    client: ClickHouseClient,
    database: string,
    log: Logger,
    /** The client analyst SQL runs on: the read-only user when one is configured. */
    private readonly sqlClient: ClickHouseClient,
  ) {
    super(client, database, log);
  }

  async readonlySql(sql: string, limits: ReadonlySqlLimits = {}): Promise<SqlResult> {
    const maxRows = limits.maxRows ?? 10_000;
    const maxSeconds = limits.maxExecutionSeconds ?? 30;
    const catalog = await this.functionCatalog();
    // Over HTTP, per-request settings do not outlive the request (no session id), so each call is isolated.
    // readonly=2 (not 1) so the limits can travel with the request; the guard refuses SETTINGS clauses, and the
    // read-only user's profile pins readonly and caps the limits (infra/clickhouse/readonly-user.sql).
    const settings: ClickHouseSettings = {
      readonly: '2',
      max_result_rows: String(maxRows + 1),
      max_result_bytes: String(limits.maxResultBytes ?? 64 * 1024 * 1024),
      result_overflow_mode: 'break',
      max_execution_time: maxSeconds,
      timeout_overflow_mode: 'throw',
    };
    const text = async (query: string, params?: QueryParams): Promise<string> => {
      const rs = await this.sqlClient.query({
        query,
        format: 'JSONCompact',
        clickhouse_settings: settings,
        ...(params ? { query_params: params } : {}),
      });
      return rs.text();
    };
    const steps: SqlSteps = {
      formatQuery: (q) => text('SELECT formatQuery({q:String})', { q }),
      explainAst: (canonical) => text(`EXPLAIN AST ${canonical}`),
      run: (canonical) => text(canonical),
    };
    const started = performance.now();
    const out = await checkedSql(steps, sql, {
      database: this.database,
      catalog,
      maxExecutionSeconds: maxSeconds,
      timeLimitVariable: limits.timeLimitVariable,
    });
    return parseCompact(out, maxRows, performance.now() - started);
  }

  async close(): Promise<void> {
    if (this.sqlClient !== this.client) await this.sqlClient.close();
    await this.client.close();
  }
}

/** PID of another live process holding an embedded data directory (from the engine's `status` file), or null. */
export function dataDirHolder(dataDir: string): number | null {
  let pid: number;
  try {
    const m = /PID:\s*(\d+)/.exec(readFileSync(join(dataDir, 'status'), 'utf8'));
    pid = m ? Number(m[1]) : NaN;
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid === process.pid) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/**
 * Opens the client and makes sure the database exists (and, embedded, is the session's current database).
 * Embedded: throws CORE_STORE_DATA_DIR_LOCKED when another process holds the data directory.
 */
export async function openClickHouse(opts: ClickHouseOptions, deps: { logger: Logger }): Promise<ClickHouse> {
  const database = opts.database ?? 'pathwatch';
  if (!IDENT.test(database) || database.includes('.'))
    throw new TypeError(`database must be a plain identifier: ${database}`);
  const log = deps.logger.child({ module: 'clickhouse', backend: opts.mode });
  if (opts.mode === 'embedded') {
    mkdirSync(opts.dataDir, { recursive: true });
    // Second line of defence: the engine's file locations point at an empty directory we own. (chdb runs as
    // clickhouse-local, where file() still reads absolute paths; the SQL guard is what refuses file access.)
    const sandbox = join(opts.dataDir, 'pathwatch-sandbox');
    rmSync(sandbox, { recursive: true, force: true });
    mkdirSync(sandbox, { recursive: true });
    let anchor: Session;
    let connection: ChdbConnection;
    try {
      // The first session of a process starts the engine, so it carries the start-up arguments; later sessions
      // on the same directory share that engine (and would ignore arguments).
      anchor = new Session(opts.dataDir, {
        connectionArgs: [
          `--user_files_path=${sandbox}/`,
          `--format_schema_path=${sandbox}/`,
          `--user_scripts_path=${sandbox}/`,
        ],
      });
      try {
        connection = createChdbConnection({ path: opts.dataDir });
      } catch (err) {
        anchor.close();
        throw err;
      }
    } catch (err) {
      const holder = dataDirHolder(opts.dataDir);
      if (holder !== null) {
        throw new StoreError(
          'CORE_STORE_DATA_DIR_LOCKED',
          `the embedded ClickHouse data directory ${opts.dataDir} is held by process ${holder} (one process per data directory): stop it, use its SQL endpoint (pathwatch sql), or choose another CLICKHOUSE_DATA_DIR`,
          { retriable: false, cause: err, context: { dataDir: opts.dataDir, pid: holder } },
        );
      }
      throw toStoreError(err, `cannot open embedded ClickHouse at ${opts.dataDir}`);
    }
    const maxMemory = opts.maxMemoryUsageBytes ?? 4 * 1024 ** 3;
    const client = createClient({
      // chdb re-exports @clickhouse/client-common's Connection type, which @clickhouse/client bundles as a
      // structurally identical copy; the cast bridges the two declarations of one contract.
      connection: connection as unknown as ClientConnection,
      clickhouse_settings: clientSettings(maxMemory),
    });
    const spoolDir = opts.spoolDir ?? join(opts.dataDir, 'pathwatch-spool');
    mkdirSync(spoolDir, { recursive: true });
    // Leftovers of a crashed process: blocks that were never confirmed, so they are re-sent from Kafka anyway.
    for (const f of readdirSync(spoolDir))
      if (f.endsWith('.native')) rmSync(join(spoolDir, f), { force: true });
    try {
      await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}` });
      await client.command({ query: `USE ${quoteIdent(database)}` });
      const [paths] = await (
        await client.query({
          query: "SELECT getServerSetting('user_files_path') AS p",
          format: 'JSONEachRow',
        })
      ).json<{ p: string }>();
      if (paths?.p !== `${sandbox}/`)
        log.warn(
          { userFilesPath: paths?.p },
          'the embedded engine was already running in this process: its file paths are not sandboxed',
        );
    } catch (err) {
      await client.close().catch(() => undefined);
      anchor.close();
      throw toStoreError(err, 'cannot prepare the database');
    }
    log.info({ dataDir: opts.dataDir, database }, 'embedded ClickHouse opened');
    return new EmbeddedClickHouse(client, database, log, opts.dataDir, spoolDir, anchor, maxMemory);
  }

  const common = {
    url: opts.url,
    username: opts.username ?? 'default',
    password: opts.password ?? '',
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    clickhouse_settings: clientSettings(opts.maxMemoryUsageBytes),
    // Below the server's default keep_alive_timeout (3 s) to avoid "socket hang up" on reused sockets.
    keep_alive: { idle_socket_ttl: 2500 },
  };
  const bootstrap = createClient(common);
  try {
    await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}` });
  } catch (err) {
    throw toStoreError(err, `cannot reach ClickHouse at ${opts.url}`);
  } finally {
    await bootstrap.close();
  }
  const client = createClient({ ...common, database });
  const sqlClient =
    opts.sqlUsername === undefined
      ? client
      : createClient({
          ...common,
          database,
          username: opts.sqlUsername,
          password: opts.sqlPassword ?? '',
          // The read-only user's profile decides the rest; only result shaping is set at client level.
          clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
        });
  log.info(
    { url: opts.url, database, sqlUser: opts.sqlUsername ?? common.username },
    'ClickHouse server connected',
  );
  return new ServerClickHouse(client, database, log, sqlClient);
}
