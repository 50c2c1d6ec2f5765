// The engine benchmark lives in src/engine/bench.ts so that the built package exports it (the bench harness,
// `npm run bench:reconciler`, finds `benchEngine` on @pathwatch/reconciler); this module is its entry point here.
export { benchEngine } from '../src/engine/bench.js';
export type { BenchCodec, EngineBenchOptions, EngineBenchResult } from '../src/engine/bench.js';
