/**
 * `pathwatch start`: the whole pipeline in one process — the embedded default. A real Kafka broker (local,
 * unless KAFKA_BROKERS), the embedded ClickHouse (unless CLICKHOUSE_URL), the reconciler, the path writer, the
 * query API and the simulator. Prints a live summary; Ctrl-C stops everything in order and leaves nothing
 * running.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import {
  ConfigError,
  armShutdownDeadline,
  codecFromConfig,
  createKafka,
  createMetrics,
  createRootLogger,
  type KafkaClient,
  type Logger,
  kafkaSecurityFromConfig,
  readConfigs,
  redactUrl,
} from '@pathwatch/core';
import { clickhouseOptionsFromConfig, type PathStore, openPathStore } from '@pathwatch/path-store';
import { readRunningKafka, startLocalKafka, type LocalKafka } from '@pathwatch/local-kafka';
import {
  buildPathWriter,
  loadPathWriterConfig,
  pathStoreOptionsFrom,
  pathWriterAppConfigFrom,
  type PathWriterApp,
} from '@pathwatch/path-writer';
import {
  buildReconciler,
  createEngine,
  engineOptionsFrom,
  loadReconcilerConfig,
  reconcilerAppConfigFrom,
  type ReconcilerApp,
} from '@pathwatch/reconciler';
import { createSimulatorApp, loadSimulatorConfig, type SimulatorApp } from '@pathwatch/simulator';
import { buildApp, listenOptionsFrom, loadQueryApiConfig, startQueryApi } from '@pathwatch/query-api';
import { homeDir, loadCliConfig, processEnv } from './config.js';
import { preflight } from './preflight.js';
import { createProgress } from './progress.js';
import { startSummary } from './summary.js';

export async function runStart(): Promise<number> {
  const env = processEnv();
  // Every hosted service's configuration is validated before anything starts, and every problem of every
  // section is reported in one error (fail fast, all at once).
  const withBrokers = { ...env, KAFKA_BROKERS: env['KAFKA_BROKERS'] ?? '127.0.0.1:9092' };
  const dataDirDefault = env['CLICKHOUSE_DATA_DIR'] ?? path.join(homeDir(env), 'clickhouse');
  const configs = readConfigs({
    cli: () => loadCliConfig(env),
    reconciler: () => loadReconcilerConfig(withBrokers),
    pathWriter: () => loadPathWriterConfig({ ...withBrokers, CLICKHOUSE_DATA_DIR: dataDirDefault }),
    simulator: () => loadSimulatorConfig(withBrokers),
    queryApi: () => loadQueryApiConfig({ ...withBrokers, CLICKHOUSE_DATA_DIR: dataDirDefault }),
  });
  const {
    cli: config,
    reconciler: rcConfig,
    pathWriter: pwConfig,
    simulator: simConfig,
    queryApi: qaConfig,
  } = configs;
  // What would otherwise fail late (a busy API port after ~25 s, an unreachable ClickHouse after the broker
  // started): checked now, reported like config problems.
  const problems = await preflight({
    api: { host: qaConfig.host, port: qaConfig.port },
    clickhouse: clickhouseOptionsFromConfig(pwConfig),
    kafkaStateDir: config.brokers ? undefined : config.kafkaStateDir,
    logPath: config.logPath,
  });
  if (problems.length > 0) throw new ConfigError(problems);

  const progress = createProgress();
  const logger = createLogger(config.logPath, config.logLevel);
  const log = logger.child({ module: 'all-in-one' });
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const c of closers.reverse()) {
      progress.step(`stopping ${c.name}`);
      try {
        await c.close();
      } catch (err) {
        log.error({ err, component: c.name }, 'close failed');
      }
    }
    closers.length = 0;
  };

  // A holder, so checks after awaits see the signal handler's assignment.
  const shutdown: { stopping?: Promise<void>; fatal?: Error } = {};
  const stopping = (): Promise<void> | undefined => shutdown.stopping;
  const onSignal = (): void => {
    if (shutdown.stopping) {
      process.stderr.write('\nsecond Ctrl-C: exiting now\n');
      process.exit(130);
    }
    process.stderr.write('\n');
    // The documented bound (PATHWATCH_SHUTDOWN_TIMEOUT_MS): a dependency that does not answer cannot hold the exit.
    armShutdownDeadline(log, rcConfig.shutdownTimeoutMs);
    shutdown.stopping = stopAll().then(() => progress.done('stopped; nothing left running'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // 1. Kafka
    let brokers = config.brokers;
    if (!brokers) {
      // One broker per PATHWATCH_HOME: a `kafka up` broker is reused (preflight refused another start's).
      const running = await readRunningKafka(config.kafkaStateDir);
      if (running) {
        brokers = running.brokers;
        progress.done(`using the local Kafka started by \`kafka up\` on ${brokers.join(',')}`);
      } else {
        const kafka: LocalKafka = await startLocalKafka({
          dataDir: config.kafkaStateDir,
          onProgress: (p) => progress.step(p.message),
          log: logger.child({ module: 'local-kafka' }),
          ownerLabel: 'pathwatch start',
          ...(config.logPath === undefined ? {} : { logFile: config.logPath }),
        });
        brokers = kafka.brokers;
        closers.push({ name: 'Kafka broker', close: () => kafka.stop() });
        progress.done(
          `Kafka ${kafka.kafkaVersion} ready on ${brokers.join(',')} (${(kafka.readyMs / 1000).toFixed(1)} s)`,
        );
      }
    } else {
      progress.done(`using Kafka at ${brokers.join(',')}`);
    }
    const stoppedEarly = stopping();
    if (stoppedEarly) {
      await stoppedEarly;
      return 130;
    }

    // 2. ClickHouse
    progress.step(
      pwConfig.clickhouseUrl
        ? `connecting to ClickHouse at ${redactUrl(pwConfig.clickhouseUrl)}`
        : `opening the embedded ClickHouse in ${pwConfig.clickhouseDataDir}`,
    );
    const store: PathStore = await openPathStore(
      clickhouseOptionsFromConfig(pwConfig),
      { logger, now: Date.now },
      pathStoreOptionsFrom(pwConfig),
    );
    closers.push({ name: 'ClickHouse', close: () => store.close() });
    progress.done(
      `ClickHouse ${store.ch.backend === 'embedded' ? `embedded (${pwConfig.clickhouseDataDir})` : 'server'}: ${store.migrations.applied.length} migrations applied`,
    );

    // 3. Services
    const metrics = createMetrics();
    // Connection settings (TLS/SASL, registry, topics) are shared by every hosted service; each loader validated
    // the same variables, and the reconciler's and path writer's mappings take their topic names from them.
    const codec = codecFromConfig(rcConfig);
    const kafka: KafkaClient = createKafka({
      brokers,
      clientId: 'pathwatch',
      logger,
      // The local broker started here is plaintext; an external one gets the configured security.
      ...(config.brokers ? { security: kafkaSecurityFromConfig(rcConfig) } : {}),
    });
    const reconciler: ReconcilerApp = buildReconciler(
      {
        kafka,
        codec,
        engine: createEngine(engineOptionsFrom(rcConfig)),
        logger,
        metrics,
        now: Date.now,
        onFatal: (err) => {
          // Another reconciler joined our group (see the reconciler's error): stop everything, exit non-zero.
          progress.fail(err.message);
          shutdown.fatal = err;
          if (!shutdown.stopping) armShutdownDeadline(log, rcConfig.shutdownTimeoutMs);
          shutdown.stopping ??= stopAll();
        },
      },
      reconcilerAppConfigFrom(rcConfig),
    );
    const writer: PathWriterApp = buildPathWriter(
      { kafka, store, codec, logger, metrics, now: Date.now },
      pathWriterAppConfigFrom(pwConfig),
    );

    // The query API serves first: health and queries over what is stored work while the reconciler restores and
    // the writer rejoins its group (a restart must not leave the API dark); /readyz says not-ready until then.
    const api = await buildApp({
      store,
      config: qaConfig,
      logger,
      registry: metrics.registry,
      now: Date.now,
      readiness: { reconciler: () => reconciler.health(), 'path-writer': () => writer.health() },
    });
    const http = await startQueryApi(api, { ...listenOptionsFrom(qaConfig), logger, now: Date.now });
    closers.push({ name: 'query API', close: () => http.close() });
    progress.done(
      `query API on ${http.url} (dashboard at ${http.url}/ui, OpenAPI at ${http.url}/openapi.json)`,
    );
    const stoppedBeforeStages = stopping();
    if (stoppedBeforeStages) {
      await stoppedBeforeStages;
      return 130;
    }

    progress.step('starting the reconciler (restoring state)');
    await reconciler.start();
    closers.push({ name: 'reconciler', close: () => reconciler.close() });
    progress.done('reconciler running');

    progress.step('starting the path writer (joining its group)');
    await writer.start();
    closers.push({ name: 'path writer', close: () => writer.close() });
    progress.done('path writer running');

    let sim: SimulatorApp | undefined;
    if (config.simEnabled) {
      const producer = await kafka.producer();
      sim = createSimulatorApp({ config: simConfig, producer, logger, codec });
      const simApp = sim;
      void simApp.start().catch((err: unknown) => log.error({ err }, 'simulator failed'));
      closers.push({
        name: 'simulator',
        close: async () => {
          await simApp.stop();
          await producer.close();
        },
      });
      progress.done(`simulator running (preset ${simConfig.preset}, seed ${simApp.seed})`);
    }
    const early = stopping();
    if (early) {
      await early;
      return 130;
    }

    const summary = startSummary({
      reconciler,
      writer,
      sim,
      store,
      intervalMs: config.summaryIntervalMs,
      logPath: config.logPath,
      apiUrl: http.url,
    });
    closers.push({ name: 'summary', close: () => Promise.resolve(summary.stop()) });
    await new Promise<void>((resolve) => {
      const wait = setInterval(() => {
        if (shutdown.stopping) {
          clearInterval(wait);
          resolve();
        }
      }, 100);
    });
    await stopping();
    return shutdown.fatal ? 1 : 0;
  } catch (err) {
    progress.fail(err instanceof Error ? err.message : String(err));
    log.error({ err }, 'start failed');
    await stopAll();
    return 1;
  }
}

function createLogger(
  logPath: string | undefined,
  level: Parameters<typeof createRootLogger>[0]['level'],
): Logger {
  if (logPath === undefined) return createRootLogger({ level, name: 'pathwatch' });
  mkdirSync(path.dirname(logPath), { recursive: true });
  return createRootLogger({
    level,
    name: 'pathwatch',
    destination: pino.destination({ dest: logPath, sync: false, mkdir: true }),
  });
}
