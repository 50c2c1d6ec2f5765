// Environment of a benchmark run: the only file of this package that reads process.env.
import { parse, readConfig, type ConfigOf, type VarSpec } from '@pathwatch/core';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

export const benchConfigSpec = {
  brokers: v<string[] | undefined>({
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap servers for the end-to-end runs. Unset: the bench starts a throwaway local broker and stops it at the end.',
    default: undefined,
    optional: true,
    defaultDoc: 'local broker started by the bench',
    parse: parse.brokers,
  }),
};

export type BenchConfig = ConfigOf<typeof benchConfigSpec>;

export function loadBenchConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): BenchConfig {
  return readConfig(env, benchConfigSpec);
}
