export { buildApp } from './app.js';
export type { QueryApiDeps, ReadinessCheck } from './app.js';
export { listenOptionsFrom, loadQueryApiConfig, queryApiConfigSpec, queryApiHttpSpec } from './config.js';
export type { QueryApiConfig, QueryApiHttpConfig } from './config.js';
export { QueryApiError } from './errors.js';
export type { QueryApiErrorCode } from './errors.js';
export { startQueryApi } from './server.js';
export type { RunningQueryApi } from './server.js';
