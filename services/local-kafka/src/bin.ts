#!/usr/bin/env node
// pathwatch-local-kafka: the local broker from a shell or CI, without the pathwatch CLI.
//   fetch                 fetch (or verify) the cached broker jars
//   fetch-registry        fetch (or verify) the cached Apicurio Registry app and find a Java 21+ for it
//   up   [--state-dir D]  start a detached broker (state in D, default ./.pathwatch/kafka); prints the brokers
//   down [--state-dir D] [--delete-data]
//   status [--state-dir D]   prints the running broker as JSON; exit code 1 when none
//   run  [--data-dir D]   foreground broker until Ctrl-C (throwaway data unless --data-dir)
// Progress goes to stderr, so `export KAFKA_BROKERS=$(node services/local-kafka/dist/bin.js up)` works.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalKafka } from './broker.js';
import { localKafkaToolsFromEnv } from './config.js';
import { kafkaDown, kafkaUp, readRunningKafka } from './detached.js';
import { LocalKafkaError } from './errors.js';
import { ensureKafkaJars } from './jars.js';
import { ensureRegistryApp, findRegistryJava } from './registry.js';
import type { LocalKafkaProgress } from './types.js';

const USAGE =
  'usage: pathwatch-local-kafka fetch | fetch-registry | up [--state-dir D] [--port N] | down [--state-dir D] [--delete-data] | status [--state-dir D] | run [--data-dir D] [--port N]';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'state-dir': { type: 'string', default: path.join('.pathwatch', 'kafka') },
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'delete-data': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const tools = localKafkaToolsFromEnv();
  const onProgress = (p: LocalKafkaProgress): void => console.error(`[${p.stage}] ${p.message}`);
  const stateDir = values['state-dir'];
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
    console.error(`--port must be a TCP port, got ${values.port}`);
    return 2;
  }
  const portOption = port === undefined ? {} : { brokerPort: port };

  switch (command) {
    case 'fetch': {
      const jars = await ensureKafkaJars({ ...tools, onProgress });
      console.error(
        `Kafka ${jars.kafkaVersion}: ${jars.jarCount} jars in ${jars.libsDir} (${jars.fetched ? `fetched in ${jars.durationMs} ms` : 'cached'})`,
      );
      return 0;
    }
    case 'fetch-registry': {
      const dir = await ensureRegistryApp({ mavenPath: tools.mavenPath, onProgress });
      const java = await findRegistryJava();
      console.error(`Apicurio Registry in ${dir}; Java 21+: ${java}`);
      return 0;
    }
    case 'up': {
      const up = await kafkaUp({ ...tools, stateDir, onProgress, ...portOption });
      if (up.alreadyRunning)
        console.error(
          `Kafka already running (pid ${up.pid}, ${up.ownerLabel}${up.kind === 'attached' ? ` pid ${up.ownerPid}` : ''}); nothing started`,
        );
      else console.error(`Kafka running (pid ${up.pid}); log: ${up.logFile ?? '-'}; stop with: down`);
      console.log(up.brokers.join(','));
      return 0;
    }
    case 'down': {
      const down = await kafkaDown({ stateDir, deleteData: values['delete-data'] });
      if (down.heldBy) {
        console.error(
          `Kafka (pid ${down.heldBy.pid}) belongs to ${down.heldBy.ownerLabel} (pid ${down.heldBy.ownerPid}); stop that process instead`,
        );
        return 1;
      }
      console.error(
        down.stopped
          ? `Kafka stopped (pid ${down.pid}${down.forced ? ', forced' : ''})`
          : 'No Kafka was running',
      );
      return 0;
    }
    case 'status': {
      const running = await readRunningKafka(stateDir);
      if (!running) {
        console.error('No Kafka running');
        return 1;
      }
      console.log(JSON.stringify(running, null, 2));
      return 0;
    }
    case 'run': {
      const kafka = await startLocalKafka({
        ...tools,
        onProgress,
        ...portOption,
        ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
      });
      console.log(kafka.brokers.join(','));
      console.error(`Kafka running (pid ${kafka.pid}); Ctrl-C stops it`);
      // The broker handle deliberately does not keep the event loop alive; this does, until a signal.
      const keepAlive = setInterval(() => undefined, 1 << 30);
      const signal = await Promise.race([
        new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        }),
        kafka.exited.then((exit) => `broker exit (code ${exit.exitCode})`),
      ]);
      clearInterval(keepAlive);
      console.error(`${signal}: stopping Kafka`);
      await kafka.stop();
      return signal.startsWith('broker') ? 1 : 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof LocalKafkaError ? `${err.code}: ${err.message}` : err);
    process.exitCode = 1;
  },
);
