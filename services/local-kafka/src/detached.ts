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
import { freePorts, isPortOpen } from './ports.js';
import { dirLocked } from './lock-errors.js';
import {
  LOCK_FILE,
  acquireBrokerLock,
  readBrokerLock,
  type BrokerLock,
  type BrokerOwnerKind,
  type LockHolder,
} from './lock.js';
import { isPidAlive, procCommandLine, procStartTicks, waitForPidExit } from './process-util.js';
import { waitForMetadata } from './readiness.js';
import { LOCAL_KAFKA_HOST, renderServerProperties } from './server-properties.js';

/**
 * The broker running on a state directory (e.g. `<repo>/.pathwatch/kafka`): one started by `kafkaUp` (detached,
 * outliving the process that started it; output in `broker.log`) or by `startLocalKafka({ dataDir })` (attached,
 * e.g. `pathwatch start`). Found through `broker.lock` (see lock.ts); `broker.json` remembers the last detached
 * run's ports. `server.properties` and the data in `kraft-data/` are kept across runs.
 */
export interface RunningKafka {
  readonly pid: number;
  /** Bootstrap servers, e.g. `['127.0.0.1:19092']`. */
  readonly brokers: string[];
  readonly brokerPort: number;
  readonly controllerPort: number;
  readonly stateDir: string;
  /** The broker's stdout and stderr (WARN and above), when known. */
  readonly logFile: string | undefined;
  readonly kafkaVersion: string;
  /** ISO-8601 wall-clock time of start. */
  readonly startedAt: string;
  /** `detached`: from `kafkaUp`; `attached`: stops with the process that started it (`ownerPid`). */
  readonly kind: BrokerOwnerKind;
  /** Who started it, e.g. `kafka up`, `pathwatch start`. */
  readonly ownerLabel: string;
  readonly ownerPid: number;
  /** The bootstrap port accepted a connection just now. */
  readonly answering: boolean;
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
  /** True when a broker was already running on this directory (from `kafkaUp` or `pathwatch start`); nothing was started. */
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
  /** False when no broker was running, or when it is attached to another process (`heldBy`). */
  readonly stopped: boolean;
  /** The attached broker that was left alone: stopping it is its owner's job (e.g. Ctrl-C in `pathwatch start`). */
  readonly heldBy?: RunningKafka;
  readonly pid?: number;
  /** True when SIGKILL was needed. */
  readonly forced: boolean;
}

const STATE_FILE = 'broker.json';
const LOG_FILE = 'broker.log';
const POLL_MS = 200;

/**
 * The broker running on `stateDir`, whoever started it, if its process is alive and is really that broker
 * (pid, start time and, on Linux, the command line are checked, so a reused pid is never mistaken for it).
 * `answering` tells whether its port accepts connections.
 */
export async function readRunningKafka(stateDir: string): Promise<RunningKafka | undefined> {
  const dir = path.resolve(stateDir);
  const holder = await readBrokerLock(dir);
  if (holder) return holder.record.state === 'running' ? fromHolder(holder) : undefined;
  // A detached broker started before broker.lock existed.
  const legacy = await readStateFile(dir).catch(() => undefined);
  if (!legacy || !isOurBroker(legacy)) return undefined;
  return {
    ...legacy,
    kind: 'detached',
    ownerLabel: 'kafka up',
    ownerPid: legacy.pid,
    answering: await isPortOpenOn(legacy.brokerPort),
  };
}

function fromHolder(holder: LockHolder): RunningKafka {
  const r = holder.record;
  return {
    pid: r.brokerPid ?? r.ownerPid,
    brokers: r.brokers ?? [],
    brokerPort: r.brokerPort ?? 0,
    controllerPort: r.controllerPort ?? 0,
    stateDir: r.stateDir,
    logFile: r.logFile,
    kafkaVersion: r.kafkaVersion ?? 'unknown',
    startedAt: r.startedAt,
    kind: r.kind,
    ownerLabel: r.ownerLabel,
    ownerPid: r.ownerPid,
    answering: holder.answering,
  };
}

/** Waits while another process is starting a broker here; its broker once running, or undefined if it gave up. */
async function waitWhileStarting(dir: string, deadline: number): Promise<RunningKafka | undefined> {
  for (;;) {
    const holder = await readBrokerLock(dir);
    if (!holder) return undefined;
    if (holder.record.state === 'running') return fromHolder(holder);
    if (Date.now() >= deadline) throw dirLocked(dir, holder);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * Starts a broker that keeps running after this process exits (for `npm run kafka:up`), or returns the one
 * already running. Waits until clients can use it.
 */
export async function kafkaUp(opts: KafkaUpOptions): Promise<KafkaUpResult> {
  const stateDir = path.resolve(opts.stateDir);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  await mkdir(stateDir, { recursive: true });
  // Never a second broker on this directory: reuse whichever one runs (ours from an earlier `up`, or
  // `pathwatch start`'s), waiting if one is being started right now.
  let lock;
  for (;;) {
    const running = await readRunningKafka(stateDir);
    if (running) return { ...running, alreadyRunning: true };
    const taken = await acquireBrokerLock(stateDir, { kind: 'detached', ownerLabel: 'kafka up' });
    if (taken.acquired) {
      lock = taken.lock;
      break;
    }
    const started = await waitWhileStarting(stateDir, Date.now() + readyTimeoutMs);
    if (started) return { ...started, alreadyRunning: true };
  }
  try {
    return await launchDetached(opts, stateDir, readyTimeoutMs, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function launchDetached(
  opts: KafkaUpOptions,
  stateDir: string,
  readyTimeoutMs: number,
  lock: BrokerLock,
): Promise<KafkaUpResult> {
  const javaPath = opts.javaPath ?? 'java';
  const jars = await ensureKafkaJars(opts);
  await checkJava(javaPath);
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
  if (child.pid !== undefined) {
    const ticks = procStartTicks(child.pid);
    await lock.update({ brokerPid: child.pid, ...(ticks === undefined ? {} : { brokerStartTicks: ticks }) });
  }

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

  await lock.update({
    state: 'running',
    brokers,
    brokerPort,
    controllerPort,
    kafkaVersion: jars.kafkaVersion,
    logFile,
  });
  const record: RunningKafka = {
    pid: child.pid,
    brokers,
    brokerPort,
    controllerPort,
    stateDir,
    logFile,
    kafkaVersion: jars.kafkaVersion,
    startedAt: lock.record().startedAt,
    kind: 'detached',
    ownerLabel: 'kafka up',
    ownerPid: lock.record().ownerPid,
    answering: true,
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
  const record = await readRunningKafka(stateDir);
  if (record?.kind === 'attached') return { stopped: false, forced: false, heldBy: record };
  let result: KafkaDownResult = { stopped: false, forced: false };
  if (record) {
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
  // The broker is gone, so its lock is stale; remove it unless a new broker took it meanwhile.
  if (!(await readBrokerLock(stateDir))) await rm(path.join(stateDir, LOCK_FILE), { force: true });
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

async function isPortOpenOn(port: number | undefined): Promise<boolean> {
  return port === undefined ? false : isPortOpen(port);
}

function isOurBroker(record: { pid: number; stateDir: string }): boolean {
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
