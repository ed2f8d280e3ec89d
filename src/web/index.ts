/** HTTP: npm protocol, JSON API, health and metrics. */
export { createWebApp } from './server.ts';
export type { WebDeps } from './deps.ts';
export { statusFor, errorBody } from './error-map.ts';
export { parseNpmPath } from './npm-path.ts';
