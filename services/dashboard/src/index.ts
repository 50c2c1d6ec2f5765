/**
 * Where the built dashboard lives. The browser code (src/ui) is bundled by esbuild (build.mjs) into dist/ui;
 * the query API serves those files under /ui. This module is the package's only Node-side export.
 */
import { fileURLToPath } from 'node:url';

/** Absolute path of the built assets (index.html, app.js, app.css); from src/ or dist/ alike. */
export const DASHBOARD_ASSETS_DIR: string = fileURLToPath(new URL('../dist/ui/', import.meta.url));

/** The files the query API serves, by URL under /ui, with their content types. */
export const DASHBOARD_FILES: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/ui': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/ui/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/ui/app.js': { file: 'app.js', contentType: 'text/javascript; charset=utf-8' },
  '/ui/app.css': { file: 'app.css', contentType: 'text/css; charset=utf-8' },
};
