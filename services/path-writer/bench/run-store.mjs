#!/usr/bin/env node
// Runs the store benchmark and prints figures against targets.
//   after `npm run build`:  node services/path-writer/bench/run-store.mjs [--rows 10000000] [--runs 5] [--json]
//   from sources:           node --conditions=@pathwatch/source --import ./test/support/ts-loader/register.mjs services/path-writer/bench/run-store.mjs
import console from 'node:console';
import process from 'node:process';
import { benchStore } from '@pathwatch/path-writer';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const json = process.argv.includes('--json');
const started = Date.now();
const result = await benchStore({
  bulkRows: arg('rows', 10_000_000),
  queryRuns: arg('runs', 5),
  insertRows: arg('insert-rows', 200_000),
  baselineRows: arg('baseline-rows', 100_000),
  onProgress: (m) =>
    process.stderr.write(`[bench:store +${Math.round((Date.now() - started) / 1000)}s] ${m}\n`),
});
if (json) {
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
const la = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
console.log(
  `Load average at start ${la(result.loadAverage.start)}, at end ${la(result.loadAverage.end)} (${result.loadAverage.cpus} CPUs)`,
);
console.log('\nInsert speed, full path rows into embedded ClickHouse (target >= 100000 rows/s)');
for (const f of result.insert) {
  console.log(
    `  ${f.method.padEnd(28)} batch ${String(f.batchRows).padStart(6)}  ${String(f.rowsPerSec).padStart(7)} rows/s  ` +
      `${String(f.rowsPerCpuSec).padStart(7)} rows/CPU-s  (${f.rows} rows in ${f.seconds.toFixed(2)} s, CPU ${f.cpuSeconds.toFixed(2)} s; ` +
      `encoding alone ${f.encodeSeconds.toFixed(2)} s)`,
  );
}
if (result.bulk) {
  const b = result.bulk;
  console.log(
    `\nBulk load: ${b.rows} records + ${b.corrections} corrections in ${b.seconds.toFixed(1)} s (${b.rowsPerSec} rows/s server-side); ` +
      `merges settled in ${b.optimizeSeconds.toFixed(1)} s; rollup rebuild ${b.rollupBuckets} buckets in ${b.rollupSeconds.toFixed(1)} s`,
  );
}
console.log('\nQueries (p50; targets: rollup <= 100 ms, raw <= 1500 ms)');
for (const q of result.queries) {
  const ok = q.p50Ms <= q.targetMs ? 'ok  ' : 'MISS';
  console.log(
    `  ${ok} ${q.kind.padEnd(6)} ${String(q.p50Ms).padStart(6)} ms (min ${q.minMs}, max ${q.maxMs}, ${q.resultRows} rows)  ${q.name}`,
  );
}
console.log('\nStorage');
for (const s of result.storage) {
  console.log(
    `  ${s.table.padEnd(30)} ${String(s.rows).padStart(10)} rows  ${(s.compressedBytes / 2 ** 20).toFixed(1)} MiB compressed / ${(s.uncompressedBytes / 2 ** 20).toFixed(1)} MiB`,
  );
}
