// The path writer as its own process: `node dist/main.js` with KAFKA_BROKERS set (or `pathwatch path-writer`).
import { ConfigError, describeFatal } from '@pathwatch/core';
import { runPathWriterService } from './service.js';

runPathWriterService().catch((err: unknown) => {
  process.stderr.write(
    err instanceof ConfigError
      ? `${err.message}\n`
      : `pathwatch-path-writer: ${err instanceof Error ? (err.stack ?? describeFatal(err)) : String(err)}\n`,
  );
  process.exit(err instanceof ConfigError ? 2 : 1);
});
