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
import { createChdbConnection, type ChdbConnection } from 'chdb/connection';
import { StoreError } from '../errors.js';
import type { Logger } from '../logger.js';

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
  /** Read-only SQL for analysts: rejected unless it is a single read statement; writes fail in the engine too. */
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

/** Analyst SQL gate: one statement, starting with a read keyword, no FORMAT/INTO OUTFILE. The engine enforces readonly too. */
export function readonlySqlProblem(sql: string): string | null {
  const stripped = sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^'\\]|\\.)*'/g, "''")
    .trim()
    .replace(/;\s*$/, '');
  if (stripped.length === 0) return 'the SQL is empty';
  if (stripped.includes(';')) return 'only one statement is allowed (found ";")';
  if (!/^(select|with|show|describe|desc|explain|exists)\b/i.test(stripped)) {
    return 'only read statements are allowed (SELECT, WITH, SHOW, DESCRIBE, EXPLAIN, EXISTS)';
  }
  if (/\binto\s+outfile\b/i.test(stripped)) return 'INTO OUTFILE is not allowed';
  if (/\bformat\s+[A-Za-z]+\s*$/i.test(stripped))
    return 'remove the FORMAT clause: results are returned as JSON';
  return null;
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
  constructor(
    protected readonly client: ClickHouseClient,
    readonly database: string,
    protected readonly log: Logger,
  ) {}

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
  private readonlyConn: ChdbConnection | undefined;

  constructor(
    client: ClickHouseClient,
    database: string,
    log: Logger,
    private readonly dataDir: string,
    private readonly spoolDir: string,
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
    const problem = readonlySqlProblem(sql);
    if (problem) throw new StoreError('CORE_STORE_SQL_REJECTED', problem, { retriable: false });
    const maxRows = limits.maxRows ?? 10_000;
    const maxSeconds = limits.maxExecutionSeconds ?? 30;
    // A second session on the same data dir: settings are per session in chdb, so readonly=1 there never
    // reaches the writer's session. readonly=1 also blocks file()/url() table functions (measured). It forbids
    // SET afterwards, so limits are fixed per session; a call with other limits gets a new session.
    const conn = await this.readonlyConnFor(maxRows, maxSeconds);
    const started = performance.now();
    try {
      const res = await conn.chdb.queryAsync(sql, { format: 'JSONCompact' });
      return parseCompact(res.text(), maxRows, performance.now() - started);
    } catch (err) {
      throw toStoreError(err, 'SQL failed');
    }
  }

  private limitsKey = '';
  private async readonlyConnFor(maxRows: number, maxSeconds: number): Promise<ChdbConnection> {
    const key = `${maxRows}/${maxSeconds}`;
    if (this.readonlyConn && this.limitsKey === key) return this.readonlyConn;
    await this.readonlyConn?.close().catch(() => undefined);
    const conn = createChdbConnection({ path: this.dataDir });
    try {
      for (const s of [
        `USE ${quoteIdent(this.database)}`,
        'SET output_format_json_quote_64bit_integers = 1',
        `SET max_result_rows = ${maxRows + 1}`,
        `SET result_overflow_mode = 'break'`,
        `SET max_execution_time = ${maxSeconds}`,
        'SET readonly = 1',
      ]) {
        await conn.chdb.queryAsync(s);
      }
    } catch (err) {
      await conn.close().catch(() => undefined);
      throw toStoreError(err, 'cannot open the read-only session');
    }
    this.readonlyConn = conn;
    this.limitsKey = key;
    return conn;
  }

  async close(): Promise<void> {
    await this.readonlyConn?.close().catch(() => undefined);
    await this.client.close();
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

  async readonlySql(sql: string, limits: ReadonlySqlLimits = {}): Promise<SqlResult> {
    const problem = readonlySqlProblem(sql);
    if (problem) throw new StoreError('CORE_STORE_SQL_REJECTED', problem, { retriable: false });
    const maxRows = limits.maxRows ?? 10_000;
    const started = performance.now();
    try {
      // Over HTTP, per-request settings do not outlive the request, so they are safe here (unlike chdb).
      // readonly=2 still allows setting limits in the same request; table functions are governed by the
      // server user's grants: give analysts a read-only user.
      const rs = await this.client.query({
        query: sql,
        format: 'JSONCompact',
        clickhouse_settings: {
          readonly: '2',
          max_result_rows: String(maxRows + 1),
          result_overflow_mode: 'break',
          max_execution_time: limits.maxExecutionSeconds ?? 30,
        },
      });
      return parseCompact(await rs.text(), maxRows, performance.now() - started);
    } catch (err) {
      throw toStoreError(err, 'SQL failed');
    }
  }

  async close(): Promise<void> {
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
    let connection: ChdbConnection;
    try {
      connection = createChdbConnection({ path: opts.dataDir });
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
    const client = createClient({
      // chdb re-exports @clickhouse/client-common's Connection type, which @clickhouse/client bundles as a
      // structurally identical copy; the cast bridges the two declarations of one contract.
      connection: connection as unknown as ClientConnection,
      clickhouse_settings: clientSettings(opts.maxMemoryUsageBytes ?? 4 * 1024 ** 3),
    });
    const spoolDir = opts.spoolDir ?? join(opts.dataDir, 'pathwatch-spool');
    mkdirSync(spoolDir, { recursive: true });
    // Leftovers of a crashed process: blocks that were never confirmed, so they are re-sent from Kafka anyway.
    for (const f of readdirSync(spoolDir))
      if (f.endsWith('.native')) rmSync(join(spoolDir, f), { force: true });
    try {
      await client.command({ query: `CREATE DATABASE IF NOT EXISTS ${quoteIdent(database)}` });
      await client.command({ query: `USE ${quoteIdent(database)}` });
    } catch (err) {
      await client.close().catch(() => undefined);
      throw toStoreError(err, 'cannot prepare the database');
    }
    log.info({ dataDir: opts.dataDir, database }, 'embedded ClickHouse opened');
    return new EmbeddedClickHouse(client, database, log, opts.dataDir, spoolDir);
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
  log.info({ url: opts.url, database }, 'ClickHouse server connected');
  return new ServerClickHouse(client, database, log);
}
