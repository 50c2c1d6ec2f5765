// The simulator as its own process: `node dist/main.js` with KAFKA_BROKERS set (or `pathwatch simulator`).
import { runMain } from '@pathwatch/core';
import { runSimulatorService } from './service.js';

void runMain('pathwatch-simulator', () => runSimulatorService());
