/**
 * Signal wiring for main.ts: SIGINT/SIGTERM run the close steps once, in order (stop consuming, flush, commit, close
 * clients). The bound: the process exits at the latest `timeoutMs` after the first signal (default 30 s, the
 * services' PATHWATCH_SHUTDOWN_TIMEOUT_MS) — with code 1 and an error line naming what did not finish when the close
 * steps are still running then (e.g. a broker that does not answer), code 0 when they finished. A second signal
 * exits at once (130).
 */
import type { Logger } from './logger.js';

/** Default bound of a shutdown, ms. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

export interface ShutdownOptions {
  /** Hard deadline from the first signal to exit. @default 30000 */
  timeoutMs?: number;
  /** @default process.exit */
  exit?: (code: number) => void;
  /** @default process */
  signals?: Pick<NodeJS.Process, 'once'>;
}

/**
 * Starts the hard deadline of a shutdown: after `timeoutMs`, logs at error (and on stderr, in case the log is
 * asynchronous) and exits with code 1. The returned function cancels it. The timer does not keep the process
 * alive on its own.
 */
export function armShutdownDeadline(
  log: Logger,
  timeoutMs: number,
  opts: { exit?: (code: number) => void; what?: () => string } = {},
): () => void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timer = setTimeout(() => {
    const pending = opts.what?.() ?? 'close steps';
    log.error({ timeoutMs, pending }, 'shutdown deadline passed: exiting with code 1');
    process.stderr.write(`pathwatch: shutdown did not finish within ${timeoutMs} ms (${pending}): exiting\n`);
    exit(1);
  }, timeoutMs);
  timer.unref();
  return () => clearTimeout(timer);
}

export function onShutdown(
  log: Logger,
  close: (signal: string) => Promise<void>,
  opts: ShutdownOptions = {},
): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  let closing = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      exit(130);
      return;
    }
    closing = true;
    log.info({ signal, timeoutMs }, 'shutting down');
    const cancel = armShutdownDeadline(log, timeoutMs, { exit });
    close(signal).then(
      () => {
        cancel();
        log.info({ signal }, 'shutdown complete');
        exit(0);
      },
      (err: unknown) => {
        cancel();
        log.error({ err, signal }, 'shutdown failed');
        exit(1);
      },
    );
  };
  const signals = opts.signals ?? process;
  signals.once('SIGINT', handler);
  signals.once('SIGTERM', handler);
}
