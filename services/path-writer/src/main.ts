// The path writer as its own process: `node dist/main.js` with KAFKA_BROKERS set (or `pathwatch path-writer`).
import { runMain } from '@pathwatch/core';
import { runPathWriterService } from './service.js';

void runMain('pathwatch-path-writer', () => runPathWriterService());
