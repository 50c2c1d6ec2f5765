import type { Table, Target } from '../report.js';

/** Sizes of one run; `--quick` shrinks them for a smoke run. */
export interface Sizes {
  readonly codecEvents: number;
  /** Events pre-produced for the end-to-end throughput runs. */
  readonly e2eEvents: number;
  /** Open-request counts at which recovery after kill -9 is measured (ascending). */
  readonly recoveryOpenRequests: readonly number[];
  /** Open requests for the in-process engine memory figure. */
  readonly engineOpenRequests: number;
  /** Requests per second of the paced load for verdict delay under load. */
  readonly delayLoadRatePerSec: number;
  /** Duration of the paced load. */
  readonly delayLoadSeconds: number;
}

export interface SuiteContext {
  readonly sizes: Sizes;
  readonly quick: boolean;
  /** Kafka bootstrap servers from KAFKA_BROKERS; unset: the suite starts a local broker. */
  readonly brokers: readonly string[] | undefined;
  /** Absolute repository root (for BENCHMARKS.md and sibling packages' dist). */
  readonly repoRoot: string;
}

export interface SuiteOutput {
  readonly targets: readonly Target[];
  readonly tables: readonly Table[];
  readonly settings: readonly (readonly [string, string])[];
  readonly notes: readonly string[];
  /** Version of the broker used, when one was. */
  readonly kafkaVersion: string | null;
}
