import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalKafkaError, mavenMissing } from './errors.js';
import { checkJava } from './java.js';
import { defaultKafkaAssetsDir } from './paths.js';
import { runCommand } from './process-util.js';
import type { LocalKafkaLogger, OnProgress } from './types.js';

/** Pinned so Maven never falls back to its old built-in default (2.8), whose flags differ. */
export const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';

const COMPLETE_MARKER = '.complete.json';
const PROGRESS_INTERVAL_MS = 2_000;

export interface EnsureKafkaJarsOptions {
  /**
   * Directory holding `pom.xml`, `log4j2.properties` and the jar cache `libs/`.
   * @default the repository's `infra/kafka`
   */
  readonly assetsDir?: string;
  /** @default 'mvn' (see `localKafkaToolsFromEnv` for MAVEN_HOME) */
  readonly mavenPath?: string;
  /** Checked before Maven runs, since Maven needs it too. @default 'java' */
  readonly javaPath?: string;
  /** Maven's local repository (`-Dmaven.repo.local`). @default Maven's own (~/.m2/repository) */
  readonly mavenRepoLocal?: string;
  readonly onProgress?: OnProgress;
  readonly log?: LocalKafkaLogger;
}

export interface KafkaJars {
  /** Kafka version from the pom's `kafka.version` property, e.g. "4.1.2". */
  readonly kafkaVersion: string;
  /** `<assetsDir>/libs/<version>-<pom hash>`: every jar of the broker's runtime classpath. */
  readonly libsDir: string;
  /** Java classpath (`<libsDir>/*`; java, not a shell, expands the wildcard). */
  readonly classpath: string;
  /** The quiet log4j2 config passed as -Dlog4j2.configurationFile. */
  readonly log4jConfigFile: string;
  readonly jarCount: number;
  /** False when the cache was already complete. */
  readonly fetched: boolean;
  readonly durationMs: number;
}

interface CompleteMarker {
  readonly kafkaVersion: string;
  readonly pomSha256: string;
  readonly jars: readonly string[];
  readonly fetchedAt: string;
}

/** Kafka version declared in the pom (`<kafka.version>`). */
export function kafkaVersionFromPom(pomXml: string): string {
  const match = /<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/.exec(pomXml);
  if (!match?.[1]) {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_ASSETS_MISSING',
      'infra/kafka/pom.xml declares no <kafka.version> property',
    );
  }
  return match[1];
}

/**
 * Makes sure the broker's jars are in the cache, fetching them with Maven on the first run (tens of seconds on
 * a cold machine, about 3 s with a warm ~/.m2). The cache directory is stamped with the Kafka version and a hash
 * of pom.xml, so editing the pom fetches again. Concurrent callers are safe: each fetches into its own temporary
 * directory and the first rename wins.
 */
