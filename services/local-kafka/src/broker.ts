import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalKafkaError, javaMissing } from './errors.js';
import { acquireBrokerLock, type BrokerLock } from './lock.js';
import { dirLocked } from './lock-errors.js';
import { checkJava } from './java.js';
import { ensureKafkaJars } from './jars.js';
import type { EnsureKafkaJarsOptions, KafkaJars } from './jars.js';
import { READY_LINE, brokerJavaArgs, brokerLayout, formatStorage } from './jvm.js';
import { watchdogScriptPath } from './paths.js';
import { freePorts } from './ports.js';
import { LineTail, lineSplitter, procStartTicks, waitForPidExit, withTimeout } from './process-util.js';
import { waitForMetadata } from './readiness.js';
import { LOCAL_KAFKA_HOST, renderServerProperties } from './server-properties.js';
import {
  makeSecureMaterial,
  scramFormatArgs,
  secureServerOverrides,
  type SecureListeners,
  type SecureListenersOptions,
  type SecureMaterial,
} from './secure.js';

export interface StartLocalKafkaOptions extends EnsureKafkaJarsOptions {
  /**
   * Directory for the broker's config and data; kept after `stop()`, and reused (already formatted) next time.
   * @default a throwaway directory under the OS temp dir, deleted on `stop()` (or by the watchdog if we die)
   */
  readonly dataDir?: string;
  /** Jars from an earlier `ensureKafkaJars()`. @default fetched or read from the cache with the same options */
  readonly jars?: KafkaJars;
  /** Broker JVM heap (-Xmx), in MiB. @default 512 */
  readonly heapMb?: number;
  /** @default a free port chosen by the OS */
  readonly brokerPort?: number;
  /** @default a free port chosen by the OS */
  readonly controllerPort?: number;
  /** From spawning the JVM to a successful metadata request. @default 90_000 */
  readonly readyTimeoutMs?: number;
  /** Between SIGTERM (clean broker shutdown) and SIGKILL. @default 15_000 */
  readonly stopGraceMs?: number;
  /** Extra or replacing server.properties entries, e.g. `{ 'auto.create.topics.enable': 'false' }`. */
  readonly overrides?: Readonly<Record<string, string>>;
  /**
   * Who runs this broker, shown by `kafka status` and in the error a second start gets (e.g. `pathwatch start`).
   * @default 'a process using @pathwatch/local-kafka'
   */
  readonly ownerLabel?: string;
  /** Where the broker's output is logged, shown by `kafka status`. */
  readonly logFile?: string;
  /**
   * Also open a SASL_SSL listener (PLAIN, SCRAM-SHA-256/512 for these users) and an SSL listener requiring a
   * client certificate, with a throwaway CA (see secure.ts). For a throwaway data dir: SCRAM users are stored
   * when the storage is formatted.
   */
  readonly secure?: SecureListenersOptions;
}

export interface BrokerExit {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when the exit followed `stop()`. */
  readonly expected: boolean;
}

