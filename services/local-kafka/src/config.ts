import { readdirSync } from 'node:fs';
import path from 'node:path';

export interface LocalKafkaTools {
  /**
   * Java 17+ launcher used for the broker and the storage format tool.
   * @default `$JAVA_HOME/bin/java` when JAVA_HOME is set, else `java` from PATH
   */
  readonly javaPath: string;
  /**
   * Maven launcher used once to fetch the broker jars.
   * @default `$MAVEN_HOME/bin/mvn` when MAVEN_HOME is set, else `mvn` from PATH
   */
  readonly mavenPath: string;
}

/** Where to find `java` and `mvn`, following the conventions both tools document (JAVA_HOME, MAVEN_HOME). */
export function localKafkaToolsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): LocalKafkaTools {
  const javaHome = env['JAVA_HOME']?.trim();
  const mavenHome = env['MAVEN_HOME']?.trim();
  return {
    javaPath: javaHome ? path.join(javaHome, 'bin', 'java') : 'java',
    mavenPath: mavenHome ? path.join(mavenHome, 'bin', 'mvn') : 'mvn',
  };
}

/**
 * Java launchers to try for the local Schema Registry (Apicurio Registry 3 needs Java 21+), in order: JAVA_HOME,
 * `java` on PATH, then every JDK under /usr/lib/jvm (where Debian and the Temurin packages install them).
 * PATHWATCH_REGISTRY_JAVA names one explicitly and goes first.
 */
export function localRegistryJavaCandidates(
  env: Readonly<Record<string, string | undefined>> = process.env,
  jvmDirs: readonly string[] = listJvmDirs(),
): string[] {
  const out: string[] = [];
  const explicit = env['PATHWATCH_REGISTRY_JAVA']?.trim();
  if (explicit) out.push(explicit);
  const javaHome = env['JAVA_HOME']?.trim();
  if (javaHome) out.push(path.join(javaHome, 'bin', 'java'));
  out.push('java');
  for (const d of jvmDirs) out.push(path.join(d, 'bin', 'java'));
  return [...new Set(out)];
}

function listJvmDirs(): string[] {
  try {
    // Newest first by name (temurin-25 before java-17): the first Java 21+ found wins.
    return readdirSync('/usr/lib/jvm', { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.isSymbolicLink())
      .map((d) => path.join('/usr/lib/jvm', d.name))
      .sort()
      .reverse();
  } catch {
    return [];
  }
}
