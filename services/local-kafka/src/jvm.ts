import { existsSync } from 'node:fs';
import path from 'node:path';
import { LocalKafkaError } from './errors.js';
import type { KafkaJars } from './jars.js';
import { runCommand } from './process-util.js';
import { LOCAL_KAFKA_CLUSTER_ID } from './server-properties.js';

/** Logged by KafkaRaftServer once the broker is unfenced, i.e. ready for clients (kept at INFO in log4j2.properties). */
export const READY_LINE = 'Kafka Server started';

/** System property that tags our broker JVMs, so a pid read from a state file is checked before it is signalled. */
export const BROKER_MARKER_PROPERTY = 'pathwatch.local-kafka.dir';

/** Files of one broker instance inside its directory. */
export function brokerLayout(dir: string): { configFile: string; logDir: string; kafkaLogsDir: string } {
  return {
    configFile: path.join(dir, 'server.properties'),
    logDir: path.join(dir, 'kraft-data'),
    kafkaLogsDir: path.join(dir, 'logs'),
  };
}

/** `java` arguments for the broker (what kafka-server-start.sh runs, minus JMX and GC logging). */
export function brokerJavaArgs(jars: KafkaJars, dir: string, heapMb: number): string[] {
  const { configFile, kafkaLogsDir } = brokerLayout(dir);
  return [
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${jars.log4jConfigFile}`,
    `-Dkafka.logs.dir=${kafkaLogsDir}`,
    `-D${BROKER_MARKER_PROPERTY}=${dir}`,
    '-cp',
    jars.classpath,
    'kafka.Kafka',
    configFile,
  ];
}

/**
 * Formats the metadata directory once. A formatted dir (meta.properties present) is left alone without starting
 * a JVM, saving about a second when a persistent dir is reused; --ignore-formatted covers any race.
 */
export async function formatStorage(
  javaPath: string,
  jars: KafkaJars,
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<void> {
  const { configFile, logDir } = brokerLayout(dir);
  if (existsSync(path.join(logDir, 'meta.properties'))) return;
  const args = [
    '-Xmx256m',
    `-Dlog4j2.configurationFile=${jars.log4jConfigFile}`,
    '-cp',
    jars.classpath,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    LOCAL_KAFKA_CLUSTER_ID,
    '-c',
    configFile,
    '--ignore-formatted',
    ...extraArgs,
  ];
  const run = await runCommand(javaPath, args, { timeoutMs: 120_000 });
  if (run.exitCode !== 0) {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_FORMAT_FAILED',
      `Formatting the Kafka storage in ${dir} failed (exit ${run.exitCode ?? run.signal}).\n` +
        `--- StorageTool output ---\n${run.output}`,
    );
  }
}
