#!/usr/bin/env node
/**
 * `pathwatch` — one CLI for everything a user touches locally:
 *   start                 the whole pipeline in one process (embedded default) with simulated traffic
 *   kafka up|down|status  a detached local broker for manual use;  kafka fetch: only fetch the jars
 *   sql "<query>"         ClickHouse SQL against the store (through the running process when it holds the data)
 *   path <request_id>     one request's execution path as a timeline
 */
import { ConfigError, redactText, redactValue } from '@pathwatch/core';
import {
  ensureKafkaJars,
  kafkaDown,
  kafkaUp,
  readRunningKafka,
  LocalKafkaError,
  type RunningKafka,
} from '@pathwatch/local-kafka';
import { loadCliConfig } from './config.js';
import { createProgress } from './progress.js';
import { runStart } from './start.js';
import { runPath, runSql } from './store-commands.js';

const USAGE = `usage: pathwatch <command>

  start                     run Kafka (unless KAFKA_BROKERS), the embedded ClickHouse (unless CLICKHOUSE_URL),
                            the reconciler, path writer, query API and simulator in one process
  kafka up|down|status      manage a detached local Kafka broker (state in $PATHWATCH_HOME/kafka)
  kafka fetch               fetch the Kafka broker jars from Maven Central (cached)
  sql "<query>"             run ClickHouse SQL against the path store
  path <request_id>         print one request's execution path as a timeline
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
      const k = await kafkaUp({ stateDir: config.kafkaStateDir, onProgress });
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
      console.log(
        k
          ? `running: ${k.brokers.join(',')} (pid ${k.pid}, Kafka ${k.kafkaVersion}, ${describeOwner(k)}, since ${k.startedAt}${k.answering ? '' : ', NOT answering'})`
          : `not running (${config.kafkaStateDir})`,
      );
      return k ? 0 : 3;
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

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'start':
      return runStart();
    case 'kafka':
      return kafkaCommand(rest[0]);
    case 'sql':
      return runSql(rest.join(' '));
    case 'path':
      return runPath(rest[0]);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return 0;
    default:
      console.error(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    // Error text can carry a connection URL (with its password) or a token: printed only redacted.
    if (err instanceof ConfigError || err instanceof LocalKafkaError) {
      console.error(`pathwatch: ${redactText(err.message)}`);
    } else {
      console.error('pathwatch: failed:', redactValue(err));
    }
    process.exitCode = 1;
  },
);
