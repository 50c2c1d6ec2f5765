/**
 * A real Schema Registry for tests and local use: Apicurio Registry (Confluent-compatible API under
 * `/apis/ccompat/v7`), fetched once from Maven Central with Maven (`io.apicurio:apicurio-registry-app`, the
 * `all` tar.gz: a Quarkus fast-jar) and run with a Java 21+ found on the machine. In-memory storage: every start
 * is empty. Like the broker, it runs under the watchdog, so it never outlives the process that started it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEPENDENCY_PLUGIN } from './jars.js';
import { LocalKafkaError, mavenMissing } from './errors.js';
import { parseJavaMajorVersion } from './java.js';
import { localRegistryJavaCandidates } from './config.js';
import { watchdogScriptPath } from './paths.js';
import { freePorts } from './ports.js';
import { LineTail, lineSplitter, runCommand, waitForPidExit, withTimeout } from './process-util.js';
import { LOCAL_KAFKA_HOST } from './server-properties.js';
import type { LocalKafkaLogger, OnProgress } from './types.js';

/** Apicurio Registry release (Maven Central `io.apicurio:apicurio-registry-app`). */
export const APICURIO_VERSION = '3.3.3';
/** Apicurio Registry 3 is built for Java 21 (class file version 65). */
export const REGISTRY_MIN_JAVA_MAJOR = 21;
/** Path of the Confluent-compatible API on an Apicurio Registry. */
export const CCOMPAT_PATH = '/apis/ccompat/v7';

export interface StartLocalRegistryOptions {
  /** Where the app is cached (`<dir>/<version>/quarkus-run.jar`). @default the repository's `infra/apicurio/app` */
  readonly appDir?: string;
  /** @default 'mvn' */
  readonly mavenPath?: string;
  readonly mavenRepoLocal?: string;
  /** A Java 21+ launcher. @default the first Java 21+ of `localRegistryJavaCandidates()` */
  readonly javaPath?: string;
  /** @default 512 */
  readonly heapMb?: number;
  /** @default 120_000 */
  readonly readyTimeoutMs?: number;
  readonly onProgress?: OnProgress;
  readonly log?: LocalKafkaLogger;
}

export interface LocalRegistry {
  /** Confluent-compatible base URL, e.g. `http://127.0.0.1:41234/apis/ccompat/v7` (SCHEMA_REGISTRY_URL). */
  readonly url: string;
  /** The server root, e.g. `http://127.0.0.1:41234`. */
  readonly rootUrl: string;
  readonly pid: number;
  readonly readyMs: number;
  readonly version: string;
  output(): string;
  /** SIGTERM, then SIGKILL. Idempotent. */
  stop(): Promise<void>;
}

export function defaultRegistryAppDir(): string {
  return fileURLToPath(new URL('../../../infra/apicurio/app/', import.meta.url));
}

/** The first candidate that runs and reports Java 21 or newer; a clear error naming what was tried otherwise. */
export async function findRegistryJava(
  candidates: readonly string[] = localRegistryJavaCandidates(),
): Promise<string> {
  const seen: string[] = [];
  for (const java of candidates) {
    try {
      const r = await runCommand(java, ['-version'], { timeoutMs: 30_000 });
      const major = parseJavaMajorVersion(r.output);
      seen.push(`${java}: ${major === undefined ? 'unrecognised' : `Java ${major}`}`);
      if (major !== undefined && major >= REGISTRY_MIN_JAVA_MAJOR) return java;
    } catch {
      seen.push(`${java}: not found`);
    }
  }
  throw new LocalKafkaError(
    'LOCAL_REGISTRY_JAVA_MISSING',
    `The local Schema Registry (Apicurio Registry ${APICURIO_VERSION}) needs Java ${REGISTRY_MIN_JAVA_MAJOR} or newer; ` +
      `none found (${seen.join('; ')}). Fix: install a JDK 21+ (e.g. Temurin 21 or 25) under /usr/lib/jvm, or set ` +
      'PATHWATCH_REGISTRY_JAVA to its bin/java.',
  );
}

