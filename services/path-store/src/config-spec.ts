/**
 * ClickHouse variables shared by every service that opens the path store. Services spread this spec into their
 * own config.ts spec (the only files that read the environment) and turn the result into options here.
 */
import { parse, type ConfigOf, type VarSpec } from '@pathwatch/core';
import type { ClickHouseOptions } from './client.js';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

const identifier = (raw: string): string => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw))
    throw new Error('must be a plain identifier (letters, digits, _)');
  return raw;
};

export const clickhouseConfigSpec = {
  clickhouseUrl: v<string | undefined>({
    env: 'CLICKHOUSE_URL',
    doc: 'ClickHouse HTTP endpoint (e.g. http://localhost:8123). Unset: the embedded engine (chdb) in this process.',
    default: undefined,
    optional: true,
    defaultDoc: 'embedded',
    parse: parse.url,
  }),
  clickhouseUser: v({
    env: 'CLICKHOUSE_USER',
    doc: 'ClickHouse user (server mode).',
    default: 'default',
    parse: parse.string,
  }),
  clickhousePassword: v({
    env: 'CLICKHOUSE_PASSWORD',
    doc: 'ClickHouse password (server mode).',
    default: '',
    defaultDoc: 'empty',
    parse: parse.string,
  }),
  clickhouseSqlUser: v<string | undefined>({
    env: 'CLICKHOUSE_SQL_USER',
    doc: 'Read-only ClickHouse user for analyst SQL (POST /v1/sql, server mode); see infra/clickhouse/readonly-user.sql. Unset: CLICKHOUSE_USER.',
    default: undefined,
    optional: true,
    defaultDoc: 'CLICKHOUSE_USER',
    parse: parse.string,
  }),
  clickhouseSqlPassword: v({
    env: 'CLICKHOUSE_SQL_PASSWORD',
    doc: 'Password of CLICKHOUSE_SQL_USER.',
    default: '',
    defaultDoc: 'empty',
    parse: parse.string,
  }),
  clickhouseDatabase: v({
    env: 'CLICKHOUSE_DATABASE',
    doc: 'Database holding the path store (created and migrated at start).',
    default: 'pathwatch',
    parse: identifier,
  }),
  clickhouseDataDir: v({
    env: 'CLICKHOUSE_DATA_DIR',
    doc: 'Data directory of the embedded engine. One process at a time may hold it.',
    default: '.pathwatch/clickhouse',
    parse: parse.string,
  }),
  clickhouseMaxMemoryBytes: v<number | undefined>({
    env: 'CLICKHOUSE_MAX_MEMORY_BYTES',
    doc: 'Per-query memory cap. Unset: 4 GiB embedded (an OOM would take the process down), the server profile otherwise.',
    default: undefined,
    optional: true,
    defaultDoc: '4 GiB embedded',
    parse: parse.int(64 * 1024 * 1024),
  }),
};

export type ClickHouseConfig = ConfigOf<typeof clickhouseConfigSpec>;

/** Typed client options from the parsed variables. */
export function clickhouseOptionsFromConfig(c: ClickHouseConfig): ClickHouseOptions {
  const mem =
    c.clickhouseMaxMemoryBytes === undefined ? {} : { maxMemoryUsageBytes: c.clickhouseMaxMemoryBytes };
  if (c.clickhouseUrl !== undefined) {
    return {
      mode: 'server',
      url: c.clickhouseUrl,
      username: c.clickhouseUser,
      password: c.clickhousePassword,
      database: c.clickhouseDatabase,
      ...(c.clickhouseSqlUser === undefined
        ? {}
        : { sqlUsername: c.clickhouseSqlUser, sqlPassword: c.clickhouseSqlPassword }),
      ...mem,
    };
  }
  return { mode: 'embedded', dataDir: c.clickhouseDataDir, database: c.clickhouseDatabase, ...mem };
}
