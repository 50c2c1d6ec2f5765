// The query API as its own process: `node dist/main.js` (or `pathwatch query-api`). See service.ts.
import { ConfigError, describeFatal } from '@pathwatch/core';
import { runQueryApiService } from './service.js';

runQueryApiService().catch((err: unknown) => {
  process.stderr.write(
    err instanceof ConfigError
      ? `${err.message}\n`
      : `pathwatch-query-api: ${err instanceof Error ? (err.stack ?? describeFatal(err)) : String(err)}\n`,
  );
  process.exit(err instanceof ConfigError ? 2 : 1);
});
