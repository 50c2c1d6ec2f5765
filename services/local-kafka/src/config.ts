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
