// Bundles the browser code (src/ui/main.ts, uPlot included) into dist/ui/app.js, and copies index.html and
// the stylesheet (ours after uPlot's) next to it. No CDN: everything the page loads comes from /ui.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url);
const out = new URL('dist/ui/', here);
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [new URL('src/ui/main.ts', here).pathname],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  outfile: new URL('app.js', out).pathname,
  logLevel: 'warning',
});
const require = createRequire(import.meta.url);
const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
writeFileSync(
  new URL('app.css', out),
  `${uplotCss}\n${readFileSync(new URL('src/ui/app.css', here), 'utf8')}`,
);
writeFileSync(new URL('index.html', out), readFileSync(new URL('src/ui/index.html', here)));
