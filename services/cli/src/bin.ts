#!/usr/bin/env node
/**
 * `pathwatch` — one CLI for everything a user touches locally:
 *   start                 the whole pipeline in one process (embedded default) with simulated traffic
 *   kafka up|down|status  a detached local broker for manual use;  kafka fetch: only fetch the jars
 *   sql "<query>"         ClickHouse SQL against the store (through the running process when it holds the data)
 *   path <request_id>     one request's execution path as a timeline
 *   reconciler | path-writer | query-api | simulator   one service alone in this process (deployment)
 *   tail verdicts|actions|dead-letter   follow an output topic, decoded, one line per record
 * Arguments are parsed by node:util parseArgs (strict): an unknown option or a missing/extra argument is a usage
 * error, exit code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, redactText, redactValue } from '@pathwatch/core';
import { clusterDdl } from '@pathwatch/path-store';
import {
  ensureKafkaJars,
  kafkaDown,
  kafkaUp,
  readRunningKafka,
  LocalKafkaError,
  type RunningKafka,
} from '@pathwatch/local-kafka';
import { runPathWriterService } from '@pathwatch/path-writer';
import { runQueryApiService } from '@pathwatch/query-api';
import { runReconcilerService } from '@pathwatch/reconciler';
import { runSimulatorService } from '@pathwatch/simulator';
import { loadCliConfig, loadConnectConfig } from './config.js';
import { createProgress } from './progress.js';
import { runStart } from './start.js';
import { runPath, runSql } from './store-commands.js';
import { TAIL_TOPICS, runTail, type TailWhat } from './tail.js';

const USAGE = `usage: pathwatch <command>

  start                     run Kafka (unless KAFKA_BROKERS), the embedded ClickHouse (unless CLICKHOUSE_URL),
                            the reconciler, path writer, query API and simulator in one process
  kafka up|down|status      manage a detached local Kafka broker (state in $PATHWATCH_HOME/kafka)
  kafka fetch               fetch the Kafka broker jars from Maven Central (cached)
  sql "<query>"             run ClickHouse SQL against the path store
  path <request_id>         print one request's execution path as a timeline

  reconciler                run one service alone in this process, with its own /healthz, /readyz and
  path-writer               /metrics (see the README's deployment guide); KAFKA_BROKERS is required
  query-api                 (query-api: the HTTP API over CLICKHOUSE_URL or the embedded data directory)
  simulator

  clickhouse cluster-ddl --cluster NAME [--database D] [--keeper-prefix P]
                            print the DDL for a replicated ClickHouse cluster (README, deployment guide)
  tail verdicts|actions|dead-letter [--json] [--from-beginning] [--max N]
                            follow an output topic, decoded, one line per record on stdout (logs on
                            stderr); --json prints the documented JSON shape; ends on Ctrl-C or a closed pipe
  help                      this text

Configuration is read from environment variables; see the README's configuration table.`;

async function kafkaCommand(sub: string | undefined): Promise<number> {
  const config = loadCliConfig();
  const progress = createProgress();
  const onProgress = (p: { message: string }): void => progress.step(p.message);
  switch (sub) {
    case 'fetch': {
      const jars = await ensureKafkaJars({ onProgress });
      progress.done(
        `Kafka ${jars.kafkaVersion} jars ready (${jars.jarCount} jars${jars.fetched ? `, fetched in ${(jars.durationMs / 1000).toFixed(1)} s` : ', cached'})`,
      );
      return 0;
    }
    case 'up': {
      // Never a second broker on this PATHWATCH_HOME: a running one (ours or `pathwatch start`'s) is reused.
      const k = await kafkaUp({
        stateDir: config.kafkaStateDir,
        onProgress,
        ...(config.kafkaPort === undefined ? {} : { brokerPort: config.kafkaPort }),
      });
      progress.done(
        k.alreadyRunning
          ? `Kafka already running on ${k.brokers.join(',')}, ${describeOwner(k)}; nothing started`
          : `Kafka started on ${k.brokers.join(',')} (pid ${k.pid}, log ${k.logFile ?? '-'})`,
      );
      if (!k.answering)
        progress.fail(`the broker (pid ${k.pid}) does not accept connections on ${k.brokers.join(',')}`);
      console.log(`export KAFKA_BROKERS=${k.brokers.join(',')}`);
      return k.answering ? 0 : 1;
    }
    case 'down': {
      const r = await kafkaDown({ stateDir: config.kafkaStateDir });
      if (r.heldBy) {
        progress.fail(
          `Kafka on ${r.heldBy.brokers.join(',')} belongs to ${describeOwner(r.heldBy)}; stop that process instead (Ctrl-C)`,
        );
        return 1;
      }
      progress.done(
        r.stopped
          ? `Kafka stopped (pid ${r.pid ?? '?'}${r.forced ? ', forced' : ''})`
          : 'no local Kafka was running',
      );
      return 0;
    }
    case 'status': {
      const k = await readRunningKafka(config.kafkaStateDir);
      if (!k) {
        console.error(`not running (${config.kafkaStateDir})`);
        return 3;
      }
      // stderr: the description; stdout: only what a script needs, `eval "$(pathwatch kafka status)"`.
      console.error(
        `running: ${k.brokers.join(',')} (pid ${k.pid}, Kafka ${k.kafkaVersion}, ${describeOwner(k)}, since ${k.startedAt}${k.answering ? '' : ', NOT answering'})`,
      );
      console.log(`export KAFKA_BROKERS=${k.brokers.join(',')}`);
      return k.answering ? 0 : 1;
    }
    default:
      console.error(`unknown kafka command: ${sub ?? '(none)'}\n\n${USAGE}`);
      return 2;
  }
}

function describeOwner(k: RunningKafka): string {
  return k.kind === 'detached'
    ? `started by \`kafka up\``
    : `run by ${k.ownerLabel} (pid ${k.ownerPid}), stops with it`;
}

/** A command line that does not parse: printed with the usage, exit code 2. */
class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs in strict mode: unknown options, bad values and wrong positional counts are usage errors. */
function parse<O extends Options>(
  command: string,
  args: string[],
  options: O,
  positionals: { min: number; max: number; names: string },
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let r;
  try {
    r = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`${command}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (r.positionals.length < positionals.min || r.positionals.length > positionals.max)
    throw new UsageError(
      `${command}: expected ${positionals.names || 'no arguments'}, got ${r.positionals.length === 0 ? 'none' : r.positionals.map((p) => JSON.stringify(p)).join(' ')}`,
    );
  return { values: r.values, positionals: r.positionals };
}

async function tailCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    'tail',
    args,
    {
      json: { type: 'boolean', default: false },
      'from-beginning': { type: 'boolean', default: false },
      max: { type: 'string' },
    },
    { min: 1, max: 1, names: 'one of verdicts, actions, dead-letter' },
  );
  const what = positionals[0] as string;
  if (!Object.hasOwn(TAIL_TOPICS, what))
    throw new UsageError(
      `tail: unknown topic ${JSON.stringify(what)}: one of ${Object.keys(TAIL_TOPICS).join(', ')}`,
    );
  let max: number | undefined;
  const maxRaw = values['max'];
  if (maxRaw !== undefined) {
    if (typeof maxRaw !== 'string' || !/^[1-9]\d{0,8}$/.test(maxRaw))
      throw new UsageError(`tail: --max must be a positive integer, got ${JSON.stringify(maxRaw)}`);
    max = Number(maxRaw);
  }
  const config = loadCliConfig();
  const connect = loadConnectConfig();
  let brokers = config.brokers;
  if (!brokers) {
    const k = await readRunningKafka(config.kafkaStateDir);
    if (!k) {
      console.error(
        `pathwatch tail: no KAFKA_BROKERS and no local broker running in ${config.kafkaStateDir} (start one: pathwatch kafka up)`,
      );
      return 1;
    }
    brokers = k.brokers;
  }
  return runTail({
    what: what as TailWhat,
    json: values['json'] === true,
    fromBeginning: values['from-beginning'] === true,
    max,
    brokers,
    connect,
    // The local broker is plaintext; an external one gets the configured TLS/SASL.
    secure: config.brokers !== undefined,
    // Library log lines are noise in a pipeline: warnings and errors only, on stderr.
    logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel,
  });
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const none = { min: 0, max: 0, names: '' };
  switch (command) {
    case 'start':
      parse('start', rest, {}, none);
      return runStart();
    case 'kafka': {
      const { positionals } = parse(
        'kafka',
        rest,
        {},
        { min: 1, max: 1, names: 'up, down, status or fetch' },
      );
      return kafkaCommand(positionals[0]);
    }
    case 'sql': {
      const { positionals } = parse('sql', rest, {}, { min: 1, max: Infinity, names: 'a query' });
      return runSql(positionals.join(' '));
    }
    case 'path': {
      const { positionals } = parse('path', rest, {}, { min: 1, max: 1, names: 'a request_id' });
      return runPath(positionals[0]);
    }
    // One service per process: each starts and keeps the process alive until a signal stops it.
    case 'reconciler':
      parse(command, rest, {}, none);
      await runReconcilerService();
      return 0;
    case 'path-writer':
      parse(command, rest, {}, none);
      await runPathWriterService();
      return 0;
    case 'query-api':
      parse(command, rest, {}, none);
      await runQueryApiService();
      return 0;
    case 'simulator':
      parse(command, rest, {}, none);
      await runSimulatorService();
      return 0;
    case 'tail':
      return tailCommand(rest);
    case 'clickhouse': {
      const { values } = parse(
        'clickhouse',
        rest,
        { cluster: { type: 'string' }, database: { type: 'string' }, 'keeper-prefix': { type: 'string' } },
        { min: 1, max: 1, names: 'cluster-ddl' },
      );
      if (rest[0] !== 'cluster-ddl')
        throw new UsageError(`clickhouse: unknown command ${JSON.stringify(rest[0])}`);
      const cluster = values['cluster'];
      if (typeof cluster !== 'string')
        throw new UsageError('clickhouse cluster-ddl: --cluster NAME is required');
      const database = values['database'];
      const keeperPrefix = values['keeper-prefix'];
      let ddl: string[];
      try {
        ddl = clusterDdl({
          cluster,
          ...(typeof database === 'string' ? { database } : {}),
          ...(typeof keeperPrefix === 'string' ? { keeperPrefix } : {}),
        });
      } catch (err) {
        throw new UsageError(`clickhouse cluster-ddl: ${err instanceof Error ? err.message : String(err)}`);
      }
      process.stdout.write(`${ddl.join(';\n\n')};\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // A service that failed to start may hold open servers and clients: exit once the message is out.
    setImmediate(() => process.exit(process.exitCode ?? 1)).unref();
    // Error text can carry a connection URL (with its password) or a token: printed only redacted.
    if (err instanceof UsageError) {
      console.error(`pathwatch: ${err.message}\nusage: see \`pathwatch help\``);
      process.exitCode = 2;
      return;
    }
    if (err instanceof ConfigError || err instanceof LocalKafkaError) {
      console.error(`pathwatch: ${redactText(err.message)}`);
      // Invalid configuration: exit 2, as every service (README, Errors).
      if (err instanceof ConfigError) {
        process.exitCode = 2;
        return;
      }
    } else {
      console.error('pathwatch: failed:', redactValue(err));
    }
    process.exitCode = 1;
  },
);