export async function ensureKafkaJars(opts: EnsureKafkaJarsOptions = {}): Promise<KafkaJars> {
  const startedAt = Date.now();
  const assetsDir = opts.assetsDir ?? defaultKafkaAssetsDir();
  const pomPath = path.join(assetsDir, 'pom.xml');
  const log4jConfigFile = path.join(assetsDir, 'log4j2.properties');
  let pomXml: string;
  try {
    pomXml = await readFile(pomPath, 'utf8');
  } catch (err) {
    throw new LocalKafkaError('LOCAL_KAFKA_ASSETS_MISSING', `Cannot read the Kafka pom at ${pomPath}`, {
      cause: err,
    });
  }
  if (!existsSync(log4jConfigFile)) {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_ASSETS_MISSING',
      `Missing the broker log4j2 config at ${log4jConfigFile}`,
    );
  }
  const kafkaVersion = kafkaVersionFromPom(pomXml);
  const pomSha256 = createHash('sha256').update(pomXml).digest('hex');
  const libsRoot = path.join(assetsDir, 'libs');
  const libsDir = path.join(libsRoot, `${kafkaVersion}-${pomSha256.slice(0, 12)}`);
  const result = (jarCount: number, fetched: boolean): KafkaJars => ({
    kafkaVersion,
    libsDir,
    classpath: path.join(libsDir, '*'),
    log4jConfigFile,
    jarCount,
    fetched,
    durationMs: Date.now() - startedAt,
  });

  const cached = await readCompleteMarker(libsDir);
  if (cached && cached.pomSha256 === pomSha256) {
    opts.log?.debug({ stage: 'local-kafka.fetch', libsDir, jars: cached.jars.length }, 'kafka jars cached');
    return result(cached.jars.length, false);
  }

  await checkJava(opts.javaPath ?? 'java');
  const mavenPath = opts.mavenPath ?? 'mvn';
  const progress = (message: string, artifactsDownloaded?: number): void =>
    opts.onProgress?.({
      stage: 'local-kafka.fetch',
      message,
      ...(artifactsDownloaded === undefined ? {} : { artifactsDownloaded }),
    });
  progress(
    `Fetching Kafka ${kafkaVersion} broker jars from Maven Central (first run only; can take a minute)`,
  );
  opts.log?.info({ stage: 'local-kafka.fetch', kafkaVersion, libsDir }, 'fetching kafka jars');

  await mkdir(libsRoot, { recursive: true });
  const tmpDir = path.join(libsRoot, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let downloaded = 0;
  let downloadedTotalBytes = 0;
  let lastReportAt = Date.now();
  const args = [
    '-B',
    '-Dstyle.color=never',
    '-f',
    pomPath,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${tmpDir}`,
    ...(opts.mavenRepoLocal === undefined ? [] : [`-Dmaven.repo.local=${opts.mavenRepoLocal}`]),
  ];
  try {
    let run;
    try {
      run = await runCommand(mavenPath, args, {
        cwd: assetsDir,
        tailLines: 60,
        onLine: (line) => {
          const bytes = downloadedBytes(line);
          if (bytes === undefined) return;
          downloaded += 1;
          downloadedTotalBytes += bytes;
          if (Date.now() - lastReportAt >= PROGRESS_INTERVAL_MS) {
            lastReportAt = Date.now();
            progress(
              `Fetching Kafka ${kafkaVersion} jars: ${downloaded} files, ${(downloadedTotalBytes / 1e6).toFixed(1)} MB downloaded`,
              downloaded,
            );
          }
        },
      });
    } catch (err) {
      throw mavenMissing(mavenPath, err);
    }
    if (run.exitCode !== 0) {
      throw new LocalKafkaError(
        'LOCAL_KAFKA_FETCH_FAILED',
        `Fetching the Kafka jars failed (mvn exited with ${run.exitCode ?? run.signal}). Maven Central must be ` +
          `reachable (a proxy goes in ~/.m2/settings.xml). Command: ${mavenPath} ${args.join(' ')}\n` +
          `--- last Maven output ---\n${run.output}`,
        { retriable: true },
      );
    }
    const jars = (await readdir(tmpDir)).filter((f) => f.endsWith('.jar')).sort();
    if (!jars.some((j) => j.startsWith('kafka_2.13-'))) {
      throw new LocalKafkaError(
        'LOCAL_KAFKA_FETCH_FAILED',
        `Maven succeeded but ${tmpDir} holds no kafka_2.13 jar`,
      );
    }
    const marker: CompleteMarker = { kafkaVersion, pomSha256, jars, fetchedAt: new Date().toISOString() };
    await writeFile(path.join(tmpDir, COMPLETE_MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    // Renaming a directory is atomic, so a complete libsDir is never half-written. If another process finished
    // first, keep its copy (it may be in use); otherwise clear a leftover without a marker and move ours in.
    if (!(await readCompleteMarker(libsDir))) {
      await rm(libsDir, { recursive: true, force: true });
      try {
        await rename(tmpDir, libsDir);
      } catch (err) {
        if (!(await readCompleteMarker(libsDir))) throw err;
      }
    }
    const done = result(jars.length, true);
    progress(
      `Kafka ${kafkaVersion} jars ready (${jars.length} jars; ${downloaded} files, ${(downloadedTotalBytes / 1e6).toFixed(1)} MB downloaded) in ${(done.durationMs / 1000).toFixed(1)} s`,
    );
    opts.log?.info(
      {
        stage: 'local-kafka.fetch',
        kafkaVersion,
        jars: jars.length,
        downloaded,
        downloadedBytes: downloadedTotalBytes,
        durationMs: done.durationMs,
      },
      'kafka jars fetched',
    );
    return done;
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

const UNIT_BYTES: Readonly<Record<string, number>> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };

/**
 * Size of one finished transfer from Maven's batch-mode log, e.g.
 * `[INFO] Downloaded from central: https://.../x.jar (1.2 MB at 3.4 MB/s)` -> 1_200_000; undefined for other lines.
 */
export function downloadedBytes(line: string): number | undefined {
  if (!line.includes('Downloaded from ')) return undefined;
  const match = /\((\d+(?:\.\d+)?) (B|kB|MB|GB)(?: at [^)]*)?\)\s*$/.exec(line);
  return match?.[1] && match[2] ? Number(match[1]) * (UNIT_BYTES[match[2]] ?? 1) : 0;
}

async function readCompleteMarker(libsDir: string): Promise<CompleteMarker | undefined> {
  try {
    const marker = JSON.parse(await readFile(path.join(libsDir, COMPLETE_MARKER), 'utf8')) as CompleteMarker;
    const present = new Set(await readdir(libsDir));
    return marker.jars.every((j) => present.has(j)) ? marker : undefined;
  } catch {
    return undefined;
  }
}
