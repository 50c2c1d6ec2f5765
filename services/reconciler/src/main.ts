/**
 * Reconciler process: `node dist/main.js` with KAFKA_BROKERS set (or `pathwatch reconciler`). See service.ts.
 */
import { ConfigError, describeFatal } from '@pathwatch/core';
import { runReconcilerService } from './service.js';

runReconcilerService().catch((err: unknown) => {
  process.stderr.write(
    err instanceof ConfigError ? `${err.message}\n` : `pathwatch-reconciler: ${describeFatal(err)}\n`,
  );
  process.exit(err instanceof ConfigError ? 2 : 1);
});
