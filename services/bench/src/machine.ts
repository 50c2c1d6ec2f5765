// The machine a run happened on, for BENCHMARKS.md.
import os from 'node:os';
import type { Machine } from './report.js';

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: cpus.length,
    ramGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    kafka: 'not used',
    loadAverage1m: os.loadavg()[0] ?? NaN,
  };
}