/** Fetches and unpacks the app once (about 160 MB); returns the directory holding quarkus-run.jar. */
export async function ensureRegistryApp(opts: StartLocalRegistryOptions = {}): Promise<string> {
  const base = opts.appDir ?? defaultRegistryAppDir();
  const dir = path.join(base, APICURIO_VERSION);
  if (existsSync(path.join(dir, 'quarkus-run.jar'))) return dir;
  await mkdir(base, { recursive: true });
  const work = await mkdtemp(path.join(base, `.fetch-${APICURIO_VERSION}-`));
  try {
    opts.onProgress?.({
      stage: 'local-kafka.fetch',
      message: `Fetching Apicurio Registry ${APICURIO_VERSION} from Maven Central (about 160 MB, once)`,
    });
    const mvn = opts.mavenPath ?? 'mvn';
    const args = [
      '-B',
      '-q',
      `${DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`,
      `-DoutputDirectory=${work}`,
      ...(opts.mavenRepoLocal ? [`-Dmaven.repo.local=${opts.mavenRepoLocal}`] : []),
    ];
    let run;
    try {
      run = await runCommand(mvn, args, { cwd: work, timeoutMs: 900_000 });
    } catch (err) {
      throw mavenMissing(mvn, err);
    }
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tar.gz'));
    if (run.exitCode !== 0 || tarball === undefined) {
      throw new LocalKafkaError(
        'LOCAL_REGISTRY_FETCH_FAILED',
        `Fetching io.apicurio:apicurio-registry-app:${APICURIO_VERSION} (tar.gz, classifier all) failed ` +
          `(exit ${run.exitCode ?? run.signal}).\n--- Maven output ---\n${run.output}`,
        { retriable: true },
      );
    }
    const unpacked = path.join(work, 'app');
    await mkdir(unpacked);
    const tar = await runCommand('tar', ['xzf', path.join(work, tarball), '-C', unpacked], {
      timeoutMs: 300_000,
    });
    if (tar.exitCode !== 0 || !existsSync(path.join(unpacked, 'quarkus-run.jar'))) {
      throw new LocalKafkaError(
        'LOCAL_REGISTRY_FETCH_FAILED',
        `Unpacking ${tarball} gave no quarkus-run.jar (tar exit ${tar.exitCode ?? tar.signal}).\n${tar.output}`,
      );
    }
    try {
      await rename(unpacked, dir);
    } catch (err) {
      // Another process finished first: its copy is as good as ours.
      if (!existsSync(path.join(dir, 'quarkus-run.jar'))) throw err;
    }
    return dir;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Starts Apicurio Registry on free ports of 127.0.0.1 and resolves once its Confluent API answers. */
export async function startLocalRegistry(opts: StartLocalRegistryOptions = {}): Promise<LocalRegistry> {
  const appDir = await ensureRegistryApp(opts);
  const javaPath = opts.javaPath ?? (await findRegistryJava());
  const [httpPort = 0, managementPort = 0] = await freePorts(2);
  const rootUrl = `http://${LOCAL_KAFKA_HOST}:${httpPort}`;
  const url = `${rootUrl}${CCOMPAT_PATH}`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const workDir = await mkdtemp(path.join(tmpdir(), 'pathwatch-registry-'));
  const args = [
    `-Xmx${opts.heapMb ?? 512}m`,
    `-Djava.io.tmpdir=${workDir}`,
    `-Dquarkus.http.port=${httpPort}`,
    `-Dquarkus.http.host=${LOCAL_KAFKA_HOST}`,
    // The management interface defaults to 0.0.0.0:9000 and would clash with anything else there.
    `-Dquarkus.management.port=${managementPort}`,
    `-Dquarkus.management.host=${LOCAL_KAFKA_HOST}`,
    '-Dquarkus.log.level=WARN',
    '-Dpathwatch.local-registry=1',
    '-jar',
    path.join(appDir, 'quarkus-run.jar'),
  ];
  opts.onProgress?.({
    stage: 'local-kafka.start',
    message: `Starting Apicurio Registry ${APICURIO_VERSION} on ${rootUrl}`,
  });
  const tail = new LineTail(200);
  const onLine = (line: string): void => {
    tail.push(line);
    opts.log?.debug({ stage: 'local-registry', line }, 'registry output');
  };
  const startedAt = Date.now();
  const watchdog = spawn(
    process.execPath,
    [
      watchdogScriptPath(),
      JSON.stringify({ command: javaPath, args, graceMs: 10_000, removeDirIfOrphaned: workDir }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true, cwd: workDir },
  );
  const out = lineSplitter(onLine);
  const err = lineSplitter(onLine);
  watchdog.stdout?.on('data', (c: Buffer) => out.write(c));
  watchdog.stderr?.on('data', (c: Buffer) => err.write(c));
  let exitedFlag = false;
  const exited = new Promise<void>((resolve) => {
    watchdog.once('close', () => {
      exitedFlag = true;
      out.end();
      err.end();
      resolve();
    });
    watchdog.once('error', () => {
      exitedFlag = true;
      resolve();
    });
  });
  const javaPid = new Promise<number>((resolve) => {
    watchdog.on('message', (m: { type?: string; pid?: number }) => {
      if (m.type === 'spawned' && typeof m.pid === 'number') resolve(m.pid);
    });
  });

  const stop = async (): Promise<void> => {
    watchdog.ref();
    if (watchdog.exitCode === null && watchdog.signalCode === null) watchdog.kill('SIGTERM');
    if ((await withTimeout(exited, 15_000)) === 'timeout') {
      const pid = await withTimeout(javaPid, 10);
      if (typeof pid === 'number') killQuietly(pid);
      watchdog.kill('SIGKILL');
      await withTimeout(exited, 5_000);
    }
    const pid = await withTimeout(javaPid, 10);
    if (typeof pid === 'number' && !(await waitForPidExit(pid, 5_000))) killQuietly(pid);
    await rm(workDir, { recursive: true, force: true });
  };

  try {
    for (;;) {
      if (exitedFlag) {
        throw new LocalKafkaError(
          'LOCAL_REGISTRY_START_FAILED',
          `Apicurio Registry exited during start (java: ${javaPath}).\n--- output ---\n${tail.text()}`,
        );
      }
      if (Date.now() - startedAt > readyTimeoutMs) {
        throw new LocalKafkaError(
          'LOCAL_REGISTRY_START_TIMEOUT',
          `Apicurio Registry did not answer ${url}/subjects within ${readyTimeoutMs} ms.\n--- output ---\n${tail.text()}`,
          { retriable: true },
        );
      }
      try {
        const res = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const pid = await javaPid;
  const readyMs = Date.now() - startedAt;
  opts.onProgress?.({
    stage: 'local-kafka.ready',
    message: `Apicurio Registry ready on ${url} in ${(readyMs / 1000).toFixed(1)} s`,
  });
  watchdog.unref();
  watchdog.channel?.unref();
  (watchdog.stdout as Socket | null)?.unref();
  (watchdog.stderr as Socket | null)?.unref();
  let stopping: Promise<void> | undefined;
  return {
    url,
    rootUrl,
    pid,
    readyMs,
    version: APICURIO_VERSION,
    output: () => tail.text(),
    stop: () => (stopping ??= stop()),
  };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
