// The simulator as its own process: `node dist/main.js` with KAFKA_BROKERS set (or `pathwatch simulator`).
import { ConfigError, describeFatal } from '@pathwatch/core';
import { runSimulatorService } from './service.js';

runSimulatorService().catch((err: unknown) => {
  process.stderr.write(
    err instanceof ConfigError
      ? `${err.message}\n`
      : `pathwatch-simulator: ${err instanceof Error ? (err.stack ?? describeFatal(err)) : String(err)}\n`,
  );
  process.exit(err instanceof ConfigError ? 2 : 1);
});
