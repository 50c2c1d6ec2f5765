/**
 * Signal wiring for main.ts: SIGINT/SIGTERM run the close steps once, in order (stop consuming, flush,
 * commit, close clients); a second signal forces exit.
 */
import type { Logger } from './logger.js';

export function onShutdown(
  log: Logger,
  close: (signal: string) => Promise<void>,
  opts: { forceAfterMs?: number } = {},
): void {
  let closing = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (closing) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    closing = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ signal }, 'shutdown timed out: exiting');
      process.exit(1);
    }, opts.forceAfterMs ?? 30_000);
    timer.unref();
    close(signal).then(
      () => {
        log.info({ signal }, 'shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err, signal }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