/** A running broker. Its process never outlives ours: a watchdog stops it when this process dies in any way. */
export interface LocalKafka {
  /** Bootstrap servers, e.g. `['127.0.0.1:41234']`. */
  readonly brokers: string[];
  /** The broker JVM's pid. */
  readonly pid: number;
  /** The watchdog process between us and the JVM. */
  readonly watchdogPid: number;
  readonly dataDir: string;
  readonly kafkaVersion: string;
  /** From spawning the broker JVM to the first successful metadata request. */
  readonly readyMs: number;
  /** Settles (never rejects) when the broker has exited, expectedly or not. */
  readonly exited: Promise<BrokerExit>;
  /** The last lines the broker printed (WARN and above, plus the readiness line). */
  output(): string;
  /** The secured listeners, when started with `secure`. */
  readonly secure?: SecureListeners;
  /** SIGTERM, then SIGKILL after the grace period; deletes a throwaway data dir. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_HEAP_MB = 512;
const DEFAULT_READY_TIMEOUT_MS = 90_000;
const DEFAULT_STOP_GRACE_MS = 15_000;
const MAX_PORT_ATTEMPTS = 3;

/**
 * Starts a real single-node Kafka (KRaft, combined broker+controller) on 127.0.0.1 and resolves once clients can
 * use it. Fetches the jars first if needed (see `ensureKafkaJars`).
 */
export async function startLocalKafka(opts: StartLocalKafkaOptions = {}): Promise<LocalKafka> {
  const javaPath = opts.javaPath ?? 'java';
  const jars = opts.jars ?? (await ensureKafkaJars(opts));
  await checkJava(javaPath);
  const throwaway = opts.dataDir === undefined;
  const dir =
    opts.dataDir === undefined
      ? await mkdtemp(path.join(tmpdir(), 'pathwatch-kafka-'))
      : path.resolve(opts.dataDir);
  let lock: BrokerLock | undefined;
  try {
    await mkdir(dir, { recursive: true });
    if (!throwaway) {
      // One broker per data directory: a second one would corrupt the first one's metadata log.
      const taken = await acquireBrokerLock(dir, {
        kind: 'attached',
        ownerLabel: opts.ownerLabel ?? 'a process using @pathwatch/local-kafka',
      });
      if (!taken.acquired) throw dirLocked(dir, taken.holder);
      lock = taken.lock;
    }
    const fixedPorts = opts.brokerPort !== undefined || opts.controllerPort !== undefined;
    const material: SecureMaterial | undefined = opts.secure
      ? await makeSecureMaterial(dir, opts.secure.opensslPath)
      : undefined;
    for (let attempt = 1; ; attempt++) {
      const [freeA = 0, freeB = 0, freeC = 0, freeD = 0] = await freePorts(opts.secure ? 4 : 2);
      const brokerPort = opts.brokerPort ?? freeA;
      const controllerPort = opts.controllerPort ?? (freeB === brokerPort ? freeA : freeB);
      const securePorts = { saslSsl: freeC, ssl: freeD };
      const { configFile, logDir } = brokerLayout(dir);
      const overrides = {
        ...(material && opts.secure
          ? secureServerOverrides(material, opts.secure.users, {
              broker: brokerPort,
              controller: controllerPort,
              ...securePorts,
            })
          : {}),
        ...opts.overrides,
      };
      await writeFile(configFile, renderServerProperties({ brokerPort, controllerPort, logDir, overrides }));
      if (attempt === 1) {
        opts.onProgress?.({ stage: 'local-kafka.format', message: 'Formatting Kafka storage' });
        await formatStorage(javaPath, jars, dir, opts.secure ? scramFormatArgs(opts.secure.users) : []);
      }
      const launched = await launch({
        opts,
        javaPath,
        jars,
        dir,
        throwaway,
        brokerPort,
        controllerPort,
        lock,
        ...(material
          ? {
              secure: {
                saslSslBrokers: [`${LOCAL_KAFKA_HOST}:${securePorts.saslSsl}`],
                sslBrokers: [`${LOCAL_KAFKA_HOST}:${securePorts.ssl}`],
                caFile: material.caFile,
                clientCertFile: material.clientCertFile,
                clientKeyFile: material.clientKeyFile,
              },
            }
          : {}),
      });
      if ('broker' in launched) return launched.broker;
      if (!launched.portInUse || fixedPorts || attempt >= MAX_PORT_ATTEMPTS) throw launched.error;
      opts.log?.warn(
        { stage: 'local-kafka.start', brokerPort, controllerPort, attempt },
        'port taken, retrying',
      );
    }
  } catch (err) {
    await lock?.release();
    if (throwaway) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

interface LaunchInput {
  readonly opts: StartLocalKafkaOptions;
  readonly javaPath: string;
  readonly jars: KafkaJars;
  readonly dir: string;
  readonly throwaway: boolean;
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly lock: BrokerLock | undefined;
  readonly secure?: SecureListeners;
}

type LaunchResult = { broker: LocalKafka } | { error: unknown; portInUse: boolean };

type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG4J_LEVEL = /^\[[^\]]+\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL) /;

async function launch(input: LaunchInput): Promise<LaunchResult> {
  const { opts, javaPath, jars, dir, throwaway, brokerPort, controllerPort, lock } = input;
  const log = opts.log;
  const brokers = [`${LOCAL_KAFKA_HOST}:${brokerPort}`];
  const graceMs = opts.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const tail = new LineTail(300);
  let portInUse = false;
  let stopRequested = false;
  let markReadyLine!: () => void;
  const readyLineSeen = new Promise<void>((resolve) => (markReadyLine = resolve));
  let level: LogLevel = 'debug';
  const onLine = (line: string): void => {
    tail.push(line);
    if (line.includes(READY_LINE)) markReadyLine();
    if (line.includes('Address already in use')) portInUse = true;
    const match = LOG4J_LEVEL.exec(line);
    // Continuation lines (stack traces) keep the level of the line they continue.
    if (match) level = toLogLevel(match[1]);
    log?.[level]({ stage: 'local-kafka.broker', line }, 'broker output');
  };

  opts.onProgress?.({
    stage: 'local-kafka.start',
    message: `Starting Kafka ${jars.kafkaVersion} on ${brokers[0]}`,
  });
  const startedAt = Date.now();
  const watchdogConfig = {
    command: javaPath,
    args: brokerJavaArgs(jars, dir, opts.heapMb ?? DEFAULT_HEAP_MB),
    graceMs,
    ...(throwaway ? { removeDirIfOrphaned: dir } : {}),
  };
  // detached: own process group, so a terminal's Ctrl-C reaches only us; we decide when the broker stops
  // (e.g. after the app has committed its offsets). The watchdog covers the case where we never get to.
  const watchdog = spawn(process.execPath, [watchdogScriptPath(), JSON.stringify(watchdogConfig)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  const out = lineSplitter(onLine);
  const err = lineSplitter(onLine);
  watchdog.stdout?.on('data', (c: Buffer) => out.write(c));
  watchdog.stderr?.on('data', (c: Buffer) => err.write(c));
  // 'close' (not 'exit'): fires after the output pipes drain, so error messages carry the last lines.
  const exited = new Promise<BrokerExit>((resolve) => {
    watchdog.once('close', (exitCode, signal) => {
      out.end();
      err.end();
      resolve({ exitCode, signal, expected: stopRequested });
    });
    watchdog.once('error', () => resolve({ exitCode: null, signal: null, expected: stopRequested }));
  });
  const javaPid = new Promise<number>((resolve, reject) => {
    watchdog.on('message', (message: { type?: string; pid?: number; message?: string }) => {
      if (message.type === 'spawned' && typeof message.pid === 'number') resolve(message.pid);
      if (message.type === 'spawn-error') reject(javaMissing(javaPath, new Error(message.message)));
    });
  });

  const failedDuringStart = exited.then((exit): never => {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_START_FAILED',
      `The Kafka broker exited during start (exit code ${exit.exitCode}, signal ${exit.signal}).\n` +
        `--- broker output ---\n${tail.text()}`,
    );
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new LocalKafkaError(
            'LOCAL_KAFKA_START_TIMEOUT',
            `The Kafka broker was not ready after ${readyTimeoutMs} ms (waiting for "${READY_LINE}" and a metadata ` +
              `request to ${brokers[0]}). Data dir: ${dir}\n--- broker output ---\n${tail.text()}`,
            { retriable: true },
          ),
        ),
      readyTimeoutMs,
    );
  });

  let pid: number | undefined;
  try {
    pid = await Promise.race([javaPid, failedDuringStart, timedOut]);
    await lock?.update({ brokerPid: pid, ...startTicks(pid) });
    await Promise.race([
      readyLineSeen.then(() => waitForMetadata(brokers, startedAt + readyTimeoutMs)),
      failedDuringStart,
      timedOut,
    ]);
  } catch (error) {
    stopRequested = true;
    await terminate(watchdog, exited, pid, graceMs);
    return { error, portInUse };
  } finally {
    clearTimeout(timer);
  }

  const readyMs = Date.now() - startedAt;
  opts.onProgress?.({
    stage: 'local-kafka.ready',
    message: `Kafka ${jars.kafkaVersion} ready on ${brokers[0]} in ${(readyMs / 1000).toFixed(1)} s`,
  });
  log?.info({ stage: 'local-kafka.ready', brokers, pid, readyMs, dataDir: dir }, 'local kafka ready');
  await lock?.update({
    state: 'running',
    brokers,
    brokerPort,
    controllerPort,
    kafkaVersion: jars.kafkaVersion,
    ...(opts.logFile === undefined ? {} : { logFile: opts.logFile }),
  });

  // Nothing here keeps the event loop alive: a process that forgets stop() still exits, and the watchdog then
  // stops the broker. stop() re-refs the watchdog until it is done.
  watchdog.unref();
  watchdog.channel?.unref();
  (watchdog.stdout as Socket | null)?.unref();
  (watchdog.stderr as Socket | null)?.unref();

  const brokerPid = pid;
  let stopping: Promise<void> | undefined;
  return {
    broker: {
      brokers,
      pid: brokerPid,
      watchdogPid: watchdog.pid ?? -1,
      dataDir: dir,
      kafkaVersion: jars.kafkaVersion,
      readyMs,
      exited,
      output: () => tail.text(),
      ...(input.secure ? { secure: input.secure } : {}),
      stop: () =>
        (stopping ??= (async () => {
          stopRequested = true;
          const stopStartedAt = Date.now();
          await terminate(watchdog, exited, brokerPid, graceMs);
          await lock?.release();
          if (throwaway) await rm(dir, { recursive: true, force: true });
          log?.info(
            { stage: 'local-kafka.stop', pid: brokerPid, stopMs: Date.now() - stopStartedAt },
            'local kafka stopped',
          );
        })()),
    },
  };
}

/** SIGTERM through the watchdog (clean broker shutdown), SIGKILL both if that takes too long. */
async function terminate(
  watchdog: ChildProcess,
  exited: Promise<BrokerExit>,
  javaPid: number | undefined,
  graceMs: number,
): Promise<void> {
  watchdog.ref();
  (watchdog.stdout as Socket | null)?.ref();
  (watchdog.stderr as Socket | null)?.ref();
  if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGTERM');
  if ((await withTimeout(exited, graceMs + 5_000)) === 'timeout') {
    if (javaPid !== undefined) killQuietly(javaPid);
    watchdog.kill('SIGKILL');
    await withTimeout(exited, 5_000);
  }
  if (javaPid !== undefined && !(await waitForPidExit(javaPid, 5_000))) killQuietly(javaPid);
}

function startTicks(pid: number): { brokerStartTicks?: number } {
  const ticks = procStartTicks(pid);
  return ticks === undefined ? {} : { brokerStartTicks: ticks };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function toLogLevel(log4jLevel: string | undefined): LogLevel {
  switch (log4jLevel) {
    case 'WARN':
      return 'warn';
    case 'ERROR':
    case 'FATAL':
      return 'error';
    case 'INFO':
      return 'info';
    default:
      return 'debug';
  }
}
