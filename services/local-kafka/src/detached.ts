import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { LocalKafkaError, javaMissing } from './errors.js';
import { checkJava } from './java.js';
import { ensureKafkaJars } from './jars.js';
import type { EnsureKafkaJarsOptions } from './jars.js';
import { BROKER_MARKER_PROPERTY, READY_LINE, brokerJavaArgs, brokerLayout, formatStorage } from './jvm.js';
import { freePorts } from './ports.js';
import { isPidAlive, procCommandLine, waitForPidExit } from './process-util.js';
import { waitForMetadata } from './readiness.js';
import { LOCAL_KAFKA_HOST, renderServerProperties } from './server-properties.js';

/**
 * A broker started by `kafkaUp`, outliving the process that started it (`npm run kafka:up`). Its state lives in
 * `stateDir` (e.g. `<repo>/.pathwatch/kafka`): `broker.json` (this record), `broker.log`, `server.properties`
 * and the data in `kraft-data/`, kept across down/up.
 */
export interface RunningKafka {
  readonly pid: number;
  /** Bootstrap servers, e.g. `['127.0.0.1:19092']`. */
  readonly brokers: string[];
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly stateDir: string;
  /** The broker's stdout and stderr (WARN and above). */
  readonly logFile: string;
  readonly kafkaVersion: string;
  /** ISO-8601 wall-clock time of start. */
  readonly startedAt: string;
}

export interface KafkaUpOptions extends EnsureKafkaJarsOptions {
  /** Directory of the broker's state and data, e.g. `<repo>/.pathwatch/kafka`. */
  readonly stateDir: string;
  /** Broker JVM heap (-Xmx), in MiB. @default 512 */
  readonly heapMb?: number;
  /** @default the port of the previous run if still free, else a free port chosen by the OS */
  readonly brokerPort?: number;
  /** @default the port of the previous run if still free, else a free port chosen by the OS */
  readonly controllerPort?: number;
  /** @default 90_000 */
  readonly readyTimeoutMs?: number;
  /** Extra or replacing server.properties entries. */
  readonly overrides?: Readonly<Record<string, string>>;
}

export interface KafkaUpResult extends RunningKafka {
  /** True when a broker from an earlier `kafkaUp` was already running; nothing was started. */
  readonly alreadyRunning: boolean;
}

export interface KafkaDownOptions {
  readonly stateDir: string;
  /** Between SIGTERM (clean shutdown, keeps data consistent) and SIGKILL. @default 30_000 */
  readonly graceMs?: number;
  /** Also delete the broker's data (topics, offsets). @default false */
  readonly deleteData?: boolean;
}

export interface KafkaDownResult {
  /** False when no broker was running. */
  readonly stopped: boolean;
  readonly pid?: number;
  /** True when SIGKILL was needed. */
  readonly forced: boolean;
}

const STATE_FILE = 'broker.json';
const LOG_FILE = 'broker.log';
const POLL_MS = 200;

/**
 * The broker recorded in `stateDir`, if its process is still alive and is really that broker (on Linux the pid's
 * command line is checked, so a reused pid is never mistaken for it). Does not contact the broker.
 */
export async function readRunningKafka(stateDir: string): Promise<RunningKafka | undefined> {
  const record = await readStateFile(path.resolve(stateDir));
  if (!record || !isOurBroker(record)) return undefined;
  return record;
}

/**
 * Starts a broker that keeps running after this process exits (for `npm run kafka:up`), or returns the one
 * already running. Waits until clients can use it.
 */
