/**
 * Configuration of the all-in-one runner and the CLI: the only place the CLI reads the environment. Each hosted
 * service reads its own variables through its own config loader, given the same environment.
 */
import path from 'node:path';
import {
  ConfigError,
  connectConfigSpec,
  connectProblems,
  parse,
  readConfig,
  type ConnectConfig,
  type ConfigOf,
  type VarSpec,
  sharedVars,
} from '@pathwatch/core';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

export const cliConfigSpec = {
  home: v({
    env: 'PATHWATCH_HOME',
    doc: 'Directory for local state: the local broker, the embedded ClickHouse data, logs.',
    default: '.pathwatch',
    parse: parse.string,
  }),
  brokers: v<string[] | undefined>({
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap servers, comma-separated host:port. Unset: a local single-node broker is started.',
    default: undefined,
    optional: true,
    defaultDoc: 'local broker',
    parse: parse.brokers,
  }),
  kafkaPort: v<number | undefined>({
    env: 'PATHWATCH_KAFKA_PORT',
    doc: 'Fixed port of the local broker (`kafka up`, `start` without KAFKA_BROKERS), so its address stays the same across starts; a taken port is an error. Unset: `kafka up` reuses its previous port when free, `start` takes a free one; `pathwatch kafka status` prints the address.',
    default: undefined,
    optional: true,
    defaultDoc: 'a free port',
    parse: parse.int(1024, 65_535),
  }),
  simEnabled: v({
    env: 'SIM_ENABLED',
    doc: 'Run the traffic simulator inside `pathwatch start`.',
    default: true,
    parse: parse.bool,
  }),
  summaryIntervalMs: v({
    env: 'PATHWATCH_SUMMARY_INTERVAL_MS',
    doc: 'How often `pathwatch start` prints its live summary.',
    default: 2000,
    parse: parse.int(200, 600_000),
  }),
  logFile: v<string | undefined>({
    env: 'LOG_FILE',
    doc: 'Where `pathwatch start` writes its JSON logs (stdout shows the live summary). `-` = stdout.',
    default: undefined,
    optional: true,
    defaultDoc: '$PATHWATCH_HOME/logs/pathwatch.log',
    parse: parse.string,
  }),
  logLevel: sharedVars.logLevel,
};

export type CliConfig = ConfigOf<typeof cliConfigSpec> & {
  readonly kafkaStateDir: string;
  readonly logPath: string | undefined;
};

export function loadCliConfig(env: Readonly<Record<string, string | undefined>> = process.env): CliConfig {
  const c = readConfig(env, cliConfigSpec);
  const home = path.resolve(c.home);
  return Object.freeze({
    ...c,
    home,
    kafkaStateDir: path.join(home, 'kafka'),
    logPath:
      c.logFile === '-' ? undefined : path.resolve(c.logFile ?? path.join(home, 'logs', 'pathwatch.log')),
  });
}

/** PATHWATCH_HOME as an absolute path, before (and regardless of) full validation: other defaults derive from it. */
export function homeDir(env: Readonly<Record<string, string | undefined>>): string {
  return path.resolve(env['PATHWATCH_HOME']?.trim() || cliConfigSpec.home.default || '.pathwatch');
}

/** The process environment, handed to each hosted service's own config loader. */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}

/** Connection settings (TLS/SASL, registry, topic names) for CLI commands that talk to Kafka (`pathwatch tail`). */
export function loadConnectConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ConnectConfig {
  const c = readConfig(env, connectConfigSpec);
  const problems = connectProblems(c);
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}
