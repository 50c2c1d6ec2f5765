import { encodePathRows } from '@pathwatch/core';
import { syntheticVerdict } from '@pathwatch/path-writer';
const N = 100000;
const vs = Array.from({ length: N }, (_, i) => syntheticVerdict(i, { startMs: Date.now() - 86400000, spacingMs: 50 }));
for (let k = 0; k < 6; k++) { const t = performance.now(); const b = encodePathRows(vs); console.log('enc', (performance.now() - t).toFixed(0), b.length); }
