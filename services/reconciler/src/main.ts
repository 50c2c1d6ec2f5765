/**
 * Reconciler process: `node dist/main.js` with KAFKA_BROKERS set (or `pathwatch reconciler`). See service.ts.
 */
import { runMain } from '@pathwatch/core';
import { runReconcilerService } from './service.js';

void runMain('pathwatch-reconciler', () => runReconcilerService());
