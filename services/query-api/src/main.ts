// The query API as its own process: `node dist/main.js` (or `pathwatch query-api`). See service.ts.
import { runMain } from '@pathwatch/core';
import { runQueryApiService } from './service.js';

void runMain('pathwatch-query-api', () => runQueryApiService());
