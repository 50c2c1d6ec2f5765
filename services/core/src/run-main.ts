/**
 * The one way a service's main.ts runs: `runMain(name, main)`. A ConfigError (every bad variable at once) prints
 * its message and exits 2; any other failure prints `name: code: message` (with the fix for a Kafka error, the
 * stack for a programmer error) and exits 1. `fatalExit` is the `onFatal` of a stand-alone service: print, close
 * what can be closed within the shutdown deadline, exit 1.
 */
import { ConfigError, PathwatchError, describeFatal } from './errors.js';

export interface RunMainOptions {
  /** @default process.exit */
  exit?: (code: number) => void;
  /** @default process.stderr.write */
  write?: (line: string) => void;
}

function io(opts: RunMainOptions): Required<RunMainOptions> {
  return {
    exit: opts.exit ?? ((code: number) => process.exit(code)),
    write: opts.write ?? ((line: string) => void process.stderr.write(line)),
  };
}

/** One line (or a stack) naming the service and what failed. */
export function fatalLine(name: string, err: unknown): string {
  if (err instanceof PathwatchError || !(err instanceof Error)) return `${name}: ${describeFatal(err)}\n`;
  return `${name}: ${err.stack ?? err.message}\n`;
}

/** Runs `main`; a rejection ends the process (2 for configuration, 1 for anything else). */
export function runMain(name: string, main: () => Promise<void>, opts: RunMainOptions = {}): Promise<void> {
  const { exit, write } = io(opts);
  return main().catch((err: unknown) => {
    if (err instanceof ConfigError) {
      write(`${err.message}\n`);
      exit(2);
      return;
    }
    write(fatalLine(name, err));
    exit(1);
  });
}

/**
 * The `onFatal` of a stand-alone service: prints the error, runs `close` (release clients) and exits 1 when it
 * settles, or after `deadlineMs` at the latest. Only the first call acts.
 */
export function fatalExit(
  name: string,
  close: () => Promise<unknown>,
  deadlineMs: number,
  opts: RunMainOptions = {},
): (err: unknown) => void {
  const { exit, write } = io(opts);
  let fired = false;
  return (err: unknown) => {
    if (fired) return;
    fired = true;
    write(fatalLine(name, err));
    setTimeout(() => exit(1), deadlineMs).unref();
    void close()
      .catch(() => undefined)
      .finally(() => exit(1));
  };
}

/** A value a service needs when it runs on its own (e.g. KAFKA_BROKERS); a ConfigError naming why otherwise. */
export function requiredStandalone<T>(value: T | undefined | null, variable: string, why: string): T {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0))
    throw new ConfigError([{ variable, problem: `required ${why}`, raw: undefined }]);
  return value;
}
