import { fileURLToPath } from 'node:url';

/**
 * The repository's `infra/kafka` directory (pom.xml, log4j2.properties, libs/). Resolved from this module's
 * location, which is `services/local-kafka/{src,dist}/` both from source and when built.
 */
export function defaultKafkaAssetsDir(): string {
  return fileURLToPath(new URL('../../../infra/kafka/', import.meta.url));
}

/** The plain-JS watchdog that runs the broker and stops it when its parent dies (see runtime/watchdog.mjs). */
export function watchdogScriptPath(): string {
  return fileURLToPath(new URL('../runtime/watchdog.mjs', import.meta.url));
}
