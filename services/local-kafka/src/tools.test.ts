// What a first-time user sees when java or mvn is missing or too old: a coded error naming the fix.
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKafkaError } from './errors.js';
import { ensureKafkaJars } from './jars.js';
import { checkJava } from './java.js';
import { defaultKafkaAssetsDir } from './paths.js';

let dir: string;
/** A stand-in `java` that prints the given `-version` banner to stderr, as the real one does. */
async function fakeJava(name: string, banner: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, `#!/bin/sh\necho '${banner}' >&2\n`);
  await chmod(file, 0o755);
  return file;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'local-kafka-tools-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkJava', () => {
  it('names the fix when java cannot be started', async () => {
    const err = await checkJava(path.join(dir, 'no-such-java')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LocalKafkaError);
    expect(err).toMatchObject({ code: 'LOCAL_KAFKA_JAVA_MISSING' });
    expect((err as Error).message).toMatch(/openjdk-17-jre-headless/);
    expect((err as Error).message).toMatch(/KAFKA_BROKERS/);
  });

  it('rejects Java older than 17', async () => {
    const java8 = await fakeJava('java8', 'java version "1.8.0_301"');
    await expect(checkJava(java8)).rejects.toMatchObject({ code: 'LOCAL_KAFKA_JAVA_TOO_OLD' });
  });

  it('accepts Java 17+', async () => {
    const java21 = await fakeJava('java21', 'openjdk version "21.0.2" 2024-01-16');
    await expect(checkJava(java21)).resolves.toMatchObject({ major: 21 });
  });
});

describe('ensureKafkaJars', () => {
  it('names the fix when mvn cannot be started and the cache is empty', async () => {
    const assetsDir = path.join(dir, 'assets');
    await rm(assetsDir, { recursive: true, force: true });
    await mkdir(assetsDir);
    for (const f of ['pom.xml', 'log4j2.properties']) {
      await copyFile(path.join(defaultKafkaAssetsDir(), f), path.join(assetsDir, f));
    }
    const java17 = await fakeJava('java17', 'openjdk version "17.0.15" 2025-04-15');
    const err = await ensureKafkaJars({
      assetsDir,
      javaPath: java17,
      mavenPath: path.join(dir, 'no-such-mvn'),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOCAL_KAFKA_MAVEN_MISSING' });
    expect((err as Error).message).toMatch(/apt-get install -y maven/);
  });
});
