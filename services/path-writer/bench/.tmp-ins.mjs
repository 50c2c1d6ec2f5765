import { openPathStore, createRootLogger, encodePathRows, PATH_INSERT_COLUMNS } from '@pathwatch/core';
import { syntheticVerdict, batchToken } from '@pathwatch/path-writer';
import fs from 'node:fs';
fs.rmSync('/tmp/pwx/ins', { recursive: true, force: true });
const logger = createRootLogger({ level: 'silent', name: 'x' });
const store = await openPathStore({ mode: 'embedded', dataDir: '/tmp/pwx/ins', database: 'b' }, { logger, now: Date.now });
const N = 100000, B = Number(process.argv[2] ?? 50000);
const vs = Array.from({ length: N }, (_, i) => syntheticVerdict(i, { startMs: Date.now() - 86400000, spacingMs: 50 }));
const ch = store.ch;
async function run(label) {
  await ch.command('TRUNCATE TABLE path_records');
  let enc = 0, ins = 0;
  const t = performance.now();
  for (let i = 0; i < N; i += B) {
    const chunk = vs.slice(i, i + B);
    const t0 = performance.now(); const buf = encodePathRows(chunk); enc += performance.now() - t0;
    const t1 = performance.now(); await ch.insertNative('path_records', PATH_INSERT_COLUMNS, buf, batchToken(chunk) + label.length); ins += performance.now() - t1;
  }
  const s = (performance.now() - t) / 1000;
  console.log(label.padEnd(30), Math.round(N / s), 'rows/s', 'enc', enc.toFixed(0), 'ins', ins.toFixed(0));
}
await run('warm');
await run('full');
await ch.command('DROP VIEW path_versions_mv');
await run('no MV');
await ch.command('ALTER TABLE path_records DROP INDEX idx_request_id');
await ch.command('ALTER TABLE path_records DROP INDEX idx_input_fp');
await run('no MV, no bloom');
await store.close();
