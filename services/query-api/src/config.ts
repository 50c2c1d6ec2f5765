/**
 * Query API configuration: the only place it reads the environment. Every default is documented here and in
 * the README's configuration table (configDocRows(queryApiConfigSpec)).
 */
import { parse, readConfig, type ConfigOf, type VarSpec, sharedVars } from '@pathwatch/core';
import {
  clickhouseConfigSpec,
  clickhouseOptionsFromConfig,
  type ClickHouseOptions,
} from '@pathwatch/path-store';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

export const queryApiHttpSpec = {
  host: v({
    env: 'QUERY_API_HOST',
    doc: 'Interface the HTTP API listens on.',
    default: '127.0.0.1',
    parse: parse.string,
  }),
  port: v({
    env: 'QUERY_API_PORT',
    doc: 'HTTP port of the query API (0: any free port).',
    default: 8080,
    parse: parse.int(0, 65_535),
  }),
  authToken: v<string | undefined>({
    env: 'QUERY_API_TOKEN',
    doc: 'When set, /v1/* and /metrics require `Authorization: Bearer <token>` (/healthz, /readyz, /openapi.json and the dashboard shell /ui stay open; the dashboard asks for the token; see SECURITY.md).',
    default: undefined,
    optional: true,
    defaultDoc: 'no auth',
    parse: (raw: string) => {
      if (raw.length < 16) throw new Error('must be at least 16 characters');
      return raw;
    },
  }),
  sqlEnabled: v({
    env: 'QUERY_API_SQL_ENABLED',
    doc: 'Serve POST /v1/sql (read-only analyst SQL; `pathwatch sql` uses it while this process holds the embedded data directory).',
    default: true,
    parse: parse.bool,
  }),
  sqlMaxRows: v({
    env: 'QUERY_API_SQL_MAX_ROWS',
    doc: 'Row cap of POST /v1/sql results.',
    default: 10_000,
    parse: parse.int(1, 1_000_000),
  }),
  sqlTimeoutSeconds: v({
    env: 'QUERY_API_SQL_TIMEOUT_S',
    doc: 'Execution time cap of POST /v1/sql.',
    default: 30,
    parse: parse.int(1, 3600),
  }),
  maxRawRangeHours: v({
    env: 'QUERY_API_MAX_RAW_RANGE_HOURS',
    doc: 'Longest time range of queries over raw path records (variance, explain, anomalies).',
    default: 168,
    parse: parse.int(1, 24 * 366),
  }),
  maxRollupRangeDays: v({
    env: 'QUERY_API_MAX_ROLLUP_RANGE_DAYS',
    doc: 'Longest time range of dashboard (rollup) queries.',
    default: 92,
    parse: parse.int(1, 3660),
  }),
  maxResultRows: v({
    env: 'QUERY_API_MAX_RESULT_ROWS',
    doc: 'Cap on `limit` of every endpoint.',
    default: 10_000,
    parse: parse.int(1, 1_000_000),
  }),
};

export const queryApiConfigSpec = {
  ...queryApiHttpSpec,
  ...clickhouseConfigSpec,
  logLevel: sharedVars.logLevel,
};

export type QueryApiConfig = ConfigOf<typeof queryApiConfigSpec>;
/** What buildApp needs (the HTTP part; ClickHouse options are the caller's). */
export type QueryApiHttpConfig = ConfigOf<typeof queryApiHttpSpec>;

export function loadQueryApiConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): QueryApiConfig {
  return readConfig(env, queryApiConfigSpec);
}

/** Where and how the API listens (startQueryApi's options apart from logger and clock): the one mapping. */
export function listenOptionsFrom(config: QueryApiConfig): {
  host: string;
  port: number;
  sqlEnabled: boolean;
  clickhouse: ClickHouseOptions;
} {
  return {
    host: config.host,
    port: config.port,
    sqlEnabled: config.sqlEnabled,
    clickhouse: clickhouseOptionsFromConfig(config),
  };
}