export async function kafkaUp(opts: KafkaUpOptions): Promise<KafkaUpResult> {
  const stateDir = path.resolve(opts.stateDir);
  const running = await readRunningKafka(stateDir);
  if (running) return { ...running, alreadyRunning: true };

  const javaPath = opts.javaPath ?? 'java';
  const jars = await ensureKafkaJars(opts);
  await checkJava(javaPath);
  await mkdir(stateDir, { recursive: true });
  const previous = await readStateFile(stateDir);
  const [brokerPort, controllerPort] = await choosePorts(opts, previous);
  const { configFile, logDir } = brokerLayout(stateDir);
  await writeFile(
    configFile,
    renderServerProperties({
      brokerPort,
      controllerPort,
      logDir,
      ...(opts.overrides ? { overrides: opts.overrides } : {}),
    }),
  );
  opts.onProgress?.({ stage: 'local-kafka.format', message: 'Formatting Kafka storage' });
  await formatStorage(javaPath, jars, stateDir);

  const logFile = path.join(stateDir, LOG_FILE);
  const brokers = [`${LOCAL_KAFKA_HOST}:${brokerPort}`];
  opts.onProgress?.({
    stage: 'local-kafka.start',
    message: `Starting Kafka ${jars.kafkaVersion} on ${brokers[0]}`,
  });
  const logFd = openSync(logFile, 'w');
  const startedAtMs = Date.now();
  const child = spawn(javaPath, brokerJavaArgs(jars, stateDir, opts.heapMb ?? 512), {
    detached: true,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `exit code ${code}, signal ${signal}`));
  child.once('error', (err) => (exit = `spawn error: ${err.message}`));

  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const deadline = startedAtMs + readyTimeoutMs;
  const failure = async (code: 'LOCAL_KAFKA_START_FAILED' | 'LOCAL_KAFKA_START_TIMEOUT', what: string) => {
    if (child.pid !== undefined && exit === undefined) {
      child.kill('SIGKILL');
      await waitForPidExit(child.pid, 5_000);
    }
    const output = await readFile(logFile, 'utf8').catch(() => '');
    return new LocalKafkaError(
      code,
      `${what}\n--- broker output (${logFile}) ---\n${output.split('\n').slice(-80).join('\n')}`,
    );
  };
  for (;;) {
    if (exit !== undefined) {
      if (exit.startsWith('spawn error')) throw javaMissing(javaPath, new Error(exit));
      throw await failure('LOCAL_KAFKA_START_FAILED', `The Kafka broker exited during start (${exit}).`);
    }
    if (Date.now() >= deadline) {
      throw await failure(
        'LOCAL_KAFKA_START_TIMEOUT',
        `The Kafka broker was not ready after ${readyTimeoutMs} ms.`,
      );
    }
    const output = await readFile(logFile, 'utf8').catch(() => '');
    if (output.includes(READY_LINE)) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  try {
    await waitForMetadata(brokers, deadline);
  } catch (err) {
    throw await failure(
      'LOCAL_KAFKA_START_TIMEOUT',
      `Metadata requests to ${brokers[0]} kept failing: ${String(err)}`,
    );
  }
  if (child.pid === undefined)
    throw await failure('LOCAL_KAFKA_START_FAILED', 'The broker process has no pid.');
  child.unref();

  const record: RunningKafka = {
    pid: child.pid,
    brokers,
    brokerPort,
    controllerPort,
    stateDir,
    logFile,
    kafkaVersion: jars.kafkaVersion,
    startedAt: new Date(startedAtMs).toISOString(),
  };
  const tmp = path.join(stateDir, `${STATE_FILE}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, path.join(stateDir, STATE_FILE));
  opts.onProgress?.({
    stage: 'local-kafka.ready',
    message: `Kafka ${jars.kafkaVersion} ready on ${brokers[0]} in ${((Date.now() - startedAtMs) / 1000).toFixed(1)} s (pid ${child.pid})`,
  });
  opts.log?.info({ stage: 'local-kafka.ready', ...record }, 'local kafka started (detached)');
  return { ...record, alreadyRunning: false };
}

/** Stops the broker started by `kafkaUp` (SIGTERM, then SIGKILL after `graceMs`) and removes its state record. */
export async function kafkaDown(opts: KafkaDownOptions): Promise<KafkaDownResult> {
  const stateDir = path.resolve(opts.stateDir);
  const record = await readStateFile(stateDir);
  let result: KafkaDownResult = { stopped: false, forced: false };
  if (record && isOurBroker(record)) {
    process.kill(record.pid, 'SIGTERM');
    let forced = false;
    if (!(await waitForPidExit(record.pid, opts.graceMs ?? 30_000))) {
      forced = true;
      process.kill(record.pid, 'SIGKILL');
      await waitForPidExit(record.pid, 10_000);
    }
    result = { stopped: true, pid: record.pid, forced };
  }
  await rm(path.join(stateDir, STATE_FILE), { force: true });
  if (opts.deleteData) await rm(brokerLayout(stateDir).logDir, { recursive: true, force: true });
  return result;
}

async function readStateFile(stateDir: string): Promise<RunningKafka | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(stateDir, STATE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const record = JSON.parse(text) as RunningKafka;
    if (!Number.isInteger(record.pid) || !Array.isArray(record.brokers))
      throw new Error('missing pid or brokers');
    return record;
  } catch (err) {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_STATE_INVALID',
      `${path.join(stateDir, STATE_FILE)} is not a valid broker record; delete it if no broker is running`,
      { cause: err },
    );
  }
}

function isOurBroker(record: RunningKafka): boolean {
  if (!isPidAlive(record.pid)) return false;
  const commandLine = procCommandLine(record.pid);
  // No /proc (macOS): trust the pid.
  return commandLine === undefined || commandLine.includes(`-D${BROKER_MARKER_PROPERTY}=${record.stateDir}`);
}

async function choosePorts(
  opts: KafkaUpOptions,
  previous: RunningKafka | undefined,
): Promise<[number, number]> {
  const [freeA = 0, freeB = 0] = await freePorts(2);
  const pick = async (
    wanted: number | undefined,
    last: number | undefined,
    fallback: number,
  ): Promise<number> => {
    if (wanted !== undefined) return wanted;
    if (last !== undefined && (await isPortFree(last))) return last;
    return fallback;
  };
  const brokerPort = await pick(opts.brokerPort, previous?.brokerPort, freeA);
  let controllerPort = await pick(opts.controllerPort, previous?.controllerPort, freeB);
  if (controllerPort === brokerPort) controllerPort = brokerPort === freeA ? freeB : freeA;
  return [brokerPort, controllerPort];
}

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, LOCAL_KAFKA_HOST, () => server.close(() => resolve(true)));
  });
}
