import { javaMissing, javaTooOld } from './errors.js';
import { runCommand } from './process-util.js';

/** Kafka 4.x brokers and tools need Java 17 (Kafka 4.0 upgrade notes). */
export const MIN_JAVA_MAJOR = 17;

/**
 * Major version from `java -version` output, e.g. `openjdk version "17.0.15"` -> 17,
 * `java version "1.8.0_301"` -> 8, `openjdk version "21" 2023-09-19` -> 21. Undefined when unrecognised.
 */
export function parseJavaMajorVersion(versionOutput: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match?.[1]) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

export interface JavaInfo {
  readonly javaPath: string;
  readonly major: number;
  /** First line of `java -version`, for logs. */
  readonly description: string;
}

/** Fails with a message naming the fix when Java is missing or older than 17. */
export async function checkJava(javaPath: string): Promise<JavaInfo> {
  let output: string;
  try {
    const result = await runCommand(javaPath, ['-version'], { timeoutMs: 30_000 });
    output = result.output;
  } catch (err) {
    throw javaMissing(javaPath, err);
  }
  const description = output.split('\n')[0]?.trim() ?? '';
  const major = parseJavaMajorVersion(output);
  if (major === undefined)
    throw javaMissing(javaPath, new Error(`unrecognised "java -version" output: ${output}`));
  if (major < MIN_JAVA_MAJOR) throw javaTooOld(javaPath, description);
  return { javaPath, major, description };
}
